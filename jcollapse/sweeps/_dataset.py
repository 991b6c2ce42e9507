"""The sweep's result as an ``xarray.Dataset``: grid keys, ``generation`` and ``stat`` as dimensions."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._grid import Grid, label
from ._stats import stat_names


def coordinate(values: tuple) -> np.ndarray:
    """A grid key's values as a Dataset coordinate: numbers as numbers, anything else as text."""
    labels = [label(v) for v in values]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels):
        return np.asarray(labels)
    return np.asarray([str(v) for v in labels])


def build_dataset(grid: Grid, groups: list, summaries: list, failed: list, quantiles, attrs: dict) -> xr.Dataset:
    """Assemble the per-group summaries into one Dataset.

    **Arguments:**

    - `grid`: the expanded grid.
    - `groups`: per compile group, the indices of its configurations in ``grid.configs``.
    - `summaries`: per group, metric name -> ``[configs, G + 1, ..., stat]`` array.
    - `failed`: per group, ``[configs, G + 1]`` counts of seeds with a non-zero status.
    - `quantiles`: the quantiles along ``stat``.
    - `attrs`: the Dataset's attributes.

    **Returns:**

    One variable per metric, dimensions ``(*grid keys, "generation", [metric axes], "stat")``,
    and ``failed`` with ``(*grid keys, "generation")``. Configurations with fewer
    generations than the longest are padded with NaN (and ``failed`` with -1).
    """
    length = max(config.loop.generations for config in grid.configs) + 1
    stats = stat_names(quantiles)
    variables = {}
    failed_all = np.full((*grid.shape, length), -1, np.int32)
    for members, summary, failures in zip(groups, summaries, failed):
        positions = [grid.configs[index].index for index in members]
        for row, position in enumerate(positions):
            failed_all[position][: failures.shape[1]] = failures[row]
        for name, values in summary.items():
            if name not in variables:
                variables[name] = np.full((*grid.shape, length, *values.shape[2:]), np.nan)
            for row, position in enumerate(positions):
                variables[name][position][: values.shape[1]] = values[row]
    coords = {name: coordinate(values) for name, values in zip(grid.names, grid.values)}
    coords.update(generation=np.arange(length), stat=np.asarray(stats))
    data = {}
    for name, values in variables.items():
        extra = tuple(f"{name}_axis{i}" for i in range(values.ndim - len(grid.shape) - 2))
        data[name] = ((*grid.names, "generation", *extra, "stat"), values)
    data["failed"] = ((*grid.names, "generation"), failed_all,
                      {"description": "seeds whose fit was non-finite or degenerate (status != 0); -1 past G"})
    return xr.Dataset(data, coords=coords, attrs=attrs)
