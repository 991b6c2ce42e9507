"""Many seeds at once: ``vmap`` of the per-seed scan, chunked over seeds."""

from __future__ import annotations

import dataclasses
import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from .loop import Loop, Plan
from .models._validation import check_count
from .probes import AbstractProbe
from ._devices import run_sharded
from .rollout import host_inputs, rollout

#: Default memory budget of one chunk's working set on the CPU, used to pick ``chunk_size``.
CHUNK_BYTES = 256 * 2**20
#: The exact path's budget on a GPU or TPU, where a chunk must fill the chip: on an H100
#: (jax 0.11.2, the 1-D Gaussian at n = 100, 65,536 seeds) 4,096-lane chunks ran 2.8e7
#: seed-generations/s and 65,536-lane ones 6.7e7; 262,144 were no faster. The raw path
#: keeps :data:`CHUNK_BYTES` there: its sums read the samples several times, and at
#: n = 2,000 65,536-lane chunks ran 1.6x slower than 4,096-lane ones (32 MB of samples,
#: which fit the H100's 50 MB L2 cache).
ACCELERATOR_CHUNK_BYTES = 4 * 2**30
#: Chunks never have fewer lanes than this: XLA compiles 1- and 2-lane batches differently
#: (bitwise differences measured for Gaussian(dim=1), exact path, with 2 lanes).
MIN_LANES = 4
#: The largest default chunk on the CPU, where 4,096 lanes already keep every core busy.
MAX_DEFAULT_CHUNK = 4096
#: The largest default chunk on a GPU or TPU (see :data:`ACCELERATOR_CHUNK_BYTES`).
MAX_ACCELERATOR_CHUNK = 65536


@dataclasses.dataclass(frozen=True)
class Run:
    """The result of :func:`simulate`.

    **Fields:**

    - `loop`: the simulated :class:`Loop`.
    - `metrics`: metric name -> NumPy array ``[seeds, G + 1]`` (a probe's metrics may
      have trailing axes, e.g. one entry per ridge penalty).
    - `status`: uint8 ``[seeds, G + 1]``: 0 for a healthy fit, else the OR of
      :data:`jcollapse.STATUS_NONFINITE` and :data:`jcollapse.STATUS_DEGENERATE`.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> run = jc.simulate(jc.Loop(model, generations=2), model.params(mean=0.0, cov=[[1.0]]),
    ...                   key=jax.random.key(0), seeds=3)
    >>> run.seeds, run.status.shape, bool(run.failed.any())
    (3, (3, 3), False)

    ```
    """

    loop: Loop
    metrics: dict[str, np.ndarray]
    status: np.ndarray

    @property
    def seeds(self) -> int:
        """Number of seeds (see the class example)."""
        return self.status.shape[0]

    @property
    def failed(self) -> np.ndarray:
        """Boolean ``[seeds]``: the seed had a non-zero status in some generation."""
        return np.any(self.status != 0, axis=1)

    def mean(self, metric: str) -> np.ndarray:
        """Mean over seeds of ``metric``, shape ``[G + 1]``.

        ```python
        >>> import jax, jcollapse as jc
        >>> model = jc.models.GaussianMean(dim=1)
        >>> loop = jc.Loop(model, generations=2, sample_size=10)
        >>> run = jc.simulate(loop, model.params(mean=0.0, cov=[[1.0]]), key=jax.random.key(0), seeds=8)
        >>> run.mean("mean_sq_error").shape
        (3,)

        ```
        """
        return self.metrics[metric].mean(axis=0)

    def sem(self, metric: str) -> np.ndarray:
        """Standard error of :meth:`mean` over seeds (``std(ddof=1) / sqrt(seeds)``).

        ```python
        >>> import jax, jcollapse as jc
        >>> model = jc.models.GaussianMean(dim=1)
        >>> loop = jc.Loop(model, generations=2, sample_size=10)
        >>> run = jc.simulate(loop, model.params(mean=0.0, cov=[[1.0]]), key=jax.random.key(0), seeds=8)
        >>> run.sem("mean_sq_error").shape
        (3,)

        ```
        """
        values = self.metrics[metric]
        return values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])


