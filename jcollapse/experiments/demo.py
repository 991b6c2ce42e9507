"""Gaussian collapse versus recovery: the experiment behind ``jcollapse demo``.

A one-dimensional Gaussian ``N(0, 1)`` is fitted, sampled from, mixed with fresh real data
and refitted for ``G = 200`` generations (pool ``"replace"``, mixing ``"iid"``), over a grid
of

- estimators: the MLE variance (scatter / n) and the unbiased one (scatter / (n - 1));
- real fractions ``a = 0, 0.1, 0.5``;
- sample sizes: fixed ``n = 100`` and growing ``n_t = 100 (t + 1)``.

For every configuration it records the mean over seeds of the fitted variance and of the
squared error of the mean, with standard errors, next to :func:`jcollapse.theory.expected`.
With ``a = 0`` the fitted variance is a product of ``t + 1`` independent chi-square factors,
heavy-tailed: its mean is drawn but not checked; the light-tailed ``log sigma_hat^2_t`` is
checked against :func:`jcollapse.theory.gaussian_expected_log_variance` instead.

```python
>>> from jcollapse.experiments import DEMO
>>> result = DEMO.simulate(seeds=64, generations=20)  # tests/test_demo.py's size: compiled once
>>> sorted({s.study for s in result.series})
['log_variance', 'mean_sq_error', 'variance']

```
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar, Optional

import jax
import numpy as np

from .. import Loop, models, schedules, theory
from .. import simulate as simulate_loop
from . import _figures
from ._protocol import Check, Progress, Reproduction, Result, quiet_progress
from ._series import summarize, theory_or_none

#: Number of generations after generation 0.
GENERATIONS = 200
#: Fixed sample size, and the scale of the growing schedule ``n_t = 100 (t + 1)``.
SAMPLE_SIZE = 100
#: Real fractions ``a`` compared.
REAL_FRACTIONS = (0.0, 0.1, 0.5)
#: Variance estimators compared.
ESTIMATORS = ("mle", "unbiased")
#: Sample-size schedules compared.
GROWTHS = ("fixed", "growing")
#: Metrics recorded (both have closed forms for the replace pool).
METRICS = ("variance", "mean_sq_error")
#: Default number of seeds.
SEEDS = 2000
#: Half-width of the plotted bands, in standard errors of the mean.
BAND_SE = 2.0

_METRIC_TITLES = {
    "variance": r"fitted variance $\hat\sigma^2_t$",
    "mean_sq_error": r"squared error of the mean $(\hat\mu_t-\mu)^2$",
}
_ESTIMATOR_TITLES = {"mle": "MLE variance (scatter / n)", "unbiased": "unbiased variance (scatter / (n-1))"}
_GROWTH_TITLES = {"fixed": f"fixed $n={SAMPLE_SIZE}$", "growing": f"growing $n_t={SAMPLE_SIZE}(t+1)$"}
_HEAVY_TAILED = ("heavy-tailed: with a = 0, σ̂²_t is a product of t + 1 independent χ² factors, so its sample "
                 "mean sits below E σ̂²_t in most runs and its SE is unreliable; E log σ̂²_t is checked instead")


@dataclasses.dataclass(frozen=True)
class Config:
    """One configuration of the demo.

    **Fields:**

    - `estimator`: ``"mle"`` or ``"unbiased"`` (the ``variance`` of :class:`jcollapse.models.Gaussian`).
    - `real_fraction`: ``a``, the same in every generation ``t >= 1``.
    - `growth`: ``"fixed"`` (``n = 100``) or ``"growing"`` (``n_t = 100 (t + 1)``).

    ```python
    >>> Config("mle", 0.1, "fixed").label
    'mle, a=0.1, n=100'

    ```
    """

    estimator: str
    real_fraction: float
    growth: str

    @property
    def label(self) -> str:
        """A short human-readable name, e.g. ``"mle, a=0.1, n=100"``."""
        n = f"n={SAMPLE_SIZE}" if self.growth == "fixed" else f"n_t={SAMPLE_SIZE}(t+1)"
        return f"{self.estimator}, a={self.real_fraction:g}, {n}"

    def loop(self, generations: int = GENERATIONS) -> Loop:
        """The :class:`jcollapse.Loop` of this configuration.

        **Arguments:**

        - `generations`: ``G``.

        **Returns:**

        A ``jc.Loop`` over ``jc.models.Gaussian(dim=1, variance=estimator)``.

        ```python
        >>> Config("unbiased", 0.5, "growing").loop(generations=2).sample_size
        array([100, 200, 300])

        ```
        """
        sample_size = SAMPLE_SIZE if self.growth == "fixed" else schedules.power(SAMPLE_SIZE, 1)
        return Loop(models.Gaussian(dim=1, variance=self.estimator), generations=generations,
                    real_fraction=self.real_fraction, sample_size=sample_size, pool="replace", mixing="iid")


def configs() -> tuple[Config, ...]:
    """All configurations of the demo: estimators x sample-size schedules x real fractions.

    **Returns:**

    A tuple of :class:`Config`, estimator-major.

    ```python
    >>> len(configs())
    12

    ```
    """
    return tuple(Config(estimator, a, growth) for estimator in ESTIMATORS for growth in GROWTHS for a in REAL_FRACTIONS)


#: Figure files and their captions, in the order they appear in ``summary.md``.
FIGURES = {
    "variance.png": (
        "Fitted variance over generations. Rows: MLE and unbiased estimator; columns: fixed "
        f"n = {SAMPLE_SIZE} and growing n_t = {SAMPLE_SIZE}(t+1). Solid: mean over seeds; shaded "
        f"band: mean ± {BAND_SE:g} standard errors; dashed: closed-form theory. With a = 0 and "
        "fixed n the MLE variance decays like ((n−1)/n)^(t+1); fresh real data (a > 0) or "
        "growing n_t keeps it near 1."
    ),
    "mean_sq_error.png": (
        "Squared error of the fitted mean over generations, same layout and band (± "
        f"{BAND_SE:g} SE) as above. With a = 0 it is a random walk that grows linearly with t for "
        "fixed n; real data bounds it; growing n_t with a > 0 drives it to 0."
    ),
    "typical_variance.png": (
        "Unbiased variance with a = 0: mean (± "
        f"{BAND_SE:g} SE band), median (dotted) and the 5 %–95 % range of seeds (grey). The "
        "mean stays at σ² = 1 while the median decays: σ̂²_t → 0 almost surely when Σ 1/n_t "
        "diverges (Xu, He & Cheng), slowly for linear growth."
    ),
}

SUMMARY = """\
# jcollapse demo: Gaussian collapse versus recovery

