r"""Xu, He & Cheng, "A Probabilistic Perspective on Model Collapse": the reproduction behind
``jcollapse reproduce xu``.

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
   ``~ log(seeds)`` (it is shown, labelled ``"expectation, heavy-tailed"``, and not checked).

The driver writes ``collapse.png``, ``mean_error.png``, ``errors.csv`` (every point: mean,
standard error, theory, z), ``checks.csv``, ``summary.md`` and ``index.html``.

```python
>>> from jcollapse.experiments import REPRODUCTIONS
>>> REPRODUCTIONS["xu"].check_counts(None, None)
(2000, 1000)

```
"""

from __future__ import annotations

import time
from typing import ClassVar, Optional

import jax
import numpy as np
from scipy import special, stats

from .. import Loop, models, schedules, theory
from .. import simulate as simulate_loop
from . import _figures
from ._protocol import Check, Progress, Reproduction, Result, quiet_progress
from ._series import CHI2_INTERVAL, Series, chi2_floored_sem, healthy_mean_sem, log_spaced, max_abs_z

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

_BINOMIAL = "|z| with the binomial SE √(p(1 − p)/seeds), p kept half a seed from 0 and 1"
_HEAVY = "expectation, heavy-tailed"


def kept_generations(generations: int, points: int = POINTS) -> np.ndarray:
    """About `points` log-spaced generations in ``1..generations`` (every one when few).

    **Arguments:**

    - `generations`: ``G >= 1``.
    - `points`: about how many.

    **Returns:**

    An increasing integer array.

    ```python
    >>> kept_generations(5).tolist()
    [1, 2, 3, 4, 5]

    ```
    """
    return log_spaced(generations, points)


def family_size(family: str) -> int:
    """``N`` of `family`'s schedules (:data:`GAUSSIAN_SIZE` or :data:`SIZE`).

    **Arguments:**

    - `family`: a name of :data:`FAMILIES`.

    **Returns:**

    An int.

    ```python
    >>> family_size("poisson")
    10

    ```
    """
    return GAUSSIAN_SIZE if family == "gaussian" else SIZE


def sample_sizes(family: str, schedule: str, generations: int) -> np.ndarray:
    """``n_t = N (t + 1)^e`` for ``t = 0..generations`` (``e`` from :data:`SCHEDULES`).

    **Arguments:**

    - `family`, `schedule`: names of :data:`FAMILIES` and :data:`SCHEDULES`.
    - `generations`: ``G``.

    **Returns:**

    A float64 array ``[G + 1]`` (the loop rounds it).

    ```python
    >>> sample_sizes("bernoulli", "superlinear", 2).tolist()
    [10.0, 28.284271247461902, 51.96152422706632]

    ```
    """
    exponent, _ = SCHEDULES[schedule]
    return family_size(family) * (np.arange(generations + 1, dtype=np.float64) + 1) ** exponent


def family_loop(family: str, schedule: str, generations: int) -> Loop:
    """The loop of `family` and `schedule`: dimension 1, ``pool="replace"``, no real data
    after generation 0, ``n_t`` from :func:`sample_sizes` (``"gaussian_mean"``: the
    known-variance Gaussian of the mean-error study).

    **Arguments:**

    - `family`: a name of :data:`FAMILIES` or ``"gaussian_mean"``.
    - `schedule`: a name of :data:`SCHEDULES`.
    - `generations`: ``G``.

    **Returns:**

    A :class:`jcollapse.Loop`.

    ```python
    >>> family_loop("poisson", "linear", 2).sample_size.tolist()
    [10, 20, 30]

    ```
    """
    model = {"gaussian": lambda: models.Gaussian(dim=1, variance="unbiased"),
             "poisson": lambda: models.Poisson(dim=1),
             "bernoulli": lambda: models.Bernoulli(dim=1),
             "gaussian_mean": lambda: models.GaussianMean(dim=1)}[family]()
    exponent, _ = SCHEDULES[schedule]
    n = schedules.power(family_size(family), exponent) if exponent else schedules.constant(family_size(family))
    return Loop(model, generations=generations, real_fraction=0.0, sample_size=n, pool="replace")


def family_truth(family: str):
    """The truth of `family`: ``N(0, 1)``, Poisson(:data:`POISSON_RATE`) or
    Bernoulli(:data:`BERNOULLI_PROB`).

    **Arguments:**

    - `family`: a name of :data:`FAMILIES` or ``"gaussian_mean"``.

    **Returns:**

    The model's parameters.

    ```python
    >>> float(family_truth("bernoulli").probs[0])
    0.5

    ```
    """
    if family in ("gaussian", "gaussian_mean"):
        model = models.Gaussian(dim=1) if family == "gaussian" else models.GaussianMean(dim=1)
        return model.params(mean=0.0, cov=[[1.0]])
    if family == "poisson":
        return models.Poisson(dim=1).params(rate=POISSON_RATE)
    return models.Bernoulli(dim=1).params(probs=BERNOULLI_PROB)


