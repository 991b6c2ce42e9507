r"""Amin, Bie, Kong, Syed & Vassilvitskii, "Learning from Synthetic Data: Limitations of ERM":
the reproduction behind ``jcollapse reproduce amin``.

Amin et al.'s contamination ``alpha`` is the share of each round's data drawn from the
previous model: ``real_fraction = 1 - alpha``. Round ``t`` (counted from 1) is the
library's generation ``t - 1``. Three studies:

1. **Theorem 1** (``theorem_1``): mean estimation, :class:`jcollapse.models.GaussianMean`
   with split mixing and the accumulating pool, uniform weights (ERM), for ``alpha`` below,
   at and above ``1/2`` and at 1. The variance of the estimate (in units of one round's
   ``Sigma / n``) against its exact value (:func:`jcollapse.theory.expected`, which is
   Theorem 1's :func:`jcollapse.theory.amin_theorem_1` for uniform weights) and the four
   asymptotic regimes (:func:`jcollapse.theory.amin_asymptote`), log-log.
2. **Weights** (``weights``): ERM against the variance-optimal per-generation pool weights
   (:func:`jcollapse.theory.optimal_pool_weights`), both against their exact variance
   (:func:`jcollapse.theory.expected`); the optimal weights reach
   ``Sigma / (1 + (t - 1)(1 - alpha)^2)``, the variance of the debiased estimator that
   subtracts the previous fit (``Z_s = (X_s - alpha Y_{s-1}) / (1 - alpha)``), by weighting alone.
3. **PAC** (``pac``): thresholds and intervals on ``[0, 1]`` (:mod:`jcollapse.pac`),
   repeated ERM on all data against the disagreement-learning algorithm, with the rate
   ``sqrt(d / ((1 - alpha) n t))`` as a reference.

The driver writes ``theorem_1.png``, ``weights.png``, ``pac.png``, ``errors.csv`` (every
point: mean, standard error, theory, z), ``checks.csv``, ``summary.md`` and ``index.html``.

```python
>>> from jcollapse.experiments import amin
>>> amin.Amin(pac_rounds=30).pac_rounds
30

```
"""

from __future__ import annotations

import time
from typing import ClassVar, Optional

import equinox as eqx
import jax
import numpy as np

from .. import Loop, models, pac, theory
from .. import simulate as simulate_loop
from ..internal.validation import check_count
from . import _figures
from ._protocol import Check, Progress, Reproduction, Result, quiet_progress
from ._series import CHI2_INTERVAL, Series, chi2_floored_sem, healthy_mean_sem, log_slope, log_spaced, max_abs_z

#: Seeds per configuration (the mean studies cost O(1) per seed and round).
SEEDS = 10_000
#: ``G``: rounds ``1..G + 1`` of the mean-estimation studies.
GENERATIONS = 999
#: Per-round sample size of the mean studies (the variance is reported in units of ``Sigma / n``).
MEAN_SIZE = 100
#: Contaminations of Theorem 1's study: below, at and above 1/2, and 1.
THEOREM_CONTAMINATIONS = (0.25, 0.5, 0.75, 1.0)
#: Contaminations of the weights and PAC studies.
CONTAMINATIONS = (0.25, 0.5, 0.75, 0.9)
#: PAC study: points per round, rounds ``R`` (the table has rounds ``t = 1..R + 1``), and
#: at most this many seeds (its ERM re-sorts a pool of ``(R + 1) n`` points every round).
PAC_SIZE, PAC_ROUNDS, PAC_SEEDS = 20, 100, 2000
#: PAC study: the true concepts.
PAC_TRUTHS = {"threshold": {"theta": 0.3}, "interval": {"left": 0.2, "right": 0.7}}
#: Rounds kept in the table and figures: about this many, log-spaced.
POINTS = 60
#: Half-width of the plotted bands, in standard errors.
BAND_SE = 2.0

#: Study names, in simulation (and key) order.
STUDIES = ("theorem_1", "weights", "pac")


def kept_rounds(generations: int, points: int = POINTS) -> np.ndarray:
    """About `points` log-spaced rounds in ``1..generations + 1`` (every round when few).

    **Arguments:**

    - `generations`: ``G``: rounds ``1..G + 1``.
    - `points`: about how many.

    **Returns:**

    An increasing integer array.

    ```python
    >>> kept_rounds(9).tolist()
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

    ```
    """
    return log_spaced(generations + 1, points)


