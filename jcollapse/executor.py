"""The seed-parallel executor: one pure per-seed function, many seeds, every device.

Every seed-parallel computation in jcollapse -- the generation loop behind
:func:`jcollapse.simulate` and :func:`jcollapse.sweep`, the PAC rounds, the filter chains --
is a per-seed function handed to :func:`run_seeds` (or, when the caller reduces or
checkpoints each chunk itself, to :func:`stream_chunks`). This module is the only place
that loops over chunks of seeds, and it owns:

- **keys**: seed ``i`` gets ``jax.random.fold_in(key, i)``;
- **chunks**: seeds run in compiled batches of ``chunk_size`` lanes (a power of two by
  default, sized from a memory budget), the last one padded, so runs of different sizes
  share compiled code;
- **placement**: each chunk's lanes are split over the local devices, every device running
  the same single-device program, and the chunks over ``jax.distributed`` processes;
- **invariance**: a seed's result is bitwise the same whatever the number of seeds, the
  chunk size, the number of devices or processes -- provided the per-seed function's own
  arithmetic does not depend on the batch size (jcollapse's sums go through
  :mod:`jcollapse.internal.reduce` for that reason);
- **gathering**: outputs come back as NumPy arrays with a leading seed axis;
- **progress**: a ``tqdm`` bar on standard error for runs that last more than a couple of
  seconds.

A per-seed function may also run once per *setting*: ``settings`` is a pytree whose leaves
share a leading axis of length ``K`` (say ``K`` real fractions), and every seed runs for
each of them in one flat batch of ``K x chunk_size`` lanes, so a grid of settings compiles
once.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Iterator, NamedTuple, Optional

import equinox as eqx
import jax
import numpy as np
from tqdm import tqdm

from .internal import devices
from .internal.keys import as_key
from .internal.validation import check_count

#: Default memory budget of one chunk's working set on the CPU (and of the raw path everywhere).
CHUNK_BYTES = 256 * 2**20
#: The default budget on a GPU or TPU, where a chunk must be large enough to fill the chip.
ACCELERATOR_CHUNK_BYTES = 4 * 2**30
#: A lane's working memory when the caller gives no estimate.
DEFAULT_LANE_BYTES = 64 * 2**10
#: Chunks never have fewer lanes per device than this: XLA compiles 1- and 2-lane batches
#: differently, and their float32 results then differ in the last bit.
MIN_LANES = 4
#: The largest default chunk on the CPU, where 4,096 lanes already keep every core busy.
MAX_DEFAULT_CHUNK = 4096
#: The largest default chunk on a GPU or TPU.
MAX_ACCELERATOR_CHUNK = 65536
#: Seconds a run lasts before its progress bar appears (shorter runs show none).
PROGRESS_DELAY = 2.0


def largest_default_chunk() -> int:
    """The most lanes a default chunk has on this process's backend: :data:`MAX_DEFAULT_CHUNK`
    on the CPU, :data:`MAX_ACCELERATOR_CHUNK` on a GPU or TPU.

    **Returns:**

    The lane count; from this many seeds on, default chunks stop growing.

    ```python
    >>> largest_default_chunk()   # the tests run on the CPU
    4096

    ```
    """
    return MAX_DEFAULT_CHUNK if jax.default_backend() == "cpu" else MAX_ACCELERATOR_CHUNK


def default_chunk_size(seeds: int, *, lane_bytes: int = DEFAULT_LANE_BYTES, settings: int = 1,
                       budget: Optional[int] = None) -> int:
    """Seeds per compiled chunk: as many as fit the memory budget, rounded to a power of two.

    **Arguments:**

    - `seeds`: the number of seeds to run, ``>= 1``.
    - `lane_bytes`: an estimate of one lane's working memory.
    - `settings`: settings sharing each chunk (each seed counts that many times).
    - `budget`: the chunk's memory budget in bytes (default: :data:`CHUNK_BYTES` on the CPU,
      :data:`ACCELERATOR_CHUNK_BYTES` on a GPU or TPU).

    **Returns:**

    A power of two, at least :data:`MIN_LANES`, at most :func:`largest_default_chunk`, and
    no larger than needed for ``seeds``; so runs with nearby seed counts share compiled code.

    ```python
    >>> default_chunk_size(10), default_chunk_size(10**6), default_chunk_size(10**6, lane_bytes=2**20)
    (16, 4096, 256)

    ```
    """
    if budget is None:
        budget = CHUNK_BYTES if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK_BYTES
    fits = max(1, budget // (max(1, lane_bytes) * settings))
    cap = min(fits, largest_default_chunk())
    lanes = 1 << (seeds - 1).bit_length()
    if lanes > cap:
        lanes = 1 << (cap.bit_length() - 1)
    return max(MIN_LANES, lanes)


def round_chunk_size(chunk_size: int) -> int:
    """``chunk_size`` rounded up so that every local device runs at least :data:`MIN_LANES` lanes.

    **Arguments:**

    - `chunk_size`: the lanes asked for, ``>= 1``.

    **Returns:**

    The lanes run: a multiple of the local device count.

    ```python
    >>> devices = jax.local_device_count()
    >>> round_chunk_size(1) == MIN_LANES * devices, round_chunk_size(64)   # at most 16 devices
    (True, 64)

    ```
    """
    count = jax.local_device_count()
    lanes = max(MIN_LANES * count, chunk_size)
    return -(-lanes // count) * count


def progress_bar(total: int, *, desc: str, enabled: Optional[bool] = None):
    """A ``tqdm`` bar counting seeds on standard error, shown by process 0 only.

    **Arguments:**

    - `total`: the seeds (times settings) the bar counts to.
    - `desc`: its label.
    - `enabled`: ``True`` shows it at once, ``False`` never, ``None`` (default) only once the
      run has lasted :data:`PROGRESS_DELAY` seconds.

    **Returns:**

    The ``tqdm`` object; use it as a context manager, or pass it to :func:`stream_chunks`.

    ```python
    >>> with progress_bar(10, desc="demo", enabled=False) as bar:
    ...     _ = bar.update(10)

    ```
    """
    return tqdm(total=total, unit="seed", unit_scale=True, desc=desc, file=sys.stderr, dynamic_ncols=True,
                disable=enabled is False or jax.process_index() != 0, delay=0.0 if enabled else PROGRESS_DELAY)


class _Static(NamedTuple):
    """The non-array part of the shared arguments: hashed into the compiled program's identity."""

    tree: Any
    leaves: tuple


