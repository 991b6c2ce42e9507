r"""Amin, Bie, Kong, Syed & Vassilvitskii, "Learning from Synthetic Data: Limitations of ERM"
(REFERENCE.md section 2): the reproduction behind ``jcollapse reproduce amin``.

Amin et al.'s contamination ``alpha`` is the share of each round's data drawn from the
previous model: ``real_fraction = 1 - alpha``. Round ``t`` (counted from 1) is the
library's generation ``t - 1``. Three studies:

1. **Theorem 1** (``theorem_1``): mean estimation, :class:`jcollapse.models.GaussianMean`
   with split mixing and the accumulating pool, uniform weights (ERM), for ``alpha`` below,
   at and above ``1/2`` and at 1. The variance of the estimate (in units of one round's
   ``Sigma / n``) against Theorem 1 (:func:`jcollapse.theory.amin_theorem_1`) and its four
   asymptotic regimes (:func:`jcollapse.theory.amin_asymptote`), log-log.
2. **Weights** (``weights``): ERM against the variance-optimal per-generation pool weights
   (:func:`jcollapse.theory.optimal_pool_weights`), both against their exact variance
   (:func:`jcollapse.theory.expected`); the optimal weights reach
   ``Sigma / (1 + (t - 1)(1 - alpha)^2)``, REFERENCE's debiased candidate.
3. **PAC** (``pac``): thresholds and intervals on ``[0, 1]`` (:mod:`jcollapse.pac`),
   repeated ERM on all data against the disagreement-learning algorithm, with the rate
   ``sqrt(d / ((1 - alpha) n t))`` as a reference.

:func:`run` writes ``theorem_1.png``, ``weights.png``, ``pac.png``, ``errors.csv`` (every
point: mean, standard error, theory, z) and ``summary.md``, atomically.

```python
>>> from jcollapse.experiments import amin
>>> result = amin.run("out/amin")  # doctest: +SKIP

```

(``tests/test_amin.py`` runs it with fewer seeds and rounds.)
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..internal.validation import check_count
from ._curves import healthy_mean_sem
from ._report import progress
from ._series import Series, log_spaced, select, series_rows

#: Name of the command: ``jcollapse reproduce amin``.
NAME = "amin"
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


@dataclasses.dataclass(frozen=True)
class Result:
    """Everything :func:`simulate_experiment` measured.

    **Fields:**

    - `series`: every :class:`~jcollapse.experiments._series.Series`, in study order
      (``x`` is the round ``t >= 1``).
    - `seeds`, `generations`, `key`: the run's size and PRNG seed.
    - `simulate_seconds`: wall time of all simulations, compilation included.
    """

    series: tuple[Series, ...]
    seeds: int
    generations: int
    key: int
    simulate_seconds: float

    def study(self, name: str) -> list[Series]:
        """The series of study `name`, in simulation order."""
        return select(self.series, name)


def kept_rounds(generations: int, points: int = POINTS) -> np.ndarray:
    """About `points` log-spaced rounds in ``1..generations + 1`` (every round when few).

    ```python
    >>> kept_rounds(9).tolist()
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

    ```
    """
    return log_spaced(generations + 1, points)


def mean_loop(contamination: float, generations: int, weights=None):
    """The mean-estimation loop: ``GaussianMean(dim=1)``, ``n = MEAN_SIZE``, split mixing,
    accumulating pool with `weights` (``None``: uniform, ERM).

    ```python
    >>> mean_loop(0.25, 3).real_fraction.tolist()
    [0.75, 0.75, 0.75, 0.75]

    ```
    """
    import jcollapse as jc

    return jc.Loop(jc.models.GaussianMean(dim=1), generations=generations, real_fraction=1 - contamination,
                   sample_size=MEAN_SIZE, pool="accumulate", mixing="split", pool_weights=weights)


def mean_truth():
    """``N(0, 1)``: the variance in units of ``Sigma / n`` is ``n`` times the squared error."""
    import jcollapse as jc

    return jc.models.GaussianMean(dim=1).params(mean=0.0, cov=[[1.0]])


def _mean_series(study: str, label: str, loop, key, seeds: int) -> Series:
    import jcollapse as jc

    truth = mean_truth()
    run = jc.simulate(loop, truth, key=key, seeds=seeds)
    rounds = kept_rounds(loop.generations)
    mean, sem = healthy_mean_sem(run.metrics["mean_sq_error"][:, rounds - 1] * MEAN_SIZE, run.failed)
    theory = jc.theory.expected(loop, truth, "mean_sq_error")[rounds - 1] * MEAN_SIZE
    return Series(study, label, "round", rounds.astype(float), mean, sem, theory, "exact", seeds,
                  int(run.failed.sum()))


def _theorem_1(key, seeds: int, generations: int) -> list[Series]:
    import jax

    return [_mean_series("theorem_1", f"alpha={alpha:g}", mean_loop(alpha, generations), jax.random.fold_in(key, i),
                         seeds) for i, alpha in enumerate(THEOREM_CONTAMINATIONS)]


def _weights(key, seeds: int, generations: int) -> list[Series]:
    import jax

    import jcollapse as jc

    out = []
    for i, alpha in enumerate(CONTAMINATIONS):
        erm = mean_loop(alpha, generations)
        best = erm.replace(pool_weights=jc.theory.optimal_pool_weights(erm))
        out.append(_mean_series("weights", f"ERM, alpha={alpha:g}", erm, jax.random.fold_in(key, 2 * i), seeds))
        out.append(_mean_series("weights", f"optimal weights, alpha={alpha:g}", best,
                                jax.random.fold_in(key, 2 * i + 1), seeds))
    return out


def pac_concept(name: str):
    """The concept class of the PAC study called `name` (a key of :data:`PAC_TRUTHS`).

    ```python
    >>> pac_concept("interval").vc_dim
    2

    ```
    """
    from jcollapse import pac

    return {"threshold": pac.Threshold, "interval": pac.Interval}[name]()


def _pac(key, seeds: int, pac_rounds: int) -> list[Series]:
    import jax

    from jcollapse import pac

    rounds = kept_rounds(pac_rounds)
    out = []
    for i, (name, fields) in enumerate(PAC_TRUTHS.items()):
        concept = pac_concept(name)
        for j, alpha in enumerate(CONTAMINATIONS):
            # both learners see the same data (same key): their difference is the learner's
            config_key = jax.random.fold_in(key, len(CONTAMINATIONS) * i + j)
            for learner, label in (("erm", "ERM"), ("disagreement", "disagreement")):
                run = pac.simulate(concept, concept.params(**fields), contamination=alpha, sample_size=PAC_SIZE,
                                   rounds=pac_rounds, learner=learner, seeds=seeds, key=config_key)
                errors = run.error[:, rounds - 1]
                mean, sem = healthy_mean_sem(errors, np.zeros(seeds, bool))
                out.append(Series("pac", f"{name}, {label}, alpha={alpha:g}", "round", rounds.astype(float), mean,
                                  sem, None, "", seeds, 0))
    return out


def simulate_experiment(
    seeds: int = SEEDS, generations: int = GENERATIONS, key: int = 0, *, pac_rounds: int = PAC_ROUNDS, log=None
) -> Result:
    """Simulate every study (no files are written).

    Study ``i`` of :data:`STUDIES` uses ``fold_in(key(key), i)``, configuration ``j``
    within it ``fold_in`` of that with ``j``.

    **Arguments:**

    - `seeds`: seeds per configuration, ``>= 2`` (the PAC study uses at most :data:`PAC_SEEDS`).
    - `generations`: ``G >= 2``: rounds ``1..G + 1`` of the mean studies.
    - `key`: integer seed of ``jax.random.key``.
    - `pac_rounds`: ``R >= 2``: rounds ``1..R + 1`` of the PAC study.
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

    seeds = check_count("seeds", seeds, 2)
    generations = check_count("generations", generations, 2)
    pac_rounds = check_count("pac_rounds", pac_rounds, 2)
    start = time.perf_counter()
    root = jax.random.key(key)

    say = progress(log, start)

    series = _theorem_1(jax.random.fold_in(root, 0), seeds, generations)
    say(f"Theorem 1: alpha in {THEOREM_CONTAMINATIONS}")
    series += _weights(jax.random.fold_in(root, 1), seeds, generations)
    say(f"ERM versus optimal weights: alpha in {CONTAMINATIONS}")
    series += _pac(jax.random.fold_in(root, 2), min(seeds, PAC_SEEDS), pac_rounds)
    say(f"PAC: {', '.join(PAC_TRUTHS)}, {min(seeds, PAC_SEEDS)} seeds")
    return Result(tuple(series), seeds, generations, key, time.perf_counter() - start)