def as_key(key) -> jax.Array:
    """A scalar typed PRNG key from a typed key or a legacy ``uint32[2]`` key.

    ```python
    >>> as_key(jax.random.PRNGKey(0)).shape
    ()

    ```
    """
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single key (shape ()); got shape {key.shape}")
        return key
    array = np.asarray(key)
    if array.dtype == np.uint32 and array.shape == (2,):
        return jax.random.wrap_key_data(jnp.asarray(array))
    raise ValueError(f"key must be jax.random.key(...) or jax.random.PRNGKey(...); got {key!r}")


def _lane_bytes(plan: Plan, truth) -> int:
    """A rough upper bound on one seed's working memory, to size default chunks."""
    if plan.path == "exact":
        return 64 * 2**10
    shapes = jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), jnp.result_type(x)), truth)
    return _raw_lane_bytes(plan, shapes)


@functools.lru_cache(maxsize=64)
def _raw_lane_bytes(plan: Plan, truth_shapes) -> int:
    """:func:`_lane_bytes` on the raw path, cached per plan and truth shapes: tracing the
    model's sampler took about 3 ms, as long as a small run's whole device time."""
    data = jax.eval_shape(lambda k, p: plan.model.sample(k, p, plan.slots), jax.random.key(0), truth_shapes)
    batch = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(data))
    buffer = batch * (plan.generations + 1) if plan.pool == "accumulate-subsample" else 0
    dim = max(leaf.shape[-1] if leaf.ndim > 1 else 1 for leaf in jax.tree.leaves(data))
    return 8 * batch * dim + 2 * buffer


def largest_default_chunk() -> int:
    """The most lanes a default chunk has on this process's backend: :data:`MAX_DEFAULT_CHUNK`
    on the CPU, :data:`MAX_ACCELERATOR_CHUNK` on a GPU or TPU. From this many seeds on,
    :func:`default_chunk_size` no longer grows (so a run that large compiles the same chunk).

    ```python
    >>> largest_default_chunk()   # the tests run on the CPU
    4096

    ```
    """
    return MAX_DEFAULT_CHUNK if jax.default_backend() == "cpu" else MAX_ACCELERATOR_CHUNK


