r"""Dohmatob, Feng & Kempe, "Model Collapse Demystified: The Case of Regression"
(REFERENCE.md section 3), with Gerstgrasser et al.'s replace-versus-accumulate: the
reproduction behind ``jcollapse reproduce dohmatob``.

A chain of OLS generators (:class:`jcollapse.models.LinearRegression`, ``T_0`` samples per
generation, label noise ``sigma_0``, pool ``"replace"``, no real data after generation 0)
labels the data of a downstream ridge model (:class:`jcollapse.probes.DownstreamRidge`,
``T`` samples, noise ``sigma``, penalty ``lambda``), whose test error
``||w_pred - w_0||_Sigma^2`` is measured after ``n`` synthetic generations. Generation
``t`` of the library is ``n = t + 1``; ``n = 0`` is the downstream model trained on real
labels, measured by applying the probe to the truth. Five studies, each next to its
closed form (:mod:`jcollapse.theory`):

1. **U-curves**: test error versus ``lambda`` for several ``T`` and ``n``, isotropic
   covariates, with the deterministic equivalents dashed
   (:func:`jcollapse.theory.ridge_deterministic_equivalent`).
2. **Error versus n**: OLS and two ridge penalties for ``n = 0..G``, a non-isotropic
   ``Sigma``; OLS follows ``sigma^2 d/(T-d-1) + n sigma_0^2 d/(T_0-d-1)`` exactly
   (:func:`jcollapse.theory.ols_pipeline_error`), linear in ``n``.
3. **Power law**: ``lambda_j = j^-beta``, source ``r``, the adaptive ``lambda = T^-l_crit``
   (:func:`jcollapse.theory.power_law_rates`); test error versus ``T``, log-log, for
   several ``n``: the clean rate ``T^-(2 beta r/(2 beta r+1))`` turns into a floor once the
   generators' noise dominates (``T_0`` fixed).
4. **Over-parametrised collapse**: noise-free min-norm generators with ``T_0 < d``,
   ``E ||w_hat_n - w_0||^2 = ||w_0||^2 (1 - (T_0/d)^n)``
   (:func:`jcollapse.theory.overparametrized_collapse`).
5. **Replace versus accumulate**: Gerstgrasser et al.'s fixed design (one ``X`` reused),
   simulated here, against ``m c`` and ``c sum_{i<=m} 1/i^2 < (pi^2/6) c``
   (:func:`jcollapse.theory.replace_vs_accumulate`); and the library's pools with a fresh
   design per generation, where replace has the exact OLS-chain form
   (:func:`jcollapse.theory.expected`) and accumulate has no known closed form.

:func:`run` writes ``u_curves.png``, ``error_vs_n.png``, ``power_law.png``,
``overparametrized.png``, ``replace_vs_accumulate.png``, ``errors.csv`` (every simulated
point: mean, standard error, theory, z) and ``summary.md``, atomically.

```python
>>> from jcollapse.experiments import dohmatob
>>> result = dohmatob.run("out/dohmatob", seeds=1000)  # doctest: +SKIP
>>> result.study("error_vs_n")[0].label  # doctest: +SKIP
'OLS'

```

(``tests/test_dohmatob.py`` runs it, with 200 seeds and fewer sizes.)
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..internal.validation import check_count
from ._curves import healthy_mean_sem
from ._report import progress
from ._series import Series, select, series_rows

#: Name of the command: ``jcollapse reproduce dohmatob``.
NAME = "dohmatob"
#: Seeds per configuration.
SEEDS = 1000
#: ``G``: the error-versus-n, over-parametrised and pool studies run ``n = 0..G``.
GENERATIONS = 20
#: Half-width of the plotted bands, in standard errors.
BAND_SE = 2.0

#: U-curves: isotropic dimension, generator size and noise, downstream noise.
U_DIM, U_GENERATOR_SIZE, U_GENERATOR_NOISE, U_NOISE = 50, 100, 0.5, 0.5
#: U-curves: downstream sample sizes, synthetic generations and the ridge grid.
U_SIZES = (50, 100, 200)
U_GENERATIONS = (0, 1, 2, 4)
U_RIDGES = tuple(float(v) for v in np.logspace(-3, 1, 17))
#: Error versus n: REFERENCE.md's check (d = 20, T_0 = 60, T = 80, sigma_0 = 0.7, sigma = 0.5).
N_DIM, N_GENERATOR_SIZE, N_GENERATOR_NOISE, N_SIZE, N_NOISE = 20, 60, 0.7, 80, 0.5
N_RIDGES = (0.0, 0.1, 1.0)
#: Power law: dimension, spectrum decay and source, generator, noise, sizes and n. At
#: ``T = 512`` the penalty ``T^-2/3 ~ 0.016`` is the 8th eigenvalue, far inside ``d = 60``.
POWER_DIM, POWER_BETA, POWER_SOURCE = 60, 2.0, 0.5
POWER_GENERATOR_SIZE, POWER_GENERATOR_NOISE, POWER_NOISE = 120, 0.5, 0.5
POWER_SIZES = (16, 32, 64, 128, 256, 512)
POWER_GENERATIONS = (0, 1, 4)
#: Over-parametrised, noise-free: dimension and generator sizes ``T_0 < d``.
OVER_DIM, OVER_SIZES = 50, (10, 25, 40)
#: Replace versus accumulate: dimension, sample size, label noise.
POOL_DIM, POOL_SIZE, POOL_NOISE = 10, 30, 1.0
#: The fixed-design chains use this many times the seeds: they cost microseconds, and their
#: error is heavy-tailed (``c`` given the design is ``sigma^2 tr(Sigma (X^T X)^-1)``, an
#: inverse-Wishart trace), so a few hundred designs put the mean 3 SE below ``m c`` (measured:
#: 200 seeds, z = -3.5 at every n > 11; 20,000 seeds, max |z| 1.6-2.5).
FIXED_DESIGN_SEED_FACTOR = 20

#: Study names, in simulation (and key) order.
STUDIES = ("u_curves", "error_vs_n", "power_law", "overparametrized", "fixed_design", "accumulate")


@dataclasses.dataclass(frozen=True)
class Result:
    """Everything :func:`simulate_experiment` measured.

    **Fields:**

    - `series`: every :class:`Series`, in study order.
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