def sample_variance(family: str) -> float:
    """``Var(one sample at theta*)``: 1, the rate, or ``p (1 - p)``.

    **Arguments:**

    - `family`: a name of :data:`FAMILIES` or ``"gaussian_mean"``.

    **Returns:**

    A float.

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
    ``polygamma(1, (n_k - 1)/2)`` (about ``2/(n_k - 1)``); the mean is
    :func:`jcollapse.theory.gaussian_expected_log_variance`. Approximating the sum by a
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
    counts = np.rint(np.asarray(sample_sizes, dtype=np.float64)).astype(np.int64)  # as the loop rounds them
    targets = np.asarray(targets)
    targets = targets[counts[targets] <= BERNOULLI_THEORY_MAX_N]
    if not targets.size:
        return np.empty(0)
    return theory.bernoulli_absorption_probability(counts[: targets[-1] + 1], prob)[targets]


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
    t = np.unique(np.round(np.geomspace(start, stop, points)).astype(int))
    n = np.rint(sample_sizes(family, schedule, int(t[-1]))).astype(np.int64)  # as the loop rounds them
    if family == "gaussian":
        p = gaussian_collapse_probability(n)[t]
    elif family == "poisson":
        p = theory.poisson_absorption_probability(n, POISSON_RATE, generations=t)
    else:
        p = np.full(t.shape, np.nan)
        p[: np.sum(n[t] <= BERNOULLI_THEORY_MAX_N)] = bernoulli_chain(n, t)
    return t.astype(float), np.clip(p, 0.0, 1.0)


def binomial_sem(fraction: np.ndarray, seeds: int) -> np.ndarray:
    """``sqrt(p (1 - p) / seeds)`` with ``p`` kept half a seed away from 0 and 1 (a run with
    no seed collapsed, or all, still has a Monte-Carlo error).

    **Arguments:**

    - `fraction`: fractions of seeds collapsed.
    - `seeds`: the seeds behind each fraction.

    **Returns:**

    An array of the shape of `fraction`.

    ```python
    >>> binomial_sem(np.array([0.0, 0.5]), 4).round(4).tolist()
    [0.1654, 0.25]

    ```
    """
    p = np.clip(fraction, 0.5 / seeds, 1 - 0.5 / seeds)
    return np.sqrt(p * (1 - p) / seeds)


def _collapse_series(family: str, schedule: str, run, kept: np.ndarray, seeds: int) -> Series:
    loop = family_loop(family, schedule, kept[-1])
    if family == "gaussian":
        # sigma_hat^2 / sigma^2 < DELTA (sigma^2 = 1); a non-finite fit counts as failed
        collapsed = run.metrics["variance"][:, kept] < DELTA
        values = gaussian_collapse_probability(loop.sample_size)[kept]
        kind, form = "normal approximation", "jcollapse.experiments.xu.gaussian_collapse_probability"
    else:
        collapsed = run.metrics["absorbed"][:, kept] > 0.5
        if family == "poisson":
            values = theory.poisson_absorption_probability(loop, family_truth(family))[kept]
            form = "jc.theory.poisson_absorption_probability"
        else:
            values = np.full(kept.shape, np.nan)
            values[: np.sum(loop.sample_size[kept] <= BERNOULLI_THEORY_MAX_N)] = bernoulli_chain(
                loop.sample_size, kept)
            form = "jc.theory.bernoulli_absorption_probability"
        kind = "exact"
    healthy = ~np.asarray(run.failed)
    fraction = collapsed[healthy].mean(axis=0)
    return Series("collapse", f"{family}, {schedule}", kept.astype(float), fraction,
                  binomial_sem(fraction, int(healthy.sum())), theory=values, theory_kind=kind, closed_form=form,
                  seeds=seeds, failed=int(run.failed.sum()), metric="variance" if family == "gaussian" else "absorbed")


def _error_series(family: str, schedule: str, run, kept: np.ndarray, seeds: int) -> Series:
    loop = family_loop(family, schedule, kept[-1])
    metric = "mean_sq_error" if family in ("gaussian", "gaussian_mean") else "param_sq_error"
    scale = sample_variance(family)
    mean, sem = healthy_mean_sem(run.metrics[metric][:, kept] / scale, run.failed)
    values = theory.expected(loop, family_truth(family), metric)[kept] / scale
    label = "gaussian (known variance)" if family == "gaussian_mean" else family
    return Series("mean_error", f"{label}, {schedule}", kept.astype(float), mean, sem, theory=values,
                  theory_kind=_HEAVY if family == "gaussian" else "exact", closed_form="jc.theory.expected",
                  seeds=seeds, failed=int(run.failed.sum()), metric=metric)


_TITLES = {"gaussian": f"Gaussian N(0, 1), unbiased variance, σ̂²/σ² < {DELTA:g}, N = {GAUSSIAN_SIZE}",
           "poisson": f"Poisson(rate {POISSON_RATE:g}), absorbed at 0, N = {SIZE}",
           "bernoulli": f"Bernoulli({BERNOULLI_PROB:g}), absorbed at 0 or 1, N = {SIZE}"}
_SCHEDULE_TEXT = {"constant": "$n_t=N$", "linear": "$n_t=N(t+1)$", "superlinear": "$n_t=N(t+1)^{1.5}$"}

#: Figure files and their captions.
FIGURES = {
    "collapse.png": "Fraction of seeds collapsed against generation (bands ± 2 SE), theory dashed (exact for "
                    "Poisson and Bernoulli, a normal approximation for the Gaussian), continued to "
                    f"t = {LONG_RUN:,} dotted.",
    "mean_error.png": "E(θ̂_t − θ*)² / Var(one sample) against the random walk's Σ 1/n_k (dashed; Bernoulli: "
                      "1 − Π(1 − 1/n_k)).",
}

SUMMARY = """\
# Xu, He & Cheng, "A Probabilistic Perspective on Model Collapse": reproduction