@functools.lru_cache(maxsize=128)
def _program(per_seed: Callable, static: _Static, with_settings: bool):
    """The jitted ``(arrays, settings, key, seed indices, setting indices) -> outputs`` of one chunk.

    Cached per function and static arguments, so a per-seed function passed again (the same
    object) reuses its compilation for chunks of the same shape.
    """
    template = jax.tree.unflatten(static.tree, static.leaves)

    def lane(arrays, settings, key, seed, setting):
        shared = eqx.combine(arrays, template)
        if with_settings:
            own = jax.tree.map(lambda x: x[setting], settings)
            return per_seed(jax.random.fold_in(key, seed), *shared, own)
        return per_seed(jax.random.fold_in(key, seed), *shared)

    def chunk(arrays, settings, key, seeds, setting_indices):
        return jax.vmap(lane, in_axes=(None, None, None, 0, 0))(arrays, settings, key, seeds, setting_indices)

    return jax.jit(chunk)


def _split_shared(shared: tuple) -> tuple[Any, _Static]:
    arrays, static = eqx.partition(shared, eqx.is_array)
    leaves, tree = jax.tree.flatten(static)
    try:
        hash(tuple(leaves))
    except TypeError:
        raise TypeError("run_seeds: the shared arguments' non-array leaves must be hashable (they are "
                        "part of the compiled program); pass numbers to trace as arrays") from None
    return arrays, _Static(tree, tuple(leaves))


def chunk_program(per_seed: Callable, *shared, settings=None) -> tuple[Callable, tuple]:
    """The compiled chunk :func:`stream_chunks` runs on each device, and its shared arguments.

    For profiling and benchmarks: ``program(*arguments, key, seed_indices, setting_indices)``
    runs one chunk on the default device and leaves its outputs there.

    **Arguments:**

    - `per_seed`, `shared`, `settings`: as in :func:`run_seeds`.

    **Returns:**

    ``(program, arguments)``: the jitted chunk and the shared arguments it takes first
    (the arrays of `shared`, and `settings`).

    ```python
    >>> import jax, numpy as np
    >>> program, arguments = chunk_program(lambda key: jax.random.normal(key))
    >>> program(*arguments, jax.random.key(0), np.arange(4, dtype=np.uint32), np.zeros(4, np.int32)).shape
    (4,)

    ```
    """
    arrays, static = _split_shared(shared)
    return _program(per_seed, static, settings is not None), (arrays, settings)