Truth N(0, 1) in one dimension; `jc.models.Gaussian(dim=1, variance=...)`, pool `replace`,
mixing `iid`, exact-statistics path; G = {{ r.generations }} generations, {{ r.seeds }} seeds per
configuration; configuration i (row order below, metrics share it) uses the key
`fold_in(jax.random.key({{ r.key }}), i)`.

## Last generation (t = {{ r.generations }})

Mean over seeds ± its standard error (SE), the closed form (— where none is known), and
z = (mean − theory) / SE. |z| up to about 3 is Monte-Carlo noise. With a = 0 the fitted
variance σ̂²_t is heavy-tailed (a product of t + 1 independent chi-square factors): its
sample mean sits below E σ̂²_t in most runs and its SE is unreliable, so those rows are
shown but not checked. The light-tailed log σ̂²_t (a sum of independent log chi-square
terms) is checked against its own closed form, `jc.theory.gaussian_expected_log_variance`
(statistic "mean of log"). `failed` counts seeds with a non-zero status flag (left out of the
statistics). Every row is also in `last_generation.csv`.

| estimator | a | n_t | metric | statistic | mean ± SE | theory | closed form | z | failed |
|---|---|---|---|---|---|---|---|---|---|
{% for row in rows %}
| {{ row.estimator }} | {{ row.real_fraction }} | {{ row.sample_size }} | {{ row.metric }} | {{ row.statistic }} \
| {{ row.mean | pm(row.sem, 5, 2) }} | {{ row.theory | num(5) }} | `{{ row.closed_form }}` \
| {{ row.z | signed(2) if row.checked else "not checked" }} | {{ row.failed }} |
{% endfor %}
"""


class Demo(Reproduction):
    """Gaussian collapse versus recovery (``jcollapse demo``); see the module docstring.

    ```python
    >>> Demo().check_counts(None, None)
    (2000, 200)

    ```
    """

    name: ClassVar[str] = "demo"
    title: ClassVar[str] = "Gaussian collapse versus recovery"
    default_seeds: ClassVar[int] = SEEDS
    default_generations: ClassVar[int] = GENERATIONS
    figure_captions: ClassVar[dict] = FIGURES
    summary_template: ClassVar[str] = SUMMARY

    @property
    def command(self) -> str:
        """``demo``: it runs as ``jcollapse demo``."""
        return "demo"

    def simulate(self, seeds: int, generations: int, key: int = 0, *,
                 progress: Optional[Progress] = None) -> Result:
        """Simulate every configuration of :func:`configs`.

        Configuration ``i`` uses the key ``fold_in(key(key), i)``, so the configurations are
        independent and their z-scores are independent checks. Series: study ``"variance"``
        and ``"mean_sq_error"`` per configuration (label :attr:`Config.label`), and
        ``"log_variance"`` (per-seed ``log sigma_hat^2_t``) for the ``a = 0`` ones.

        ```python
        >>> len(Demo().simulate(seeds=64, generations=20).series) == 2 * len(configs()) + 4
        True

        ```
        """
        seeds, generations = self.check_counts(seeds, generations)
        bar = quiet_progress(progress)
        bar.reset(total=len(configs()) * seeds)
        start = time.perf_counter()
        series = []
        for index, config in enumerate(configs()):
            loop = config.loop(generations)
            truth = loop.model.params(mean=0.0, cov=[[1.0]])
            run = simulate_loop(loop, truth, key=jax.random.fold_in(jax.random.key(key), index), seeds=seeds,
                                progress=False)
            for metric in METRICS:
                series.append(summarize(run.metrics[metric], run.failed, study=metric, label=config.label,
                                        metric=metric, theory=theory_or_none(loop, truth, metric),
                                        theory_kind="exact", closed_form="jc.theory.expected", config=config))
            if config.real_fraction == 0:
                with np.errstate(divide="ignore"):  # a collapsed seed (variance 0) is flagged failed
                    logs = np.log(np.asarray(run.metrics["variance"], dtype=np.float64))
                series.append(summarize(logs, run.failed, study="log_variance", label=config.label, metric="variance",
                                        theory=theory.gaussian_expected_log_variance(loop, truth),
                                        theory_kind="exact", closed_form="jc.theory.gaussian_expected_log_variance",
                                        config=config))
            bar.update(seeds)
        return Result(self.name, seeds, generations, key, tuple(series),
                      simulate_seconds=time.perf_counter() - start)

    def figures(self, result: Result) -> dict:
        """The figures of :data:`FIGURES`."""
        return {
            "variance.png": _metric_figure(result, "variance"),
            "mean_sq_error.png": _metric_figure(result, "mean_sq_error"),
            "typical_variance.png": _typical_figure(result),
        }

    def checks(self, result: Result) -> list[Check]:
        """At ``t = G``: the mean fitted variance with ``a > 0``, the mean log fitted variance
        with ``a = 0`` (the mean variance there is shown, not checked) and the mean squared
        error of the mean, each against its closed form."""
        variance = result.study("variance")
        return [
            Check.compare("fitted variance, a > 0", [s for s in variance if s.config.real_fraction > 0],
                          statistic="mean of σ̂²_t over seeds, at t = G", last=True),
            Check.compare("log fitted variance, a = 0", result.study("log_variance"),
                          statistic="mean of log σ̂²_t over seeds (light-tailed), at t = G", last=True),
            Check.shown("fitted variance, a = 0", "jc.theory.expected", "exact", "mean of σ̂²_t over seeds",
                        _HEAVY_TAILED),
            Check.compare("squared error of the mean", result.study("mean_sq_error"),
                          statistic="mean of (μ̂_t − μ)² over seeds, at t = G", last=True),
        ]

    def tables(self, result: Result) -> dict[str, list[dict]]:
        """``last_generation.csv``: :func:`last_generation_rows`."""
        return {"last_generation.csv": last_generation_rows(result)}

    def summary_context(self, result: Result) -> dict:
        """The rows of the summary's table (:func:`last_generation_rows`)."""
        return {"rows": last_generation_rows(result)}


