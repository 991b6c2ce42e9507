r"""Dohmatob, Feng & Kempe, "Model Collapse Demystified: The Case of Regression", with
Gerstgrasser et al.'s replace-versus-accumulate: the reproduction behind
``jcollapse reproduce dohmatob``.

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

The driver writes ``u_curves.png``, ``error_vs_n.png``, ``power_law.png``,
``overparametrized.png``, ``replace_vs_accumulate.png``, ``errors.csv`` (every simulated
point: mean, standard error, theory, z), ``checks.csv``, ``summary.md`` and ``index.html``.

```python
>>> from jcollapse.experiments import dohmatob
>>> dohmatob.Dohmatob(u_sizes=(100,), power_sizes=(32,)).u_sizes
(100,)

```
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar, Optional, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import Loop, models, run_seeds, theory
from .. import simulate as simulate_loop
from ..internal.settings import join_settings, split_settings
from ..probes import DownstreamRidge
from . import _figures
from ._protocol import Check, Progress, Reproduction, Result, quiet_progress
from ._series import RESOLUTION, Series, healthy_mean_sem, log_slope, max_abs_z

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
#: Error versus n: d = 20, T_0 = 60, T = 80, sigma_0 = 0.7, sigma = 0.5, and the penalties.
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
#: inverse-Wishart trace), so a few hundred designs put the mean several SE below ``m c``
#: at every late ``n``; tens of thousands of designs bring it within the usual 2-3 SE.
FIXED_DESIGN_SEED_FACTOR = 20

#: Study names, in simulation (and key) order.
STUDIES = ("u_curves", "error_vs_n", "power_law", "overparametrized", "fixed_design", "accumulate")

_ERROR = r"test error $\|\hat w-w_0\|^2_\Sigma$"


# --------------------------------------------------------------------------- settings


def isotropic_truth(dim: int, noise: float):
    """``LinearRegression(dim, noise)`` with ``Sigma = I`` and a unit-norm ``w_0`` drawn by
    ``np.random.default_rng(0)``.

    **Arguments:**

    - `dim`: ``d``.
    - `noise`: the label noise ``sigma``.

    **Returns:**

    ``(model, truth)``.

    ```python
    >>> round(float(np.linalg.norm(isotropic_truth(5, 0.5)[1].weights)), 5)
    1.0

    ```
    """
    model = models.LinearRegression(dim=dim, noise=noise)
    weights = np.random.default_rng(0).normal(size=dim)
    return model, model.params(weights=weights / np.linalg.norm(weights), cov=np.eye(dim))


def correlated_truth(dim: int, noise: float):
    """``LinearRegression(dim, noise)`` with correlated covariates of unequal variances,
    ``Sigma = diag(linspace(2, 0.5)) + 0.3 * 1 1^T``, and ``w_0 = linspace(1, -0.5)``.

    **Arguments:**

    - `dim`: ``d``.
    - `noise`: the label noise ``sigma``.

    **Returns:**

    ``(model, truth)``.

    ```python
    >>> correlated_truth(3, 1.0)[1].cov
    Array([[2.3 , 0.3 , 0.3 ],
           [0.3 , 1.55, 0.3 ],
           [0.3 , 0.3 , 0.8 ]], dtype=float32)

    ```
    """
    model = models.LinearRegression(dim=dim, noise=noise)
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
    eig, weights = theory.power_law_spectrum(POWER_DIM, POWER_BETA, POWER_SOURCE)
    model = models.LinearRegression(dim=POWER_DIM, noise=POWER_GENERATOR_NOISE)
    return model, model.params(weights=weights, cov=np.diag(eig))


def power_ridge(size: int) -> float:
    """The adaptive penalty ``lambda = T^-l_crit`` of the power-law study.

    **Arguments:**

    - `size`: the downstream sample size ``T``.

    **Returns:**

    A float.

    ```python
    >>> round(power_ridge(64), 6)
    0.0625

    ```
    """
    return float(size) ** -theory.power_law_rates(POWER_BETA, POWER_SOURCE)["ell_crit"]


# --------------------------------------------------------------------------- simulation


@dataclasses.dataclass(frozen=True)
class _ProbeOnTruth:
    """One seed's probe of the truth itself (``n = 0``: no generator), for :func:`jcollapse.run_seeds`:
    ``(key, truth, probe settings) -> metrics``; holds the probe's structure only."""

    probe: DownstreamRidge

    def __call__(self, key, truth, probe_settings):
        return join_settings(probe_settings, self.probe)(key, truth, truth)


