"""Closed forms on a sweep's grid: :func:`jcollapse.theory.expected` at every point, laid out
as the sweep's Dataset lays out its statistics."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from ..theory import expected
from ._dataset import coordinate
from ._grid import expand


def theory_curves(loop, truth, grid_key: str, values: Sequence, metric: str) -> xr.DataArray:
    """The closed-form expectation of ``metric`` (:func:`jcollapse.theory.expected`) at each
    point of a 1-D grid, with the coordinates :func:`jcollapse.sweep` gives that grid.

    Points are built as the sweep builds them (:func:`jcollapse.sweeps.expand`), so
    ``grid_key`` may be a Loop field (``"real_fraction"``), a schedule parameter
    (``"sample_size.exponent"``) or a model setting (``"model.variance"``).

    **Arguments:**

    - `loop`: the base :class:`jcollapse.Loop`.
    - `truth`: its true parameters, or a function ``model -> params`` (as in the sweep).
    - `grid_key`: the swept key.
    - `values`: its values, a non-empty list.
    - `metric`: a metric name of the loop's model.

    **Returns:**

    A float64 ``xarray.DataArray`` named ``metric`` with dimensions ``(grid_key,
    "generation")``: NaN where no closed form is known for a point (and past a point's
    last generation when ``grid_key="generations"``). Pass it to
    :func:`jcollapse.plot.curves` as ``theory``.

    **Raises:**

    `ValueError` naming the key or value that the grid rejects, or if ``metric`` is not
    a metric of the model.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.Gaussian(dim=1), generations=2, sample_size=10)
    >>> truth = loop.model.params(mean=0.0, cov=[[1.0]])
    >>> theory_curves(loop, truth, "real_fraction", [0.0], "variance").values.round(3)
    array([[0.9  , 0.81 , 0.729]])

    ```
    """
    if not isinstance(grid_key, str):
        raise ValueError(f"grid_key must be a string (a sweep grid key); got {grid_key!r}")
    grid = expand(loop, truth, {grid_key: values})
    length = max(config.loop.generations for config in grid.configs) + 1
    data = np.full((len(grid.configs), length), np.nan)
    for row, config in enumerate(grid.configs):
        try:
            line = expected(config.loop, config.truth, metric)
        except NotImplementedError:
            continue
        data[row, : line.shape[0]] = line
    coords = {grid_key: coordinate(grid.values[0]), "generation": np.arange(length)}
    return xr.DataArray(data, dims=(grid_key, "generation"), coords=coords, name=metric,
                        attrs={"description": f"closed-form expected {metric} (jc.theory.expected); NaN: none known"})
