"""Training pools: what data generation ``t`` is fitted on.

A pool is a pair of pure functions and a state pytree, in the style of an optax
transformation:

- ``init(batch) -> state`` from a template batch (shapes only);
- ``update(state, batch, weight, size, key) -> (state, stats)``: add generation ``t``'s
  batch and return the statistics to fit on.

A batch is the model's statistics (exact path) or a :class:`RawBatch` of samples with
0/1 weights (raw path).

- ``"replace"``: fit on generation ``t``'s own data only.
- ``"accumulate"``: fit on all data of generations ``0..t``, generation ``s`` weighted by
  ``pool_weights[s]`` (default 1: plain pooling). A running merge of statistics, or, for a
  family whose statistics are its sample (:class:`jcollapse.models.SampleStatistics`: the
  learned generators), a buffer of every weighted sample.
- ``"accumulate-subsample"``: keep all samples of generations ``0..t`` and fit on a
  uniformly random subset of ``n_t`` of them, drawn afresh each generation (Gerstgrasser
  et al.'s "accumulate-subsample"). Needs the raw path: a subset of a sample is not a
  function of its sufficient statistics.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .models import AbstractModel, AbstractSampleModel, AbstractStatistics


class RawBatch(NamedTuple):
    """Samples (pytree with leading axis ``slots``) and their 0/1 weights ``[slots]``.

    ```python
    >>> import jax.numpy as jnp
    >>> RawBatch(jnp.zeros((4, 1)), jnp.array([1.0, 1.0, 0.0, 0.0])).weights.shape
    (4,)

    ```
    """

    data: Any
    weights: Float[Array, " slots"]


class Pool(NamedTuple):
    """A training pool as ``(init, update)``; see the module docstring.

    ```python
    >>> from jcollapse.models import GaussianMean
    >>> make_pool("replace", GaussianMean(dim=1), generations=3).init(None)
    ()

    ```
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, AbstractStatistics]]


def _as_statistics(model: AbstractModel, batch) -> AbstractStatistics:
    if isinstance(batch, RawBatch):
        return model.statistics(batch.data, batch.weights)
    return batch


def replace(model: AbstractModel) -> Pool:
    """Fit each generation on its own data.

    ```python
    >>> from jcollapse.models import GaussianMean
    >>> pool = replace(GaussianMean(dim=1))

    ```
    """

    def update(state, batch, weight, size, key):
        return state, _as_statistics(model, batch)

    return Pool(init=lambda batch: (), update=update)


def accumulate(model: AbstractModel, generations: int) -> Pool:
    """Fit on the weighted union of all generations so far: a running merge of statistics, or
    for a family that keeps its samples (:class:`jcollapse.models.AbstractSampleModel`) a
    buffer of ``(generations + 1) * slots`` samples weighted by their generation's weight.

    ```python
    >>> from jcollapse.models import GaussianMean
    >>> pool = accumulate(GaussianMean(dim=1), generations=3)

    ```
    """
    if isinstance(model, AbstractSampleModel):
        return _accumulate_samples(model, generations)

    def init(batch):
        template = jax.eval_shape(lambda b: _as_statistics(model, b), batch)
        return jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), template)

    def update(state, batch, weight, size, key):
        merged = state.merge(_as_statistics(model, batch).reweight(weight))
        return merged, merged

    return Pool(init=init, update=update)


def _empty_buffer(batch: RawBatch, generations: int) -> tuple[Any, Array, Array]:
    """Room for every generation's slots: ``(samples, weights, write offset)``, all zero."""
    capacity = (generations + 1) * batch.weights.shape[0]
    buffer = jax.tree.map(lambda x: jnp.zeros((capacity, *x.shape[1:]), x.dtype), batch.data)
    return buffer, jnp.zeros(capacity, batch.weights.dtype), jnp.zeros((), jnp.int32)


def _append(state, batch: RawBatch, weights: Array):
    """Generation ``t``'s slots written at ``t * slots``, with the given per-slot weights."""
    buffer, stored, offset = state
    write = lambda whole, part: jax.lax.dynamic_update_slice_in_dim(whole, part, offset, 0)
    return jax.tree.map(write, buffer, batch.data), write(stored, weights), offset + batch.weights.shape[0]


def _accumulate_samples(model: AbstractSampleModel, generations: int) -> Pool:
    """``"accumulate"`` for a family whose statistics are its weighted sample."""

    def update(state, batch: RawBatch, weight, size, key):
        state = _append(state, batch, weight * batch.weights)
        return state, model.statistics(state[0], state[1])

    return Pool(init=lambda batch: _empty_buffer(batch, generations), update=update)


def accumulate_subsample(model: AbstractModel, generations: int) -> Pool:
    """Keep every sample and fit on a fresh uniform subset of ``size`` of them.

    The state is a buffer of ``(generations + 1) * slots`` samples, their 0/1 weights and a
    write offset; generation ``t`` writes its slots at ``t * slots``.

    ```python
    >>> from jcollapse.models import GaussianMean
    >>> pool = accumulate_subsample(GaussianMean(dim=1), generations=10)

    ```
    """

    def update(state, batch: RawBatch, weight, size, key):
        state = _append(state, batch, batch.weights)
        buffer, stored, _ = state
        valid = stored > 0
        priority = jnp.where(valid, jax.random.uniform(key, valid.shape), jnp.inf)
        # The `size` valid samples of lowest priority, gathered into `slots` rows: the
        # statistics are summed over an array whose shape does not depend on G (a sum over
        # the whole buffer would change its float rounding with the buffer's length).
        slots = batch.weights.shape[0]
        order = jnp.argsort(priority)[:slots]
        chosen = jax.tree.map(lambda whole: whole[order], buffer)
        weights = (jnp.arange(slots) < size).astype(batch.weights.dtype)
        stats = model.statistics(chosen, weights)
        return state, stats

    return Pool(init=lambda batch: _empty_buffer(batch, generations), update=update)


POOL_NAMES = ("replace", "accumulate", "accumulate-subsample")


def make_pool(name: str, model: AbstractModel, generations: int) -> Pool:
    """The pool called ``name`` for ``model`` (one of :data:`POOL_NAMES`).

    ```python
    >>> from jcollapse.models import GaussianMean
    >>> pool = make_pool("accumulate", GaussianMean(dim=1), generations=5)

    ```
    """
    if name == "replace":
        return replace(model)
    if name == "accumulate":
        return accumulate(model, generations)
    return accumulate_subsample(model, generations)