def _downstream(loop: Loop, truth, probe, key, seeds: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The probe's error for ``n = 0..G+1``: ``[seeds, G + 2, ridges]`` values, the failed
    flags and their count. ``n = 0`` applies the probe to the truth (key ``fold_in(key, 1)``)."""
    run = simulate_loop(loop, truth, key=jax.random.fold_in(key, 0), seeds=seeds, probe=probe, progress=False)
    settings, structure = split_settings(probe)
    clean = run_seeds(_ProbeOnTruth(structure), truth, settings, key=jax.random.fold_in(key, 1), seeds=seeds,
                      progress=False)["downstream_test_error"]
    values = np.concatenate([np.asarray(clean)[:, None], run.metrics["downstream_test_error"]], axis=1)
    clean_failed = ~np.all(np.isfinite(np.asarray(clean)), axis=-1)
    failed = run.failed | clean_failed
    return values, failed, int(failed.sum())


def _chain(model, generator_size: int, generations: int, pool: str = "replace", path: str = "auto") -> Loop:
    return Loop(model, generations=generations, sample_size=generator_size, real_fraction=0.0, pool=pool, path=path)


_DE = "deterministic equivalent"
_DE_FORM = "jc.theory.ridge_deterministic_equivalent"


def _u_curves(key, seeds: int, sizes: Sequence[int], bar: Progress) -> list[Series]:
    model, truth = isotropic_truth(U_DIM, U_GENERATOR_NOISE)
    loop = _chain(model, U_GENERATOR_SIZE, max(U_GENERATIONS) - 1)
    ridges = np.array(U_RIDGES)
    out = []
    for i, size in enumerate(sizes):
        probe = DownstreamRidge(size, U_NOISE, U_RIDGES)
        values, failed, count = _downstream(loop, truth, probe, jax.random.fold_in(key, i), seeds)
        for n in U_GENERATIONS:
            mean, sem = healthy_mean_sem(values[:, n], failed)
            de = theory.ridge_deterministic_equivalent(
                np.ones(U_DIM), np.asarray(truth.weights, np.float64), ridges, size, U_NOISE,
                generator_sample_size=U_GENERATOR_SIZE, generator_noise=U_GENERATOR_NOISE, generations=n)
            out.append(Series("u_curves", f"T={size}, n={n}", ridges, mean, sem, theory=de["total"], theory_kind=_DE,
                              closed_form=_DE_FORM, xname="ridge", seeds=seeds, failed=count,
                              metric="downstream_test_error"))
        bar.update(seeds)
    return out


def _error_vs_n(key, seeds: int, generations: int, bar: Progress) -> list[Series]:
    model, truth = correlated_truth(N_DIM, N_GENERATOR_NOISE)
    loop = _chain(model, N_GENERATOR_SIZE, generations - 1)
    values, failed, count = _downstream(loop, truth, DownstreamRidge(N_SIZE, N_NOISE, N_RIDGES), key, seeds)
    n = np.arange(generations + 1)
    cov, weights = np.asarray(truth.cov, np.float64), np.asarray(truth.weights, np.float64)
    out = []
    for j, ridge in enumerate(N_RIDGES):
        mean, sem = healthy_mean_sem(values[:, :, j], failed)
        if ridge == 0:
            values_n = theory.ols_pipeline_error(N_DIM, N_SIZE, N_NOISE, N_GENERATOR_SIZE, N_GENERATOR_NOISE, n)
            kind, form, label = "exact", "jc.theory.ols_pipeline_error", "OLS"
        else:
            values_n = np.array([theory.ridge_deterministic_equivalent(
                cov, weights, ridge, N_SIZE, N_NOISE, generator_sample_size=N_GENERATOR_SIZE,
                generator_noise=N_GENERATOR_NOISE, generations=int(k))["total"] for k in n])
            kind, form, label = _DE, _DE_FORM, f"ridge {ridge:g}"
        out.append(Series("error_vs_n", label, n.astype(float), mean, sem, theory=values_n, theory_kind=kind,
                          closed_form=form, xname="n", seeds=seeds, failed=count, metric="downstream_test_error"))
    bar.update(seeds)
    return out


def _power_law(key, seeds: int, sizes: Sequence[int], bar: Progress) -> list[Series]:
    model, truth = power_truth()
    loop = _chain(model, POWER_GENERATOR_SIZE, max(POWER_GENERATIONS) - 1)
    eig, weights = theory.power_law_spectrum(POWER_DIM, POWER_BETA, POWER_SOURCE)
    per_size, failed_any = [], np.zeros(seeds, bool)
    for i, size in enumerate(sizes):
        probe = DownstreamRidge(size, POWER_NOISE, (power_ridge(size),))
        values, failed, _ = _downstream(loop, truth, probe, jax.random.fold_in(key, i), seeds)
        per_size.append(values[:, :, 0])
        failed_any |= failed
        bar.update(seeds)
    out = []
    x = np.asarray(sizes, dtype=float)
    for n in POWER_GENERATIONS:
        stats = [healthy_mean_sem(values[:, n], failed_any) for values in per_size]
        de = np.array([theory.ridge_deterministic_equivalent(
            eig, weights, power_ridge(size), size, POWER_NOISE, generator_sample_size=POWER_GENERATOR_SIZE,
            generator_noise=POWER_GENERATOR_NOISE, generations=n)["total"] for size in sizes])
        out.append(Series("power_law", f"n={n}", x, np.array([m for m, _ in stats]), np.array([s for _, s in stats]),
                          theory=de, theory_kind=_DE, closed_form=_DE_FORM, xname="T", seeds=seeds,
                          failed=int(failed_any.sum()), metric="downstream_test_error"))
    return out


def _overparametrized(key, seeds: int, generations: int, bar: Progress) -> list[Series]:
    model = models.LinearRegression(dim=OVER_DIM, noise=0.0)
    weights = np.random.default_rng(0).normal(size=OVER_DIM)
    truth = model.params(weights=weights / np.linalg.norm(weights), cov=np.eye(OVER_DIM))
    # ||w_0||^2 of the float32 truth the loop uses (1 to within 1e-7): late in the collapse
    # the error's standard error is that small.
    norm_sq = float(np.sum(np.asarray(truth.weights, np.float64) ** 2))
    out = []
    for i, size in enumerate(OVER_SIZES):
        # exact statistics: one compiled loop for every T0 (the raw path has T0 slots)
        loop = _chain(model, size, generations - 1, path="exact")
        run = simulate_loop(loop, truth, key=jax.random.fold_in(key, i), seeds=seeds, progress=False)
        mean, sem = healthy_mean_sem(run.metrics["param_sq_error"], run.failed)
        n = np.arange(1, generations + 1)
        out.append(Series("overparametrized", f"T0={size}", n.astype(float), mean, sem,
                          theory=theory.overparametrized_collapse(norm_sq, OVER_DIM, size, n), theory_kind="exact",
                          closed_form="jc.theory.overparametrized_collapse", xname="n", seeds=seeds,
                          failed=int(run.failed.sum()), metric="param_sq_error"))
        bar.update(seeds)
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
    >>> replace, accumulate = fixed_design_errors(jax.random.key(0), seeds=4000, generations=3)  # as in the tests
    >>> replace.shape, bool((replace[:, 0] == accumulate[:, 0]).all())
    ((4000, 3), True)

    ```
    """
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


def _replace_vs_accumulate(key, seeds: int, generations: int, bar: Progress) -> list[Series]:
    t = np.arange(generations)
    exact = theory.replace_vs_accumulate(POOL_DIM, POOL_SIZE, POOL_NOISE, t)
    designs = FIXED_DESIGN_SEED_FACTOR * seeds
    no_failures = np.zeros(designs, bool)
    out = []
    for name, values in zip(("replace", "accumulate"), fixed_design_errors(jax.random.fold_in(key, 0), designs,
                                                                           generations)):
        mean, sem = healthy_mean_sem(values, no_failures)
        out.append(Series("fixed_design", name, (t + 1).astype(float), mean, sem, theory=exact[name],
                          theory_kind="exact", closed_form="jc.theory.replace_vs_accumulate", xname="n",
                          seeds=designs, metric="test_error"))
    bar.update(designs)
    model, truth = correlated_truth(POOL_DIM, POOL_NOISE)
    for i, pool in enumerate(("replace", "accumulate")):
        loop = _chain(model, POOL_SIZE, generations - 1, pool)
        run = simulate_loop(loop, truth, key=jax.random.fold_in(key, 1 + i), seeds=seeds, progress=False)
        mean, sem = healthy_mean_sem(run.metrics["test_error"], run.failed)
        chain = theory.expected(loop, truth, "test_error") if pool == "replace" else None
        out.append(Series("accumulate", f"{pool}, fresh design", (t + 1).astype(float), mean, sem, theory=chain,
                          theory_kind="exact" if chain is not None else "",
                          closed_form="jc.theory.expected" if chain is not None else "", xname="n", seeds=seeds,
                          failed=int(run.failed.sum()), metric="test_error"))
        bar.update(seeds)
    return out


def _check_sizes(name: str):
    def check(sizes: Sequence[int]) -> tuple[int, ...]:
        values = tuple(sizes)
        if not values or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                                 for v in values):
            raise ValueError(f"{name} must be a non-empty list of integers >= 1; got {sizes!r}")
        return tuple(int(v) for v in values)

    return check


