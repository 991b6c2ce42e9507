"""Figures and ``summary.md`` of the Amin et al. reproduction (:mod:`jcollapse.experiments.amin`)."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from . import _figures
from ._figures import COLOURS
from ._report import format_number
from ._series import Series, log_slope, max_abs_z
from .amin import BAND_SE, CONTAMINATIONS, MEAN_SIZE, PAC_SIZE, Result, pac_concept

#: Figure files and their captions (used in ``summary.md``).
FIGURES = {
    "theorem_1.png": "ERM's variance against Theorem 1 (dashed) and its four asymptotic regimes (dotted): "
                     "1/((1−2α)t), log t/t, C_α t^(−2(1−α)), π²/6.",
    "weights.png": "Uniform weights (ERM) against the variance-optimal pool weights, both against their exact "
                   "variance (dashed).",
    "pac.png": "Thresholds and intervals: repeated ERM on all data stalls for α > 1/2; the disagreement "
               "algorithm keeps learning (dotted: √(d/((1−α)nt))).",
}


def _draw(ax, series: list[Series], labels: list[str], colours: list[str], **style) -> None:
    for s, label, colour in zip(series, labels, colours):
        _figures.band_plot(ax, s.x, s.mean, s.sem, theory=s.theory, label=label, colour=colour, width=BAND_SE)


def _log_axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)


def _alpha(label: str) -> float:
    return float(label.split("alpha=")[1])


def _theorem_1_figure(result: Result):
    import jcollapse as jc

    series = result.study("theorem_1")
    fig, axes = _figures.new_figure(1, 1, width=6.6, height=4.6)
    ax = axes[0, 0]
    _log_axes(ax, "round $t$", r"$\mathrm{Var}(Y_t)$ in units of $\Sigma/n$")
    colours = [COLOURS[i % len(COLOURS)] for i in range(len(series))]
    _draw(ax, series, [f"$\\alpha={_alpha(s.label):g}$" for s in series], colours)
    for s, colour in zip(series, colours):
        late = s.x >= 10
        ax.plot(s.x[late], jc.theory.amin_asymptote(_alpha(s.label), s.x[late]), color=colour, linestyle=":",
                linewidth=1.4)
    ax.set_title(f"Mean estimation on accumulated data, ERM (uniform weights), $n={MEAN_SIZE}$, "
                 f"{result.seeds} seeds", fontsize=10)
    asymptote = Line2D([], [], color="grey", linestyle=":", linewidth=1.4, label="asymptotic regime")
    _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("Theorem 1 (exact)"), asymptote], loc="lower left")
    return fig


def _weights_figure(result: Result):
    series = result.study("weights")
    fig, axes = _figures.new_figure(1, len(CONTAMINATIONS), width=3.9, height=3.7)
    for ax, alpha in zip(axes[0], CONTAMINATIONS):
        pair = [s for s in series if _alpha(s.label) == alpha]
        _log_axes(ax, "round $t$", r"$\mathrm{Var}$ in units of $\Sigma/n$")
        _draw(ax, pair, [s.label.split(",")[0] for s in pair], [COLOURS[1], COLOURS[0]])
        ax.set_title(f"$\\alpha={alpha:g}$", fontsize=10)
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("exact variance")], loc="lower left")
    fig.suptitle("A weighted estimator beats ERM: the optimal per-generation weights reach "
                 r"$\Sigma/(1+(t-1)(1-\alpha)^2)$", fontsize=10)
    return fig


def _pac_figure(result: Result):
    import jcollapse as jc

    series = result.study("pac")
    concepts = list(dict.fromkeys(s.label.split(",")[0] for s in series))
    fig, axes = _figures.new_figure(1, len(concepts), width=5.6, height=4.4)
    for ax, concept in zip(axes[0], concepts):
        _log_axes(ax, "round $t$", r"error $P(f_t \neq f^*)$")
        for i, alpha in enumerate(CONTAMINATIONS):
            colour = COLOURS[i % len(COLOURS)]
            chosen = {s.label.split(", ")[1]: s for s in series
                      if s.label.startswith(concept + ",") and _alpha(s.label) == alpha}
            erm, algo = chosen["ERM"], chosen["disagreement"]
            _figures.band_plot(ax, erm.x, erm.mean, erm.sem, label=f"ERM, $\\alpha={alpha:g}$", colour=colour,
                               width=BAND_SE)
            ax.plot(algo.x, algo.mean, color=colour, linestyle="--", linewidth=1.6,
                    label=f"disagreement, $\\alpha={alpha:g}$")
            dim = pac_concept(concept).vc_dim
            bound = jc.pac.rate_bound(dim, alpha, PAC_SIZE, int(algo.x[-1]) - 1)
            ax.plot(algo.x, bound[algo.x.astype(int) - 1],
                    color=colour, linestyle=":", linewidth=1.0)
        ax.set_title(f"{concept}s on [0, 1], $n={PAC_SIZE}$ per round, {series[0].seeds} seeds", fontsize=10)
    axes[0, -1].legend(fontsize=7, ncol=2, loc="lower left")
    fig.suptitle("PAC learning with self-labelled rounds: solid ERM on all data, dashed the disagreement "
                 "algorithm, dotted $\\sqrt{d/((1-\\alpha)nt)}$", fontsize=10)
    return fig


def all_figures(result: Result) -> dict:
    """Every figure of the reproduction, by file name: the keys of :data:`FIGURES` (tested
    in ``tests/test_amin.py``; :func:`jcollapse.experiments.amin.run` calls it).
    """
    return {
        "theorem_1.png": _theorem_1_figure(result),
        "weights.png": _weights_figure(result),
        "pac.png": _pac_figure(result),
    }


def summary_markdown(result: Result) -> str:
    """``summary.md`` without its machine section, computed from the result (tested in
    ``tests/test_amin.py``; :func:`jcollapse.experiments.amin.run` calls it).
    """
    import jcollapse as jc

    last = result.generations + 1
    slope_from = min(100, last // 2)
    lines = [
        '# Amin et al., "Learning from Synthetic Data: Limitations of ERM": reproduction',
        "",
        f"Contamination α = share of each round drawn from the previous model (real fraction 1 − α). "
        f"{result.seeds} seeds per configuration; PRNG `jax.random.key({result.key})`. z = (mean − theory)/SE; "
        "every point is in `errors.csv`. See `jcollapse/experiments/amin.py` for the settings.",
        "",
        "## Theorem 1: ERM's variance on accumulated data", "",
        f"Gaussian mean, n = {MEAN_SIZE} per round, split mixing, uniform weights, rounds 1..{last}. "
        f"Max |z| against Theorem 1 over all kept rounds: {format_number(max_abs_z(result.study('theorem_1')), 3)}.",
        "", f"| α | Var(Y_t) at t = {last} (units Σ/n) | Theorem 1 | asymptote | log-log slope (t ≥ {slope_from}) |",
        "|---|---|---|---|---|",
    ]
    for s in result.study("theorem_1"):
        alpha = _alpha(s.label)
        late = s.x >= slope_from
        lines.append(f"| {alpha:g} | {format_number(s.mean[-1], 4)} ± {format_number(s.sem[-1], 2)} | "
                     f"{format_number(s.theory[-1], 4)} | {format_number(float(jc.theory.amin_asymptote(alpha, last)), 4)}"
                     f" | {format_number(log_slope(s.x[late], s.mean[late]), 3)} |")
    lines += ["", "Rates: α < 1/2 gives 1/((1−2α)t) (slope −1); α = 1/2 gives log t/t; 1/2 < α < 1 gives "
              "t^(−2(1−α)) (slope −0.5 at α = 0.75); α = 1 does not converge (→ π²/6 ≈ 1.645).", "",
              "## A weighted estimator beats ERM", "",
              "The variance-optimal pool weights (`jc.theory.optimal_pool_weights`, a Kalman gain; our derivation) "
              "need α; they reach Σ/(1 + (t−1)(1−α)²), the variance of REFERENCE's debiased candidate, by weighting "
              f"alone. Max |z| against the exact variance: {format_number(max_abs_z(result.study('weights')), 3)}.",
              "", f"| α | ERM at t = {last} | optimal weights | ratio |", "|---|---|---|---|"]
    weights = result.study("weights")
    for erm, best in zip(weights[::2], weights[1::2]):
        lines.append(f"| {_alpha(erm.label):g} | {format_number(erm.mean[-1], 4)} ± {format_number(erm.sem[-1], 2)} | "
                     f"{format_number(best.mean[-1], 4)} ± {format_number(best.sem[-1], 2)} | "
                     f"{format_number(erm.mean[-1] / best.mean[-1], 3)} |")
    pac = result.study("pac")
    pac_last = int(pac[0].x[-1])
    lines += ["", "## PAC learning: ERM stalls, the disagreement algorithm does not", "",
              f"n = {PAC_SIZE} points per round, rounds 1..{pac_last}, {pac[0].seeds} seeds; "
              "error = P(f_t ≠ f*), exact. Both learners see the same data.", "",
              f"| concept | α | ERM at t = 5 | ERM at t = {pac_last} | disagreement at t = {pac_last} | "
              f"√(d/((1−α)nt)) | slope of the disagreement error |", "|---|---|---|---|---|---|---|"]
    for erm, algo in zip(pac[::2], pac[1::2]):
        concept, alpha = erm.label.split(",")[0], _alpha(erm.label)
        dim = pac_concept(concept).vc_dim
        bound = jc.pac.rate_bound(dim, alpha, PAC_SIZE, pac_last - 1)[-1]
        fifth = int(np.searchsorted(erm.x, 5))
        lines.append(f"| {concept} | {alpha:g} | {format_number(erm.mean[fifth], 3)} | "
                     f"{format_number(erm.mean[-1], 3)} ± {format_number(erm.sem[-1], 2)} | "
                     f"{format_number(algo.mean[-1], 3)} ± {format_number(algo.sem[-1], 2)} | "
                     f"{format_number(bound, 3)} | {format_number(log_slope(algo.x[1:], algo.mean[1:]), 3)} |")
    lines += [""] + [f"- `{name}`: {caption}" for name, caption in FIGURES.items()] + [""]
    return "\n".join(lines)
