"""Figures and ``summary.md`` of the Dohmatob, Feng & Kempe reproduction
(:mod:`jcollapse.experiments.dohmatob`)."""

from __future__ import annotations

import numpy as np

from . import _figures
from ._figures import COLOURS
from ._report import format_number
from ._series import RESOLUTION, log_slope, max_abs_z
from .dohmatob import (
    BAND_SE, N_DIM, N_GENERATOR_NOISE, N_GENERATOR_SIZE, N_NOISE, N_SIZE, OVER_DIM, POOL_DIM, POOL_NOISE,
    POOL_SIZE, POWER_BETA, POWER_DIM, POWER_GENERATOR_NOISE, POWER_GENERATOR_SIZE, POWER_NOISE, POWER_SOURCE,
    U_DIM, U_GENERATOR_NOISE, U_GENERATOR_SIZE, U_NOISE, Result, Series,
)

_ERROR = r"test error $\|\hat w-w_0\|^2_\Sigma$"


def _draw(ax, series: list[Series], labels: list[str]) -> None:
    for i, (s, label) in enumerate(zip(series, labels)):
        _figures.band_plot(ax, s.x, s.mean, s.sem, theory=s.theory, label=label, colour=COLOURS[i % len(COLOURS)],
                           width=BAND_SE)
    ax.grid(True, which="major", alpha=0.3)


def _u_curves_figure(result: Result):
    series = result.study("u_curves")
    sizes = sorted({s.label.split(",")[0] for s in series}, key=lambda text: int(text[2:]))
    fig, axes = _figures.new_figure(1, len(sizes), width=4.6, height=3.8)
    for ax, size in zip(axes[0], sizes):
        chosen = [s for s in series if s.label.startswith(size + ",")]
        ax.set_xscale("log")
        ax.set_yscale("log")
        _draw(ax, chosen, [f"$n={s.label.split('n=')[1]}$" for s in chosen])
        for i, s in enumerate(chosen):
            best = int(np.nanargmin(s.mean))
            ax.plot(s.x[best], s.mean[best], marker="v", color=COLOURS[i % len(COLOURS)], markersize=7)
        ax.set_title(f"${size}$, $d={U_DIM}$, $T_0={U_GENERATOR_SIZE}$", fontsize=10)
        ax.set_xlabel(r"ridge penalty $\lambda$")
    axes[0, 0].set_ylabel(_ERROR)
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("deterministic equivalent")])
    fig.suptitle(f"Test error versus the penalty (isotropic, $\\sigma_0={U_GENERATOR_NOISE:g}$, "
                 f"$\\sigma={U_NOISE:g}$; ▼ simulated optimum; bands ±{BAND_SE:g} SE): the sweet spot moves "
                 "with the number of synthetic generations $n$", fontsize=10)
    return fig


def _error_vs_n_figure(result: Result):
    series = result.study("error_vs_n")
    fig, axes = _figures.new_figure(1, 1, width=6.4, height=4.2)
    ax = axes[0, 0]
    _draw(ax, series, [s.label if s.label != "OLS" else "OLS (dashed: exact formula)" for s in series])
    ax.set_xlabel("synthetic generations $n$")
    ax.set_ylabel(_ERROR)
    ax.set_xlim(0, series[0].x[-1])
    ax.set_title(f"Linear collapse: $d={N_DIM}$, $T_0={N_GENERATOR_SIZE}$, $\\sigma_0={N_GENERATOR_NOISE:g}$, "
                 f"$T={N_SIZE}$, $\\sigma={N_NOISE:g}$, correlated $\\Sigma$", fontsize=10)
    _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("exact (OLS) / deterministic equivalent")],
                           loc="upper left")
    return fig


def _power_law_figure(result: Result):
    import jcollapse as jc

    series = result.study("power_law")
    rates = jc.theory.power_law_rates(POWER_BETA, POWER_SOURCE)
    fig, axes = _figures.new_figure(1, 1, width=6.4, height=4.4)
    ax = axes[0, 0]
    ax.set_xscale("log")
    ax.set_yscale("log")
    _draw(ax, series, [f"${s.label}$" for s in series])
    clean = series[0]
    guide = clean.theory[0] * (clean.x / clean.x[0]) ** -rates["error_exponent"]
    ax.plot(clean.x, guide, color="grey", linestyle=":", linewidth=1.2,
            label=f"$T^{{-{rates['error_exponent']:.3g}}}$ (clean rate)")
    ax.set_xlabel("downstream sample size $T$")
    ax.set_ylabel(_ERROR)
    ax.set_title(f"Power law $\\lambda_j=j^{{-{POWER_BETA:g}}}$, source $r={POWER_SOURCE:g}$, $d={POWER_DIM}$, "
                 f"adaptive $\\lambda=T^{{-{rates['ell_crit']:.3g}}}$;\n$T_0={POWER_GENERATOR_SIZE}$, "
                 f"$\\sigma_0={POWER_GENERATOR_NOISE:g}$, $\\sigma={POWER_NOISE:g}$: the rate turns into a floor",
                 fontsize=10)
    _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("deterministic equivalent")], loc="lower left")
    return fig


