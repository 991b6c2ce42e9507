"""One chunk's statistics over its seeds, reduced where the chunk ran.

A sweep needs, per chunk and cell ``[config, generation, ...]``, only the count, mean and
centred sum of squares of each metric, its histogram counts and its extremes (see
:class:`jcollapse.sweeps.MetricState`). They are computed on the device, so only those
summaries travel to the host, not every lane's trajectory: on a GPU, computing them in
NumPy on the host took most of a large sweep's time (docs/performance.md).

The program runs in float64 (``jax.enable_x64`` for this program only), as the host
statistics did, and always on one device, the first of those that ran the chunk, with the
chunk's lanes gathered there: its reduction order then depends only on the chunk's shape, so
on one platform the statistics are bitwise the same whatever the number of devices or
processes that computed the lanes.
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from ._stats import BINS, bin_index


class ChunkSummary(NamedTuple):
    """One metric's statistics over one chunk's valid lanes, per cell ``[configs, G + 1, ...]``.

    **Fields:**

    - `count`: the number of valid lanes per configuration.
    - `mean`, `m2`: float64 mean and centred sum of squares (NaN where a lane is NaN).
    - `histogram`: int32 ``[*cells, BINS]`` counts of :func:`jcollapse.sweeps.bin_index`
      (NaN not counted).
    - `minimum`, `maximum`: float64 extremes of the non-NaN values (``+inf``/``-inf`` when none).
    """

    count: int
    mean: np.ndarray
    m2: np.ndarray
    histogram: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray


def _summary(values, use, count) -> ChunkSummary:
    """The statistics of ``values [configs, lanes, ...]`` over the lanes where ``use`` holds
    (traced, float64)."""
    x = values.astype(jnp.float64)
    use = use.reshape(1, -1, *(1,) * (x.ndim - 2))
    mean = jnp.where(use, x, 0.0).sum(axis=1) / count
    m2 = (jnp.where(use, x - jnp.expand_dims(mean, 1), 0.0) ** 2).sum(axis=1)
    finite = use & ~jnp.isnan(x)
    minimum = jnp.where(finite, x, jnp.inf).min(axis=1)
    maximum = jnp.where(finite, x, -jnp.inf).max(axis=1)
    index = bin_index(x, jnp).astype(jnp.int32)
    cells = jnp.arange(mean.size, dtype=jnp.int32).reshape(mean.shape[0], 1, *mean.shape[1:])
    dropped = mean.size * BINS  # one spare bin for padding lanes and NaN, cut off below
    flat = jnp.where(use & (index >= 0), cells * BINS + index, dropped)
    histogram = jnp.zeros(dropped + 1, jnp.int32).at[flat.ravel()].add(1)[:-1]
    return ChunkSummary(count, mean, m2, histogram.reshape(*mean.shape, BINS), minimum, maximum)


def _by_config(x, configs: int):
    """``[configs * lanes, ...]`` (configuration-major) as ``[configs, lanes, ...]``."""
    return x.reshape(configs, x.shape[0] // configs, *x.shape[1:])


@functools.partial(jax.jit, static_argnames="configs")
def _metric_program(values, valid, configs: int) -> ChunkSummary:
    x = _by_config(values, configs)
    return _summary(x, jnp.arange(x.shape[1]) < valid, valid)


@functools.partial(jax.jit, static_argnames="configs")
def _failed_program(status, valid, configs: int):
    flags = _by_config(status, configs)
    use = (jnp.arange(flags.shape[1]) < valid)[:, None]
    return jnp.where(use, flags != 0, False).sum(axis=1)


def _home(values):
    """Where a chunk is reduced: the first of the devices holding its outputs (the default
    device for host arrays), so that a chunk run on the CPU of a GPU machine is reduced there."""
    if isinstance(values, jax.Array):
        return min(values.devices(), key=lambda device: device.id)
    return None


def summarise_chunk(metrics: dict, status, configs: int,
                    valid: int) -> tuple[dict[str, ChunkSummary], Optional[np.ndarray]]:
    """Reduce one chunk's per-lane outputs to per-cell statistics, on the first device holding them.

    **Arguments:**

    - `metrics`: name -> array ``[configs * lanes, G + 1, ...]``, configuration-major
      (lane ``j`` of configuration ``p`` at ``p * lanes + j``), as a sweep's chunk returns them,
      on any devices.
    - `status`: the matching ``[configs * lanes, G + 1]`` status flags, or ``None``.
    - `configs`: the number of configurations sharing the chunk.
    - `valid`: how many of each configuration's lanes count (the last chunk's padding lanes do not).

    **Returns:**

    ``(summaries, failed)``: name -> :class:`ChunkSummary` (NumPy, float64), and the int64
    ``[configs, G + 1]`` count of valid lanes with a non-zero status (``None`` without `status`).

    ```python
    >>> values = np.array([[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]])   # one configuration, 3 lanes
    >>> summaries, failed = summarise_chunk({"x": values}, None, configs=1, valid=2)
    >>> summaries["x"].mean.tolist(), int(summaries["x"].histogram.sum())
    ([[2.0, 3.0]], 4)

    ```
    """
    home, count = _home(next(iter(metrics.values()))), np.int64(valid)
    with jax.enable_x64(True):
        # One metric at a time, each fetched before the next starts, so that their float64
        # temporaries never coexist: in one program XLA keeps every metric's alive at once.
        summaries = {name: jax.device_get(_metric_program(jax.device_put(x, home), count, configs))._replace(
            count=int(valid)) for name, x in metrics.items()}
        failed = None if status is None else jax.device_get(_failed_program(jax.device_put(status, home), count,
                                                                             configs))
    return summaries, failed


def summarise(values, valid: Optional[int] = None) -> ChunkSummary:
    """One metric's :class:`ChunkSummary` from values ``[configs, lanes, G + 1, ...]``.

    The same program as :func:`summarise_chunk`, for values already split by configuration.

    **Arguments:**

    - `values`: the chunk's values (NumPy or JAX).
    - `valid`: how many lanes count, from the first (default: all).

    **Returns:**

    The :class:`ChunkSummary`, to fold in with :meth:`jcollapse.sweeps.MetricState.add`.

    ```python
    >>> summarise(np.array([[[1.0], [3.0]]])).m2.tolist()
    [[2.0]]

    ```
    """
    values = np.asarray(values)
    flat = values.reshape(-1, *values.shape[2:])
    valid = values.shape[1] if valid is None else valid
    return summarise_chunk({"values": flat}, None, values.shape[0], valid)[0]["values"]