# --------------------------------------------------------------------------- settings


def isotropic_truth(dim: int, noise: float):
    """``LinearRegression(dim, noise)`` with ``Sigma = I`` and a unit-norm ``w_0`` drawn by
    ``np.random.default_rng(0)``.

    ```python
    >>> round(float(np.linalg.norm(isotropic_truth(5, 0.5)[1].weights)), 5)
    1.0

    ```
    """
    import jcollapse as jc

    model = jc.models.LinearRegression(dim=dim, noise=noise)
    weights = np.random.default_rng(0).normal(size=dim)
    return model, model.params(weights=weights / np.linalg.norm(weights), cov=np.eye(dim))


def correlated_truth(dim: int, noise: float):
    """``LinearRegression(dim, noise)`` with correlated covariates of unequal variances,
    ``Sigma = diag(linspace(2, 0.5)) + 0.3 * 1 1^T``, and ``w_0 = linspace(1, -0.5)``.

    ```python
    >>> correlated_truth(3, 1.0)[1].cov
    Array([[2.3 , 0.3 , 0.3 ],
           [0.3 , 1.55, 0.3 ],
           [0.3 , 0.3 , 0.8 ]], dtype=float32)

    ```
    """
    import jcollapse as jc

    model = jc.models.LinearRegression(dim=dim, noise=noise)
    cov = np.diag(np.linspace(2.0, 0.5, dim)) + 0.3 * np.ones((dim, dim))
    return model, model.params(weights=np.linspace(1.0, -0.5, dim), cov=cov)


def power_truth():
    """The power-law setting: ``Sigma = diag(j^-beta)``, ``w_0`` with source ``r``
    (:func:`jcollapse.theory.power_law_spectrum`).

    ```python
    >>> power_truth()[1].cov.shape
    (60, 60)

    ```
    """
    import jcollapse as jc

    eig, weights = jc.theory.power_law_spectrum(POWER_DIM, POWER_BETA, POWER_SOURCE)
    model = jc.models.LinearRegression(dim=POWER_DIM, noise=POWER_GENERATOR_NOISE)
    return model, model.params(weights=weights, cov=np.diag(eig))