Pure self-consumption: generation 0 is fitted on n_0 real samples, every later generation only
on n_t samples from the previous fit (pool `replace`, real fraction 0), generations
0..{{ r.generations }}, {{ r.seeds }} seeds per configuration, PRNG `jax.random.key({{ r.key }})`.
Dimension 1. Schedules n_t = N, N(t + 1), N(t + 1)^1.5; Gaussian N(0, 1) with the unbiased
variance (N = {{ gaussian_size }}), Poisson rate {{ poisson_rate }} and Bernoulli p = {{ bernoulli_prob }}
(N = {{ size }}). z = (mean − theory)/SE; every point is in `errors.csv`. See
`jcollapse/experiments/xu.py`.

Xu et al.: with unbiased estimation the fit collapses almost surely iff Σ 1/n_t = ∞.

| schedule | n_t | Σ_{t ≤ T} 1/n_t | collapse |
|---|---|---|---|
| constant | N | T/N → ∞ (diverges) | almost surely |
| linear | N(t + 1) | (log T)/N → ∞ (diverges, slowly) | almost surely, like exp(−c/log t) |
| superlinear | N(t + 1)^1.5 | → ζ(1.5)/N ≈ 2.61/N (converges) | with probability < 1 |

## Collapse: the fraction of seeds collapsed

Poisson: absorbed at rate 0; Bernoulli: absorbed at 0 or 1 (exact theory: a Galton-Watson
composition and the Wright-Fisher chain, the latter only while n_t ≤ {{ bernoulli_max }} here, so
it is missing where the schedule exceeds that); Gaussian: σ̂²_t/σ² < {{ delta }}, against our
normal approximation (log σ̂²_t/σ² is a sum of independent log χ²_{n−1}/(n−1) terms;
`xu.gaussian_collapse_probability`). SE = √(p(1 − p)/seeds), p kept half a seed from 0 and 1.
Max |z| against the exact forms over all kept generations: {{ exact_z | num(3) }}; Gaussian
against its normal approximation: {{ gaussian_z | num(3) }} (largest |simulated −
approximation|: {{ gaussian_gap | num(2) }}).

| family | schedule | collapsed at t = {{ r.generations }} | theory at t = {{ r.generations }} \
| theory at t = {{ long_run }} |
|---|---|---|---|---|
{% for row in collapse %}
| {{ row.family }} | {{ row.schedule }} | {{ row.mean | pm(row.sem, 4, 2) }} | {{ row.theory | num(4) }} \
| {{ row.long_run | num(4) }} |
{% endfor %}

— : no theory computed (the exact Bernoulli chain is limited to n_t ≤ {{ bernoulli_max }} here).
The Gaussian's theory is the normal approximation, not exact; the constant schedule
collapses, the linear one only logarithmically slowly (its mean and variance of log σ̂² both
grow like (log t)/N), the superlinear one stays bounded away from 1.