def mean_loop(contamination: float, generations: int, weights=None) -> Loop:
    """The mean-estimation loop: ``GaussianMean(dim=1)``, ``n = MEAN_SIZE``, split mixing,
    accumulating pool with `weights` (``None``: uniform, ERM).

    **Arguments:**

    - `contamination`: ``alpha``; the real fraction is ``1 - alpha``.
    - `generations`: ``G``.
    - `weights`: per-generation pool weights, or ``None``.

    **Returns:**

    A :class:`jcollapse.Loop`.

    ```python
    >>> mean_loop(0.25, 3).real_fraction.tolist()
    [0.75, 0.75, 0.75, 0.75]

    ```
    """
    return Loop(models.GaussianMean(dim=1), generations=generations, real_fraction=1 - contamination,
                sample_size=MEAN_SIZE, pool="accumulate", mixing="split", pool_weights=weights)


def mean_truth():
    """``N(0, 1)``: the variance in units of ``Sigma / n`` is ``n`` times the squared error.

    ```python
    >>> mean_truth().cov.tolist()
    [[1.0]]

    ```
    """
    return models.GaussianMean(dim=1).params(mean=0.0, cov=[[1.0]])


def pac_concept(name: str):
    """The concept class of the PAC study called `name` (a key of :data:`PAC_TRUTHS`).

    **Arguments:**

    - `name`: ``"threshold"`` or ``"interval"``.

    **Returns:**

    A :mod:`jcollapse.pac` concept class.

    ```python
    >>> pac_concept("interval").vc_dim
    2

    ```
    """
    return {"threshold": pac.Threshold, "interval": pac.Interval}[name]()


def _alpha(label: str) -> float:
    return float(label.split("alpha=")[1])


def _mean_series(study: str, label: str, loop: Loop, key, seeds: int) -> Series:
    truth = mean_truth()
    run = simulate_loop(loop, truth, key=key, seeds=seeds, progress=False)
    rounds = kept_rounds(loop.generations)
    mean, sem = healthy_mean_sem(run.metrics["mean_sq_error"][:, rounds - 1] * MEAN_SIZE, run.failed)
    values = theory.expected(loop, truth, "mean_sq_error")[rounds - 1] * MEAN_SIZE
    return Series(study, label, rounds.astype(float), mean, sem, theory=values, theory_kind="exact",
                  closed_form="jc.theory.expected", xname="round", seeds=seeds, failed=int(run.failed.sum()),
                  metric="mean_sq_error")


def _theorem_1(key, seeds: int, generations: int, bar: Progress) -> list[Series]:
    out = []
    for i, alpha in enumerate(THEOREM_CONTAMINATIONS):
        out.append(_mean_series("theorem_1", f"alpha={alpha:g}", mean_loop(alpha, generations),
                                jax.random.fold_in(key, i), seeds))
        bar.update(seeds)
    return out


def _weights(key, seeds: int, generations: int, bar: Progress) -> list[Series]:
    out = []
    for i, alpha in enumerate(CONTAMINATIONS):
        erm = mean_loop(alpha, generations)
        best = erm.replace(pool_weights=theory.optimal_pool_weights(erm))
        out.append(_mean_series("weights", f"ERM, alpha={alpha:g}", erm, jax.random.fold_in(key, 2 * i), seeds))
        out.append(_mean_series("weights", f"optimal weights, alpha={alpha:g}", best,
                                jax.random.fold_in(key, 2 * i + 1), seeds))
        bar.update(2 * seeds)
    return out


def _pac(key, seeds: int, pac_rounds: int, bar: Progress) -> list[Series]:
    rounds = kept_rounds(pac_rounds)
    out = []
    for i, (name, fields) in enumerate(PAC_TRUTHS.items()):
        concept = pac_concept(name)
        for j, alpha in enumerate(CONTAMINATIONS):
            # both learners see the same data (same key): their difference is the learner's
            config_key = jax.random.fold_in(key, len(CONTAMINATIONS) * i + j)
            for learner, label in (("erm", "ERM"), ("disagreement", "disagreement")):
                run = pac.simulate(concept, concept.params(**fields), contamination=alpha, sample_size=PAC_SIZE,
                                   rounds=pac_rounds, learner=learner, seeds=seeds, key=config_key, progress=False)
                mean, sem = healthy_mean_sem(run.error[:, rounds - 1], np.zeros(seeds, bool))
                out.append(Series("pac", f"{name}, {label}, alpha={alpha:g}", rounds.astype(float), mean, sem,
                                  xname="round", seeds=seeds, metric="error"))
                bar.update(seeds)
    return out