#: Figure file names and their captions.
FIGURES = {
    "u_curves.png": "Downstream ridge test error versus λ for several T (panels) and n (colours), isotropic "
                    "covariates; deterministic equivalents dashed, ▼ the simulated optimum.",
    "error_vs_n.png": "Test error versus the number of synthetic generations n: OLS follows the exact formula "
                      "(dashed), linear in n; ridge with its deterministic equivalent.",
    "power_law.png": "Power-law spectrum with the adaptive penalty λ = T^−ℓ_crit, log-log: clean data keep the "
                     "fast rate, synthetic generations add a noise floor.",
    "overparametrized.png": "Over-parametrised noise-free chain (T₀ < d): the error approaches ‖w₀‖² as "
                            "1 − (T₀/d)^n; right: the signal left decays exponentially.",
    "replace_vs_accumulate.png": "Replacing data grows the error linearly; accumulating it stays bounded "
                                 "(fixed design: below π²/6·c, exactly as derived).",
}

SUMMARY = """\
# Dohmatob, Feng & Kempe, "Model Collapse Demystified": reproduction

A chain of OLS generators is refitted on its own labels; a downstream ridge model trained on
T samples labelled by the n-th generator is tested against w₀. {{ r.seeds }} seeds per
configuration; PRNG `jax.random.key({{ r.key }})`. z = (mean − theory)/SE; every point is in
`errors.csv`. See `jcollapse/experiments/dohmatob.py` for the settings.

## U-curves

Maximum relative deviation from the deterministic equivalents: {{ (100 * u_relative) | num(2) }} %
(max |z| {{ u_z | num(3) }}; the equivalents are asymptotic: at d = 50 they deviate from the
finite-size truth by up to 1.9 % (bias) and 0.9 % (variance), more near the interpolation
threshold T = d).

| setting | simulated best λ | error there | DE best λ |
|---|---|---|---|
{% for row in u_rows %}
| {{ row.label }} | {{ "%.3g" | format(row.best) }} | {{ row.mean | pm(row.sem, 4, 2) }} \
| {{ "%.3g" | format(row.de_best) }} |
{% endfor %}

## Error versus n

OLS: max |z| = {{ ols_z | num(3) }} against the exact formula over n = 0..{{ ols_last }}; fitted
slope {{ ols_slope | num(4) }} per generation against σ₀²d/(T₀−d−1) = {{ ols_expected_slope | num(4) }}.
Ridge: max relative deviation from the deterministic equivalents
{{ (100 * ridge_relative) | num(2) }} % at d = {{ n_dim }}.

## Power law

Clean data (n = 0): fitted log-log slope {{ clean_slope | num(3) }} against −{{ "%.3g" | format(rate) }};
deterministic equivalent's own slope {{ de_slope | num(3) }} over the same T (finite d = {{ power_dim }}).
Slopes with synthetic generations: {% for label, slope in power_slopes %}{{ label }}: {{ slope | num(3) }}\
{{ ", " if not loop.last }}{% endfor %}. Max relative deviation from the equivalents
{{ (100 * power_relative) | num(2) }} %.

## Over-parametrised collapse

max |z| against ‖w₀‖²(1 − (T₀/d)^n): {{ over_z | num(3) }} over the {{ over_resolved }} of
{{ over_points }} points whose standard error exceeds float32 resolution ({{ resolution }} of the mean;
beyond, every seed's error is ‖w₀‖² to the last bits).

## Replace versus accumulate

Fixed design ({{ designs }} designs, see `FIXED_DESIGN_SEED_FACTOR`): max |z| {{ fixed_z | num(3) }};
at n = {{ fixed_last }} replace is {{ fixed_replace | num(3) }} c and accumulate
{{ fixed_accumulate | num(4) }} c (bound π²/6 = {{ "%.4f" | format(pi_bound) }}). Fresh design: replace
max |z| {{ fresh_z | num(3) }} against the exact OLS chain; accumulate reaches
{{ fresh_accumulate | num(4) }} c (no closed form is known for a fresh design).
"""


