"""``jc.sweep``: a grid of loops over many seeds, streamed, checkpointed, over every device."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union

import jax
import numpy as np
import xarray as xr

from ..executor import chunks_to_run, progress_bar, round_chunk_size, stream_chunks
from ..internal.atomic import directory_path, write_atomically
from ..internal.devices import allgather
from ..internal.keys import as_key
from ..internal.settings import split_settings
from ..internal.validation import check_count
from ..internal.version import VERSION
from ..loop import Loop
from ..probes import AbstractProbe
from ..simulate import Rollout, check_probe, default_chunk_size, loop_setting
from . import checkpoints
from ._chunk import summarise_chunk
from ._dataset import build_dataset
from ._describe import describe, fingerprint
from ._grid import Grid, expand
from ._stats import QUANTILES, MetricState


@dataclasses.dataclass
class _GroupState:
    """The running statistics of one compile group (configurations sharing a plan)."""

    metrics: dict[str, MetricState]
    failed: np.ndarray  # int64 [configs, G + 1]

    @property
    def done(self) -> set:
        """The chunks folded in so far (every metric holds the same ones)."""
        return set(next(iter(self.metrics.values())).moments)

    def merge(self, other: "_GroupState") -> None:
        for name, state in other.metrics.items():
            self.metrics[name].merge(state)
        self.failed += other.failed


def _check_quantiles(quantiles) -> tuple[float, ...]:
    try:
        values = tuple(float(q) for q in quantiles)
    except (TypeError, ValueError):
        raise ValueError(f"quantiles must be a list of numbers in [0, 1]; got {quantiles!r}") from None
    if any(not 0.0 <= q <= 1.0 for q in values) or len(set(values)) != len(values):
        raise ValueError(f"quantiles must be distinct numbers in [0, 1]; got {quantiles!r}")
    return tuple(sorted(values))


def _groups(grid: Grid) -> list[list[int]]:
    """Configurations that share a plan (hence a compiled program), in grid order."""
    by_plan: dict = {}
    for i, config in enumerate(grid.configs):
        by_plan.setdefault(config.loop.plan(), []).append(i)
    return list(by_plan.values())


def _empty_state(per_seed: Rollout, truth, probe_settings, settings) -> _GroupState:
    """No seeds yet: each metric's cells ``[configs, G + 1, ...]``, from shapes alone (nothing runs)."""
    one = jax.tree.map(lambda x: x[0], settings)
    metrics, _ = jax.eval_shape(per_seed, jax.random.key(0), truth, probe_settings, one)
    count = len(settings[0].t)
    cells = {name: (count, *value.shape) for name, value in metrics.items()}
    return _GroupState({name: MetricState.empty(c) for name, c in cells.items()},
                       np.zeros((count, per_seed.plan.generations + 1), np.int64))