def _overparametrized_figure(result: Result):
    series = result.study("overparametrized")
    fig, axes = _figures.new_figure(1, 2, width=4.8, height=3.8)
    labels = [f"$T_0={s.label[3:]}$" for s in series]
    _draw(axes[0, 0], series, labels)
    axes[0, 0].set_ylabel(r"$\|\hat w_n-w_0\|^2/\|w_0\|^2$")
    axes[0, 0].set_title("error (dashed: $1-(T_0/d)^n$)", fontsize=10)
    ax = axes[0, 1]
    ax.set_yscale("log")
    for i, s in enumerate(series):
        retained, colour = 1.0 - s.mean, COLOURS[i % len(COLOURS)]
        shown = retained > BAND_SE * s.sem  # resolved from zero
        ax.errorbar(s.x[shown], retained[shown], yerr=BAND_SE * s.sem[shown], color=colour, marker="o",
                    markersize=3, linewidth=1.2, label=labels[i])
        ax.plot(s.x, 1.0 - s.theory, color="black", linestyle=(0, (4, 3)), linewidth=1.1)
    ax.set_title("signal left, $1-$error (dashed: $(T_0/d)^n$)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    for ax in axes[0]:
        ax.set_xlabel("generations $n$")
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("exact")], loc="lower right")
    fig.suptitle(f"Over-parametrised, noise-free ($d={OVER_DIM}$, $\\Sigma=I$, min-norm): exponential collapse "
                 "to the null model", fontsize=10)
    return fig


def _replace_vs_accumulate_figure(result: Result):
    fig, axes = _figures.new_figure(1, 2, width=5.0, height=4.0)
    fixed, fresh = result.study("fixed_design"), result.study("accumulate")
    _draw(axes[0, 0], fixed, [s.label for s in fixed])
    c = fixed[0].theory[0]
    axes[0, 0].axhline(np.pi ** 2 / 6 * c, color="grey", linestyle=":", label=r"$(\pi^2/6)\,c$")
    axes[0, 0].set_title("fixed design (Gerstgrasser et al.): dashed exact", fontsize=10)
    _draw(axes[0, 1], fresh, [s.label for s in fresh])
    axes[0, 1].axhline(np.pi ** 2 / 6 * c, color="grey", linestyle=":", label=r"$(\pi^2/6)\,c$ (fixed design)")
    axes[0, 1].set_title("fresh design each generation (library pools)", fontsize=10)
    for ax in axes[0]:
        ax.set_xlabel("fitted models $n$")
        ax.set_ylabel(_ERROR)
        _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("exact")], loc="upper left")
    fig.suptitle(f"Replace versus accumulate: OLS chain, $d={POOL_DIM}$, $T={POOL_SIZE}$, $\\sigma={POOL_NOISE:g}$, "
                 f"$c=\\sigma^2 d/(T-d-1)$", fontsize=10)
    return fig


#: Figure file names and their captions in ``summary.md``.
FIGURES = {
    "u_curves.png": "Downstream ridge test error versus λ for several T (panels) and n (colours), isotropic "
                    "covariates; deterministic equivalents dashed, ▼ the simulated optimum.",
    "error_vs_n.png": "Test error versus the number of synthetic generations n: OLS follows the exact formula "
                      "(dashed), linear in n; ridge with its deterministic equivalent.",
    "power_law.png": "Power-law spectrum with the adaptive penalty λ = T^−ℓ_crit, log-log: clean data keep the "
                     "fast rate, synthetic generations add a noise floor.",
    "overparametrized.png": "Over-parametrised noise-free chain (T₀ < d): the error approaches ‖w₀‖² as "
                            "1 − (T₀/d)^n; right: the signal left decays exponentially.",
    "replace_vs_accumulate.png": "Replacing data grows the error linearly; accumulating it stays bounded "
                                 "(fixed design: below π²/6·c, exactly as derived).",
}


def all_figures(result: Result) -> dict:
    """Every figure of the reproduction, by file name: the keys of :data:`FIGURES` (tested
    in ``tests/test_dohmatob.py``; :func:`jcollapse.experiments.dohmatob.run` calls it).
    """
    return {
        "u_curves.png": _u_curves_figure(result),
        "error_vs_n.png": _error_vs_n_figure(result),
        "power_law.png": _power_law_figure(result),
        "overparametrized.png": _overparametrized_figure(result),
        "replace_vs_accumulate.png": _replace_vs_accumulate_figure(result),
    }


def _max_relative(series: list[Series]) -> float:
    return float(max(np.max(np.abs(s.mean / s.theory - 1)) for s in series))