def _setting_count(settings) -> int:
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in jax.tree.leaves(settings)}
    if not sizes or None in sizes or len(sizes) != 1:
        raise ValueError("settings must be a pytree of arrays sharing a leading axis (one entry per setting); "
                         f"got leading sizes {sorted(map(str, sizes))}")
    return sizes.pop()


def chunks_to_run(seeds: int, chunk_size: int, skip=()) -> list[tuple[int, int]]:
    """The chunks this process runs, as ``(index, valid seeds)`` pairs.

    With ``P`` ``jax.distributed`` processes, process ``p`` runs chunks ``p, p + P, ...``;
    chunks in `skip` are left out.

    **Arguments:**

    - `seeds`: the run's seeds; `chunk_size`: seeds per chunk (already rounded).
    - `skip`: chunk indices already done.

    **Returns:**

    A list of ``(chunk index, number of its seeds asked for)``.

    ```python
    >>> chunks_to_run(10, 4), chunks_to_run(10, 4, skip={1})
    ([(0, 4), (1, 4), (2, 2)], [(0, 4), (2, 2)])

    ```
    """
    done = set(skip)
    chunks = -(-seeds // chunk_size)
    return [(c, min(chunk_size, seeds - c * chunk_size)) for c in devices.process_chunks(chunks) if c not in done]


class Chunk(NamedTuple):
    """One finished chunk of a :func:`stream_chunks` run.

    **Fields:**

    - `index`: the chunk's number ``c``: it ran seeds ``c * chunk_size`` to
      ``(c + 1) * chunk_size - 1``.
    - `valid`: how many of those seeds were asked for (the last chunk's others are padding).
    - `outputs`: the per-seed function's outputs, each with a leading lane axis of
      ``settings x chunk_size`` (setting-major: setting ``k``'s lanes at
      ``k * chunk_size ... (k + 1) * chunk_size - 1``), as JAX arrays on the devices that
      computed them.
    """

    index: int
    valid: int
    outputs: Any


def stream_chunks(
    per_seed: Callable,
    *shared,
    key,
    seeds: int,
    chunk_size: int,
    settings=None,
    skip=(),
    progress=None,
) -> Iterator[Chunk]:
    """Run ``per_seed`` over ``seeds`` seeds, yielding each of this process's chunks as it finishes.

    The lower-level form of :func:`run_seeds`, for callers that reduce or checkpoint each
    chunk themselves (:func:`jcollapse.sweep`). Lanes are split over the local devices (one
    single-device program each); with several ``jax.distributed`` processes, process ``p``
    of ``P`` runs chunks ``p, p + P, ...``.

    **Arguments:**

    - `per_seed`, `shared`, `key`, `seeds`, `settings`: as in :func:`run_seeds`.
    - `chunk_size`: seeds per chunk, ``>= 1``; rounded up by :func:`round_chunk_size`.
    - `skip`: chunk indices not to run (already done, say from a checkpoint).
    - `progress`: ``True``/``False``/``None`` as in :func:`progress_bar` (``None`` shows no
      bar for a single chunk, which has no progress to show), or a bar to update (shared by
      several streams).

    **Yields:**

    :class:`Chunk` objects, in increasing index.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> draw = lambda key: jax.random.normal(key)
    >>> [chunk.valid for chunk in stream_chunks(draw, key=jax.random.key(0), seeds=20, chunk_size=8)]
    [8, 8, 4]

    ```
    """
    seeds = check_count("seeds", seeds, 1)
    chunk_size = round_chunk_size(check_count("chunk_size", chunk_size, 1))
    key = as_key(key)
    count = 1 if settings is None else _setting_count(settings)
    function, arguments = chunk_program(per_seed, *shared, settings=settings)
    todo = chunks_to_run(seeds, chunk_size, skip)
    setting_indices = np.repeat(np.arange(count, dtype=np.int32), chunk_size)
    own_bar = progress is None or isinstance(progress, bool)
    if progress is None and len(todo) < 2:
        progress = False  # one chunk: a bar would only appear, full, once it is done
    bar = progress_bar(sum(valid for _, valid in todo) * count, desc="seeds", enabled=progress) if own_bar else progress
    try:
        for c, valid in todo:
            seed_indices = np.tile(np.arange(c * chunk_size, (c + 1) * chunk_size, dtype=np.uint32), count)
            outputs = devices.run_sharded(function, (*arguments, key), seed_indices, setting_indices)
            yield Chunk(c, valid, outputs)
            bar.update(valid * count)
    finally:
        if own_bar:
            bar.close()


def run_seeds(
    per_seed: Callable,
    *shared,
    key,
    seeds: int,
    settings=None,
    chunk_size: Optional[int] = None,
    lane_bytes: int = DEFAULT_LANE_BYTES,
    budget: Optional[int] = None,
    progress: Optional[bool] = None,
):
    """Run a pure per-seed function over many seeds, vmapped in chunks over every local device.

    Seed ``i`` calls ``per_seed(fold_in(key, i), *shared)`` (or ``per_seed(fold_in(key, i),
    *shared, setting)`` for each setting); its result does not depend on how many seeds run,
    on the chunk size, or on the number of devices and processes.

    **Arguments:**

    - `per_seed`: ``per_seed(key, *shared[, setting]) -> pytree of arrays``, pure and
      traceable (it is vmapped and jitted); its outputs' shapes must not depend on the seed.
      Pass the same function object again to reuse its compilation.
    - `shared`: arguments every seed gets. Arrays (NumPy or JAX) are traced, so new values
      do not recompile; any other leaf (a Python number, a model's static structure) is part
      of the compiled program and must be hashable.
    - `key`: ``jax.random.key(seed)``.
    - `seeds`: the number of seeds, ``>= 1``.
    - `settings`: optionally a pytree of arrays with a leading axis of ``K`` settings; every
      seed then runs once per setting, in one flat batch, and the result gains a leading
      axis ``K``.
    - `chunk_size`: seeds per compiled batch (default: :func:`default_chunk_size` from
      `lane_bytes` and `budget`), rounded up to a multiple of the local device count with
      at least :data:`MIN_LANES` lanes per device; the last chunk is padded.
    - `lane_bytes`: an estimate of one seed's working memory, to size default chunks.
    - `budget`: a chunk's memory budget in bytes (see :func:`default_chunk_size`).
    - `progress`: a progress bar on standard error: ``True`` always, ``False`` never,
      ``None`` (default) once a run of several chunks has lasted :data:`PROGRESS_DELAY` seconds.

    **Returns:**

    The outputs as NumPy arrays: each leaf ``[seeds, ...]``, or ``[K, seeds, ...]`` with
    `settings`.

    **Raises:**

    `ValueError` for a count below 1, a bad key or settings whose leaves disagree on ``K``,
    before anything is compiled.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> def estimate(key, mean):   # the sample mean of 100 draws from N(mean, 1)
    ...     return jnp.mean(mean + jax.random.normal(key, (100,)))
    >>> means = run_seeds(estimate, jnp.float32(2.0), key=jax.random.key(0), seeds=10_000)
    >>> means.shape, round(float(means.mean()), 1), round(float(means.var() * 100), 1)
    ((10000,), 2.0, 1.0)

    ```
    """
    seeds = check_count("seeds", seeds, 1)
    count = 1 if settings is None else _setting_count(settings)
    if chunk_size is None:
        chunk_size = default_chunk_size(seeds, lane_bytes=lane_bytes, settings=count, budget=budget)
    chunk_size = round_chunk_size(check_count("chunk_size", chunk_size, 1))
    stream = stream_chunks(per_seed, *shared, key=key, seeds=seeds, chunk_size=chunk_size, settings=settings,
                           progress=progress)
    pieces = {chunk.index: jax.device_get(chunk.outputs) for chunk in stream}
    if jax.process_count() > 1:
        pieces = {index: piece for gathered in devices.allgather(pieces) for index, piece in gathered.items()}
    ordered = [pieces[index] for index in sorted(pieces)]

    def join(*parts):
        by_setting = [np.asarray(part).reshape(count, chunk_size, *np.shape(part)[1:]) for part in parts]
        joined = np.concatenate(by_setting, axis=1)[:, :seeds]
        return joined if settings is not None else joined[0]

    return jax.tree.map(join, *ordered)
