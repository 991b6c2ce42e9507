"""Seeds over devices and processes: each local device runs its share of a chunk's lanes,
each process its share of the chunks.

Every device runs the same single-device executable on a contiguous share of the lanes,
and the shares are joined into one array sharded over a 1-D mesh of the local devices
(``NamedSharding``). A partitioned program (``shard_map``, GSPMD or ``pmap``) would
compile once for all devices, but XLA compiles it with other float32 roundings than the
single-device program (measured: up to 5e-7 relative on the Gaussian loop, from the second
generation on); per-device executables keep a run on ``D`` devices identical to a run on
one, at the price of one compilation per device. Lanes are independent, and a lane's
arithmetic does not depend on how many lanes share its batch (at least ``MIN_LANES``).

Across processes (``jax.distributed.initialize``) nothing is communicated until the end,
when :func:`allgather` collects every process's statistics.
"""

from __future__ import annotations

import pickle
from typing import Any, Callable

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def local_mesh():
    """A 1-D mesh ``("seeds",)`` of this process's devices.

    ```python
    >>> local_mesh().axis_names
    ('seeds',)

    ```
    """
    return Mesh(np.array(jax.local_devices()), ("seeds",))


def run_sharded(function: Callable, shared: tuple, *lanes: np.ndarray):
    """``function(*shared, *lanes)`` with the lanes split over the local devices.

    **Arguments:**

    - `function`: a jitted function computing every lane independently; its outputs
      have the lanes first.
    - `shared`: arguments every device gets whole (the truth, inputs, key).
    - `lanes`: per-lane arrays; their length must be a multiple of the device count.

    **Returns:**

    The outputs, each sharded over :func:`local_mesh` along the lanes (a plain call
    on a single device).

    ```python
    >>> double = jax.jit(lambda offset, seeds: seeds * 2 + offset)
    >>> run_sharded(double, (1,), np.arange(4)).tolist()
    [1, 3, 5, 7]

    ```
    """
    devices = jax.local_devices()
    if len(devices) == 1:
        return function(*shared, *lanes)
    shares = [np.split(np.asarray(x), len(devices)) for x in lanes]
    parts = [function(*jax.device_put((*shared, *(share[i] for share in shares)), device))
             for i, device in enumerate(devices)]
    sharding = NamedSharding(local_mesh(), PartitionSpec("seeds"))
    join = lambda *pieces: jax.make_array_from_single_device_arrays(
        (sum(p.shape[0] for p in pieces), *pieces[0].shape[1:]), sharding, list(pieces))
    return jax.tree.map(join, *parts)


def process_chunks(chunks: int) -> range:
    """The chunk indices this process runs: every ``process_count``-th, from its index.

    ```python
    >>> list(process_chunks(3))   # a single process runs them all
    [0, 1, 2]

    ```
    """
    return range(jax.process_index(), chunks, jax.process_count())


def allgather(value: Any) -> list:
    """Every process's ``value`` (any picklable object), in process order.

    Sent as bytes through ``multihost_utils.process_allgather``, so float64 arrays arrive
    bit for bit (the collective itself would cast them to float32 without x64).

    ```python
    >>> allgather({"a": 1})      # a single process
    [{'a': 1}]

    ```
    """
    if jax.process_count() == 1:
        return [value]
    from jax.experimental import multihost_utils

    payload = np.frombuffer(pickle.dumps(value), dtype=np.uint8)
    sizes = multihost_utils.process_allgather(np.array([payload.size], np.int32))
    padded = np.zeros(int(np.max(sizes)), np.uint8)
    padded[: payload.size] = payload
    gathered = np.asarray(multihost_utils.process_allgather(padded))
    return [pickle.loads(gathered[p, : int(sizes[p][0])].tobytes()) for p in range(jax.process_count())]