#: Figure files and their captions.
FIGURES = {
    "theorem_1.png": "ERM's variance against Theorem 1 (dashed) and its four asymptotic regimes (dotted): "
                     "1/((1−2α)t), log t/t, C_α t^(−2(1−α)), π²/6.",
    "weights.png": "Uniform weights (ERM) against the variance-optimal pool weights, both against their exact "
                   "variance (dashed).",
    "pac.png": "Thresholds and intervals: repeated ERM on all data stalls for α > 1/2; the disagreement "
               "algorithm keeps learning (dotted: √(d/((1−α)nt))).",
}

SUMMARY = """\
# Amin et al., "Learning from Synthetic Data: Limitations of ERM": reproduction

Contamination α = share of each round drawn from the previous model (real fraction 1 − α).
{{ r.seeds }} seeds per configuration; PRNG `jax.random.key({{ r.key }})`. z = (mean − theory)/SE;
every point is in `errors.csv`. See `jcollapse/experiments/amin.py` for the settings.

## Theorem 1: ERM's variance on accumulated data

Gaussian mean, n = {{ mean_size }} per round, split mixing, uniform weights, rounds 1..{{ last }}.
Max |z| against Theorem 1 over all kept rounds: {{ theorem_z | num(3) }}.

| α | Var(Y_t) at t = {{ last }} (units Σ/n) | Theorem 1 | asymptote | log-log slope (t ≥ {{ slope_from }}) |
|---|---|---|---|---|
{% for row in theorem %}
| {{ row.alpha }} | {{ row.mean | pm(row.sem, 4, 2) }} | {{ row.theory | num(4) }} | {{ row.asymptote | num(4) }} \
| {{ row.slope | num(3) }} |
{% endfor %}

Rates: α < 1/2 gives 1/((1−2α)t) (slope −1); α = 1/2 gives log t/t; 1/2 < α < 1 gives
t^(−2(1−α)) (slope −0.5 at α = 0.75); α = 1 does not converge (→ π²/6 ≈ 1.645).

## A weighted estimator beats ERM

The variance-optimal pool weights (`jc.theory.optimal_pool_weights`, a Kalman gain; our
derivation) need α; they reach Σ/(1 + (t−1)(1−α)²), the variance of the debiased estimator
that subtracts the previous fit (Z_s = (X_s − α Y_{s−1})/(1 − α)), by weighting alone. Max |z|
against the exact variance: {{ weights_z | num(3) }}.

| α | ERM at t = {{ last }} | optimal weights | ratio |
|---|---|---|---|
{% for erm, best in weights %}
| {{ erm.label.split("alpha=")[1] }} | {{ erm.mean[-1] | pm(erm.sem[-1], 4, 2) }} \
| {{ best.mean[-1] | pm(best.sem[-1], 4, 2) }} | {{ (erm.mean[-1] / best.mean[-1]) | num(3) }} |
{% endfor %}

## PAC learning: ERM stalls, the disagreement algorithm does not

n = {{ pac_size }} points per round, rounds 1..{{ pac_last }}, {{ pac_seeds }} seeds; error =
P(f_t ≠ f*), exact. Both learners see the same data.

| concept | α | ERM at t = 5 | ERM at t = {{ pac_last }} | disagreement at t = {{ pac_last }} | √(d/((1−α)nt)) \
| slope of the disagreement error |
|---|---|---|---|---|---|---|
{% for row in pac %}
| {{ row.concept }} | {{ row.alpha }} | {{ row.fifth | num(3) }} | {{ row.erm | pm(row.erm_sem, 3, 2) }} \
| {{ row.algo | pm(row.algo_sem, 3, 2) }} | {{ row.bound | num(3) }} | {{ row.slope | num(3) }} |
{% endfor %}
"""