def summary_markdown(result: Result) -> str:
    """``summary.md`` without its machine section: the setting and, per study, what the
    simulation shows next to its theory, computed from the result (tested in
    ``tests/test_dohmatob.py``; :func:`jcollapse.experiments.dohmatob.run` calls it).
    """
    import jcollapse as jc

    lines = [
        '# Dohmatob, Feng & Kempe, "Model Collapse Demystified": reproduction',
        "",
        f"A chain of OLS generators is refitted on its own labels; a downstream ridge model trained on T samples "
        f"labelled by the n-th generator is tested against w₀. {result.seeds} seeds per configuration; PRNG "
        f"`jax.random.key({result.key})`. z = (mean − theory)/SE; every point is in `errors.csv`. See "
        "`jcollapse/experiments/dohmatob.py` for the settings.",
        "",
    ]
    u = result.study("u_curves")
    lines += ["## U-curves", "",
              f"Maximum relative deviation from the deterministic equivalents: "
              f"{format_number(100 * _max_relative(u), 2)} % (max |z| {format_number(max_abs_z(u), 3)}; the "
              "equivalents are asymptotic, and at d = 50 they were measured to deviate by up to 1.9 % (bias) and "
              "0.9 % (variance), more near the interpolation threshold T = d).", "",
              "| setting | simulated best λ | error there | DE best λ |", "|---|---|---|---|"]
    for s in u:
        best, de_best = int(np.nanargmin(s.mean)), int(np.nanargmin(s.theory))
        lines.append(f"| {s.label} | {s.x[best]:.3g} | {format_number(s.mean[best], 4)} ± "
                     f"{format_number(s.sem[best], 2)} | {s.x[de_best]:.3g} |")
    n_series = result.study("error_vs_n")
    ols = n_series[0]
    slope = np.polyfit(ols.x, ols.mean, 1)[0]
    lines += ["", "## Error versus n", "",
              f"OLS: max |z| = {format_number(max_abs_z([ols]), 3)} against the exact formula over n = 0.."
              f"{int(ols.x[-1])}; fitted slope {format_number(slope, 4)} per generation against "
              f"σ₀²d/(T₀−d−1) = {format_number(N_GENERATOR_NOISE ** 2 * N_DIM / (N_GENERATOR_SIZE - N_DIM - 1), 4)}. "
              "Ridge: max relative deviation from the deterministic equivalents "
              f"{format_number(100 * _max_relative(n_series[1:]), 2)} % at d = {N_DIM}.", ""]
    power = result.study("power_law")
    rates = jc.theory.power_law_rates(POWER_BETA, POWER_SOURCE)
    lines += ["## Power law", "",
              f"Clean data (n = 0): fitted log-log slope {format_number(log_slope(power[0].x, power[0].mean), 3)} "
              f"against −{rates['error_exponent']:.3g}; deterministic equivalent's own slope "
              f"{format_number(log_slope(power[0].x, power[0].theory), 3)} over the same T (finite d = {POWER_DIM}). "
              f"Slopes with synthetic generations: " + ", ".join(
                  f"{s.label}: {format_number(log_slope(s.x, s.mean), 3)}" for s in power[1:]) +
              f". Max relative deviation from the equivalents {format_number(100 * _max_relative(power), 2)} %.", ""]
    over = result.study("overparametrized")
    resolved = sum(int(np.sum(s.sem > RESOLUTION * np.abs(s.mean))) for s in over)
    lines += ["## Over-parametrised collapse", "",
              f"max |z| against ‖w₀‖²(1 − (T₀/d)^n): {format_number(max_abs_z(over), 3)} over the {resolved} of "
              f"{sum(s.x.size for s in over)} points whose standard error exceeds float32 resolution "
              f"({RESOLUTION:g} of the mean; beyond, every seed's error is ‖w₀‖² to the last bits).", ""]
    fixed, fresh = result.study("fixed_design"), result.study("accumulate")
    c = fixed[0].theory[0]
    lines += ["## Replace versus accumulate", "",
              f"Fixed design ({fixed[0].seeds} designs, see `FIXED_DESIGN_SEED_FACTOR`): max |z| "
              f"{format_number(max_abs_z(fixed), 3)}; at n = {int(fixed[0].x[-1])} replace is "
              f"{format_number(fixed[0].mean[-1] / c, 3)} c and accumulate {format_number(fixed[1].mean[-1] / c, 4)} c "
              f"(bound π²/6 = {np.pi ** 2 / 6:.4f}). Fresh design: replace max |z| "
              f"{format_number(max_abs_z(fresh[:1]), 3)} against the exact OLS chain; accumulate reaches "
              f"{format_number(fresh[1].mean[-1] / c, 4)} c (no closed form is known for a fresh design).", "",
              "## Figures", ""]
    for name, caption in FIGURES.items():
        lines += [f"![{name}]({name})", "", f"*{caption}*", ""]
    return "\n".join(lines) + "\n"