## Mean error: a random walk

E(θ̂_t − θ*)² / Var(one sample at θ*) against Σ_{k ≤ t} 1/n_k (Poisson; Gaussian mean with
known variance) and 1 − Π_{k ≤ t}(1 − 1/n_k) (Bernoulli), all exact. It diverges for
constant and linear n (Poisson and Bernoulli: the absorbed seeds' error saturates,
Bernoulli's at 1), and converges for superlinear n. Max |z| against the exact forms:
{{ errors_z | num(3) }} (the Poisson's error is heavy-tailed once most seeds are absorbed: its
mean is carried by the few surviving seeds, so it is shown here but not counted as a check).
With the unbiased variance estimated, the Gaussian mean's error has
the same expectation Σ 1/n_k, but σ̂²_t is log-normal-like with log-variance ≈ 2 Σ 1/n_k, so
the Monte-Carlo mean falls far below it once that exceeds ≈ log(seeds): plotted dash-dot,
not checked.

| family | schedule | at t = {{ r.generations }} | theory |
|---|---|---|---|
{% for s in r.study("mean_error") %}
| {{ s.label.replace(", ", " | ") }} | {{ s.mean[-1] | pm(s.sem[-1], 4, 2) }} | {{ s.theory[-1] | num(4) }} \
({{ s.theory_kind }}) |
{% endfor %}
"""


class Xu(Reproduction):
    """Xu, He & Cheng's collapse dichotomy (``jcollapse reproduce xu``); see the module docstring.

    ```python
    >>> Xu().simulate(seeds=1, generations=3)
    Traceback (most recent call last):
    ...
    ValueError: seeds must be an integer >= 2; got 1

    ```
    """

    name: ClassVar[str] = "xu"
    title: ClassVar[str] = "Xu, He & Cheng: collapse iff Σ 1/n_t = ∞"
    default_seeds: ClassVar[int] = SEEDS
    default_generations: ClassVar[int] = GENERATIONS
    min_seeds: ClassVar[int] = 2
    min_generations: ClassVar[int] = 2
    figure_captions: ClassVar[dict] = FIGURES
    summary_template: ClassVar[str] = SUMMARY

    def simulate(self, seeds: int, generations: int, key: int = 0, *,
                 progress: Optional[Progress] = None) -> Result:
        """Simulate every family and schedule.

        Family ``i`` of :data:`FAMILIES` uses ``fold_in(key(key), i)`` (the known-variance
        Gaussian mean ``i = 3``), schedule ``j`` of :data:`SCHEDULES` ``fold_in`` of that with
        ``j``. Both studies read the same runs. The Gaussian needs ``G <= 1000`` or so before
        ``sigma_hat^2`` underflows float32 in some seed; such seeds are flagged failed and
        left out. The result's ``extras["long_run"]`` is ``{(family, schedule): (t, theory)}``:
        the collapse theory at log-spaced generations ``G..LONG_RUN`` (:func:`long_run_theory`).
        """
        seeds, generations = self.check_counts(seeds, generations)
        families = (*FAMILIES, "gaussian_mean")
        bar = quiet_progress(progress)
        bar.reset(total=len(families) * len(SCHEDULES) * seeds)
        start = time.perf_counter()
        root = jax.random.key(key)
        kept = kept_generations(generations)
        collapse, errors, long_run = [], [], {}
        for i, family in enumerate(families):
            for j, schedule in enumerate(SCHEDULES):
                loop = family_loop(family, schedule, generations)
                run = simulate_loop(loop, family_truth(family),
                                    key=jax.random.fold_in(jax.random.fold_in(root, i), j), seeds=seeds,
                                    progress=False)
                if family != "gaussian_mean":
                    collapse.append(_collapse_series(family, schedule, run, kept, seeds))
                    long_run[family, schedule] = long_run_theory(family, schedule, generations)
                errors.append(_error_series(family, schedule, run, kept, seeds))
                bar.update(seeds)
        return Result(self.name, seeds, generations, key, tuple(collapse + errors), extras={"long_run": long_run},
                      simulate_seconds=time.perf_counter() - start)

    def figures(self, result: Result) -> dict:
        """``collapse.png`` and ``mean_error.png``."""
        return {"collapse.png": _collapse_figure(result), "mean_error.png": _mean_error_figure(result)}

    def checks(self, result: Result) -> list[Check]:
        """Every kept generation: the absorption probabilities (exact), the Gaussian's normal
        approximation, and the exact mean errors of the light-tailed estimates (Bernoulli,
        bounded; the known-variance Gaussian, normal, so its squared error is a multiple of a
        ``chi^2_1``: SE floored at that one's); the Poisson's and the unbiased Gaussian's mean
        errors are heavy-tailed: shown, not checked."""
        collapse, errors = result.study("collapse"), result.study("mean_error")
        gaussian = [s for s in collapse if s.theory_kind != "exact"]
        out = [
            Check.compare(f"collapse: {family} absorbed", [s for s in collapse if s.label.startswith(family + ",")],
                          statistic="fraction of seeds absorbed by t", interval=_BINOMIAL)
            for family in ("poisson", "bernoulli")
        ]
        out.append(Check.compare(
            f"collapse: Gaussian σ̂²_t/σ² < {DELTA:g}", gaussian, statistic=f"fraction of seeds with σ̂²_t < {DELTA:g}",
            interval=_BINOMIAL, note=f"largest |simulated − approximation| {_gap(gaussian):.2g}"))
        out.append(Check.compare(
            "mean error, Bernoulli", [s for s in errors if s.label.startswith("bernoulli")],
            statistic="mean of (p̂_t − p)² / (p (1 − p)) (bounded: light-tailed)"))
        out.append(Check.compare(
            "mean error, Gaussian with known variance", [s for s in errors if s.label.startswith("gaussian (known")],
            statistic="mean of (μ̂_t − μ)² / σ²", interval=CHI2_INTERVAL, standard_error=chi2_floored_sem))
        out.append(Check.shown(
            "mean error, Poisson", "jc.theory.expected", "exact", "mean of (λ̂_t − λ)² / λ",
            "heavy-tailed once most seeds are absorbed at 0: the expectation is carried by the few surviving "
            "seeds, whose rate has grown, so the sample mean falls below it (and is exactly 1 once every seed is "
            "absorbed); the light-tailed absorption probability is checked above"))
        out.append(Check.shown(
            "mean error, Gaussian with unbiased variance", "jc.theory.expected", _HEAVY,
            "mean of (μ̂_t − μ)² / σ²", "heavy-tailed: a mixture over the log-normal-like σ̂²_t, whose Monte-Carlo "
            "mean falls far below the expectation once 2 Σ 1/n_k exceeds about log(seeds)"))
        return out

    def summary_context(self, result: Result) -> dict:
        """Settings, the max |z| of each study and the collapse table's rows."""
        collapse = result.study("collapse")
        rows = []
        for family in FAMILIES:
            for schedule in SCHEDULES:
                s = result.get("collapse", f"{family}, {schedule}")
                rows.append(dict(family=family, schedule=schedule, mean=s.mean[-1], sem=s.sem[-1],
                                 theory=s.theory[-1], long_run=result.extras["long_run"][family, schedule][1][-1]))
        gaussian = [s for s in collapse if s.theory_kind != "exact"]
        return dict(
            gaussian_size=GAUSSIAN_SIZE, poisson_rate=f"{POISSON_RATE:g}", bernoulli_prob=f"{BERNOULLI_PROB:g}",
            size=SIZE, bernoulli_max=BERNOULLI_THEORY_MAX_N, delta=f"{DELTA:g}", long_run=f"{LONG_RUN:,}",
            exact_z=max_abs_z([s for s in collapse if s.theory_kind == "exact"]),
            gaussian_z=max_abs_z(gaussian), gaussian_gap=_gap(gaussian),
            errors_z=max_abs_z([s for s in result.study("mean_error") if s.theory_kind == "exact"]),
            collapse=rows,
        )


def _gap(series: list[Series]) -> float:
    return max(float(np.nanmax(np.abs(s.mean - s.theory))) for s in series)


def _collapse_figure(result: Result):
    from matplotlib.lines import Line2D  # noqa: PLC0415  (matplotlib is imported on first use)

    fig, axes = _figures.new_figure(1, len(FAMILIES), width=4.6, height=3.9)
    for ax, family in zip(axes[0], FAMILIES):
        for i, schedule in enumerate(SCHEDULES):
            s = result.get("collapse", f"{family}, {schedule}")
            colour = _figures.COLOURS[i]
            _figures.band_plot(ax, s.x, s.mean, s.sem, theory=s.theory, label=_SCHEDULE_TEXT[schedule],
                               colour=colour, width=BAND_SE)
            t, p = result.extras["long_run"][family, schedule]
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
        for s in [s for s in series if s.label.split(",")[0].startswith(family)]:
            schedule = s.label.split(", ")[1]
            colour = _figures.COLOURS[list(SCHEDULES).index(schedule)]
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