class Dohmatob(Reproduction):
    """Dohmatob, Feng & Kempe's regression pipeline (``jcollapse reproduce dohmatob``); see the
    module docstring.

    **Fields:**

    - `u_sizes`: the U-curves' downstream sizes ``T >= 1`` (default :data:`U_SIZES`).
    - `power_sizes`: the power-law study's downstream sizes ``T >= 1`` (default :data:`POWER_SIZES`).

    ```python
    >>> Dohmatob(u_sizes=())
    Traceback (most recent call last):
    ...
    ValueError: u_sizes must be a non-empty list of integers >= 1; got ()

    ```
    """

    u_sizes: tuple[int, ...] = eqx.field(default=U_SIZES, converter=_check_sizes("u_sizes"))
    power_sizes: tuple[int, ...] = eqx.field(default=POWER_SIZES, converter=_check_sizes("power_sizes"))

    name: ClassVar[str] = "dohmatob"
    title: ClassVar[str] = "Dohmatob, Feng & Kempe: model collapse demystified, the case of regression"
    default_seeds: ClassVar[int] = SEEDS
    default_generations: ClassVar[int] = GENERATIONS
    min_seeds: ClassVar[int] = 2
    min_generations: ClassVar[int] = 2
    figure_captions: ClassVar[dict] = FIGURES
    summary_template: ClassVar[str] = SUMMARY

    def simulate(self, seeds: int, generations: int, key: int = 0, *,
                 progress: Optional[Progress] = None) -> Result:
        """Simulate every study.

        Study ``i`` of :data:`STUDIES` uses ``fold_in(key(key), i)`` (the fixed-design and
        fresh-design pools share study 4's key, folded with 0, 1 and 2). `generations` is
        ``G``, the largest ``n`` of the error-versus-n, over-parametrised and pool studies.
        """
        seeds, generations = self.check_counts(seeds, generations)
        bar = quiet_progress(progress)
        bar.reset(total=(len(self.u_sizes) + 1 + len(self.power_sizes) + len(OVER_SIZES) + 2
                         + FIXED_DESIGN_SEED_FACTOR) * seeds)
        start = time.perf_counter()
        root = jax.random.key(key)
        series = _u_curves(jax.random.fold_in(root, 0), seeds, self.u_sizes, bar)
        series += _error_vs_n(jax.random.fold_in(root, 1), seeds, generations, bar)
        series += _power_law(jax.random.fold_in(root, 2), seeds, self.power_sizes, bar)
        series += _overparametrized(jax.random.fold_in(root, 3), seeds, generations, bar)
        series += _replace_vs_accumulate(jax.random.fold_in(root, 4), seeds, generations, bar)
        return Result(self.name, seeds, generations, key, tuple(series), simulate_seconds=time.perf_counter() - start)

    def figures(self, result: Result) -> dict:
        """The figures of :data:`FIGURES`."""
        return {
            "u_curves.png": _u_curves_figure(result),
            "error_vs_n.png": _error_vs_n_figure(result),
            "power_law.png": _power_law_figure(result),
            "overparametrized.png": _overparametrized_figure(result),
            "replace_vs_accumulate.png": _replace_vs_accumulate_figure(result),
        }

    def checks(self, result: Result) -> list[Check]:
        """Every simulated point against its closed form; the deterministic equivalents also
        by their largest relative deviation (they are asymptotic in ``d``)."""
        error = "mean test error ‖ŵ − w₀‖²_Σ over seeds"
        ols, *ridge = result.study("error_vs_n")
        fixed = result.study("fixed_design")

        def relative(series):
            return f"largest relative deviation {100 * max(s.max_relative() for s in series):.2g} %"

        u = result.study("u_curves")
        return [
            Check.compare("U-curves", u, statistic=error, note=relative(u)),
            Check.compare("error versus n: OLS", [ols], statistic=error),
            Check.compare("error versus n: ridge", ridge, statistic=error, note=relative(ridge)),
            Check.compare("power law, adaptive penalty", result.study("power_law"), statistic=error,
                          note=relative(result.study("power_law"))),
            Check.compare("over-parametrised collapse", result.study("overparametrized"),
                          statistic="mean ‖ŵ_n − w₀‖² over seeds"),
            Check.compare("fixed design: replace and accumulate", fixed, statistic=error,
                          note=f"{fixed[0].seeds} designs ({FIXED_DESIGN_SEED_FACTOR} × seeds: the error given "
                               "the design is an inverse-Wishart trace, heavy-tailed)"),
            Check.compare("fresh design: replace", [s for s in result.study("accumulate") if s.theory is not None],
                          statistic=error),
        ]

    def summary_context(self, result: Result) -> dict:
        """Every number the summary quotes."""
        u = result.study("u_curves")
        u_rows = []
        for s in u:
            best, de_best = int(np.nanargmin(s.mean)), int(np.nanargmin(s.theory))
            u_rows.append(dict(label=s.label, best=s.x[best], mean=s.mean[best], sem=s.sem[best], de_best=s.x[de_best]))
        ols, *ridge = result.study("error_vs_n")
        power = result.study("power_law")
        over = result.study("overparametrized")
        fixed, fresh = result.study("fixed_design"), result.study("accumulate")
        c = fixed[0].theory[0]
        return dict(
            u_relative=_max_relative(u), u_z=max_abs_z(u), u_rows=u_rows,
            ols_z=max_abs_z([ols]), ols_last=int(ols.x[-1]), ols_slope=np.polyfit(ols.x, ols.mean, 1)[0],
            ols_expected_slope=N_GENERATOR_NOISE ** 2 * N_DIM / (N_GENERATOR_SIZE - N_DIM - 1),
            ridge_relative=_max_relative(ridge), n_dim=N_DIM,
            clean_slope=log_slope(power[0].x, power[0].mean), de_slope=log_slope(power[0].x, power[0].theory),
            rate=theory.power_law_rates(POWER_BETA, POWER_SOURCE)["error_exponent"], power_dim=POWER_DIM,
            power_slopes=[(s.label, log_slope(s.x, s.mean)) for s in power[1:]], power_relative=_max_relative(power),
            over_z=max_abs_z(over), over_resolved=sum(int(np.sum(s.resolved())) for s in over),
            over_points=sum(s.x.size for s in over), resolution=f"{RESOLUTION:g}",
            designs=fixed[0].seeds, fixed_z=max_abs_z(fixed), fixed_last=int(fixed[0].x[-1]),
            fixed_replace=fixed[0].mean[-1] / c, fixed_accumulate=fixed[1].mean[-1] / c, pi_bound=np.pi ** 2 / 6,
            fresh_z=max_abs_z(fresh[:1]), fresh_accumulate=fresh[1].mean[-1] / c,
        )