class Amin(Reproduction):
    """Amin et al.'s limitations of ERM (``jcollapse reproduce amin``); see the module docstring.

    **Fields:**

    - `pac_rounds`: ``R >= 2``: rounds ``1..R + 1`` of the PAC study (default :data:`PAC_ROUNDS`).

    ```python
    >>> Amin(pac_rounds=1)
    Traceback (most recent call last):
    ...
    ValueError: pac_rounds must be an integer >= 2; got 1

    ```
    """

    pac_rounds: int = eqx.field(default=PAC_ROUNDS, converter=lambda value: check_count("pac_rounds", value, 2))

    name: ClassVar[str] = "amin"
    title: ClassVar[str] = "Amin et al.: learning from synthetic data, limitations of ERM"
    default_seeds: ClassVar[int] = SEEDS
    default_generations: ClassVar[int] = GENERATIONS
    min_seeds: ClassVar[int] = 2
    min_generations: ClassVar[int] = 2
    figure_captions: ClassVar[dict] = FIGURES
    summary_template: ClassVar[str] = SUMMARY

    def simulate(self, seeds: int, generations: int, key: int = 0, *,
                 progress: Optional[Progress] = None) -> Result:
        """Simulate every study.

        Study ``i`` of :data:`STUDIES` uses ``fold_in(key(key), i)``, configuration ``j``
        within it ``fold_in`` of that with ``j``. `generations` is ``G``: rounds ``1..G + 1``
        of the mean studies; the PAC study uses at most :data:`PAC_SEEDS` seeds.
        """
        seeds, generations = self.check_counts(seeds, generations)
        pac_seeds = min(seeds, PAC_SEEDS)
        bar = quiet_progress(progress)
        bar.reset(total=(len(THEOREM_CONTAMINATIONS) + 2 * len(CONTAMINATIONS)) * seeds
                  + 2 * len(PAC_TRUTHS) * len(CONTAMINATIONS) * pac_seeds)
        start = time.perf_counter()
        root = jax.random.key(key)
        series = _theorem_1(jax.random.fold_in(root, 0), seeds, generations, bar)
        series += _weights(jax.random.fold_in(root, 1), seeds, generations, bar)
        series += _pac(jax.random.fold_in(root, 2), pac_seeds, self.pac_rounds, bar)
        return Result(self.name, seeds, generations, key, tuple(series), simulate_seconds=time.perf_counter() - start)

    def figures(self, result: Result) -> dict:
        """``theorem_1.png``, ``weights.png`` and ``pac.png``."""
        return {
            "theorem_1.png": _theorem_1_figure(result),
            "weights.png": _weights_figure(result),
            "pac.png": _pac_figure(result),
        }

    def checks(self, result: Result) -> list[Check]:
        """Every kept round: ERM's variance (Theorem 1) and the weighted estimators' exact
        variance, with the SE floored at the chi-square one (the estimate is normal, so its
        squared error is exactly the variance times a ``chi^2_1``). The PAC study has no closed
        form (its rate is a reference, not a check)."""
        return [
            Check.compare("Theorem 1: ERM's variance on accumulated data", result.study("theorem_1"),
                          statistic="mean of n (μ̂_t − μ)² over seeds (Var(Y_t) in units of Σ/n)",
                          interval=CHI2_INTERVAL, standard_error=chi2_floored_sem),
            Check.compare("ERM and the variance-optimal pool weights", result.study("weights"),
                          statistic="mean of n (μ̂_t − μ)² over seeds", interval=CHI2_INTERVAL,
                          standard_error=chi2_floored_sem),
        ]

    def summary_context(self, result: Result) -> dict:
        """The tables' rows: Theorem 1 per α, ERM against the optimal weights, PAC per concept and α."""
        last = result.generations + 1
        slope_from = min(100, last // 2)
        theorem = []
        for s in result.study("theorem_1"):
            alpha, late = _alpha(s.label), s.x >= slope_from
            theorem.append(dict(alpha=f"{alpha:g}", mean=s.mean[-1], sem=s.sem[-1], theory=s.theory[-1],
                                asymptote=float(theory.amin_asymptote(alpha, last)),
                                slope=log_slope(s.x[late], s.mean[late])))
        weights = result.study("weights")
        pac_series = result.study("pac")
        pac_last = int(pac_series[0].x[-1])
        pac_rows = []
        for erm, algo in zip(pac_series[::2], pac_series[1::2]):
            concept, alpha = erm.label.split(",")[0], _alpha(erm.label)
            bound = pac.rate_bound(pac_concept(concept).vc_dim, alpha, PAC_SIZE, pac_last - 1)[-1]
            fifth = int(np.searchsorted(erm.x, 5))
            pac_rows.append(dict(concept=concept, alpha=f"{alpha:g}", fifth=erm.mean[fifth], erm=erm.mean[-1],
                                 erm_sem=erm.sem[-1], algo=algo.mean[-1], algo_sem=algo.sem[-1], bound=bound,
                                 slope=log_slope(algo.x[1:], algo.mean[1:])))
        return dict(mean_size=MEAN_SIZE, last=last, slope_from=slope_from, theorem=theorem,
                    theorem_z=max_abs_z(result.study("theorem_1")), weights_z=max_abs_z(weights),
                    weights=list(zip(weights[::2], weights[1::2])), pac_size=PAC_SIZE, pac_last=pac_last,
                    pac_seeds=pac_series[0].seeds, pac=pac_rows)


def _draw(ax, series: list[Series], labels: list[str], colours: list[str]) -> None:
    for s, label, colour in zip(series, labels, colours):
        _figures.band_plot(ax, s.x, s.mean, s.sem, theory=s.theory, label=label, colour=colour, width=BAND_SE)


def _log_axes(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)


def _theorem_1_figure(result: Result):
    from matplotlib.lines import Line2D  # noqa: PLC0415  (matplotlib is imported on first use)

    series = result.study("theorem_1")
    fig, axes = _figures.new_figure(1, 1, width=6.6, height=4.6)
    ax = axes[0, 0]
    _log_axes(ax, "round $t$", r"$\mathrm{Var}(Y_t)$ in units of $\Sigma/n$")
    colours = [_figures.COLOURS[i % len(_figures.COLOURS)] for i in range(len(series))]
    _draw(ax, series, [f"$\\alpha={_alpha(s.label):g}$" for s in series], colours)
    for s, colour in zip(series, colours):
        late = s.x >= 10
        ax.plot(s.x[late], theory.amin_asymptote(_alpha(s.label), s.x[late]), color=colour, linestyle=":",
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
        _draw(ax, pair, [s.label.split(",")[0] for s in pair], [_figures.COLOURS[1], _figures.COLOURS[0]])
        ax.set_title(f"$\\alpha={alpha:g}$", fontsize=10)
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("exact variance")], loc="lower left")
    fig.suptitle("A weighted estimator beats ERM: the optimal per-generation weights reach "
                 r"$\Sigma/(1+(t-1)(1-\alpha)^2)$", fontsize=10)
    return fig


