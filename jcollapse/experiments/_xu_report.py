"""Figures and ``summary.md`` of the Xu, He & Cheng reproduction (:mod:`jcollapse.experiments.xu`)."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from . import _figures
from ._figures import COLOURS
from ._report import format_number
from ._series import max_abs_z
from .xu import (BAND_SE, BERNOULLI_PROB, BERNOULLI_THEORY_MAX_N, DELTA, FAMILIES, GAUSSIAN_SIZE, LONG_RUN,
                 POISSON_RATE, SCHEDULES, SIZE, Result)

#: Figure files and their captions (used in ``summary.md``).
FIGURES = {
    "collapse.png": "Fraction of seeds collapsed against generation (bands ± 2 SE), theory dashed (exact for "
                    "Poisson and Bernoulli, a normal approximation for the Gaussian), continued to "
                    f"t = {LONG_RUN:,} dotted.",
    "mean_error.png": "E(θ̂_t − θ*)² / Var(one sample) against the random walk's Σ 1/n_k (dashed; Bernoulli: "
                      "1 − Π(1 − 1/n_k)).",
}

_TITLES = {"gaussian": f"Gaussian N(0, 1), unbiased variance, σ̂²/σ² < {DELTA:g}, N = {GAUSSIAN_SIZE}",
           "poisson": f"Poisson(rate {POISSON_RATE:g}), absorbed at 0, N = {SIZE}",
           "bernoulli": f"Bernoulli({BERNOULLI_PROB:g}), absorbed at 0 or 1, N = {SIZE}"}
_SCHEDULE_TEXT = {"constant": "$n_t=N$", "linear": "$n_t=N(t+1)$", "superlinear": "$n_t=N(t+1)^{1.5}$"}


def _collapse_figure(result: Result):
    fig, axes = _figures.new_figure(1, len(FAMILIES), width=4.6, height=3.9)
    for ax, family in zip(axes[0], FAMILIES):
        for i, schedule in enumerate(SCHEDULES):
            s = result.find("collapse", family, schedule)
            colour = COLOURS[i]
            _figures.band_plot(ax, s.x, s.mean, s.sem, theory=s.theory, label=_SCHEDULE_TEXT[schedule],
                               colour=colour, width=BAND_SE)
            t, p = result.long_run[family, schedule]
            ax.plot(t, p, color=colour, linestyle=":", linewidth=1.4)
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("generation $t$")
        ax.set_ylabel("fraction of seeds collapsed")
        ax.set_title(_TITLES[family], fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
    kind = {"gaussian": "normal approximation"}
    for ax, family in zip(axes[0], FAMILIES):
        dotted = Line2D([], [], color="grey", linestyle=":", linewidth=1.4, label=f"theory to t = {LONG_RUN:,}")
        _figures.finish_legend(ax, extra=[_figures.theory_legend_handle(kind.get(family, "exact")), dotted],
                               loc="upper left")
    fig.suptitle(f"Xu, He & Cheng: collapse iff Σ 1/n_t = ∞ ({result.seeds} seeds)", fontsize=10)
    return fig


def _mean_error_figure(result: Result):
    fig, axes = _figures.new_figure(1, len(FAMILIES), width=4.6, height=3.9)
    series = result.study("mean_error")
    for ax, family in zip(axes[0], FAMILIES):
        chosen = [s for s in series if s.label.split(",")[0].startswith(family)]
        for s in chosen:
            schedule = s.label.split(", ")[1]
            colour = COLOURS[list(SCHEDULES).index(schedule)]
            heavy = s.theory_kind != "exact"
            label = _SCHEDULE_TEXT[schedule] + (" (unknown variance)" if heavy else "")
            if heavy:
                ax.plot(s.x, s.mean, color=colour, linewidth=1.0, linestyle="-.", label=label)
            else:
                _figures.band_plot(ax, s.x, s.mean, s.sem, theory=s.theory, label=label, colour=colour,
                                   width=BAND_SE)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("generation $t$")
        ax.set_ylabel(r"$E(\hat\theta_t-\theta^*)^2$ / Var(one sample)")
        title = "Gaussian mean (known σ: solid; unbiased σ̂: dash-dot)" if family == "gaussian" else _TITLES[family]
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("exact")], loc="upper left")
    fig.suptitle("The estimate is a random walk: constant and linear n grow (or saturate when absorbed), "
                 "superlinear n converges", fontsize=10)
    return fig


def all_figures(result: Result) -> dict:
    """Every figure of the reproduction, by file name: the keys of :data:`FIGURES` (tested
    in ``tests/test_xu.py``; :func:`jcollapse.experiments.xu.run` calls it).
    """
    return {"collapse.png": _collapse_figure(result), "mean_error.png": _mean_error_figure(result)}


def _value(x: float, digits: int = 3) -> str:
    return format_number(float(x), digits)


def summary_markdown(result: Result) -> str:
    """``summary.md`` without its machine section, computed from the result (tested in
    ``tests/test_xu.py``; :func:`jcollapse.experiments.xu.run` calls it).
    """
    G = result.generations
    collapse = result.study("collapse")
    exact = [s for s in collapse if s.theory_kind == "exact"]
    gaussian = [s for s in collapse if s.theory_kind != "exact"]
    errors = [s for s in result.study("mean_error") if s.theory_kind == "exact"]
    lines = [
        '# Xu, He & Cheng, "A Probabilistic Perspective on Model Collapse": reproduction',
        "",
        f"Pure self-consumption: generation 0 is fitted on n_0 real samples, every later generation only on "
        f"n_t samples from the previous fit (pool `replace`, real fraction 0), generations 0..{G}, "
        f"{result.seeds} seeds per configuration, PRNG `jax.random.key({result.key})`. Dimension 1. Schedules "
        "n_t = N, N(t + 1), N(t + 1)^1.5; Gaussian N(0, 1) with the unbiased variance (N = "
        f"{GAUSSIAN_SIZE}), Poisson rate {POISSON_RATE:g} and Bernoulli p = {BERNOULLI_PROB:g} (N = {SIZE}). "
        "z = (mean − theory)/SE; every point is in `errors.csv`. See `jcollapse/experiments/xu.py`.",
        "",
        "Xu et al.: with unbiased estimation the fit collapses almost surely iff Σ 1/n_t = ∞.",
        "",
        "| schedule | n_t | Σ_{t ≤ T} 1/n_t | collapse |",
        "|---|---|---|---|",
        "| constant | N | T/N → ∞ (diverges) | almost surely |",
        "| linear | N(t + 1) | (log T)/N → ∞ (diverges, slowly) | almost surely, like exp(−c/log t) |",
        "| superlinear | N(t + 1)^1.5 | → ζ(1.5)/N ≈ 2.61/N (converges) | with probability < 1 |",
        "",
        "## Collapse: the fraction of seeds collapsed",
        "",
        "Poisson: absorbed at rate 0; Bernoulli: absorbed at 0 or 1 (exact theory: a Galton-Watson "
        f"composition and the Wright-Fisher chain, the latter only while n_t ≤ {BERNOULLI_THEORY_MAX_N} here, so it is missing "
        f"where the schedule exceeds that); Gaussian: σ̂²_t/σ² < {DELTA:g}, against our normal approximation "
        "(log σ̂²_t/σ² is a sum of independent log χ²_{n−1}/(n−1) terms; "
        "`xu.gaussian_collapse_probability`). SE = √(p(1 − p)/seeds), p kept half a seed from 0 and 1. "
        f"Max |z| against the exact forms over all kept generations: {_value(max_abs_z(exact))}; "
        f"Gaussian against its normal approximation: {_value(max_abs_z(gaussian))} "
        f"(largest |simulated − approximation|: "
        f"{_value(max(float(np.nanmax(np.abs(s.mean - s.theory))) for s in gaussian), 2)}).",
        "",
        f"| family | schedule | collapsed at t = {G} | theory at t = {G} | theory at t = {LONG_RUN:,} |",
        "|---|---|---|---|---|",
    ]
    for family in FAMILIES:
        for schedule in SCHEDULES:
            s = result.find("collapse", family, schedule)
            _, long_run = result.long_run[family, schedule]
            lines.append(f"| {family} | {schedule} | {_value(s.mean[-1], 4)} ± {_value(s.sem[-1], 2)} | "
                         f"{_value(s.theory[-1], 4)} | {_value(long_run[-1], 4)} |")
    lines += [
        "",
        f"— : no theory computed (the exact Bernoulli chain is limited to n_t ≤ {BERNOULLI_THEORY_MAX_N} here). The Gaussian's theory is "
        "the normal approximation, not exact; the constant schedule collapses, the linear one only "
        "logarithmically slowly (its mean and variance of log σ̂² both grow like (log t)/N), the superlinear "
        "one stays bounded away from 1.",
        "",
        "## Mean error: a random walk",
        "",
        "E(θ̂_t − θ*)² / Var(one sample at θ*) against Σ_{k ≤ t} 1/n_k (Poisson; Gaussian mean with known "
        "variance) and 1 − Π_{k ≤ t}(1 − 1/n_k) (Bernoulli), all exact. It diverges for constant and linear n "
        "(Poisson and Bernoulli: the absorbed seeds' error saturates, Bernoulli's at 1), and converges for "
        f"superlinear n. Max |z| against the exact forms: {_value(max_abs_z(errors))}. With the unbiased "
        "variance estimated, the Gaussian mean's error has the same expectation Σ 1/n_k, but σ̂²_t is "
        "log-normal-like with log-variance ≈ 2 Σ 1/n_k, so the Monte-Carlo mean falls far below it once that "
        "exceeds ≈ log(seeds): plotted dash-dot, not tested.",
        "",
        f"| family | schedule | at t = {G} | theory |",
        "|---|---|---|---|",
    ]
    for s in result.study("mean_error"):
        lines.append(f"| {s.label.replace(', ', ' | ')} | {_value(s.mean[-1], 4)} ± {_value(s.sem[-1], 2)} | "
                     f"{_value(s.theory[-1], 4)} ({s.theory_kind}) |")
    lines += [""] + [f"- `{name}`: {caption}" for name, caption in FIGURES.items()] + [""]
    return "\n".join(lines)