def _max_relative(series: list[Series]) -> float:
    return float(max(np.max(np.abs(s.mean / s.theory - 1)) for s in series))


# --------------------------------------------------------------------------- figures


def _draw(ax, series: list[Series], labels: list[str]) -> None:
    for i, (s, label) in enumerate(zip(series, labels)):
        _figures.band_plot(ax, s.x, s.mean, s.sem, theory=s.theory, label=label,
                           colour=_figures.COLOURS[i % len(_figures.COLOURS)], width=BAND_SE)
    ax.grid(True, which="major", alpha=0.3)


def _u_curves_figure(result: Result):
    series = result.study("u_curves")
    sizes = sorted({s.label.split(",")[0] for s in series}, key=lambda text: int(text[2:]))
    fig, axes = _figures.new_figure(1, len(sizes), width=4.6, height=3.8)
    for ax, size in zip(axes[0], sizes):
        chosen = [s for s in series if s.label.startswith(size + ",")]
        ax.set_xscale("log")
        ax.set_yscale("log")
        _draw(ax, chosen, [f"$n={s.label.split('n=')[1]}$" for s in chosen])
        for i, s in enumerate(chosen):
            best = int(np.nanargmin(s.mean))
            ax.plot(s.x[best], s.mean[best], marker="v", color=_figures.COLOURS[i % len(_figures.COLOURS)],
                    markersize=7)
        ax.set_title(f"${size}$, $d={U_DIM}$, $T_0={U_GENERATOR_SIZE}$", fontsize=10)
        ax.set_xlabel(r"ridge penalty $\lambda$")
    axes[0, 0].set_ylabel(_ERROR)
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("deterministic equivalent")])
    fig.suptitle(f"Test error versus the penalty (isotropic, $\\sigma_0={U_GENERATOR_NOISE:g}$, "
                 f"$\\sigma={U_NOISE:g}$; ▼ simulated optimum; bands ±{BAND_SE:g} SE): the sweet spot moves "
                 "with the number of synthetic generations $n$", fontsize=10)
    return fig