def sweep(
    loop: Loop,
    truth: Union[Any, Callable],
    grid: Optional[Mapping] = None,
    seeds: int = 1000,
    key=None,
    chunk_size: Optional[int] = None,
    out=None,
    progress: bool = True,
    *,
    quantiles=QUANTILES,
    probe: Optional[AbstractProbe] = None,
) -> xr.Dataset:
    """Simulate every point of a grid of loops over ``seeds`` seeds and summarise over seeds.

    The Cartesian product of ``grid`` is expanded into one :class:`~jcollapse.Loop` per
    point; points that share a plan (the static structure: model, pool, mixing, path,
    generations, and whether real and synthetic data are drawn at all) run as one
    compiled program, over one flat batch of (point, seed) lanes, so a grid of 100 real fractions in
    ``(0, 1)`` compiles once. Seeds run in chunks; each chunk's metrics are reduced on the
    device to per-point statistics (:func:`jcollapse.sweeps.summarise_chunk`), which are
    folded into streaming statistics on the host, so memory is ``O(points x generations)``
    whatever the number of seeds. Point ``p``'s seed ``i`` uses ``fold_in(key, i)``, exactly as
    ``jc.simulate(point's loop, ...)`` does.

    Seeds are split over the local devices (each device runs its share of every chunk;
    results are identical to one device's), and over processes when JAX's multi-process
    runtime is initialised (``jax.distributed.initialize``): process ``p`` runs chunks
    ``p, p + P, ...``, and the merged statistics equal a single process's exactly.

    **Arguments:**

    - `loop`: the base loop.
    - `truth`: its true parameters, or a function ``model -> params`` when the grid
      changes the model's shapes.
    - `grid`: key -> list of values (see :func:`jcollapse.sweeps.expand`): a Loop
      field (``"real_fraction"``), a schedule parameter (``"sample_size.exponent"``)
      or a model setting (``"model.variance"``). Default: no grid, the loop alone.
    - `seeds`: seeds per point, ``>= 1``.
    - `key`: ``jax.random.key(seed)`` (required).
    - `chunk_size`: seeds per compiled batch (default: as many as fit a 256 MiB budget
      with all of a group's points, at most 4096, on the CPU; see
      :func:`jcollapse.simulate.default_chunk_size`), rounded up to a multiple of the
      local device count. The statistics depend on it only in the last float64 bits.
    - `out`: a directory. The result is written there as ``sweep.nc`` (netCDF); each
      finished chunk is checkpointed atomically in ``out/.checkpoint``, and a rerun
      with the same arguments resumes from it, with results identical to an
      uninterrupted run. A finished ``out`` is read back instead of run again.
    - `progress`: show a progress bar (seeds per second, ETA) on standard error.
    - `quantiles`: the quantiles to report, from a histogram sketch (see
      :class:`jcollapse.sweeps.MetricState`).
    - `probe`: an optional :mod:`jcollapse.probes` measurement, as in ``jc.simulate``.

    **Returns:**

    An ``xarray.Dataset``: one variable per metric with dimensions ``(*grid keys,
    "generation", "stat")``, ``stat`` = mean, sem, min, the quantiles, max; a
    ``failed`` count of non-finite or degenerate fits; attributes ``config`` (JSON),
    ``key``, ``seeds``, ``chunk_size``, ``fingerprint``, ``jcollapse_version`` and
    ``jax_version``.

    **Raises:**

    `ValueError` naming the argument (or grid key and point), before anything is
    compiled or written.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=5, sample_size=10)
    >>> ds = jc.sweep(loop, model.params(mean=0.0, cov=[[1.0]]), {"real_fraction": [0.2, 0.5]},
    ...               seeds=64, key=jax.random.key(0), progress=False)
    >>> ds["mean_sq_error"].sel(stat="mean").shape
    (2, 6)

    ```
    """
    grid = expand(loop, truth, {} if grid is None else grid)
    seeds = check_count("seeds", seeds, 1)
    if key is None:
        raise ValueError("key is required: pass key=jax.random.key(seed)")
    key = as_key(key)
    quantiles = _check_quantiles(quantiles)
    out = None if out is None else directory_path(out).absolute()
    probe = check_probe(probe, loop)
    groups = _groups(grid)
    plans = [grid.configs[members[0]].loop.plan() for members in groups]
    truths = [grid.configs[members[0]].truth for members in groups]
    if chunk_size is None:
        chunk_size = min(default_chunk_size(grid.configs[m[0]].loop, t, seeds, len(m)) for t, m in zip(truths, groups))
    chunk_size = round_chunk_size(check_count("chunk_size", chunk_size, 1))
    key_data = np.asarray(jax.random.key_data(key)).tolist()
    record = describe(grid, loop, truth, seeds, key_data, chunk_size, quantiles)
    identity = fingerprint(record, VERSION)
    attrs = {"config": json.dumps(record), "key": json.dumps(key_data), "seeds": seeds, "chunk_size": chunk_size,
             "fingerprint": identity, "jcollapse_version": VERSION, "jax_version": jax.__version__}

    result_path = None if out is None else out / checkpoints.RESULT_NAME
    if result_path is not None and result_path.exists():
        finished = xr.load_dataset(result_path, engine="scipy")
        if finished.attrs.get("fingerprint") != identity:
            raise ValueError(f"out={str(out)!r} already holds the result of a different sweep; choose another out")
        return finished

    probe_settings, probe_structure = split_settings(probe)
    per_seed = [Rollout(plan, probe_structure) for plan in plans]
    settings = [jax.tree.map(lambda *x: np.stack(x), *(loop_setting(grid.configs[i].loop, plan) for i in members))
                for plan, members in zip(plans, groups)]
    states = [_empty_state(f, t, probe_settings, x) for f, t, x in zip(per_seed, truths, settings)]
    process, processes = jax.process_index(), jax.process_count()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        saved = checkpoints.load_checkpoint(out, process, identity, processes)
        if saved is not None:
            states = saved["groups"]

    todo = sum(len(members) * valid for members, state in zip(groups, states)
               for _, valid in chunks_to_run(seeds, chunk_size, state.done))
    with progress_bar(todo, desc="sweep", enabled=progress) as bar:
        for g, members in enumerate(groups):
            stream = stream_chunks(per_seed[g], truths[g], probe_settings, key=key, seeds=seeds,
                                   chunk_size=chunk_size, settings=settings[g], skip=states[g].done, progress=bar)
            for chunk in stream:
                metrics, status = chunk.outputs
                summaries, failed = summarise_chunk(metrics, status, len(members), chunk.valid)
                for name, summary in summaries.items():
                    states[g].metrics[name].add(chunk.index, summary)
                states[g].failed += failed
                if out is not None:
                    checkpoints.save_checkpoint(out, process, {"fingerprint": identity, "processes": processes,
                                                               "groups": states})

    merged, *others = allgather(states)
    for other in others:
        for mine, theirs in zip(merged, other):
            mine.merge(theirs)
    summaries = [{name: state.summary(quantiles) for name, state in group.metrics.items()} for group in merged]
    dataset = build_dataset(grid, groups, summaries, [group.failed for group in merged], quantiles, attrs)
    if out is not None and process == 0:
        write_atomically(result_path, lambda tmp: dataset.to_netcdf(tmp, engine="scipy"))
        checkpoints.remove_checkpoints(out)
    return dataset