def last_generation_rows(result: Result) -> list[dict]:
    """The summary table at ``t = G``: per configuration the fitted variance, its log (``a = 0``)
    and the squared error of the mean.

    **Arguments:**

    - `result`: from :meth:`Demo.simulate`.

    **Returns:**

    Dicts with keys ``estimator``, ``real_fraction``, ``sample_size``, ``metric``
    (``variance``, ``log variance``, ``mean_sq_error``), ``statistic`` (``mean``, ``mean of log``,
    or why a row is not checked), ``mean``, ``sem``, ``theory``, ``closed_form``, ``z``,
    ``checked`` and ``failed``.

    ```python
    >>> rows = last_generation_rows(Demo().simulate(seeds=64, generations=20))
    >>> [(row["metric"], row["checked"]) for row in rows[:3]]
    [('variance', False), ('log variance', True), ('mean_sq_error', True)]

    ```
    """
    rows = []
    for config in configs():
        chosen = [("variance", result.get("variance", config.label))]
        if config.real_fraction == 0:
            chosen.append(("log variance", result.get("log_variance", config.label)))
        chosen.append(("mean_sq_error", result.get("mean_sq_error", config.label)))
        for metric, s in chosen:
            heavy = metric == "variance" and config.real_fraction == 0
            statistic = "mean of log" if metric == "log variance" else "mean"
            rows.append({
                "estimator": config.estimator,
                "real_fraction": f"{config.real_fraction:g}",
                "sample_size": f"{SAMPLE_SIZE}" if config.growth == "fixed" else f"{SAMPLE_SIZE}(t+1)",
                "metric": metric,
                "statistic": "mean (heavy-tailed)" if heavy else statistic,
                "mean": float(s.mean[-1]),
                "sem": float(s.sem[-1]),
                "theory": float(s.theory[-1]),
                "closed_form": s.closed_form,
                "z": float(s.z[-1]),
                "checked": not heavy,
                "failed": s.failed,
            })
    return rows