def _error_vs_n_figure(result: Result):
    series = result.study("error_vs_n")
    fig, axes = _figures.new_figure(1, 1, width=6.4, height=4.2)
    ax = axes[0, 0]
    _draw(ax, series, [s.label if s.label != "OLS" else "OLS (dashed: exact formula)" for s in series])
    ax.set_xlabel("synthetic generations $n$")
    ax.set_ylabel(_ERROR)
    ax.set_xlim(0, series[0].x[-1])
    ax.set_title(f"Linear collapse: $d={N_DIM}$, $T_0={N_GENERATOR_SIZE}$, $\\sigma_0={N_GENERATOR_NOISE:g}$, "
                 f"$T={N_SIZE}$, $\\sigma={N_NOISE:g}$, correlated $\\Sigma$", fontsize=10)
    _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("exact (OLS) / deterministic equivalent")],
                           loc="upper left")
    return fig


def _power_law_figure(result: Result):
    series = result.study("power_law")
    rates = theory.power_law_rates(POWER_BETA, POWER_SOURCE)
    fig, axes = _figures.new_figure(1, 1, width=6.4, height=4.4)
    ax = axes[0, 0]
    ax.set_xscale("log")
    ax.set_yscale("log")
    _draw(ax, series, [f"${s.label}$" for s in series])
    clean = series[0]
    guide = clean.theory[0] * (clean.x / clean.x[0]) ** -rates["error_exponent"]
    ax.plot(clean.x, guide, color="grey", linestyle=":", linewidth=1.2,
            label=f"$T^{{-{rates['error_exponent']:.3g}}}$ (clean rate)")
    ax.set_xlabel("downstream sample size $T$")
    ax.set_ylabel(_ERROR)
    ax.set_title(f"Power law $\\lambda_j=j^{{-{POWER_BETA:g}}}$, source $r={POWER_SOURCE:g}$, $d={POWER_DIM}$, "
                 f"adaptive $\\lambda=T^{{-{rates['ell_crit']:.3g}}}$;\n$T_0={POWER_GENERATOR_SIZE}$, "
                 f"$\\sigma_0={POWER_GENERATOR_NOISE:g}$, $\\sigma={POWER_NOISE:g}$: the rate turns into a floor",
                 fontsize=10)
    _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("deterministic equivalent")], loc="lower left")
    return fig


