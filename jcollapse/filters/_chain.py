"""The filtered replace loop: simulation, its error curves over many seeds, and exceedance.

Setting: constant sample size ``n``, real fraction ``a``, replace pool, iid mixing.
Generation 0 is the plain sample mean of ``n`` real samples. Generation ``t >= 1`` draws
``n`` samples, each real (from the truth) with probability ``a``, else synthetic (from the
previous estimate ``theta_hat_{t-1}``), and moves the estimate by

    theta_hat_t = theta_hat_{t-1} + (1/n) sum_i w_i (x_i - theta_hat_{t-1}),

with weights ``w`` in ``(0, 1)`` from a filter (``w = 1``: the plain MLE, no filter).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..executor import run_seeds
from ..internal.reduce import pairwise_sum
from ..internal.validation import check_count, check_fraction, float_dtype
from ..models import AbstractMeanFamily
from ._network import ContractionFilter


def check_mean_family(model) -> AbstractMeanFamily:
    """``model`` if it is an :class:`~jcollapse.models.AbstractMeanFamily`, else a ``ValueError``.

    ```python
    >>> import jcollapse as jc
    >>> check_mean_family(jc.models.Gaussian(dim=1))
    Traceback (most recent call last):
    ...
    ValueError: model must be an AbstractMeanFamily (GaussianMean, Poisson, Bernoulli); got Gaussian

    ```
    """
    if not isinstance(model, AbstractMeanFamily):
        raise ValueError(
            "model must be an AbstractMeanFamily (GaussianMean, Poisson, Bernoulli); "
            f"got {type(model).__name__}"
        )
    return model


def draw_mixed(
    model: AbstractMeanFamily, truth, previous, key: PRNGKeyArray, real_fraction, n: int
) -> Float[Array, "n dim"]:
    """``n`` samples, each from ``truth`` with probability ``real_fraction``, else from ``previous``.

    The key is split into (mixing, real, synthetic) keys. The samples are returned in the
    floating dtype of the mean parameter (Poisson and Bernoulli draws may be integers).

    **Arguments:**

    - `model`: an :class:`~jcollapse.models.AbstractMeanFamily`.
    - `truth`, `previous`: parameters of the real and the synthetic source.
    - `key`: a PRNG key.
    - `real_fraction`: ``a`` (may be traced).
    - `n`: number of samples (static).

    **Returns:**

    The samples, shape ``[n, dim]``.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=2)
    >>> truth = model.params(mean=0.0, cov=[[1.0, 0.0], [0.0, 1.0]])
    >>> draw_mixed(model, truth, truth, jax.random.key(0), 0.5, 4).shape
    (4, 2)

    ```
    """
    dtype = model.mean_parameter(truth).dtype
    key_mix, key_real, key_synthetic = jax.random.split(key, 3)
    real = jnp.asarray(model.sample(key_real, truth, n), dtype)
    synthetic = jnp.asarray(model.sample(key_synthetic, previous, n), dtype)
    is_real = jax.random.uniform(key_mix, (n,), dtype=dtype) < jnp.asarray(real_fraction, dtype)
    return jnp.where(is_real.reshape(n, *([1] * (real.ndim - 1))), real, synthetic).reshape(n, -1)


def filtered_update(filter, model: AbstractMeanFamily, previous, samples, generation):
    """One filtered step: ``theta_t = theta_{t-1} + (1/n) sum_i w_i (x_i - theta_{t-1})``.

    Only the previous estimate is used as the template for the known fields (e.g. a
    Gaussian's covariance), never the truth. With weights in ``[0, 1]`` the new mean
    parameter is a convex combination of ``theta_{t-1}`` and the samples, so it stays a
    valid Poisson rate or Bernoulli probability.

    **Arguments:**

    - `filter`: a :class:`ContractionFilter` or ``None`` (all weights 1: the plain MLE).
    - `model`: an :class:`~jcollapse.models.AbstractMeanFamily`.
    - `previous`: ``theta_hat_{t-1}`` (parameters).
    - `samples`: ``[n, dim]``.
    - `generation`: ``t``.

    **Returns:**

    The new parameters.

    ```python
    >>> import jax.numpy as jnp, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> prev = model.params(mean=0.0, cov=[[1.0]])
    >>> filtered_update(None, model, prev, jnp.array([[1.0], [3.0]]), 1).mean
    Array([2.], dtype=float32)

    ```
    """
    theta = model.mean_parameter(previous)
    x = jnp.asarray(samples, theta.dtype)
    residual = x - theta[None, :]
    n = x.shape[0]
    if filter is not None:
        residual = filter(x, theta, model.sample_std(previous), generation) * residual
    new = theta + pairwise_sum(residual) / n
    # Mathematically a convex combination of theta and the samples; clip it into their
    # range so rounding cannot leave it (a Bernoulli probability 1 + ulp has a NaN std).
    lower = jnp.minimum(theta, jnp.min(x, axis=0))
    upper = jnp.maximum(theta, jnp.max(x, axis=0))
    return model.from_mean_parameter(jnp.clip(new, lower, upper), previous)


def _squared_error(model, params, truth) -> Float[Array, ""]:
    return pairwise_sum((model.mean_parameter(params) - model.mean_parameter(truth)) ** 2)


def filtered_chain(filter, model, truth, seed_key, real_fraction, sample_size: int, generations: int):
    """One seed's ``||theta_hat_t - theta*||^2`` for ``t = 0..G`` (a ``lax.scan``).

    Generation ``t`` uses the key ``fold_in(seed_key, t)``. Each step emits the error of
    the carried estimate before updating it (a materialised carry, so the error's
    arithmetic cannot fuse with the update differently for different batch sizes).

    **Returns:**

    ``[G + 1]`` squared errors of the mean parameter.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> truth = model.params(mean=0.0, cov=[[1.0]])
    >>> filtered_chain(None, model, truth, jax.random.key(0), 0.5, 10, 3).shape
    (4,)

    ```
    """
    real_fraction = jnp.asarray(real_fraction, model.mean_parameter(truth).dtype)
    first = draw_mixed(model, truth, truth, jax.random.fold_in(seed_key, 0), 1.0, sample_size)
    start = filtered_update(None, model, truth, first, 0)

    def step(previous, t):
        error = _squared_error(model, previous, truth)
        samples = draw_mixed(model, truth, previous, jax.random.fold_in(seed_key, t), real_fraction, sample_size)
        return filtered_update(filter, model, previous, samples, t), error

    last, errors = jax.lax.scan(step, start, jnp.arange(1, generations + 1, dtype=jnp.int32))
    return jnp.concatenate([errors, _squared_error(model, last, truth)[None]])


class _Gated(eqx.Module):
    """``filter``'s weights where ``enabled``, else all ones: no filter (``None``) and a
    filter of the default architecture then share one compiled program."""

    filter: eqx.Module
    enabled: Array

    def __call__(self, samples, estimate, std, generation):
        weights = self.filter(samples, estimate, std, generation)
        return jnp.where(self.enabled, weights, jnp.ones_like(weights))


@functools.lru_cache(maxsize=1)
def _template_filter():
    return ContractionFilter(jax.random.key(0))


@dataclasses.dataclass(frozen=True)
class _Chain:
    """One seed's filtered chain for :func:`jcollapse.run_seeds`:
    ``(key, filter, model, truth, real_fraction) -> errors [G + 1]``."""

    sample_size: int
    generations: int

    def __call__(self, key, filter, model, truth, real_fraction):
        return filtered_chain(filter, model, truth, key, real_fraction, self.sample_size, self.generations)


def _check_filter(filter):
    if filter is not None and not (isinstance(filter, eqx.Module) and callable(filter)):
        raise ValueError(f"filter must be a ContractionFilter (an equinox module) or None; got {filter!r}")
    return filter


def filtered_errors(
    filter,
    model: AbstractMeanFamily,
    truth,
    *,
    real_fraction,
    sample_size: int,
    generations: int,
    seeds: int,
    key,
    chunk_size: Optional[int] = None,
    progress: Optional[bool] = None,
) -> np.ndarray:
    """Squared errors ``||theta_hat_t - theta*||^2`` of the filtered replace loop, per seed.

    Seed ``i`` uses ``fold_in(key, i)``, so its trajectory does not depend on ``seeds`` or
    ``chunk_size``. The function is compiled once per (filter structure, model, sample
    size, generations, chunk size); the truth, the filter's weights and ``real_fraction``
    are traced. ``None`` runs the program of a default :class:`ContractionFilter` with
    its weights replaced by exact ones, so it shares that compilation.

    **Arguments:**

    - `filter`: a :class:`ContractionFilter`, or ``None`` for no filter (``w = 1``: the
      plain replace loop with iid mixing).
    - `model`: an :class:`~jcollapse.models.AbstractMeanFamily`.
    - `truth`: ``model.params(...)``.
    - `real_fraction`: ``a`` in ``[0, 1]`` (generations ``t >= 1``).
    - `sample_size`: ``n >= 1``, the same in every generation.
    - `generations`: ``G >= 1``.
    - `seeds`: number of independent chains, ``>= 1``.
    - `key`: ``jax.random.key(...)``.
    - `chunk_size`: seeds per compiled batch (default: as
      :func:`jcollapse.executor.default_chunk_size` sizes it); the last chunk is padded.
      Chunks are split over the local devices.
    - `progress`: a progress bar, as in :func:`jcollapse.run_seeds`.

    **Returns:**

    A NumPy array ``[seeds, G + 1]``.

    **Raises:**

    `ValueError` (before compiling) for a model that is not a mean family, a real fraction
    outside ``[0, 1]`` or a count below 1.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> truth = model.params(mean=0.0, cov=[[1.0]])
    >>> filtered_errors(None, model, truth, real_fraction=0.0, sample_size=10,
    ...                 generations=3, seeds=4, key=jax.random.key(0)).shape
    (4, 4)

    ```
    """
    model = check_mean_family(model)
    filter = _check_filter(filter)
    real_fraction = check_fraction("real_fraction", real_fraction)
    sample_size = check_count("sample_size", sample_size, max(1, model.min_sample_size))
    generations = check_count("generations", generations, 1)
    seeds = check_count("seeds", seeds, 1)
    a = np.asarray(real_fraction, float_dtype())
    filter = _Gated(_template_filter() if filter is None else filter, np.asarray(filter is not None))
    return run_seeds(_Chain(sample_size, generations), filter, model, truth, a, key=key, seeds=seeds,
                     chunk_size=chunk_size, progress=progress)


def exceedance(errors, delta: float, tail: int) -> tuple[float, float]:
    """Estimate ``limsup_t P(||e_t|| > delta)`` from squared errors.

    The estimate is the largest, over the last ``tail`` generations, of the fraction of
    seeds with ``||e_t|| > delta`` (``errors`` are squared norms, compared with
    ``delta^2``), with its binomial standard error ``sqrt(p (1 - p) / seeds)``. (The max
    over generations is biased upwards by the noise of the fractions; the SE is that of
    one generation's fraction.)

    **Arguments:**

    - `errors`: ``[seeds, G + 1]`` squared errors, e.g. from :func:`filtered_errors`.
    - `delta`: the threshold on the error norm, ``> 0``.
    - `tail`: number of final generations to take the max over, ``1 <= tail <= G + 1``.

    **Returns:**

    ``(p, se)`` as Python floats.

    ```python
    >>> import numpy as np
    >>> errors = np.array([[0.0, 4.0], [0.0, 0.25], [9.0, 0.0], [0.0, 1.0]])
    >>> exceedance(errors, delta=1.0, tail=2)
    (0.25, 0.21650635094610965)

    ```
    """
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim != 2 or errors.shape[0] < 1 or errors.shape[1] < 1:
        raise ValueError(f"errors must have shape [seeds, G + 1] with both >= 1; got shape {errors.shape}")
    if isinstance(delta, bool) or not np.isfinite(delta) or delta <= 0:
        raise ValueError(f"delta must be a finite number > 0; got {delta!r}")
    tail = check_count("tail", tail, 1)
    if tail > errors.shape[1]:
        raise ValueError(f"tail must be <= G + 1 = {errors.shape[1]}; got {tail}")
    fractions = np.mean(errors[:, -tail:] > delta**2, axis=0)
    p = float(np.max(fractions))
    return p, math.sqrt(p * (1.0 - p) / errors.shape[0])