def _pac_figure(result: Result):
    series = result.study("pac")
    concepts = list(dict.fromkeys(s.label.split(",")[0] for s in series))
    fig, axes = _figures.new_figure(1, len(concepts), width=5.6, height=4.4)
    for ax, concept in zip(axes[0], concepts):
        _log_axes(ax, "round $t$", r"error $P(f_t \neq f^*)$")
        for i, alpha in enumerate(CONTAMINATIONS):
            colour = _figures.COLOURS[i % len(_figures.COLOURS)]
            chosen = {s.label.split(", ")[1]: s for s in series
                      if s.label.startswith(concept + ",") and _alpha(s.label) == alpha}
            erm, algo = chosen["ERM"], chosen["disagreement"]
            _figures.band_plot(ax, erm.x, erm.mean, erm.sem, label=f"ERM, $\\alpha={alpha:g}$", colour=colour,
                               width=BAND_SE)
            ax.plot(algo.x, algo.mean, color=colour, linestyle="--", linewidth=1.6,
                    label=f"disagreement, $\\alpha={alpha:g}$")
            bound = pac.rate_bound(pac_concept(concept).vc_dim, alpha, PAC_SIZE, int(algo.x[-1]) - 1)
            ax.plot(algo.x, bound[algo.x.astype(int) - 1], color=colour, linestyle=":", linewidth=1.0)
        ax.set_title(f"{concept}s on [0, 1], $n={PAC_SIZE}$ per round, {series[0].seeds} seeds", fontsize=10)
    axes[0, -1].legend(fontsize=7, ncol=2, loc="lower left")
    fig.suptitle("PAC learning with self-labelled rounds: solid ERM on all data, dashed the disagreement "
                 "algorithm, dotted $\\sqrt{d/((1-\\alpha)nt)}$", fontsize=10)
    return fig