def _overparametrized_figure(result: Result):
    series = result.study("overparametrized")
    fig, axes = _figures.new_figure(1, 2, width=4.8, height=3.8)
    labels = [f"$T_0={s.label[3:]}$" for s in series]
    _draw(axes[0, 0], series, labels)
    axes[0, 0].set_ylabel(r"$\|\hat w_n-w_0\|^2/\|w_0\|^2$")
    axes[0, 0].set_title("error (dashed: $1-(T_0/d)^n$)", fontsize=10)
    ax = axes[0, 1]
    ax.set_yscale("log")
    for i, s in enumerate(series):
        retained, colour = 1.0 - s.mean, _figures.COLOURS[i % len(_figures.COLOURS)]
        shown = retained > BAND_SE * s.sem  # resolved from zero
        ax.errorbar(s.x[shown], retained[shown], yerr=BAND_SE * s.sem[shown], color=colour, marker="o",
                    markersize=3, linewidth=1.2, label=labels[i])
        ax.plot(s.x, 1.0 - s.theory, color="black", linestyle=(0, (4, 3)), linewidth=1.1)
    ax.set_title("signal left, $1-$error (dashed: $(T_0/d)^n$)", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    for ax in axes[0]:
        ax.set_xlabel("generations $n$")
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("exact")], loc="lower right")
    fig.suptitle(f"Over-parametrised, noise-free ($d={OVER_DIM}$, $\\Sigma=I$, min-norm): exponential collapse "
                 "to the null model", fontsize=10)
    return fig


