r"""Xu, He & Cheng, "A Probabilistic Perspective on Model Collapse" (REFERENCE.md section 4):
the reproduction behind ``jcollapse reproduce xu``.

Pure self-consumption: generation 0 is fitted on ``n_0`` real samples, every later
generation only on ``n_t`` samples from the previous fit (``pool="replace"``,
``real_fraction = 0``). The estimate is then a random walk, and Xu et al.'s dichotomy is:
with unbiased estimation **the fit collapses almost surely iff** ``sum_t 1/n_t = infinity``.
Three families (dimension 1) and three sample-size schedules, ``n_t = N``, ``N (t + 1)``
(both ``sum 1/n_t = infinity``: collapse, the linear one slowly) and ``N (t + 1)^1.5``
(``sum 1/n_t < infinity``: no collapse with positive probability):

- :class:`jcollapse.models.Gaussian` (``variance="unbiased"``), truth ``N(0, 1)``,
  ``N = GAUSSIAN_SIZE``: collapsed means ``sigma_hat_t^2 / sigma^2 < DELTA``;
- :class:`jcollapse.models.Poisson`, rate ``POISSON_RATE``, ``N = SIZE``: collapsed means
  absorbed at rate 0;
- :class:`jcollapse.models.Bernoulli`, ``p = BERNOULLI_PROB``, ``N = SIZE``: absorbed at
  0 or 1.

Two studies:

1. **Collapse** (``collapse``): the fraction of seeds collapsed by generation ``t``, against
   the exact absorption probabilities (:func:`jcollapse.theory.poisson_absorption_probability`,
   :func:`jcollapse.theory.bernoulli_absorption_probability`; the Bernoulli chain only where
   ``n_t <= BERNOULLI_THEORY_MAX_N``) and, for the Gaussian, our normal approximation
   (:func:`gaussian_collapse_probability`). The exact forms (and the Gaussian's approximation)
   are continued to ``LONG_RUN`` generations (:func:`long_run_theory`).
2. **Mean error** (``mean_error``): ``E (theta_hat_t - theta*)^2 / Var(one sample at theta*)``
   against the random walk's ``sum_{k <= t} 1/n_k`` (Poisson; the Gaussian mean with known
   variance, :class:`jcollapse.models.GaussianMean`) and the Bernoulli's exact
   ``1 - prod_{k <= t} (1 - 1/n_k)``. The unbiased Gaussian's mean error has the same
   expectation, but its law is a mixture over ``sigma_hat^2``, which is log-normal-like
   with log-variance ``~ 2 sum 1/n_k``: a Monte-Carlo mean cannot check it once that exceeds
   ``~ log(seeds)`` (it is shown, labelled ``"expectation, heavy-tailed"``, and not tested).

:func:`run` writes ``collapse.png``, ``mean_error.png``, ``errors.csv`` (every point: mean,
standard error, theory, z) and ``summary.md``, atomically.

```python
>>> from jcollapse.experiments import xu
>>> result = xu.run("out/xu")  # doctest: +SKIP

```

(``tests/test_xu.py`` runs it with fewer seeds and generations.)
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Optional, Union

import numpy as np
from scipy import special, stats

from ..internal.validation import check_count
from ._curves import healthy_mean_sem
from ._report import progress
from ._series import Series, log_spaced, select, series_rows

#: Name of the command: ``jcollapse reproduce xu``.
NAME = "xu"
#: Seeds per configuration (the exact-statistics path costs O(1) per seed and generation).
SEEDS = 2000
#: ``G``: generations ``0..G``.
GENERATIONS = 1000
#: ``N`` of the Poisson and Bernoulli schedules (small: absorption happens within ``G``).
SIZE = 10
#: ``N`` of the Gaussian schedules: large enough that ``sigma_hat^2`` never underflows
#: float32 within ``G = 1000`` (its log falls by about ``1/(N - 1)`` per generation).
GAUSSIAN_SIZE = 30
#: True Poisson rate and Bernoulli probability.
POISSON_RATE, BERNOULLI_PROB = 1.0, 0.5
#: The Gaussian counts as collapsed once ``sigma_hat^2 / sigma^2 < DELTA``.
DELTA = 0.1
#: Largest ``n_t`` of the exact Bernoulli chain here (:func:`bernoulli_chain`): its
#: transition matrices are ``n_{t-1} x n_t``, so a linear schedule's chain costs
#: ``O(n_t^3 / N)`` time in all.
BERNOULLI_THEORY_MAX_N = 1000
#: Generations to which the long-run theory is continued.
LONG_RUN = 100_000
#: Generations kept in the table and figures: about this many, log-spaced.
POINTS = 60
#: Half-width of the plotted bands, in standard errors.
BAND_SE = 2.0

#: Study names, in simulation order.
STUDIES = ("collapse", "mean_error")
#: Families, in simulation (and key) order.
FAMILIES = ("gaussian", "poisson", "bernoulli")
#: Schedules: name -> (exponent of ``t + 1``, whether ``sum 1/n_t`` diverges).
SCHEDULES = {"constant": (0.0, True), "linear": (1.0, True), "superlinear": (1.5, False)}


@dataclasses.dataclass(frozen=True)
class Result:
    """Everything :func:`simulate_experiment` measured.

    **Fields:**

    - `series`: every :class:`~jcollapse.experiments._series.Series`, in study order
      (``x`` is the generation ``t >= 1``; labels ``"<family>, <schedule>"``).
    - `long_run`: ``{(family, schedule): (t, theory)}``: the collapse theory at log-spaced
      generations ``G..LONG_RUN`` (:func:`long_run_theory`; NaN where none is computed).
    - `seeds`, `generations`, `key`: the run's size and PRNG seed.
    - `simulate_seconds`: wall time of all simulations, compilation included.
    """

    series: tuple[Series, ...]
    long_run: dict
    seeds: int
    generations: int
    key: int
    simulate_seconds: float

    def study(self, name: str) -> list[Series]:
        """The series of study `name`, in simulation order."""
        return select(self.series, name)

    def find(self, study: str, family: str, schedule: str) -> Series:
        """The series of `study` for `family` and `schedule`."""
        return next(s for s in self.study(study) if s.label == f"{family}, {schedule}")


def kept_generations(generations: int, points: int = POINTS) -> np.ndarray:
    """About `points` log-spaced generations in ``1..generations`` (every one when few).

    ```python
    >>> kept_generations(5).tolist()
    [1, 2, 3, 4, 5]

    ```
    """
    return log_spaced(generations, points)


def family_size(family: str) -> int:
    """``N`` of `family`'s schedules (:data:`GAUSSIAN_SIZE` or :data:`SIZE`).

    ```python
    >>> family_size("poisson")
    10

    ```
    """
    return GAUSSIAN_SIZE if family == "gaussian" else SIZE


def sample_sizes(family: str, schedule: str, generations: int) -> np.ndarray:
    """``n_t = N (t + 1)^e`` for ``t = 0..generations`` (``e`` from :data:`SCHEDULES`).

    ```python
    >>> sample_sizes("bernoulli", "superlinear", 2).tolist()
    [10.0, 28.284271247461902, 51.96152422706632]

    ```
    """
    exponent, _ = SCHEDULES[schedule]
    return family_size(family) * (np.arange(generations + 1, dtype=np.float64) + 1) ** exponent


def family_loop(family: str, schedule: str, generations: int):
    """The loop of `family` and `schedule`: dimension 1, ``pool="replace"``, no real data
    after generation 0, ``n_t`` from :func:`sample_sizes`.

    ```python
    >>> family_loop("poisson", "linear", 2).sample_size.tolist()
    [10, 20, 30]

    ```
    """
    import jcollapse as jc

    model = {"gaussian": lambda: jc.models.Gaussian(dim=1, variance="unbiased"),
             "poisson": lambda: jc.models.Poisson(dim=1),
             "bernoulli": lambda: jc.models.Bernoulli(dim=1),
             "gaussian_mean": lambda: jc.models.GaussianMean(dim=1)}[family]()
    exponent, _ = SCHEDULES[schedule]
    n = jc.schedules.power(family_size(family), exponent) if exponent else jc.schedules.constant(family_size(family))
    return jc.Loop(model, generations=generations, real_fraction=0.0, sample_size=n, pool="replace")


def family_truth(family: str):
    """The truth of `family`: ``N(0, 1)``, Poisson(:data:`POISSON_RATE`) or
    Bernoulli(:data:`BERNOULLI_PROB`).

    ```python
    >>> float(family_truth("bernoulli").probs[0])
    0.5

    ```
    """
    import jcollapse as jc

    if family in ("gaussian", "gaussian_mean"):
        model = jc.models.Gaussian(dim=1) if family == "gaussian" else jc.models.GaussianMean(dim=1)
        return model.params(mean=0.0, cov=[[1.0]])
    if family == "poisson":
        return jc.models.Poisson(dim=1).params(rate=POISSON_RATE)
    return jc.models.Bernoulli(dim=1).params(probs=BERNOULLI_PROB)


def sample_variance(family: str) -> float:
    """``Var(one sample at theta*)``: 1, the rate, or ``p (1 - p)``.

    ```python
    >>> sample_variance("bernoulli")
    0.25

    ```
    """
    return {"poisson": POISSON_RATE, "bernoulli": BERNOULLI_PROB * (1 - BERNOULLI_PROB)}.get(family, 1.0)


def gaussian_collapse_probability(sample_sizes, delta: float = DELTA) -> np.ndarray:
    r"""``P(sigma_hat_t^2 / sigma^2 < delta)`` for ``t = 0..G``, a normal approximation, for a
    one-dimensional ``Gaussian(variance="unbiased")`` loop with ``pool="replace"`` and no real
    data after generation 0.

    Derivation (ours): the unbiased variance of ``n_k`` samples from ``N(mu_hat, s^2)`` is
    ``s^2 chi^2_{n_k - 1} / (n_k - 1)``, independently of the past, so exactly

        log(sigma_hat_t^2 / sigma^2) = sum_{k <= t} log(chi^2_{n_k - 1} / (n_k - 1)),

    a sum of independent terms (generation 0 included: it is fitted on real data). Since
    ``log chi^2_nu = log 2 + log Gamma(nu/2, 1)``, a term has mean
    ``digamma((n_k - 1)/2) + log(2/(n_k - 1))`` (about ``-1/(n_k - 1)``) and variance
    ``polygamma(1, (n_k - 1)/2)`` (about ``2/(n_k - 1)``). Approximating the sum by a
    normal with that mean ``m_t`` and variance ``s_t^2``,
    ``P(collapsed by t) ~ Phi((log delta - m_t) / s_t)``. This is the probability that
    ``sigma_hat_t^2`` is below ``delta``, not that it was ever; the two differ little once
    the drift dominates. Both ``m_t`` and ``s_t^2`` diverge like ``sum 1/n_k``, so the
    probability tends to 1 when that sum diverges (the ratio ``m_t / s_t`` diverges) and to
    a limit below 1 otherwise.

    **Arguments:**

    - `sample_sizes`: ``n_t`` for ``t = 0..G``, each ``>= 2``.
    - `delta`: the collapse threshold, ``> 0``.

    **Returns:**

    A float64 array ``[G + 1]``.

    ```python
    >>> gaussian_collapse_probability([3, 3], 0.5).round(4)
    array([0.464 , 0.6004])

    ```
    """
    n = np.asarray(sample_sizes, dtype=np.float64)
    if n.ndim != 1 or np.any(n < 2):
        raise ValueError(f"sample_sizes must be a 1-D array of values >= 2; got {sample_sizes!r}")
    half = (n - 1) / 2
    mean = np.cumsum(special.digamma(half) - np.log(half))
    sd = np.sqrt(np.cumsum(special.polygamma(1, half)))
    return stats.norm.cdf((np.log(delta) - mean) / sd)


def bernoulli_chain(sample_sizes, targets, prob: float = BERNOULLI_PROB) -> np.ndarray:
    """:func:`jcollapse.theory.bernoulli_absorption_probability` at the generations `targets`
    whose ``n_t <= BERNOULLI_THEORY_MAX_N`` (the exact chain costs ``O(n_t^2)`` per generation).

    **Arguments:**

    - `sample_sizes`: non-decreasing ``n_t`` for ``t = 0..`` at least ``max(targets)``.
    - `targets`: increasing generations.
    - `prob`: the true probability in ``(0, 1)``.

    **Returns:**

    A float64 array: the absorption probability at the leading `targets` whose ``n_t`` is at
    most :data:`BERNOULLI_THEORY_MAX_N` (possibly empty).

    ```python
    >>> bernoulli_chain([2, 2, 2], [0, 2], 0.5)
    array([0.5  , 0.875])

    ```
    """
    import jcollapse as jc

    counts = np.rint(np.asarray(sample_sizes, dtype=np.float64)).astype(np.int64)  # as the loop rounds them
    targets = np.asarray(targets)
    targets = targets[counts[targets] <= BERNOULLI_THEORY_MAX_N]
    if not targets.size:
        return np.empty(0)
    return jc.theory.bernoulli_absorption_probability(counts[: targets[-1] + 1], prob)[targets]


def long_run_theory(family: str, schedule: str, start: int, stop: int = LONG_RUN,
                    points: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """The collapse theory of `family` and `schedule` at about `points` log-spaced
    generations ``start..stop``: the exact absorption probability (Poisson; Bernoulli where
    every ``n_t <= BERNOULLI_THEORY_MAX_N``, NaN beyond) or :func:`gaussian_collapse_probability`.

    **Arguments:**

    - `family`, `schedule`: keys of :data:`FAMILIES` and :data:`SCHEDULES`.
    - `start`, `stop`: the first and last generation, ``1 <= start <= stop``.
    - `points`: about how many generations.

    **Returns:**

    ``(t, probability)``, float64 arrays.

    ```python
    >>> t, p = long_run_theory("poisson", "constant", 10, 1000, points=3)
    >>> t.tolist(), bool(p[-1] > 0.95)
    ([10.0, 100.0, 1000.0], True)

    ```
    """
    import jcollapse as jc

    t = np.unique(np.round(np.geomspace(start, stop, points)).astype(int))
    n = np.rint(sample_sizes(family, schedule, int(t[-1]))).astype(np.int64)  # as the loop rounds them
    if family == "gaussian":
        p = gaussian_collapse_probability(n)[t]
    elif family == "poisson":
        p = jc.theory.poisson_absorption_probability(n, POISSON_RATE, generations=t)
    else:
        p = np.full(t.shape, np.nan)
        p[: np.sum(n[t] <= BERNOULLI_THEORY_MAX_N)] = bernoulli_chain(n, t)
    return t.astype(float), np.clip(p, 0.0, 1.0)


def _binomial_sem(fraction: np.ndarray, seeds: int) -> np.ndarray:
    """``sqrt(p (1 - p) / seeds)`` with ``p`` kept half a seed away from 0 and 1 (a run with
    no seed collapsed, or all, still has a Monte-Carlo error)."""
    p = np.clip(fraction, 0.5 / seeds, 1 - 0.5 / seeds)
    return np.sqrt(p * (1 - p) / seeds)


def _collapse_series(family: str, schedule: str, run, kept: np.ndarray, seeds: int) -> Series:
    import jcollapse as jc

    loop = family_loop(family, schedule, kept[-1])
    if family == "gaussian":
        # sigma_hat^2 / sigma^2 < DELTA (sigma^2 = 1); a non-finite fit counts as failed
        collapsed = run.metrics["variance"][:, kept] < DELTA
        theory = gaussian_collapse_probability(loop.sample_size)[kept]
        kind = "normal approximation"
    else:
        collapsed = run.metrics["absorbed"][:, kept] > 0.5
        if family == "poisson":
            theory = jc.theory.poisson_absorption_probability(loop, family_truth(family))[kept]
        else:
            theory = np.full(kept.shape, np.nan)
            theory[: np.sum(loop.sample_size[kept] <= BERNOULLI_THEORY_MAX_N)] = bernoulli_chain(
                loop.sample_size, kept)
        kind = "exact"
    healthy = ~np.asarray(run.failed)
    fraction = collapsed[healthy].mean(axis=0)
    return Series("collapse", f"{family}, {schedule}", "generation", kept.astype(float), fraction,
                  _binomial_sem(fraction, int(healthy.sum())), theory, kind, seeds, int(run.failed.sum()))


def _error_series(family: str, schedule: str, run, kept: np.ndarray, seeds: int) -> Series:
    import jcollapse as jc

    loop = family_loop(family, schedule, kept[-1])
    truth = family_truth(family)
    metric = "mean_sq_error" if family in ("gaussian", "gaussian_mean") else "param_sq_error"
    scale = sample_variance(family)
    mean, sem = healthy_mean_sem(run.metrics[metric][:, kept] / scale, run.failed)
    theory = jc.theory.expected(loop, truth, metric)[kept] / scale
    label = "gaussian (known variance)" if family == "gaussian_mean" else family
    kind = "expectation, heavy-tailed" if family == "gaussian" else "exact"
    return Series("mean_error", f"{label}, {schedule}", "generation", kept.astype(float), mean, sem, theory, kind,
                  seeds, int(run.failed.sum()))


def simulate_experiment(seeds: int = SEEDS, generations: int = GENERATIONS, key: int = 0, *, log=None) -> Result:
    """Simulate every family and schedule (no files are written).

    Family ``i`` of :data:`FAMILIES` uses ``fold_in(key(key), i)`` (the known-variance
    Gaussian mean ``i = 3``), schedule ``j`` of :data:`SCHEDULES` ``fold_in`` of that with
    ``j``. Both studies read the same runs.

    **Arguments:**

    - `seeds`: seeds per configuration, ``>= 2``.
    - `generations`: ``G >= 2``: generations ``0..G`` (the Gaussian needs ``G <= 1000`` or
      so before ``sigma_hat^2`` underflows float32 in some seed; such seeds are flagged
      failed and left out).
    - `key`: integer seed of ``jax.random.key``.
    - `log`: a text stream for progress lines (default: none).

    **Returns:**

    A :class:`Result`.

    **Raises:**

    `ValueError` for bad counts, before anything is compiled.

    ```python
    >>> simulate_experiment(seeds=1)
    Traceback (most recent call last):
    ...
    ValueError: seeds must be an integer >= 2; got 1

    ```
    """
    import jax

    import jcollapse as jc

    seeds = check_count("seeds", seeds, 2)
    generations = check_count("generations", generations, 2)
    start = time.perf_counter()
    root = jax.random.key(key)
    kept = kept_generations(generations)

    say = progress(log, start)

    collapse, errors, long_run = [], [], {}
    for i, family in enumerate((*FAMILIES, "gaussian_mean")):
        for j, schedule in enumerate(SCHEDULES):
            loop = family_loop(family, schedule, generations)
            run = jc.simulate(loop, family_truth(family), key=jax.random.fold_in(jax.random.fold_in(root, i), j),
                              seeds=seeds)
            if family != "gaussian_mean":
                collapse.append(_collapse_series(family, schedule, run, kept, seeds))
                long_run[family, schedule] = long_run_theory(family, schedule, generations)
            errors.append(_error_series(family, schedule, run, kept, seeds))
        say(f"{family}: {', '.join(SCHEDULES)}")
    return Result(tuple(collapse + errors), long_run, seeds, generations, key, time.perf_counter() - start)


def rows(result: Result) -> list[dict]:
    """Every simulated point as a dict (:func:`jcollapse.experiments._series.series_rows`).

    ```python
    >>> one = np.ones(2)
    >>> series = Series("collapse", "poisson, linear", "generation", np.arange(1.0, 3.0), one * 0.5,
    ...                 one / 10, one * 0.4, "exact", 8, 0)
    >>> [round(row["z"], 6) for row in rows(Result((series,), {}, 8, 2, 0, 0.0))]
    [1.0, 1.0]

    ```
    """
    return series_rows(result.series)


def run(
    out: Union[str, Path] = "out/xu",
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    started: Optional[float] = None,
    log=None,
) -> Result:
    """Run the reproduction and write its figures, ``errors.csv`` and ``summary.md`` into
    `out`, atomically (nothing is written until every simulation has finished).

    **Arguments:**

    - `out`: output directory (replaced if it exists).
    - `seeds`, `generations`, `key`: see :func:`simulate_experiment`.
    - `started`: ``time.perf_counter()`` at program start, for the reported total.
    - `log`: a text stream for progress lines.

    **Returns:**

    The :class:`Result`.

    **Raises:**

    `ValueError` for bad arguments or an `out` that is a file; nothing is written then.

    ```python
    >>> run("out/xu", generations=1)
    Traceback (most recent call last):
    ...
    ValueError: generations must be an integer >= 2; got 1

    ```
    """
    from . import _xu_report as report
    from ._report import output_directory, write_reproduction

    started = time.perf_counter() if started is None else started
    out = output_directory(out)
    seeds = check_count("seeds", seeds, 2)
    generations = check_count("generations", generations, 2)
    if log is not None:
        print(f"jcollapse reproduce {NAME}: {len(FAMILIES)} families x {len(SCHEDULES)} schedules x {seeds} seeds, "
              f"{generations + 1} generations ...", file=log, flush=True)
    result = simulate_experiment(seeds, generations, key, log=log)
    write_reproduction(out, figures=lambda: report.all_figures(result), tables={"errors.csv": rows(result)},
                       summary=report.summary_markdown(result), simulate_seconds=result.simulate_seconds,
                       started=started, log=log)
    return result