def power_ridge(size: int) -> float:
    """The adaptive penalty ``lambda = T^-l_crit`` of the power-law study.

    ```python
    >>> round(power_ridge(64), 6)
    0.0625

    ```
    """
    import jcollapse as jc

    return float(size) ** -jc.theory.power_law_rates(POWER_BETA, POWER_SOURCE)["ell_crit"]


# --------------------------------------------------------------------------- simulation


@functools.lru_cache(maxsize=16)
def _probe_on_truth(probe):
    """``(keys, truth) -> probe(key, truth, truth)`` vmapped over keys, jitted once per probe."""
    import jax

    return jax.jit(jax.vmap(lambda k, truth: probe(k, truth, truth), in_axes=(0, None)))


def _downstream(loop, truth, probe, key, seeds: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The probe's error for ``n = 0..G+1``: ``[seeds, G + 2, ridges]`` values, the failed
    flags and their count. ``n = 0`` applies the probe to the truth (key ``fold_in(key, 1)``)."""
    import jax

    import jcollapse as jc

    run = jc.simulate(loop, truth, key=jax.random.fold_in(key, 0), seeds=seeds, probe=probe)
    clean_keys = jax.random.split(jax.random.fold_in(key, 1), seeds)
    clean = _probe_on_truth(probe)(clean_keys, truth)["downstream_test_error"]
    values = np.concatenate([np.asarray(clean)[:, None], run.metrics["downstream_test_error"]], axis=1)
    clean_failed = ~np.all(np.isfinite(np.asarray(clean)), axis=-1)
    failed = run.failed | clean_failed
    return values, failed, int(failed.sum())


def _chain(model, generator_size: int, generations: int, pool: str = "replace", path: str = "auto"):
    import jcollapse as jc

    return jc.Loop(model, generations=generations, sample_size=generator_size, real_fraction=0.0, pool=pool,
                   path=path)


def _u_curves(key, seeds: int, sizes: Sequence[int]) -> list[Series]:
    import jax

    import jcollapse as jc
    from jcollapse.probes import DownstreamRidge

    model, truth = isotropic_truth(U_DIM, U_GENERATOR_NOISE)
    loop = _chain(model, U_GENERATOR_SIZE, max(U_GENERATIONS) - 1)
    ridges = np.array(U_RIDGES)
    out = []
    for i, size in enumerate(sizes):
        probe = DownstreamRidge(size, U_NOISE, U_RIDGES)
        values, failed, count = _downstream(loop, truth, probe, jax.random.fold_in(key, i), seeds)
        for n in U_GENERATIONS:
            mean, sem = healthy_mean_sem(values[:, n], failed)
            de = jc.theory.ridge_deterministic_equivalent(
                np.ones(U_DIM), np.asarray(truth.weights, np.float64), ridges, size, U_NOISE,
                generator_sample_size=U_GENERATOR_SIZE, generator_noise=U_GENERATOR_NOISE, generations=n)
            out.append(Series("u_curves", f"T={size}, n={n}", "ridge", ridges, mean, sem, de["total"],
                              "deterministic equivalent", seeds, count))
    return out


def _error_vs_n(key, seeds: int, generations: int) -> list[Series]:
    import jcollapse as jc
    from jcollapse.probes import DownstreamRidge

    model, truth = correlated_truth(N_DIM, N_GENERATOR_NOISE)
    loop = _chain(model, N_GENERATOR_SIZE, generations - 1)
    values, failed, count = _downstream(loop, truth, DownstreamRidge(N_SIZE, N_NOISE, N_RIDGES), key, seeds)
    n = np.arange(generations + 1)
    cov, weights = np.asarray(truth.cov, np.float64), np.asarray(truth.weights, np.float64)
    out = []
    for j, ridge in enumerate(N_RIDGES):
        mean, sem = healthy_mean_sem(values[:, :, j], failed)
        if ridge == 0:
            theory, kind = jc.theory.ols_pipeline_error(N_DIM, N_SIZE, N_NOISE, N_GENERATOR_SIZE,
                                                        N_GENERATOR_NOISE, n), "exact"
            label = "OLS"
        else:
            theory = np.array([jc.theory.ridge_deterministic_equivalent(
                cov, weights, ridge, N_SIZE, N_NOISE, generator_sample_size=N_GENERATOR_SIZE,
                generator_noise=N_GENERATOR_NOISE, generations=int(k))["total"] for k in n])
            kind, label = "deterministic equivalent", f"ridge {ridge:g}"
        out.append(Series("error_vs_n", label, "n", n.astype(float), mean, sem, theory, kind, seeds, count))
    return out


def _power_law(key, seeds: int, sizes: Sequence[int]) -> list[Series]:
    import jax

    import jcollapse as jc
    from jcollapse.probes import DownstreamRidge

    model, truth = power_truth()
    loop = _chain(model, POWER_GENERATOR_SIZE, max(POWER_GENERATIONS) - 1)
    eig, weights = jc.theory.power_law_spectrum(POWER_DIM, POWER_BETA, POWER_SOURCE)
    per_size, failed_any = [], np.zeros(seeds, bool)
    for i, size in enumerate(sizes):
        probe = DownstreamRidge(size, POWER_NOISE, (power_ridge(size),))
        values, failed, _ = _downstream(loop, truth, probe, jax.random.fold_in(key, i), seeds)
        per_size.append(values[:, :, 0])
        failed_any |= failed
    out = []
    x = np.asarray(sizes, dtype=float)
    for n in POWER_GENERATIONS:
        stats = [healthy_mean_sem(values[:, n], failed_any) for values in per_size]
        theory = np.array([jc.theory.ridge_deterministic_equivalent(
            eig, weights, power_ridge(size), size, POWER_NOISE, generator_sample_size=POWER_GENERATOR_SIZE,
            generator_noise=POWER_GENERATOR_NOISE, generations=n)["total"] for size in sizes])
        out.append(Series("power_law", f"n={n}", "T", x, np.array([m for m, _ in stats]),
                          np.array([s for _, s in stats]), theory, "deterministic equivalent", seeds,
                          int(failed_any.sum())))
    return out


def _overparametrized(key, seeds: int, generations: int) -> list[Series]:
    import jax

    import jcollapse as jc

    model = jc.models.LinearRegression(dim=OVER_DIM, noise=0.0)
    weights = np.random.default_rng(0).normal(size=OVER_DIM)
    truth = model.params(weights=weights / np.linalg.norm(weights), cov=np.eye(OVER_DIM))
    # ||w_0||^2 of the float32 truth the loop uses (1 to within 1e-7): late in the collapse
    # the error's standard error is that small.
    norm_sq = float(np.sum(np.asarray(truth.weights, np.float64) ** 2))
    out = []
    for i, size in enumerate(OVER_SIZES):
        # exact statistics: one compiled loop for every T0 (the raw path has T0 slots)
        loop = _chain(model, size, generations - 1, path="exact")
        run = jc.simulate(loop, truth, key=jax.random.fold_in(key, i), seeds=seeds)
        mean, sem = healthy_mean_sem(run.metrics["param_sq_error"], run.failed)
        n = np.arange(1, generations + 1)
        theory = jc.theory.overparametrized_collapse(norm_sq, OVER_DIM, size, n)
        out.append(Series("overparametrized", f"T0={size}", "n", n.astype(float), mean, sem, theory, "exact",
                          seeds, int(run.failed.sum())))
    return out


def fixed_design_errors(key, seeds: int, generations: int):
    """Gerstgrasser et al.'s fixed-design chains: ``||w_hat_t - w_0||_Sigma^2`` of OLS
    retrained on one design ``X`` (``T x d``, drawn once per seed), replacing or
    accumulating the labels, for ``t = 0..G-1`` (``m = t + 1`` fits).

    Replace fits generation ``t``'s labels ``X w_hat_{t-1} + sigma eps_t``; accumulate
    fits all labels so far, which for a repeated design is OLS on their average. The
    two chains share ``X`` and the noise, so their difference is measured precisely.
    The covariates are those of :func:`correlated_truth`.

    **Arguments:**

    - `key`: a ``jax.random`` key.
    - `seeds`: number of independent designs.
    - `generations`: ``G >= 1`` fits per chain.

    **Returns:**

    ``(replace, accumulate)``, NumPy arrays ``[seeds, G]``.

    ```python
    >>> import jax
    >>> replace, accumulate = fixed_design_errors(jax.random.key(0), seeds=4, generations=3)
    >>> replace.shape, bool((replace[:, 0] == accumulate[:, 0]).all())
    ((4, 3), True)

    ```
    """
    import jax
    import jax.numpy as jnp

    _, truth = correlated_truth(POOL_DIM, POOL_NOISE)
    w0, factor, cov = truth.weights, truth.factor, truth.cov

    def one_seed(k):
        k_design, k_noise = jax.random.split(k)
        design = jax.random.normal(k_design, (POOL_SIZE, POOL_DIM)) @ factor.T
        solve = jnp.linalg.solve(design.T @ design, design.T)  # (X^T X)^-1 X^T, once per seed
        noise = POOL_NOISE * jax.random.normal(k_noise, (generations, POOL_SIZE))

        def step(carry, eps):
            replace_w, accumulate_w, label_sum, t = carry
            replace_w = solve @ (design @ replace_w + eps)
            label_sum = label_sum + design @ accumulate_w + eps
            accumulate_w = solve @ (label_sum / (t + 1))
            return (replace_w, accumulate_w, label_sum, t + 1), (replace_w, accumulate_w)

        init = (w0, w0, jnp.zeros(POOL_SIZE), 0.0)
        _, (replace_w, accumulate_w) = jax.lax.scan(step, init, noise)

        def risk(w):
            diff = w - w0[None, :]
            return jnp.einsum("ti,ij,tj->t", diff, cov, diff)

        return risk(replace_w), risk(accumulate_w)

    replace, accumulate = jax.jit(jax.vmap(one_seed))(jax.random.split(key, seeds))
    return np.asarray(replace), np.asarray(accumulate)


def _replace_vs_accumulate(key, seeds: int, generations: int) -> list[Series]:
    import jax

    import jcollapse as jc

    t = np.arange(generations)
    theory = jc.theory.replace_vs_accumulate(POOL_DIM, POOL_SIZE, POOL_NOISE, t)
    designs = FIXED_DESIGN_SEED_FACTOR * seeds
    no_failures = np.zeros(designs, bool)
    out = []
    for name, values in zip(("replace", "accumulate"), fixed_design_errors(jax.random.fold_in(key, 0), designs,
                                                                           generations)):
        mean, sem = healthy_mean_sem(values, no_failures)
        out.append(Series("fixed_design", name, "n", (t + 1).astype(float), mean, sem, theory[name], "exact",
                          designs, 0))
    model, truth = correlated_truth(POOL_DIM, POOL_NOISE)
    for i, pool in enumerate(("replace", "accumulate")):
        loop = _chain(model, POOL_SIZE, generations - 1, pool)
        run = jc.simulate(loop, truth, key=jax.random.fold_in(key, 1 + i), seeds=seeds)
        mean, sem = healthy_mean_sem(run.metrics["test_error"], run.failed)
        theory = jc.theory.expected(loop, truth, "test_error") if pool == "replace" else None
        out.append(Series("accumulate", f"{pool}, fresh design", "n", (t + 1).astype(float), mean, sem, theory,
                          "exact" if theory is not None else "", seeds, int(run.failed.sum())))
    return out


def _check_sizes(name: str, sizes: Sequence[int], low: int) -> tuple[int, ...]:
    values = tuple(sizes)
    if not values or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low
                             for v in values):
        raise ValueError(f"{name} must be a non-empty list of integers >= {low}; got {sizes!r}")
    return tuple(int(v) for v in values)


def simulate_experiment(
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    u_sizes: Sequence[int] = U_SIZES,
    power_sizes: Sequence[int] = POWER_SIZES,
    log=None,
) -> Result:
    """Simulate every study (no files are written).

    Study ``i`` of :data:`STUDIES` uses ``fold_in(key(key), i)`` (the fixed-design and
    fresh-design pools share study 4's key, folded with 0, 1 and 2).

    **Arguments:**

    - `seeds`: seeds per configuration, ``>= 2``.
    - `generations`: ``G >= 2``, the largest ``n`` of the error-versus-n, over-parametrised
      and pool studies.
    - `key`: integer seed of ``jax.random.key``.
    - `u_sizes`: the U-curves' downstream sizes ``T >= 1``.
    - `power_sizes`: the power-law study's downstream sizes ``T >= 1``.
    - `log`: a text stream for progress lines (default: none).

    **Returns:**

    A :class:`Result`.

    **Raises:**

    `ValueError` for bad counts or sizes, before anything is compiled.

    ```python
    >>> simulate_experiment(seeds=1)
    Traceback (most recent call last):
    ...
    ValueError: seeds must be an integer >= 2; got 1

    ```

    (The module docstring runs it.)
    """
    import jax

    seeds = check_count("seeds", seeds, 2)
    generations = check_count("generations", generations, 2)
    u_sizes = _check_sizes("u_sizes", u_sizes, 1)
    power_sizes = _check_sizes("power_sizes", power_sizes, 1)
    start = time.perf_counter()
    root = jax.random.key(key)

    say = progress(log, start)

    series = _u_curves(jax.random.fold_in(root, 0), seeds, u_sizes)
    say(f"U-curves: T in {u_sizes}, {len(U_RIDGES)} penalties")
    series += _error_vs_n(jax.random.fold_in(root, 1), seeds, generations)
    say(f"error versus n: n = 0..{generations}")
    series += _power_law(jax.random.fold_in(root, 2), seeds, power_sizes)
    say(f"power law: T in {power_sizes}")
    series += _overparametrized(jax.random.fold_in(root, 3), seeds, generations)
    say(f"over-parametrised: T0 in {OVER_SIZES}")
    series += _replace_vs_accumulate(jax.random.fold_in(root, 4), seeds, generations)
    say("replace versus accumulate")
    return Result(tuple(series), seeds, generations, key, time.perf_counter() - start)


def rows(result: Result) -> list[dict]:
    """Every simulated point as a dict (:func:`jcollapse.experiments._series.series_rows`).

    ```python
    >>> one = np.ones(2)
    >>> series = Series("error_vs_n", "OLS", "n", np.arange(2.0), one, one / 10, one * 0.9, "exact", 8, 0)
    >>> [round(row["z"], 6) for row in rows(Result((series,), 8, 1, 0, 0.0))]
    [1.0, 1.0]

    ```
    """
    return series_rows(result.series)


def run(
    out: Union[str, Path] = "out/dohmatob",
    seeds: int = SEEDS,
    generations: int = GENERATIONS,
    key: int = 0,
    *,
    u_sizes: Sequence[int] = U_SIZES,
    power_sizes: Sequence[int] = POWER_SIZES,
    started: Optional[float] = None,
    log=None,
) -> Result:
    """Run the reproduction and write its figures, ``errors.csv`` and ``summary.md`` into
    `out`, atomically (nothing is written until every simulation has finished).

    **Arguments:**

    - `out`: output directory (replaced if it exists).
    - `seeds`, `generations`, `key`, `u_sizes`, `power_sizes`: see
      :func:`simulate_experiment`.
    - `started`: ``time.perf_counter()`` at program start, for the reported total.
    - `log`: a text stream for progress lines.

    **Returns:**

    The :class:`Result`.

    **Raises:**

    `ValueError` for bad arguments or an `out` that is a file; nothing is written then.

    ```python
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "d"
    >>> _ = run(out, seeds=200, generations=3, u_sizes=(100,), power_sizes=(32,))  # doctest: +SKIP
    >>> sorted(p.name for p in out.iterdir())  # doctest: +SKIP
    ['error_vs_n.png', 'errors.csv', 'overparametrized.png', 'power_law.png', 'replace_vs_accumulate.png', 'summary.md', 'u_curves.png']

    ```

    (``tests/test_dohmatob.py`` runs exactly this and checks the files and the claims.)
    """
    from . import _dohmatob_report as report
    from ._report import output_directory, write_reproduction

    started = time.perf_counter() if started is None else started
    out = output_directory(out)
    if log is not None:
        print(f"jcollapse reproduce {NAME}: {len(STUDIES) - 1} studies x {seeds} seeds, n up to {generations} ...",
              file=log, flush=True)
    result = simulate_experiment(seeds, generations, key, u_sizes=u_sizes, power_sizes=power_sizes, log=log)
    write_reproduction(out, figures=lambda: report.all_figures(result), tables={"errors.csv": rows(result)},
                       summary=report.summary_markdown(result), simulate_seconds=result.simulate_seconds,
                       started=started, log=log)
    return result
