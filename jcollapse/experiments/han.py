r"""Han et al., "Preventing Model Collapse via Contraction-Conditioned Neural Filters"
(arXiv 2512.00757; REFERENCE.md section 4): the reproduction behind ``jcollapse reproduce han``.

Setting: the replace loop with a **constant** sample size ``n`` (:data:`SAMPLE_SIZE`), iid
mixing with real fraction ``a`` in :data:`REAL_FRACTIONS`, for three mean families with a
fixed evaluation truth (:data:`FAMILIES`): ``GaussianMean(dim=1)`` with ``N(0, 1)``,
``Poisson(dim=1)`` with rate 3 and ``Bernoulli(dim=1)`` with ``p = 0.3``. Per family and
``a``, three methods:

- **no filter**: the plain replace loop (every weight 1,
  :func:`jcollapse.filters.filtered_errors` with ``None``), next to its exact expected
  error :func:`jcollapse.theory.expected`;
- **filter**: a :class:`jcollapse.filters.ContractionFilter` trained per family with
  :func:`jcollapse.filters.train_filter` (Adam on the contraction hinge of Han et al.'s
  Assumption 2.3, on simulated chains) on that family's default training prior
  (:func:`jcollapse.filters.default_prior`), no closed form;
- **growth**: no filter but a superlinear sample size ``n_t = n (t + 1)^1.5``
  (:func:`jcollapse.simulate`; ``sum 1/n_t < inf``), next to its exact expected error.

**What the filter may know at test time.** The generation's samples, the current estimate
``theta_hat_{t-1}`` (and its sample standard deviation), ``t`` and ``n``. It does not know
the truth ``theta*``, the real fraction ``a``, nor which samples are real. Training draws
its truths from the prior (the evaluation truth is one fixed point of it, never singled
out) and its real fractions from ``U(0, 0.6)``; training and evaluation keys differ.

The error is ``||theta_hat_t - theta*||^2`` of the mean parameter (``mean_sq_error`` for
the Gaussian, ``param_sq_error`` for Poisson and Bernoulli). The exceedance
``limsup_t P(||e_t|| > delta)`` is estimated by :func:`jcollapse.filters.exceedance` as the
largest fraction of seeds above ``delta`` over the last quarter of the generations, with
``delta = DELTA_FRACTION * sqrt(Var*/n)``: a fixed fraction of the generation-0 RMS error
(``Var*`` is the per-sample variance at the truth, ``Var*/n`` the generation-0 mean
squared error).

The filter's mechanism is measured, not asserted: :func:`mean_weights` records its mean
weight per generation on the evaluation chains (a decreasing weight is a decreasing step
size, i.e. averaging over generations).

:func:`run` writes ``filter_errors.png``, ``exceedance.png``, ``training.png``,
``errors.csv`` (every kept point: mean, standard error, theory, z), ``exceedance.csv`` and
``summary.md``, atomically.

```python
>>> from jcollapse.experiments import han
>>> result = han.run("out/han")  # doctest: +SKIP

```

(``tests/test_han.py`` runs it with fewer seeds, generations and training steps.)
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..internal.validation import check_count
from ._curves import healthy_mean_sem
from ._report import progress
from ._series import Series, log_spaced, select, series_rows

#: Name of the command: ``jcollapse reproduce han``.
NAME = "han"
#: Seeds per configuration.
SEEDS = 2000
#: ``G``: generations ``0..G``.
GENERATIONS = 200
#: The constant sample size ``n`` (and ``n_0`` of the growth baseline).
SAMPLE_SIZE = 20
#: Real fractions ``a`` of generations ``t >= 1``.
REAL_FRACTIONS = (0.0, 0.2, 0.5)
#: Families, in simulation (and key) order.
FAMILIES = ("gaussian", "poisson", "bernoulli")
#: Methods, in table order.
METHODS = ("no filter", "filter", "growth")
#: Growth baseline: ``n_t = SAMPLE_SIZE * (t + 1) ** GROWTH_EXPONENT``.
GROWTH_EXPONENT = 1.5
#: Optimisation steps of :func:`jcollapse.filters.train_filter` per family (its other
#: settings are its defaults: 32 chains of 30 generations per step, n = 20, a ~ U(0, 0.6),
#: c = 0.1, Adam 3e-3).
TRAIN_STEPS = 200
#: ``delta`` of the exceedance, as a fraction of the generation-0 RMS error ``sqrt(Var*/n)``.
DELTA_FRACTION = 0.5
#: Share of the final generations over which the exceedance takes its max.
TAIL_FRACTION = 0.25
#: Generations kept in the table and the error figure: about this many, log-spaced (plus 0).
POINTS = 40
#: Seeds of the mean-weight trace (:func:`mean_weights`).
WEIGHT_SEEDS = 256
#: Half-width of the plotted bands, in standard errors.
BAND_SE = 2.0


@dataclasses.dataclass(frozen=True)
class Exceedance:
    """One estimate of ``limsup_t P(||e_t|| > delta)`` (:func:`jcollapse.filters.exceedance`).

    **Fields:** `family`, `real_fraction`, `method`, `delta`, `tail` (generations in the
    max), `p` and its binomial standard error `se`, and `p0`: the same fraction at
    generation 0 (no method has acted yet).
    """

    family: str
    real_fraction: float
    method: str
    delta: float
    tail: int
    p: float
    se: float
    p0: float


@dataclasses.dataclass(frozen=True)
class Training:
    """One family's filter training.

    **Fields:** `family`, `steps`, `losses` (``[steps]``, the batch loss before each
    update), `seconds` (wall time, compilation included), and `weights`: ``{a: [G]}``, the
    trained filter's mean weight in generations ``1..G`` of the evaluation chains
    (:func:`mean_weights`).
    """

    family: str
    steps: int
    losses: np.ndarray
    seconds: float
    weights: dict


@dataclasses.dataclass(frozen=True)
class Result:
    """Everything :func:`simulate_experiment` measured.

    **Fields:**

    - `series`: every :class:`~jcollapse.experiments._series.Series` (study = family,
      label ``"METHOD, a=A"``, ``x`` the generation ``t``), families in :data:`FAMILIES`
      order, then ``a``, then :data:`METHODS`.
    - `exceedances`: an :class:`Exceedance` per family, ``a`` and method, in that order.
    - `training`: a :class:`Training` per family.
    - `seeds`, `generations`, `key`: the run's size and PRNG seed.
    - `simulate_seconds`: wall time of training and all simulations, compilation included.
    """

    series: tuple[Series, ...]
    exceedances: tuple[Exceedance, ...]
    training: tuple[Training, ...]
    seeds: int
    generations: int
    key: int
    simulate_seconds: float

    def study(self, name: str) -> list[Series]:
        """The series of family `name`, in simulation order."""
        return select(self.series, name)

    @property
    def families(self) -> tuple[str, ...]:
        """The families simulated, in :data:`FAMILIES` order."""
        return tuple(dict.fromkeys(s.study for s in self.series))

    def get(self, family: str, method: str, real_fraction: float) -> Series:
        """The series of `family`, `method` and `real_fraction`."""
        return next(s for s in self.series if s.study == family and s.label == label(method, real_fraction))

    def exceedance(self, family: str, method: str, real_fraction: float) -> Exceedance:
        """The :class:`Exceedance` of `family`, `method` and `real_fraction`."""
        return next(e for e in self.exceedances
                    if e.family == family and e.method == method and e.real_fraction == real_fraction)


def label(method: str, real_fraction: float) -> str:
    """A series' label.

    ```python
    >>> label("no filter", 0.2)
    'no filter, a=0.2'

    ```
    """
    return f"{method}, a={real_fraction:g}"


def family(name: str):
    """``(model, truth, metric)`` of family `name` (one of :data:`FAMILIES`).

    **Arguments:**

    - `name`: ``"gaussian"``, ``"poisson"`` or ``"bernoulli"``.

    **Returns:**

    The model, the evaluation truth and the name of its squared-error metric in
    :func:`jcollapse.simulate`'s ``run.metrics``.

    ```python
    >>> model, truth, metric = family("poisson")
    >>> float(truth.rate[0]), metric
    (3.0, 'param_sq_error')

    ```
    """
    import jcollapse as jc

    if name == "gaussian":
        model = jc.models.GaussianMean(dim=1)
        return model, model.params(mean=0.0, cov=[[1.0]]), "mean_sq_error"
    if name == "poisson":
        model = jc.models.Poisson(dim=1)
        return model, model.params(rate=3.0), "param_sq_error"
    if name == "bernoulli":
        model = jc.models.Bernoulli(dim=1)
        return model, model.params(probs=0.3), "param_sq_error"
    raise ValueError(f"family must be one of {FAMILIES}; got {name!r}")


def delta_for(name: str, sample_size: int = SAMPLE_SIZE) -> float:
    """The exceedance threshold of family `name`: ``DELTA_FRACTION * sqrt(Var*/n)``.

    ```python
    >>> delta_for("gaussian", 25)
    0.1

    ```
    """
    model, truth, _ = family(name)
    variance = float(np.sum(np.asarray(model.sample_std(truth), np.float64) ** 2))
    return DELTA_FRACTION * math.sqrt(variance / sample_size)


def kept_generations(generations: int, points: int = POINTS) -> np.ndarray:
    """Generation 0 and about `points` log-spaced generations in ``1..generations``.

    ```python
    >>> kept_generations(5).tolist()
    [0, 1, 2, 3, 4, 5]

    ```
    """
    return np.concatenate([[0], log_spaced(generations, points)])


def mean_weights(filter, model, truth, *, real_fraction: float, sample_size: int, generations: int, seeds: int,
                 key) -> np.ndarray:
    """The filter's mean weight in each generation ``1..G`` of the filtered replace loop,
    averaged over samples and `seeds` chains (chains as in
    :func:`jcollapse.filters.filtered_chain`).

    **Arguments:**

    - `filter`: a :class:`jcollapse.filters.ContractionFilter`.
    - `model`, `truth`: a mean family and its true parameters.
    - `real_fraction`, `sample_size`, `generations`, `seeds`: ``a``, ``n``, ``G``, chains.
    - `key`: ``jax.random.key(...)``.

    **Returns:**

    A NumPy array ``[G]``.

    ```python
    >>> import jax, jcollapse as jc
    >>> from jcollapse.filters import ContractionFilter
    >>> model, truth, _ = family("gaussian")
    >>> mean_weights(ContractionFilter(jax.random.key(0), initial_weight=0.5), model, truth,
    ...              real_fraction=0.5, sample_size=4, generations=2, seeds=2, key=jax.random.key(1)).shape
    (2,)

    ```
    """
    import jax

    dtype = model.mean_parameter(truth).dtype
    a = jax.numpy.asarray(real_fraction, dtype)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jax.numpy.arange(seeds, dtype=jax.numpy.uint32))
    return np.asarray(_weights_trace(filter, model, truth, keys, a, sample_size, generations)).mean(axis=0)


def _weights_trace_impl(filter, model, truth, keys, a, sample_size, generations):
    import jax
    import jax.numpy as jnp

    from ..filters import draw_mixed, filtered_update

    def chain(seed_key):
        first = draw_mixed(model, truth, truth, jax.random.fold_in(seed_key, 0), 1.0, sample_size)
        start = filtered_update(None, model, truth, first, 0)

        def step(previous, t):
            x = draw_mixed(model, truth, previous, jax.random.fold_in(seed_key, t), a, sample_size)
            w = filter(x, model.mean_parameter(previous), model.sample_std(previous), t)
            return filtered_update(filter, model, previous, x, t), jnp.mean(w)

        return jax.lax.scan(step, start, jnp.arange(1, generations + 1, dtype=jnp.int32))[1]

    return jax.vmap(chain)(keys)


def _weights_trace(*args):
    import equinox as eqx

    global _WEIGHTS_JIT
    if _WEIGHTS_JIT is None:
        _WEIGHTS_JIT = eqx.filter_jit(_weights_trace_impl)
    return _WEIGHTS_JIT(*args)


_WEIGHTS_JIT = None


def _train(name: str, key, steps: int, weight_generations: int, weight_seeds: int, real_fractions) -> tuple:
    import jax

    from ..filters import ContractionFilter, train_filter

    model, truth, _ = family(name)
    start = time.perf_counter()
    filter, losses = train_filter(ContractionFilter(jax.random.fold_in(key, 0)), model, key=jax.random.fold_in(key, 1),
                                  steps=steps, sample_size=SAMPLE_SIZE)
    seconds = time.perf_counter() - start
    weights = {a: mean_weights(filter, model, truth, real_fraction=a, sample_size=SAMPLE_SIZE,
                               generations=weight_generations, seeds=weight_seeds, key=jax.random.fold_in(key, 2))
               for a in real_fractions}
    return filter, Training(name, steps, losses, seconds, weights)


def _family_study(name: str, filter, key, seeds: int, generations: int) -> tuple[list[Series], list[Exceedance]]:
    import jax

    import jcollapse as jc
    from ..filters import exceedance, filtered_errors

    model, truth, metric = family(name)
    kept = kept_generations(generations)
    delta = delta_for(name)
    tail = max(1, int(round(TAIL_FRACTION * generations)))
    series, exceed = [], []
    for j, a in enumerate(REAL_FRACTIONS):
        # the filter and no filter see the same seeds (same key): the same generation 0
        eval_key = jax.random.fold_in(key, 10 + j)
        constant = jc.Loop(model, generations=generations, real_fraction=a, sample_size=SAMPLE_SIZE, mixing="iid")
        growing = constant.replace(sample_size=jc.schedules.power(SAMPLE_SIZE, GROWTH_EXPONENT))
        for method in METHODS:
            if method == "growth":
                run = jc.simulate(growing, truth, key=jax.random.fold_in(key, 20 + j), seeds=seeds)
                errors, failed = np.asarray(run.metrics[metric], np.float64), np.asarray(run.failed)
                theory = jc.theory.expected(growing, truth, metric)[kept]
            else:
                errors = filtered_errors(filter if method == "filter" else None, model, truth, real_fraction=a,
                                         sample_size=SAMPLE_SIZE, generations=generations, seeds=seeds, key=eval_key)
                failed = np.zeros(seeds, bool)
                theory = jc.theory.expected(constant, truth, metric)[kept] if method == "no filter" else None
            mean, sem = healthy_mean_sem(errors[:, kept], failed)
            series.append(Series(name, label(method, a), "generation", kept.astype(float), mean, sem, theory,
                                 "exact" if theory is not None else "", seeds, int(failed.sum())))
            healthy = errors[~failed]
            p, se = exceedance(healthy, delta, tail)
            p0, _ = exceedance(healthy[:, :1], delta, 1)
            exceed.append(Exceedance(name, a, method, delta, tail, p, se, p0))
    return series, exceed


def _check_families(families: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(families)
    if not chosen or any(name not in FAMILIES for name in chosen) or len(set(chosen)) < len(chosen):
        raise ValueError(f"families must be distinct names from {FAMILIES}; got {families!r}")
    return tuple(name for name in FAMILIES if name in chosen)


def simulate_experiment(
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    train_steps: int = TRAIN_STEPS,
    families: Sequence[str] = FAMILIES,
    log=None,
) -> Result:
    """Train a filter per family and simulate every family, ``a`` and method (no files are
    written).

    Family ``i`` of :data:`FAMILIES` uses ``k_i = fold_in(key(key), i)``: training
    ``fold_in(k_i, 0)`` (network initialisation, optimisation and weight trace under it),
    evaluation of ``a = REAL_FRACTIONS[j]`` ``fold_in(k_i, 10 + j)`` (no filter and filter
    share it) and the growth baseline ``fold_in(k_i, 20 + j)``.

    **Arguments:**

    - `seeds`: seeds per configuration, ``>= 2``.
    - `generations`: ``G >= 4``.
    - `key`: integer seed of ``jax.random.key``.
    - `train_steps`: optimisation steps per family, ``>= 1``.
    - `families`: a subset of :data:`FAMILIES` (a family's keys do not depend on the others).
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
    generations = check_count("generations", generations, 4)
    train_steps = check_count("train_steps", train_steps, 1)
    families = _check_families(families)
    start = time.perf_counter()
    root = jax.random.key(key)

    say = progress(log, start)

    series, exceed, training = [], [], []
    for name in families:
        family_key = jax.random.fold_in(root, FAMILIES.index(name))
        filter, trained = _train(name, jax.random.fold_in(family_key, 0), train_steps, generations,
                                 min(seeds, WEIGHT_SEEDS), REAL_FRACTIONS)
        training.append(trained)
        say(f"{name}: filter trained ({train_steps} steps, {trained.seconds:.1f} s)")
        s, e = _family_study(name, filter, family_key, seeds, generations)
        series += s
        exceed += e
        say(f"{name}: {len(REAL_FRACTIONS)} real fractions x {len(METHODS)} methods")
    return Result(tuple(series), tuple(exceed), tuple(training), seeds, generations, key,
                  time.perf_counter() - start)


def rows(result: Result) -> list[dict]:
    """Every simulated point as a dict (:func:`jcollapse.experiments._series.series_rows`).

    ```python
    >>> one = np.ones(2)
    >>> series = Series("gaussian", "no filter, a=0", "generation", np.arange(2.0), one, one / 10, one * 0.9,
    ...                 "exact", 8, 0)
    >>> [round(row["z"], 6) for row in rows(Result((series,), (), (), 8, 1, 0, 0.0))]
    [1.0, 1.0]

    ```
    """
    return series_rows(result.series)


def exceedance_rows(result: Result) -> list[dict]:
    """Every exceedance estimate as a dict (the fields of :class:`Exceedance`).

    ```python
    >>> e = Exceedance("gaussian", 0.0, "filter", 0.1, 5, 0.5, 0.05, 0.6)
    >>> exceedance_rows(Result((), (e,), (), 8, 20, 0, 0.0))[0]["p"]
    0.5

    ```
    """
    return [dataclasses.asdict(e) for e in result.exceedances]


def run(
    out: Union[str, Path] = "out/han",
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    train_steps: int = TRAIN_STEPS,
    families: Sequence[str] = FAMILIES,
    started: Optional[float] = None,
    log=None,
) -> Result:
    """Run the reproduction and write its figures, ``errors.csv``, ``exceedance.csv`` and
    ``summary.md`` into `out`, atomically (nothing is written until every simulation has
    finished).

    **Arguments:**

    - `out`: output directory (replaced if it exists).
    - `seeds`, `generations`, `key`, `train_steps`, `families`: see :func:`simulate_experiment`.
    - `started`: ``time.perf_counter()`` at program start, for the reported total.
    - `log`: a text stream for progress lines.

    **Returns:**

    The :class:`Result`.

    **Raises:**

    `ValueError` for bad arguments or an `out` that is a file; nothing is written then.

    ```python
    >>> run("out/han", seeds=0)
    Traceback (most recent call last):
    ...
    ValueError: seeds must be an integer >= 2; got 0

    ```
    """
    from . import _han_report as report
    from ._report import output_directory, write_reproduction

    started = time.perf_counter() if started is None else started
    seeds = check_count("seeds", seeds, 2)
    generations = check_count("generations", generations, 4)
    train_steps = check_count("train_steps", train_steps, 1)
    families = _check_families(families)
    out = output_directory(out)
    if log is not None:
        print(f"jcollapse reproduce {NAME}: {len(families)} families x {len(REAL_FRACTIONS)} real fractions x "
              f"{seeds} seeds, {generations + 1} generations ...", file=log, flush=True)
    result = simulate_experiment(seeds, generations, key, train_steps=train_steps, families=families, log=log)
    write_reproduction(out, figures=lambda: report.all_figures(result),
                       tables={"errors.csv": rows(result), "exceedance.csv": exceedance_rows(result)},
                       summary=report.summary_markdown(result), simulate_seconds=result.simulate_seconds,
                       started=started, log=log)
    return result