def _replace_vs_accumulate_figure(result: Result):
    fig, axes = _figures.new_figure(1, 2, width=5.0, height=4.0)
    fixed, fresh = result.study("fixed_design"), result.study("accumulate")
    _draw(axes[0, 0], fixed, [s.label for s in fixed])
    c = fixed[0].theory[0]
    axes[0, 0].axhline(np.pi ** 2 / 6 * c, color="grey", linestyle=":", label=r"$(\pi^2/6)\,c$")
    axes[0, 0].set_title("fixed design (Gerstgrasser et al.): dashed exact", fontsize=10)
    _draw(axes[0, 1], fresh, [s.label for s in fresh])
    axes[0, 1].axhline(np.pi ** 2 / 6 * c, color="grey", linestyle=":", label=r"$(\pi^2/6)\,c$ (fixed design)")
    axes[0, 1].set_title("fresh design each generation (library pools)", fontsize=10)
    for ax in axes[0]:
        ax.set_xlabel("fitted models $n$")
        ax.set_ylabel(_ERROR)
        _figures.finish_legend(ax, extra=[_figures.theory_legend_handle("exact")], loc="upper left")
    fig.suptitle(f"Replace versus accumulate: OLS chain, $d={POOL_DIM}$, $T={POOL_SIZE}$, $\\sigma={POOL_NOISE:g}$, "
                 f"$c=\\sigma^2 d/(T-d-1)$", fontsize=10)
    return fig
