"""``jc.simulate``: a loop's per-seed scan (:class:`Rollout`) over many seeds, through :func:`jcollapse.run_seeds`."""

from __future__ import annotations

import dataclasses
import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from .executor import CHUNK_BYTES, DEFAULT_LANE_BYTES, run_seeds
from .executor import default_chunk_size as executor_chunk_size
from .internal.keys import as_key
from .internal.settings import join_settings, split_settings
from .internal.validation import check_count
from .loop import Loop, Plan
from .models import AbstractSampleModel
from .probes import AbstractProbe
from .rollout import host_inputs, rollout


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


def lane_bytes(loop: Loop, truth) -> int:
    """A rough upper bound on one seed's working memory, to size default chunks.

    **Arguments:**

    - `loop`: the loop.
    - `truth`: the true parameters (only their shapes matter).

    **Returns:**

    Bytes: a constant on the exact path; on the raw path, from the size of one
    generation's samples (and the accumulated buffer of ``"accumulate-subsample"``), plus a
    learned family's metric matrices (:meth:`~jcollapse.models.AbstractSampleModel.evaluation_bytes`).

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> truth = model.params(mean=0.0, cov=[[1.0]])
    >>> lane_bytes(jc.Loop(model, generations=2, sample_size=100, path="raw"), truth)
    3200

    ```
    """
    plan = loop.plan()
    if plan.path == "exact":
        return DEFAULT_LANE_BYTES
    return _raw_lane_bytes(plan, _shapes(truth), _shapes(loop.model_settings))


def _shapes(tree):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), jnp.result_type(x)), tree)


@functools.lru_cache(maxsize=64)
def _raw_lane_bytes(plan: Plan, truth_shapes, settings_shapes) -> int:
    """:func:`lane_bytes` on the raw path, cached per plan and shapes (tracing the model's
    sampler costs as much as a small run)."""
    draw = lambda key, truth, settings: plan.with_settings(settings).model.sample_truth(key, truth, plan.slots)
    data = jax.eval_shape(draw, jax.random.key(0), truth_shapes, settings_shapes)
    batch = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(data))
    # Pools that keep every sample; a family that keeps its sample also carries it in its fit.
    keeps_all = plan.pool == "accumulate-subsample" or (plan.pool == "accumulate" and isinstance(
        plan.model, AbstractSampleModel))
    buffer = batch * (plan.generations + 1) if keeps_all else 0
    fit = (buffer or batch) if isinstance(plan.model, AbstractSampleModel) else 0
    buffer += fit
    dim = max(leaf.shape[-1] if leaf.ndim > 1 else 1 for leaf in jax.tree.leaves(data))
    metrics = plan.model.evaluation_bytes(dim) if isinstance(plan.model, AbstractSampleModel) else 0
    return 8 * batch * dim + 2 * buffer + metrics


def chunk_budget(plan: Plan) -> Optional[int]:
    """The memory budget of a loop's chunks: the executor's default on the exact path, and
    :data:`jcollapse.executor.CHUNK_BYTES` on the raw path on every backend (its sums read
    the samples several times, so chunks whose samples stay in cache run faster on a GPU too).

    ```python
    >>> import jcollapse as jc
    >>> chunk_budget(jc.Loop(jc.models.GaussianMean(dim=1), generations=2, path="raw").plan()) == CHUNK_BYTES
    True

    ```
    """
    return CHUNK_BYTES if plan.path == "raw" else None


def default_chunk_size(loop: Loop, truth, seeds: int, configs: int = 1) -> int:
    """Seeds per compiled chunk of a loop: :func:`jcollapse.executor.default_chunk_size` with
    the loop's :func:`lane_bytes` and :func:`chunk_budget`.

    **Arguments:**

    - `loop`, `truth`: the loop and its true parameters.
    - `seeds`: the number of seeds.
    - `configs`: configurations sharing each chunk (a sweep's compile group).

    **Returns:**

    A power of two (see the executor's rule).

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> default_chunk_size(jc.Loop(model, generations=2), model.params(mean=0.0, cov=[[1.0]]), seeds=10)
    16

    ```
    """
    return executor_chunk_size(seeds, lane_bytes=lane_bytes(loop, truth), settings=configs,
                               budget=chunk_budget(loop.plan()))


def loop_setting(loop: Loop, plan: Plan) -> tuple:
    """What a loop passes to its compiled program as data: its schedules
    (:func:`jcollapse.rollout.host_inputs`) and its model's settings, as host arrays.

    Loops that share a plan (a sweep's compile group) differ only here, and run as the
    settings of one program.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.LinearRegression(dim=2, noise=0.5), generations=1)
    >>> inputs, settings = loop_setting(loop, loop.plan())
    >>> inputs.sample_size.tolist(), float(settings.noise)
    ([100, 100], 0.5)

    ```
    """
    return host_inputs(loop, plan), split_settings(loop.model)[0]


@dataclasses.dataclass(frozen=True)
class Rollout:
    """A loop's per-seed function for :func:`jcollapse.run_seeds`:
    ``(key, truth, probe_settings, setting) -> (metrics, status)``, one seed's
    :func:`jcollapse.rollout.rollout`, where ``setting`` is :func:`loop_setting`'s pair.

    Holds structure only (the plan, the probe without its settings), so equal plans and
    probes give equal, equally hashed functions, and the executor reuses one compilation for
    every run of a plan, whatever its schedules and settings.

    **Fields:**

    - `plan`: the loop's static part.
    - `probe`: an optional probe's structure (``split_settings(probe)[1]``).

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=2)
    >>> truth = model.params(mean=0.0, cov=[[1.0]])
    >>> metrics, status = Rollout(loop.plan())(jax.random.key(0), truth, None, loop_setting(loop, loop.plan()))
    >>> status.shape
    (3,)

    ```
    """

    plan: Plan
    probe: Optional[AbstractProbe] = None

    def __call__(self, key, truth, probe_settings, setting):
        inputs, model_settings = setting
        probe = None if self.probe is None else join_settings(probe_settings, self.probe)
        return rollout(self.plan.with_settings(model_settings), truth, inputs, key, probe)


def check_probe(probe, loop: Loop) -> Optional[AbstractProbe]:
    """``probe`` after checking it can measure ``loop``'s fits (``None`` passes).

    **Raises:**

    `ValueError` for something that is not a probe, a probe that cannot measure the
    loop's model, or metric names that clash with the model's.

    ```python
    >>> import jcollapse as jc
    >>> check_probe(None, jc.Loop(jc.models.GaussianMean(dim=1), generations=1)) is None
    True

    ```
    """
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
    loop: Loop,
    truth,
    *,
    key,
    seeds: int,
    chunk_size: Optional[int] = None,
    probe: Optional[AbstractProbe] = None,
    progress: Optional[bool] = None,
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
    - `progress`: a progress bar on standard error: ``True``, ``False``, or ``None`` (default)
      for one once a run of several chunks has lasted two seconds (see :func:`jcollapse.run_seeds`).

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
    probe = check_probe(probe, loop)
    key = as_key(key)
    plan = loop.plan()
    probe_settings, probe_structure = split_settings(probe)
    setting = jax.tree.map(lambda x: x[None], loop_setting(loop, plan))  # one setting: the program sweeps run
    metrics, status = run_seeds(Rollout(plan, probe_structure), truth, probe_settings, key=key, seeds=seeds,
                                settings=setting, chunk_size=chunk_size, lane_bytes=lane_bytes(loop, truth),
                                budget=chunk_budget(plan), progress=progress)
    return Run(loop=loop, metrics={name: values[0] for name, values in metrics.items()}, status=status[0])
