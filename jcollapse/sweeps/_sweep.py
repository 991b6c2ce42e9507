"""``jc.sweep``: a grid of loops over many seeds, streamed, checkpointed, over every device."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union

import jax
import numpy as np
import xarray as xr

from .. import _devices
from .._atomic import directory_path
from ..loop import Loop
from ..models._validation import check_count
from ..probes import AbstractProbe
from ..rollout import host_inputs
from ..simulate import _check_probe, as_key, compiled_chunk, default_chunk_size, round_chunk_size
from . import _checkpoint
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


def _empty_state(plan, truth, inputs, key, probe) -> _GroupState:
    """No seeds yet: each metric's cells ``[configs, G + 1, ...]``, from shapes alone (nothing runs)."""
    lanes = round_chunk_size(1)
    seeds, configs = jax.ShapeDtypeStruct((lanes,), np.uint32), jax.ShapeDtypeStruct((lanes,), np.int32)
    metrics, _ = jax.eval_shape(compiled_chunk(plan, probe), truth, inputs, key, seeds, configs)
    count = len(inputs.t)
    cells = {name: (count, *value.shape[1:]) for name, value in metrics.items()}
    return _GroupState({name: MetricState.empty(c) for name, c in cells.items()},
                       np.zeros((count, plan.generations + 1), np.int64))


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="seed", unit_scale=True, desc="sweep", file=sys.stderr,
                disable=not enabled or jax.process_index() != 0, dynamic_ncols=True)


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
    from .. import __version__

    grid = expand(loop, truth, {} if grid is None else grid)
    seeds = check_count("seeds", seeds, 1)
    if key is None:
        raise ValueError("key is required: pass key=jax.random.key(seed)")
    key = as_key(key)
    quantiles = _check_quantiles(quantiles)
    out = None if out is None else directory_path(out).absolute()
    probe = _check_probe(probe, loop)
    groups = _groups(grid)
    plans = [grid.configs[members[0]].loop.plan() for members in groups]
    truths = [grid.configs[members[0]].truth for members in groups]
    if chunk_size is None:
        chunk_size = min(default_chunk_size(plan, t, seeds, len(m)) for plan, t, m in zip(plans, truths, groups))
    chunk_size = round_chunk_size(check_count("chunk_size", chunk_size, 1))
    key_data = np.asarray(jax.random.key_data(key)).tolist()
    record = describe(grid, loop, truth, seeds, key_data, chunk_size, quantiles)
    identity = fingerprint(record, __version__)
    attrs = {"config": json.dumps(record), "key": json.dumps(key_data), "seeds": seeds, "chunk_size": chunk_size,
             "fingerprint": identity, "jcollapse_version": __version__, "jax_version": jax.__version__}

    result_path = None if out is None else out / _checkpoint.RESULT_NAME
    if result_path is not None and result_path.exists():
        finished = xr.load_dataset(result_path, engine="scipy")
        if finished.attrs.get("fingerprint") != identity:
            raise ValueError(f"out={str(out)!r} already holds the result of a different sweep; choose another out")
        return finished

    inputs = [jax.tree.map(lambda *x: np.stack(x), *(host_inputs(grid.configs[i].loop, plan) for i in members))
              for plan, members in zip(plans, groups)]
    states = [_empty_state(plan, t, x, key, probe) for plan, t, x in zip(plans, truths, inputs)]
    process, processes = jax.process_index(), jax.process_count()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        saved = _checkpoint.load_checkpoint(out, process, identity, processes)
        if saved is not None:
            states = saved["groups"]

    chunks = -(-seeds // chunk_size)
    valid = lambda c: min(chunk_size, seeds - c * chunk_size)  # the last chunk's padding lanes are dropped
    done = [state.done for state in states]  # from a checkpoint, when resuming
    todo = [(g, c) for g in range(len(groups)) for c in _devices.process_chunks(chunks) if c not in done[g]]
    with _progress_bar(sum(valid(c) * len(groups[g]) for g, c in todo), progress) as bar:
        for g, c in todo:
            count = len(groups[g])
            indices = np.tile(np.arange(c * chunk_size, (c + 1) * chunk_size, dtype=np.uint32), count)
            configs = np.repeat(np.arange(count, dtype=np.int32), chunk_size)
            function = compiled_chunk(plans[g], probe)
            metrics, status = _devices.run_sharded(function, (truths[g], inputs[g], key), indices, configs)
            summaries, failed = summarise_chunk(metrics, status, count, valid(c))
            for name, summary in summaries.items():
                states[g].metrics[name].add(c, summary)
            states[g].failed += failed
            if out is not None:
                _checkpoint.save_checkpoint(out, process, {"fingerprint": identity, "processes": processes,
                                                           "groups": states})
            bar.update(valid(c) * count)

    merged, *others = _devices.allgather(states)
    for other in others:
        for mine, theirs in zip(merged, other):
            mine.merge(theirs)
    summaries = [{name: state.summary(quantiles) for name, state in group.metrics.items()} for group in merged]
    dataset = build_dataset(grid, groups, summaries, [group.failed for group in merged], quantiles, attrs)
    if out is not None and process == 0:
        _checkpoint.write_atomically(result_path, lambda tmp: dataset.to_netcdf(tmp, engine="scipy"))
        _checkpoint.remove_checkpoints(out)
    return dataset