def rows(result: Result) -> list[dict]:
    """Every simulated point as a dict (:func:`jcollapse.experiments._series.series_rows`).

    ```python
    >>> one = np.ones(2)
    >>> series = Series("theorem_1", "alpha=1", "round", np.arange(1.0, 3.0), one, one / 10, one * 0.9, "exact", 8, 0)
    >>> [round(row["z"], 6) for row in rows(Result((series,), 8, 1, 0, 0.0))]
    [1.0, 1.0]

    ```
    """
    return series_rows(result.series)


def run(
    out: Union[str, Path] = "out/amin",
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    pac_rounds: int = PAC_ROUNDS,
    started: Optional[float] = None,
    log=None,
) -> Result:
    """Run the reproduction and write its figures, ``errors.csv`` and ``summary.md`` into
    `out`, atomically (nothing is written until every simulation has finished).

    **Arguments:**

    - `out`: output directory (replaced if it exists).
    - `seeds`, `generations`, `key`, `pac_rounds`: see :func:`simulate_experiment`.
    - `started`: ``time.perf_counter()`` at program start, for the reported total.
    - `log`: a text stream for progress lines.

    **Returns:**

    The :class:`Result`.

    **Raises:**

    `ValueError` for bad arguments or an `out` that is a file; nothing is written then.

    ```python
    >>> run("out/amin", seeds=0)
    Traceback (most recent call last):
    ...
    ValueError: seeds must be an integer >= 2; got 0

    ```
    """
    from . import _amin_report as report
    from ._report import output_directory, write_reproduction

    started = time.perf_counter() if started is None else started
    out = output_directory(out)
    if log is not None:
        print(f"jcollapse reproduce {NAME}: {len(STUDIES)} studies x {seeds} seeds, {generations + 1} rounds ...",
              file=log, flush=True)
    result = simulate_experiment(seeds, generations, key, pac_rounds=pac_rounds, log=log)
    write_reproduction(out, figures=lambda: report.all_figures(result), tables={"errors.csv": rows(result)},
                       summary=report.summary_markdown(result), simulate_seconds=result.simulate_seconds,
                       started=started, log=log)
    return result