# --------------------------------------------------------------------------- figures


def _metric_figure(result: Result, metric: str):
    fig, axes = _figures.new_figure(len(ESTIMATORS), len(GROWTHS), height=3.3)
    for row, estimator in enumerate(ESTIMATORS):
        for col, growth in enumerate(GROWTHS):
            ax = axes[row, col]
            curves = [result.get(metric, Config(estimator, a, growth).label) for a in REAL_FRACTIONS]
            _figures.curves_panel(ax, curves, [f"$a={a:g}$" for a in REAL_FRACTIONS], width=BAND_SE,
                                  title=f"{_ESTIMATOR_TITLES[estimator]}, {_GROWTH_TITLES[growth]}")
            ax.set_ylabel(_METRIC_TITLES[metric])
    has_theory = any(s.theory is not None for s in result.study(metric))
    handles, _ = axes[0, 0].get_legend_handles_labels()
    handles += [_figures.theory_legend_handle()] if has_theory else []
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9,
               title=f"real fraction $a$ (solid: mean over seeds, band: $\\pm${BAND_SE:g} SE)",
               title_fontsize=9)
    fig.suptitle(
        f"Gaussian N(0, 1), pool=replace, mixing=iid, {result.seeds} seeds: {_METRIC_TITLES[metric]}",
        fontsize=11,
    )
    return fig


def _typical_figure(result: Result):
    fig, axes = _figures.new_figure(1, len(GROWTHS), height=3.6)
    t = np.arange(result.generations + 1)
    curves = [result.get("variance", Config("unbiased", 0.0, growth).label) for growth in GROWTHS]
    for col, (growth, curve) in enumerate(zip(GROWTHS, curves)):
        ax = axes[0, col]
        ax.set_yscale("log")
        ax.fill_between(t, curve.quantiles[0.05], curve.quantiles[0.95], color="0.6", alpha=0.3, linewidth=0,
                        label="5 %–95 % of seeds")
        _figures.band_plot(ax, t, curve.mean, curve.sem, theory=curve.theory,
                           label=f"mean ($\\pm${BAND_SE:g} SE)", colour=_figures.COLOURS[0], width=BAND_SE)
        ax.plot(t, curve.quantiles[0.5], color=_figures.COLOURS[1], linewidth=1.6, linestyle=":", label="median")
        ax.set_title(f"unbiased variance, $a=0$, {_GROWTH_TITLES[growth]}", fontsize=10)
        ax.set_xlabel("generation $t$")
        ax.set_ylabel(_METRIC_TITLES["variance"])
        ax.set_xlim(0, result.generations)
        ax.grid(True, which="major", alpha=0.3)
    low = np.nanmin(np.concatenate([c.quantiles[0.05] for c in curves]))
    high = np.nanmax(np.concatenate([c.quantiles[0.95] for c in curves]))
    if np.isfinite(low) and np.isfinite(high) and 0 < low < high:
        for ax in axes[0]:
            ax.set_ylim(low / 1.5, high * 1.5)
    extra = [_figures.theory_legend_handle()] if any(c.theory is not None for c in curves) else []
    _figures.finish_legend(axes[0, 0], extra=extra, loc="lower left")
    fig.suptitle(
        "Unbiased in expectation, collapsing in probability: with fixed $n$ the typical seed's "
        "variance decays\nwhile the mean stays at 1; growing $n_t$ slows the decay "
        f"({result.seeds} seeds, same $y$ axis)",
        fontsize=11,
    )
    return fig