def default_chunk_size(plan: Plan, truth, seeds: int, configs: int = 1) -> int:
    """Seeds per compiled chunk: as many as fit :data:`CHUNK_BYTES`, at most 4096, on the
    CPU; on a GPU or TPU at most 65,536, within :data:`ACCELERATOR_CHUNK_BYTES` on the exact
    path.

    With ``configs`` configurations sharing each chunk (a sweep), each seed counts ``configs`` times.

    The count is rounded up to a power of two (the padded lanes are discarded), so runs
    with different numbers of seeds share compiled code.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> plan = jc.Loop(model, generations=2).plan()
    >>> default_chunk_size(plan, model.params(mean=0.0, cov=[[1.0]]), seeds=10)
    16

    ```
    """
    on_cpu = jax.default_backend() == "cpu"
    budget = CHUNK_BYTES if on_cpu or plan.path == "raw" else ACCELERATOR_CHUNK_BYTES
    fits = max(1, budget // (_lane_bytes(plan, truth) * configs))
    cap = min(fits, largest_default_chunk())
    lanes = 1 << (seeds - 1).bit_length()
    if lanes > cap:
        lanes = 1 << (cap.bit_length() - 1)
    return max(MIN_LANES, lanes)


@functools.lru_cache(maxsize=64)
def compiled_chunk(plan: Plan, probe: Optional[AbstractProbe] = None):
    """The jitted ``(truth, inputs, key, seed_indices, config_indices) -> (metrics, status)``.

    ``inputs`` stacks the :class:`GenerationInputs` of one or more configurations (loops
    sharing ``plan``) on a leading axis; lane ``j`` runs seed ``seed_indices[j]`` of
    configuration ``config_indices[j]``. One flat axis of lanes, whatever the number of
    configurations, keeps every lane's arithmetic the same: XLA's choices (FMA
    contraction, the pairing of batched LAPACK kernels) depend on the batch's shape, and
    a ``[configs, seeds]`` batch gave other float32 roundings than a ``[seeds]`` one.

    Cached per :class:`Plan` and probe: schedules and the truth are traced inputs, so
    only a change of static structure compiles again. Callers split the lanes over the
    local devices with :func:`jcollapse._devices.run_sharded`.
    """

    def lane(truth, inputs, key, seed_index, config_index):
        own = jax.tree.map(lambda x: x[config_index], inputs)
        return rollout(plan, truth, own, jax.random.fold_in(key, seed_index), probe)

    def chunk(truth, inputs, key, seed_indices, config_indices):
        return jax.vmap(lane, in_axes=(None, None, None, 0, 0))(truth, inputs, key, seed_indices, config_indices)

    return jax.jit(chunk)


def round_chunk_size(chunk_size: int) -> int:
    """``chunk_size`` rounded up so that every local device runs at least ``MIN_LANES`` lanes.

    ```python
    >>> round_chunk_size(1), round_chunk_size(10)   # one device
    (4, 10)

    ```
    """
    devices = jax.local_device_count()
    lanes = max(MIN_LANES * devices, chunk_size)
    return -(-lanes // devices) * devices


def _check_probe(probe, loop: Loop) -> Optional[AbstractProbe]:
    if probe is None:
        return None
    if not isinstance(probe, AbstractProbe):
        raise ValueError(f"probe must be a jcollapse probe (jc.probes.*) or None; got {probe!r}")
    probe.check_model(loop.model)
    clash = set(probe.metric_names) & set(loop.model.metric_names)
    if clash:
        raise ValueError(f"probe metric names {sorted(clash)} clash with the model's metrics")
    return probe


def simulate(
    loop: Loop, truth, *, key, seeds: int, chunk_size: Optional[int] = None, probe: Optional[AbstractProbe] = None
) -> Run:
    """Simulate ``seeds`` independent runs of ``loop``.

    Seed ``i`` uses the key ``fold_in(key, i)``: its trajectory is the same whatever the
    number of seeds and the chunk size.

    **Arguments:**

    - `loop`: the :class:`Loop`.
    - `truth`: the true parameters, from ``loop.model.params(...)``.
    - `key`: ``jax.random.key(seed)``.
    - `seeds`: number of independent runs, ``>= 1``.
    - `chunk_size`: seeds per compiled batch (default: as many as fit a 256 MiB budget,
      at most 4096, on the CPU; at most 65,536 on a GPU or TPU, see
      :func:`default_chunk_size`), rounded up to a multiple of the local device count
      (each device runs its share of every chunk, at least 4 lanes). The last chunk is padded, so
      every chunk has the same shape.
    - `probe`: an optional :mod:`jcollapse.probes` measurement of every generation's fit
      (e.g. a downstream model trained on its samples); its metrics join the model's.

    **Returns:**

    A :class:`Run` with ``metrics[name]`` of shape ``[seeds, G + 1]`` (a probe's metrics
    may add trailing axes) and ``status``.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.Gaussian(dim=1)
    >>> loop = jc.Loop(model, generations=10, real_fraction=0.0, sample_size=100)
    >>> truth = model.params(mean=0.0, cov=[[1.0]])
    >>> run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=64)
    >>> run.metrics["variance"].shape
    (64, 11)

    ```
    """
    if not isinstance(loop, Loop):
        raise TypeError(f"loop must be a jc.Loop; got {type(loop).__name__}")
    seeds = check_count("seeds", seeds, 1)
    probe = _check_probe(probe, loop)
    key = as_key(key)
    plan = loop.plan()
    if chunk_size is None:
        chunk_size = default_chunk_size(plan, truth, seeds)
    chunk_size = round_chunk_size(check_count("chunk_size", chunk_size, 1))
    inputs = jax.tree.map(lambda x: x[None], host_inputs(loop, plan))
    function = compiled_chunk(plan, probe)
    configs = np.zeros(chunk_size, np.int32)
    pieces = []
    for start in range(0, seeds, chunk_size):
        indices = np.arange(start, start + chunk_size, dtype=np.uint32)
        pieces.append(jax.device_get(run_sharded(function, (truth, inputs, key), indices, configs)))
    metrics = {
        name: np.concatenate([p[0][name] for p in pieces])[:seeds] for name in pieces[0][0]
    }
    status = np.concatenate([p[1] for p in pieces])[:seeds]
    return Run(loop=loop, metrics=metrics, status=status)
