r"""Bakshi & Chakraborty, "From Collapse to Improvement" (REFERENCE.md section 1): the
reproduction behind ``jcollapse reproduce bakshi-chakraborty``.

A categorical next-token model over ``K = 50`` tokens (truth ``theta* ~ Dirichlet(1)``,
drawn once with ``np.random.default_rng(0)``) is refitted by frequencies for ``G = 200``
generations on ``n_t`` tokens, a share ``a_t`` real and the rest sampled from the previous
fit (pool ``"replace"``, mixing ``"iid"``, the paper's contamination-agnostic learner).
Five studies, each simulated next to its theory:

1. **schedules**: constant ``a = 0.1`` versus decaying ``a_t = (t+1)^-1/2`` and ``1/(t+1)``
   (and ``a = 0``), for fixed ``n = 100`` and growing ``n_t = 100 (t+1)``; ``R_t`` with bands
   and Theorem 3.1 dashed.
2. **phase diagram**: ``a_t = 0.5 (t+1)^-decay``, ``n_t = 100 (t+1)^growth`` over a grid of
   exponents; ``R_G / R_0`` simulated and by Theorem 3.1, with the asymptotic boundary of
   :func:`jcollapse.theory.power_schedule_regime` marked.
3. **pools**: data aggregation (``pool="accumulate"``) versus replacement, ``a = 0`` and
   ``0.1``, with the exact recursion of both (:mod:`jcollapse.theory`).
4. **Markov chain**: the same schedules for :class:`jcollapse.models.MarkovChain` (5 states,
   sequences of 20 tokens, 50 sequences or 50 (t+1)), next to the row-by-row Theorem 3.1
   heuristic (:func:`jcollapse.theory.markov_row_heuristic`; no closed form is known).
5. **Gaussian**: the same schedules for a 1-D Gaussian (MLE variance), the paper's claim
   that the behaviour is general, with the Gaussian recursion dashed.

:func:`run` writes ``schedules.png``, ``phase_diagram.png``, ``pools.png``,
``markov_chain.png``, ``gaussian.png``, ``final_errors.csv`` (every curve at ``t = G``:
mean, standard error, theory, z), ``phase_diagram.csv`` and ``summary.md``, atomically.
The paper's study uses 100 seeds (the default); ``--seeds 10000`` is the large version
(the phase diagram uses at most :data:`PHASE_SEEDS` seeds per cell and the Markov chain at
most :data:`MARKOV_SEEDS` per configuration).

```python
>>> from jcollapse.experiments import bakshi_chakraborty as bc
>>> result = bc.simulate_experiment(seeds=8, generations=4, exponents=(0.0, 1.0))
>>> sorted({curve.config.study for curve in result.curves})
['gaussian', 'markov', 'pools', 'schedules']

```
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..internal.validation import check_count
from ._curves import Curve, find_curve, summarize, theory_or_none

#: Name of the command: ``jcollapse reproduce bakshi-chakraborty``.
NAME = "bakshi-chakraborty"
#: Tokens of the categorical model.
NUM_CATEGORIES = 50
#: Generations after generation 0.
GENERATIONS = 200
#: Seeds per configuration (the paper's 100 repetitions).
SEEDS = 100
#: Most seeds per phase-diagram cell (the grid has ``len(EXPONENTS)^2`` cells).
PHASE_SEEDS = 1000
#: Most seeds per Markov-chain configuration. Its growing ``n_t`` runs the exact path, which
#: draws ``L S^2 = 500`` binomials per generation and seed (200,000 per 200-generation
#: seed, against ``K = 50`` per generation for the categorical model): about 1,100 s per
#: configuration at 10,000 seeds on 2 CPU cores, a fifth of that at this cap.
MARKOV_SEEDS = 2000
#: Fixed sample size and scale of the growing schedules.
SAMPLE_SIZE = 100
#: Decay and growth exponents of the phase diagram.
EXPONENTS = tuple(np.round(np.linspace(0.0, 2.0, 9), 2))
#: Scale of the phase diagram's real fraction ``a_t = 0.5 (t+1)^-decay``.
PHASE_SCALE = 0.5
#: Markov chain: states, sequence length and sequences per generation.
MARKOV_STATES, MARKOV_LENGTH, MARKOV_SEQUENCES = 5, 20, 50
#: Half-width of the plotted bands, in standard errors.
BAND_SE = 2.0

#: Labels of the real-fraction schedules of the curve studies (see ``_real_fraction``).
REAL_FRACTIONS = ("0", "0.1", "(t+1)^-1/2", "1/(t+1)")
#: Sample-size schedules of the curve studies.
GROWTHS = ("fixed", "growing")


def _real_fraction(label: str):
    import jcollapse as jc

    return {
        "0": 0.0,
        "0.1": 0.1,
        "(t+1)^-1/2": jc.schedules.power(1.0, -0.5),
        "1/(t+1)": jc.schedules.power(1.0, -1.0),
    }[label]


def _sample_size(growth: str, scale: int):
    import jcollapse as jc

    return scale if growth == "fixed" else jc.schedules.power(scale, 1.0)


@dataclasses.dataclass(frozen=True)
class Config:
    """One simulated configuration of a curve study.

    **Fields:**

    - `study`: ``"schedules"``, ``"pools"``, ``"markov"`` or ``"gaussian"``.
    - `real_fraction`: a label of :data:`REAL_FRACTIONS`.
    - `growth`: ``"fixed"`` or ``"growing"``.
    - `pool`: ``"replace"`` or ``"accumulate"``.

    ```python
    >>> Config("schedules", "0.1", "growing").label
    'a=0.1, n_t=100(t+1)'

    ```
    """

    study: str
    real_fraction: str
    growth: str
    pool: str = "replace"

    @property
    def scale(self) -> int:
        """The fixed sample size, or the scale of the growing one."""
        return MARKOV_SEQUENCES if self.study == "markov" else SAMPLE_SIZE

    @property
    def sample_size_label(self) -> str:
        """The sample-size schedule as text: ``"100"`` or ``"100(t+1)"``."""
        return f"{self.scale}" if self.growth == "fixed" else f"{self.scale}(t+1)"

    @property
    def label(self) -> str:
        """A short name, e.g. ``"a=0.1, n=100"`` (``"..., accumulate"`` for that pool)."""
        n = "n" if self.growth == "fixed" else "n_t"
        pool = "" if self.pool == "replace" else f", {self.pool}"
        return f"a={self.real_fraction}, {n}={self.sample_size_label}{pool}"

    def loop(self, generations: int = GENERATIONS):
        """The :class:`jcollapse.Loop` of this configuration.

        ```python
        >>> Config("gaussian", "1/(t+1)", "fixed").loop(generations=2).real_fraction
        array([1.        , 0.5       , 0.33333333])

        ```
        """
        import jcollapse as jc

        return jc.Loop(
            _model(self.study),
            generations=generations,
            real_fraction=_real_fraction(self.real_fraction),
            sample_size=_sample_size(self.growth, self.scale),
            pool=self.pool,
        )


def _model(study: str):
    import jcollapse as jc

    if study == "markov":
        return jc.models.MarkovChain(num_states=MARKOV_STATES, sequence_length=MARKOV_LENGTH)
    if study == "gaussian":
        return jc.models.Gaussian(dim=1, variance="mle")
    return jc.models.Categorical(num_categories=NUM_CATEGORIES)


def truth(study: str):
    """The truth of a study, fixed by ``np.random.default_rng(0)``.

    Categorical: ``theta* ~ Dirichlet(1_K)``. Markov chain: rows ``~ Dirichlet(1_S)``, a
    uniform initial distribution. Gaussian: ``N(0, 1)``.

    **Arguments:**

    - `study`: ``"schedules"``, ``"phase"``, ``"pools"``, ``"markov"`` or ``"gaussian"``.

    **Returns:**

    The model's parameters.

    ```python
    >>> truth("schedules").probs.shape
    (50,)

    ```
    """
    model = _model(study)
    rng = np.random.default_rng(0)
    if study == "markov":
        transition = rng.dirichlet(np.ones(MARKOV_STATES), size=MARKOV_STATES)
        return model.params(transition=transition, initial=np.full(MARKOV_STATES, 1 / MARKOV_STATES))
    if study == "gaussian":
        return model.params(mean=0.0, cov=[[1.0]])
    return model.params(probs=rng.dirichlet(np.ones(NUM_CATEGORIES)))


#: Metrics recorded per study (the first is the one plotted as R_t).
METRICS = {
    "schedules": ("param_sq_error", "tv"),
    "pools": ("param_sq_error",),
    "markov": ("param_sq_error", "tv", "stationary_tv"),
    "gaussian": ("mean_sq_error", "variance"),
}


def configs() -> tuple[Config, ...]:
    """Every curve configuration, in simulation (and key) order.

    ```python
    >>> len(configs())
    24

    ```
    """
    out = [Config("schedules", a, g) for g in GROWTHS for a in REAL_FRACTIONS]
    out += [Config("pools", a, "fixed", pool) for pool in ("replace", "accumulate") for a in ("0", "0.1")]
    out += [Config(study, a, g) for study in ("markov", "gaussian") for g in GROWTHS for a in REAL_FRACTIONS[:3]]
    return tuple(out)


def _theory(config: Config, loop, true, metric: str) -> Optional[np.ndarray]:
    import jcollapse as jc

    if config.study == "markov" and metric == "param_sq_error":
        return jc.theory.markov_row_heuristic(loop, true)
    return theory_or_none(loop, true, metric)


@dataclasses.dataclass(frozen=True)
class PhaseCell:
    """One cell of the phase diagram: ``a_t = 0.5 (t+1)^-decay``, ``n_t = 100 (t+1)^growth``.

    **Fields:**

    - `decay`, `growth`: the exponents.
    - `ratio`, `ratio_sem`: simulated ``mean R_G / R_0`` (``R_0`` by Theorem 3.1) and its
      standard error.
    - `theory`: Theorem 3.1's ``R_G / R_0``.
    - `regime`: :func:`jcollapse.theory.power_schedule_regime` of the exponents.
    - `seeds`, `failed`.
    """

    decay: float
    growth: float
    ratio: float
    ratio_sem: float
    theory: float
    regime: str
    seeds: int
    failed: int

    @property
    def z(self) -> float:
        """``(ratio - theory) / ratio_sem``."""
        return float((self.ratio - self.theory) / self.ratio_sem)


def phase_loop(decay: float, growth: float, generations: int = GENERATIONS):
    """The loop of one phase-diagram cell.

    ```python
    >>> phase_loop(1.0, 1.0, generations=2).sample_size
    array([100, 200, 300])

    ```
    """
    import jcollapse as jc

    return jc.Loop(
        _model("phase"),
        generations=generations,
        real_fraction=jc.schedules.power(PHASE_SCALE, -decay),
        sample_size=jc.schedules.power(SAMPLE_SIZE, growth),
    )


@dataclasses.dataclass(frozen=True)
class Result:
    """Everything :func:`simulate_experiment` measured.

    **Fields:**

    - `curves`: a :class:`~jcollapse.experiments._curves.Curve` per configuration of
      :func:`configs` and metric of :data:`METRICS`.
    - `phase`: the :class:`PhaseCell` grid, decay-major.
    - `exponents`: the phase diagram's exponents.
    - `seeds`, `markov_seeds`, `phase_seeds`, `generations`, `key`: the run's size and
      PRNG seed.
    - `simulate_seconds`: wall time of all simulations, compilation included.
    """

    curves: tuple[Curve, ...]
    phase: tuple[PhaseCell, ...]
    exponents: tuple[float, ...]
    seeds: int
    markov_seeds: int
    phase_seeds: int
    generations: int
    key: int
    simulate_seconds: float

    def curve(self, config: Config, metric: str) -> Curve:
        """The curve of `config` and `metric` (``KeyError`` if absent)."""
        return find_curve(self.curves, config, metric)


def _check_exponents(exponents: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(e) for e in exponents)
    if not values or not all(np.isfinite(e) and 0 <= e <= 3 for e in values):
        raise ValueError(f"exponents must be a non-empty list of numbers in [0, 3]; got {exponents!r}")
    return values


def simulate_experiment(
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    exponents: Sequence[float] = EXPONENTS,
    phase_seeds: Optional[int] = None,
    markov_seeds: Optional[int] = None,
    log=None,
) -> Result:
    """Simulate every study (no files are written).

    Curve configuration ``i`` of :func:`configs` uses ``fold_in(key(key), i)``; phase
    cell ``j`` (decay-major) uses ``fold_in(fold_in(key(key), 10_000), j)``.

    **Arguments:**

    - `seeds`: seeds per curve configuration, ``>= 1``.
    - `generations`: ``G >= 1``.
    - `key`: integer seed of ``jax.random.key``.
    - `exponents`: the phase diagram's decay and growth exponents, each in ``[0, 3]``.
    - `phase_seeds`: seeds per phase cell (default ``min(seeds, PHASE_SEEDS)``).
    - `markov_seeds`: seeds per Markov-chain configuration (default
      ``min(seeds, MARKOV_SEEDS)``).
    - `log`: a text stream for progress lines (default: none).

    **Returns:**

    A :class:`Result`.

    **Raises:**

    `ValueError` for bad counts or exponents, or a schedule whose ``n_t`` exceeds the
    engine's ``2^24`` (growth 3 with ``G`` above about 550).

    ```python
    >>> result = simulate_experiment(seeds=8, generations=4, exponents=(0.5,))
    >>> len(result.phase), result.phase[0].regime
    (1, 'bounded')

    ```
    """
    import jax

    import jcollapse as jc

    seeds = check_count("seeds", seeds, 1)
    generations = check_count("generations", generations, 1)
    phase_seeds = check_count("phase_seeds", min(seeds, PHASE_SEEDS) if phase_seeds is None else phase_seeds, 1)
    markov_seeds = check_count("markov_seeds", min(seeds, MARKOV_SEEDS) if markov_seeds is None else markov_seeds, 1)
    exponents = _check_exponents(exponents)
    cells = [(decay, growth) for decay in exponents for growth in exponents]
    phase_loops = [phase_loop(decay, growth, generations) for decay, growth in cells]  # validate first
    start = time.perf_counter()
    root = jax.random.key(key)

    def say(text: str) -> None:
        if log is not None:
            print(text, file=log, flush=True)

    curves = []
    for index, config in enumerate(configs()):
        loop, true = config.loop(generations), truth(config.study)
        count = markov_seeds if config.study == "markov" else seeds
        run = jc.simulate(loop, true, key=jax.random.fold_in(root, index), seeds=count)
        curves += [summarize(run, config, m, _theory(config, loop, true, m)) for m in METRICS[config.study]]
        say(f"  {config.study:9s} {config.label:35s} {time.perf_counter() - start:7.1f} s")

    phase = []
    phase_truth = truth("phase")
    phase_root = jax.random.fold_in(root, 10_000)
    for index, ((decay, growth), loop) in enumerate(zip(cells, phase_loops)):
        run = jc.simulate(loop, phase_truth, key=jax.random.fold_in(phase_root, index), seeds=phase_seeds)
        expected = jc.theory.expected(loop, phase_truth, "param_sq_error")
        curve = summarize(run, (decay, growth), "param_sq_error", expected)
        phase.append(PhaseCell(decay, growth, curve.mean[-1] / expected[0], curve.sem[-1] / expected[0],
                               expected[-1] / expected[0], jc.theory.power_schedule_regime(decay, growth),
                               phase_seeds, curve.failed))
    say(f"  phase diagram: {len(cells)} cells x {phase_seeds} seeds {time.perf_counter() - start:7.1f} s")
    return Result(tuple(curves), tuple(phase), exponents, seeds, markov_seeds, phase_seeds, generations, key,
                  time.perf_counter() - start)


# --------------------------------------------------------------------------- tables


def final_rows(result: Result) -> list[dict]:
    """The table of final errors: one row per curve, at ``t = G``.

    **Returns:**

    Dicts with keys ``study``, ``real_fraction``, ``sample_size``, ``pool``, ``metric``,
    ``mean``, ``sem``, ``theory`` (NaN where none), ``theory_kind`` (``"exact"``,
    ``"heuristic"`` or ``""``), ``z`` (NaN without theory), ``max_abs_z`` over all
    generations, ``seeds``, ``failed``.

    ```python
    >>> rows = final_rows(simulate_experiment(seeds=8, generations=4, exponents=(0.0, 1.0)))
    >>> rows[0]["study"], rows[0]["metric"], rows[0]["theory_kind"]
    ('schedules', 'param_sq_error', 'exact')

    ```
    """
    rows = []
    for curve in result.curves:
        config = curve.config
        heuristic = config.study == "markov" and curve.metric == "param_sq_error"
        kind = "" if curve.theory is None else ("heuristic" if heuristic else "exact")
        rows.append(dict(
            study=config.study, real_fraction=config.real_fraction, sample_size=config.sample_size_label,
            pool=config.pool,
            metric=curve.metric, mean=float(curve.mean[-1]), sem=float(curve.sem[-1]),
            theory=float("nan") if curve.theory is None else float(curve.theory[-1]),
            theory_kind=kind, z=curve.z, max_abs_z=curve.max_abs_z, seeds=curve.seeds, failed=curve.failed,
        ))
    return rows


def phase_rows(result: Result) -> list[dict]:
    """The phase diagram as dicts: the fields of :class:`PhaseCell` and ``z``.

    ```python
    >>> phase_rows(simulate_experiment(seeds=8, generations=4, exponents=(0.0, 1.0)))[0]["regime"]
    'bounded'

    ```
    """
    return [{**dataclasses.asdict(cell), "z": cell.z} for cell in result.phase]


def run(
    out: Union[str, Path] = "out/bakshi-chakraborty",
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    exponents: Sequence[float] = EXPONENTS,
    started: Optional[float] = None,
    log=None,
) -> Result:
    """Run the reproduction and write its figures, tables and ``summary.md`` into `out`,
    atomically (nothing is written until every simulation has finished; `out` is replaced
    only once the new directory is complete).

    **Arguments:**

    - `out`: output directory (replaced if it exists).
    - `seeds`, `generations`, `key`, `exponents`: see :func:`simulate_experiment`.
    - `started`: ``time.perf_counter()`` at program start, for the reported total.
    - `log`: a text stream for progress lines.

    **Returns:**

    The :class:`Result`.

    **Raises:**

    `ValueError` for bad arguments or an `out` that is a file; nothing is written then.

    ```python
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "bc"
    >>> _ = run(out, seeds=8, generations=4, exponents=(0.0, 1.0))
    >>> sorted(p.name for p in out.iterdir())[:3]
    ['final_errors.csv', 'gaussian.png', 'markov_chain.png']

    ```
    """
    from . import _bakshi_report as report
    from ._report import output_directory, write_reproduction

    started = time.perf_counter() if started is None else started
    out = output_directory(out)
    if log is not None:
        print(f"jcollapse reproduce {NAME}: {len(configs())} configurations x {seeds} seeds, "
              f"{len(exponents) ** 2} phase cells, {generations + 1} generations ...", file=log, flush=True)
    result = simulate_experiment(seeds, generations, key, exponents=exponents, log=log)
    write_reproduction(out, figures=lambda: report.all_figures(result),
                       tables={"final_errors.csv": final_rows(result), "phase_diagram.csv": phase_rows(result)},
                       summary=report.summary_markdown(result), simulate_seconds=result.simulate_seconds,
                       started=started, log=log)
    return result
