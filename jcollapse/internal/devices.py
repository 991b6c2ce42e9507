"""Seeds over devices and processes: each local device runs its share of a chunk's lanes,
each process its share of the chunks.

Every device runs the same single-device executable on a contiguous share of the lanes,
and the shares are joined into one array sharded over a 1-D mesh of the local devices
(``NamedSharding``). A partitioned program (``shard_map``, GSPMD or ``pmap``) would
compile once for all devices, but XLA compiles it with other float32 roundings than the
single-device program (up to 5e-7 relative on the Gaussian loop, from the second
generation on); per-device executables keep a run on ``D`` devices identical to a run on
one, at the price of one compilation per device. Lanes are independent, and a lane's
arithmetic does not depend on how many lanes share its batch (at least ``MIN_LANES``).

Across processes (``jax.distributed.initialize``) nothing is communicated until the end,
when :func:`allgather` collects every process's statistics.
"""

from __future__ import annotations

import os
import pickle
from typing import Any, Callable, Optional

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def usable_cores() -> int:
    """The CPU cores this process may run on.

    ```python
    >>> usable_cores() >= 1
    True

    ```
    """
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def use_cpu_cores(count: Optional[int] = None) -> int:
    """Give JAX one CPU device per core, so that every core runs its own share of each chunk.

    XLA's CPU backend otherwise runs a chunk as one program whose every operation is split
    over a thread pool; a generation of a few thousand lanes is too small for that, and the
    threads spend their time handing work over. The executor splits every chunk over the
    local devices, each running the same single-device program, so results are bitwise the
    same on any device count; each device compiles its own copy once.

    ``import jcollapse`` already does this when JAX has not started (see
    :func:`default_to_cpu_cores`); call this to choose another count. It sets
    ``jax_num_cpu_devices``, which JAX reads when it starts its backends: call it before
    any JAX array is made. It changes nothing on a GPU or TPU, where jcollapse runs on the
    accelerator.

    **Arguments:**

    - `count`: the number of CPU devices, ``>= 1`` (default: :func:`usable_cores`).

    **Returns:**

    The count set.

    **Raises:**

    `ValueError` for a count below 1; `RuntimeError` once JAX has started its backends
    with another count.

    ```python
    >>> running = jax.local_device_count()
    >>> use_cpu_cores(running) == running   # already started: the same count is fine
    True

    ```
    """
    if count is None:
        count = usable_cores()
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be an integer >= 1 (CPU devices); got {count!r}")
    try:
        jax.config.update("jax_num_cpu_devices", int(count))
    except RuntimeError as error:
        if jax.device_count("cpu") == count:
            return int(count)
        raise RuntimeError(
            f"use_cpu_cores({count}) must run before JAX starts (before any JAX array is made); "
            f"JAX is already running with {jax.device_count('cpu')} CPU device(s)"
        ) from error
    return int(count)


def default_to_cpu_cores() -> Optional[int]:
    """What ``import jcollapse`` does: one CPU device per core, unless the choice is taken.

    The CPU device count is left alone when JAX has already started its backends, when the
    environment sets ``JAX_NUM_CPU_DEVICES`` (the opt-out: ``JAX_NUM_CPU_DEVICES=1``) or
    XLA's ``--xla_force_host_platform_device_count``, or when ``jax_num_cpu_devices`` was
    set in this process. For the rest of the process, ``jax.devices("cpu")`` then lists one
    device per core; arrays still go to the first one by default.

    **Returns:**

    The count set, or ``None`` when it was left alone.

    ```python
    >>> default_to_cpu_cores() is None   # JAX has started in this process
    True

    ```
    """
    chosen = "JAX_NUM_CPU_DEVICES" in os.environ or "xla_force_host_platform_device_count" in os.environ.get(
        "XLA_FLAGS", "")
    if chosen or jax.config.jax_num_cpu_devices != -1 or usable_cores() == 1:
        return None
    try:
        return use_cpu_cores()
    except RuntimeError:
        return None  # JAX has started: its device count stays


def local_mesh():
    """A 1-D mesh ``("seeds",)`` of this process's devices.

    ```python
    >>> local_mesh().axis_names
    ('seeds',)

    ```
    """
    return Mesh(np.array(jax.local_devices()), ("seeds",))


_HOST_KERNEL_CALLS: dict = {}


def calls_host_kernels(function: Callable, args: tuple) -> bool:
    """Whether ``function``'s program on ``args`` makes a custom call (jaxlib's LAPACK
    kernels for ``cholesky``, ``eigh``, ...); cached per function and argument signature.

    **Arguments:**

    - `function`: a jitted function; `args`: the arguments it would be called with.

    **Returns:**

    ``True`` if its lowered program calls a host kernel.

    ```python
    >>> import jax.numpy as jnp
    >>> calls_host_kernels(jax.jit(jnp.linalg.cholesky), (np.eye(3),))
    True
    >>> calls_host_kernels(jax.jit(jnp.sin), (np.eye(3),))
    False

    ```
    """
    leaves, tree = jax.tree.flatten(args)
    signature = (function, tree, tuple((np.shape(x), getattr(x, "dtype", None) or np.result_type(x)) for x in leaves))
    if signature not in _HOST_KERNEL_CALLS:
        _HOST_KERNEL_CALLS[signature] = "custom_call" in function.lower(*args).as_text()
    return _HOST_KERNEL_CALLS[signature]


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
    # On CPU devices, jaxlib's batched LAPACK kernels split their batch over XLA's thread
    # pool and wait for it from a thread of that pool: two devices inside such a kernel at
    # once can hold every thread of the pool (both, on two cores) and wait for each other
    # forever. Programs that call them run one device at a time.
    one_at_a_time = devices[0].platform == "cpu" and calls_host_kernels(
        function, (*shared, *(share[0] for share in shares)))
    parts = []
    for i, device in enumerate(devices):
        parts.append(function(*jax.device_put((*shared, *(share[i] for share in shares)), device)))
        if one_at_a_time:
            jax.block_until_ready(parts[-1])
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
    payload = np.frombuffer(pickle.dumps(value), dtype=np.uint8)
    sizes = multihost_utils.process_allgather(np.array([payload.size], np.int32))
    padded = np.zeros(int(np.max(sizes)), np.uint8)
    padded[: payload.size] = payload
    gathered = np.asarray(multihost_utils.process_allgather(padded))
    return [pickle.loads(gathered[p, : int(sizes[p][0])].tobytes()) for p in range(jax.process_count())]
