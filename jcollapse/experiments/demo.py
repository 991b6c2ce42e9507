"""Gaussian collapse versus recovery: the experiment behind ``jcollapse demo``.

A one-dimensional Gaussian ``N(0, 1)`` is fitted, sampled from, mixed with fresh real data
and refitted for ``G = 200`` generations (pool ``"replace"``, mixing ``"iid"``), over a grid
of

- estimators: the MLE variance (scatter / n) and the unbiased one (scatter / (n - 1));
- real fractions ``a = 0, 0.1, 0.5``;
- sample sizes: fixed ``n = 100`` and growing ``n_t = 100 (t + 1)``.

For every configuration it records the mean over seeds of the fitted variance and of the
squared error of the mean, with standard errors, next to :func:`jcollapse.theory.expected`
where a closed form exists. :func:`run` writes three PNG figures and ``summary.md`` into a
directory, atomically.

```python
>>> from jcollapse.experiments import demo
>>> result = demo.simulate_demo(seeds=64, generations=20)
>>> len(result.curves) == len(demo.configs()) * len(demo.METRICS)
True

```
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..internal.atomic import atomic_directory, directory_path
from ..internal.validation import check_count
from ._curves import Curve, find_curve, summarize, theory_or_none
from ._report import format_number, summary_markdown_tail

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

    def loop(self, generations: int = GENERATIONS):
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
        import jcollapse as jc

        sample_size = SAMPLE_SIZE if self.growth == "fixed" else jc.schedules.power(SAMPLE_SIZE, 1)
        return jc.Loop(
            jc.models.Gaussian(dim=1, variance=self.estimator),
            generations=generations,
            real_fraction=self.real_fraction,
            sample_size=sample_size,
            pool="replace",
            mixing="iid",
        )


def configs() -> tuple[Config, ...]:
    """All configurations of the demo: estimators x real fractions x sample-size schedules.

    **Returns:**

    A tuple of :class:`Config`, estimator-major.

    ```python
    >>> len(configs())
    12

    ```
    """
    return tuple(
        Config(estimator, a, growth)
        for estimator in ESTIMATORS
        for growth in GROWTHS
        for a in REAL_FRACTIONS
    )


@dataclasses.dataclass(frozen=True)
class DemoResult:
    """Everything :func:`simulate_demo` measured.

    **Fields:**

    - `curves`: one :class:`Curve` per configuration and metric.
    - `seeds`, `generations`, `key`: the run's size and PRNG seed.
    - `simulate_seconds`: wall time of all simulations, compilation included.
    """

    curves: tuple[Curve, ...]
    seeds: int
    generations: int
    key: int
    simulate_seconds: float

    def curve(self, config: Config, metric: str) -> Curve:
        """The :class:`Curve` of `config` and `metric`.

        ```python
        >>> result = simulate_demo(seeds=64, generations=20)
        >>> result.curve(Config("mle", 0.0, "fixed"), "variance").mean.shape
        (21,)

        ```
        """
        return find_curve(self.curves, config, metric)


def simulate_demo(seeds: int = SEEDS, generations: int = GENERATIONS, key: int = 0) -> DemoResult:
    """Simulate every configuration of the demo (no files are written).

    Configuration ``i`` of :func:`configs` uses the key ``fold_in(key(key), i)``, so the
    configurations are independent and their z-scores are independent checks.

    **Arguments:**

    - `seeds`: independent runs per configuration, ``>= 1``.
    - `generations`: ``G >= 1``.
    - `key`: integer seed of ``jax.random.key``.

    **Returns:**

    A :class:`DemoResult`.

    **Raises:**

    `ValueError` for ``seeds < 1`` or ``generations < 1``.

    ```python
    >>> simulate_demo(seeds=64, generations=20).curves[0].mean.shape
    (21,)

    ```
    """
    import jax

    import jcollapse as jc

    seeds = check_count("seeds", seeds, 1)
    generations = check_count("generations", generations, 1)
    start = time.perf_counter()
    curves = []
    for index, config in enumerate(configs()):
        loop = config.loop(generations)
        truth = loop.model.params(mean=0.0, cov=[[1.0]])
        config_key = jax.random.fold_in(jax.random.key(key), index)
        run = jc.simulate(loop, truth, key=config_key, seeds=seeds)
        curves += [summarize(run, config, metric, theory_or_none(loop, truth, metric)) for metric in METRICS]
    return DemoResult(tuple(curves), seeds, generations, key, time.perf_counter() - start)


# --------------------------------------------------------------------------- figures


def _metric_figure(result: DemoResult, metric: str):
    from . import _figures

    fig, axes = _figures.new_figure(len(ESTIMATORS), len(GROWTHS), height=3.3)
    for row, estimator in enumerate(ESTIMATORS):
        for col, growth in enumerate(GROWTHS):
            ax = axes[row, col]
            curves = [result.curve(Config(estimator, a, growth), metric) for a in REAL_FRACTIONS]
            _figures.curves_panel(ax, curves, [f"$a={a:g}$" for a in REAL_FRACTIONS], width=BAND_SE,
                                  title=f"{_ESTIMATOR_TITLES[estimator]}, {_GROWTH_TITLES[growth]}")
            ax.set_ylabel(_METRIC_TITLES[metric])
    has_theory = any(c.theory is not None for c in result.curves if c.metric == metric)
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


def _typical_figure(result: DemoResult):
    from . import _figures

    fig, axes = _figures.new_figure(1, len(GROWTHS), height=3.6)
    t = np.arange(result.generations + 1)
    for col, growth in enumerate(GROWTHS):
        ax = axes[0, col]
        ax.set_yscale("log")
        curve = result.curve(Config("unbiased", 0.0, growth), "variance")
        ax.fill_between(t, curve.q05, curve.q95, color="0.6", alpha=0.3, linewidth=0,
                        label="5 %–95 % of seeds")
        _figures.band_plot(ax, t, curve.mean, curve.sem, theory=curve.theory,
                           label=f"mean ($\\pm${BAND_SE:g} SE)", colour=_figures.COLOURS[0], width=BAND_SE)
        ax.plot(t, curve.median, color=_figures.COLOURS[1], linewidth=1.6, linestyle=":", label="median")
        ax.set_title(f"unbiased variance, $a=0$, {_GROWTH_TITLES[growth]}", fontsize=10)
        ax.set_xlabel("generation $t$")
        ax.set_ylabel(_METRIC_TITLES["variance"])
        ax.set_xlim(0, result.generations)
        ax.grid(True, which="major", alpha=0.3)
    lows = [result.curve(Config("unbiased", 0.0, g), "variance").q05 for g in GROWTHS]
    highs = [result.curve(Config("unbiased", 0.0, g), "variance").q95 for g in GROWTHS]
    low = np.nanmin(np.concatenate(lows))
    high = np.nanmax(np.concatenate(highs))
    if np.isfinite(low) and np.isfinite(high) and 0 < low < high:
        for ax in axes[0]:
            ax.set_ylim(low / 1.5, high * 1.5)
    extra = [_figures.theory_legend_handle()] if any(
        result.curve(Config("unbiased", 0.0, g), "variance").theory is not None for g in GROWTHS) else []
    _figures.finish_legend(axes[0, 0], extra=extra, loc="lower left")
    fig.suptitle(
        "Unbiased in expectation, collapsing in probability: with fixed $n$ the typical seed's "
        "variance decays\nwhile the mean stays at 1; growing $n_t$ slows the decay "
        f"({result.seeds} seeds, same $y$ axis)",
        fontsize=11,
    )
    return fig


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


def write_figures(result: DemoResult, directory: Union[str, Path]) -> list[Path]:
    """Write the demo's PNG figures (see :data:`FIGURES`) into `directory`.

    **Arguments:**

    - `result`: from :func:`simulate_demo`.
    - `directory`: an existing directory.

    **Returns:**

    The paths written.

    ```python
    >>> import tempfile
    >>> paths = write_figures(simulate_demo(seeds=64, generations=20), tempfile.mkdtemp())
    >>> sorted(p.name for p in paths)
    ['mean_sq_error.png', 'typical_variance.png', 'variance.png']

    ```
    """
    from . import _figures

    directory = Path(directory)
    figures = {
        "variance.png": _metric_figure(result, "variance"),
        "mean_sq_error.png": _metric_figure(result, "mean_sq_error"),
        "typical_variance.png": _typical_figure(result),
    }
    return [_figures.save(fig, directory / name) for name, fig in figures.items()]


# --------------------------------------------------------------------------- summary


def summary_rows(result: DemoResult) -> list[dict]:
    """The summary table as dictionaries, one per configuration and metric.

    **Arguments:**

    - `result`: from :func:`simulate_demo`.

    **Returns:**

    A list of dicts with keys ``estimator``, ``real_fraction``, ``sample_size``,
    ``metric``, ``mean``, ``sem``, ``theory`` (NaN if unknown), ``z`` (NaN if no theory),
    ``failed``, all at the last generation.

    ```python
    >>> rows = summary_rows(simulate_demo(seeds=64, generations=20))
    >>> sorted(rows[0])[:3]
    ['estimator', 'failed', 'mean']

    ```
    """
    rows = []
    for curve in result.curves:
        config = curve.config
        rows.append(
            {
                "estimator": config.estimator,
                "real_fraction": config.real_fraction,
                "sample_size": "100" if config.growth == "fixed" else "100(t+1)",
                "metric": curve.metric,
                "mean": float(curve.mean[-1]),
                "sem": float(curve.sem[-1]),
                "theory": float("nan") if curve.theory is None else float(curve.theory[-1]),
                "z": curve.z,
                "failed": curve.failed,
            }
        )
    return rows


def summary_markdown(result: DemoResult, *, runtime: dict[str, float]) -> str:
    """The text of ``summary.md``.

    **Arguments:**

    - `result`: from :func:`simulate_demo`.
    - `runtime`: labelled wall times in seconds, listed in the summary.

    **Returns:**

    Markdown: configuration, table, figure captions, machine and runtime.

    ```python
    >>> text = summary_markdown(simulate_demo(seeds=64, generations=20), runtime={})
    >>> text.splitlines()[0]
    '# jcollapse demo: Gaussian collapse versus recovery'

    ```
    """
    G = result.generations
    lines = [
        "# jcollapse demo: Gaussian collapse versus recovery",
        "",
        f"Truth N(0, 1) in one dimension; `jc.models.Gaussian(dim=1, variance=...)`, "
        f"pool `replace`, mixing `iid`, exact-statistics path; G = {G} generations, "
        f"{result.seeds} seeds per configuration; configuration i (row order below, "
        f"metrics share it) uses the key `fold_in(jax.random.key({result.key}), i)`.",
        "",
        f"## Last generation (t = {G})",
        "",
        "Mean over seeds ± its standard error (SE), the closed form "
        "`jc.theory.expected` (— where none is known), and z = (mean − theory) / SE. "
        "|z| up to about 3 is Monte-Carlo noise; the a = 0 rows are heavy-tailed "
        "(a product of many chi-square factors), so their SE is itself noisy. "
        "`failed` counts seeds with a non-zero status flag (left out of the statistics).",
        "",
        "| estimator | a | n_t | metric | mean ± SE | theory | z | failed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary_rows(result):
        lines.append(
            f"| {row['estimator']} | {row['real_fraction']:g} | {row['sample_size']} | "
            f"{row['metric']} | {format_number(row['mean'], 5)} ± {format_number(row['sem'], 2)} | "
            f"{format_number(row['theory'], 5)} | {format_number(row['z'], 2, fixed=True)} | "
            f"{row['failed']} |"
        )
    lines += ["", "## Figures", ""]
    for name, caption in FIGURES.items():
        lines += [f"![{name}]({name})", "", f"*{caption}*", ""]
    return "\n".join(lines) + "\n" + summary_markdown_tail(runtime)


def run(
    out: Union[str, Path] = "out/demo",
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    started: Optional[float] = None,
    log=None,
) -> DemoResult:
    """Run the demo and write its figures and ``summary.md`` into `out`, atomically.

    Nothing is written until every simulation has finished; the files are then built in
    a temporary sibling directory that replaces `out` only once complete.

    **Arguments:**

    - `out`: output directory (replaced if it exists).
    - `seeds`, `generations`, `key`: see :func:`simulate_demo`.
    - `started`: a ``time.perf_counter()`` taken at program start, so the reported total
      includes importing JAX (default: the start of this call).
    - `log`: a text stream for progress lines (default: none).

    **Returns:**

    The :class:`DemoResult`.

    **Raises:**

    `ValueError` for bad `seeds`/`generations` or an `out` that is a file; nothing is
    written then.

    ```python
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo"
    >>> _ = run(out, seeds=64, generations=20)
    >>> sorted(p.name for p in out.iterdir())
    ['mean_sq_error.png', 'summary.md', 'typical_variance.png', 'variance.png']

    ```
    """
    started = time.perf_counter() if started is None else started
    seeds = check_count("seeds", seeds, 1)
    generations = check_count("generations", generations, 1)
    out = directory_path(out, "--out")

    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    say(f"jcollapse demo: {len(configs())} configurations x {seeds} seeds x {generations + 1} generations ...")
    result = simulate_demo(seeds=seeds, generations=generations, key=key)
    say(f"  simulated in {result.simulate_seconds:.1f} s (compilation included)")
    with atomic_directory(out) as tmp:
        figures_start = time.perf_counter()
        write_figures(result, tmp)
        runtime = {
            "simulation (all configurations, compilation included)": result.simulate_seconds,
            "figures": time.perf_counter() - figures_start,
            "total (from program start, JAX import included)": time.perf_counter() - started,
        }
        (tmp / "summary.md").write_text(summary_markdown(result, runtime=runtime), encoding="utf-8")
    say(f"  wrote {out}/: {', '.join(FIGURES)}, summary.md ({time.perf_counter() - started:.1f} s in total)")
    return result


if __name__ == "__main__":  # pragma: no cover
    run(log=sys.stderr)
