"""The figures ``jcollapse sweep`` writes beside ``sweep.nc``: one per metric."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from .. import plot
from ..internal.atomic import write_atomically


def write_figures(dataset: xr.Dataset, out) -> list[Path]:
    """One PNG per metric: curves over generations with ±2 SE bands (grids of one varying
    key, the others of size 1), or a heatmap at the last generation (two varying keys).

    Each file is written atomically; a grid of more varying keys gets no figures.

    **Returns:**

    The paths written.

    ```python
    >>> import numpy as np, tempfile, xarray as xr
    >>> values = np.ones((2, 3, 2)); values[..., 1] = 0.1
    >>> ds = xr.Dataset({"err": (("real_fraction", "generation", "stat"), values),
    ...                  "failed": (("real_fraction", "generation"), np.zeros((2, 3), int))},
    ...                 coords={"real_fraction": [0.1, 0.5], "generation": [0, 1, 2], "stat": ["mean", "sem"]})
    >>> [p.name for p in write_figures(ds, tempfile.mkdtemp())]
    ['err.png']

    ```
    """
    varying = [d for d in dataset["failed"].dims if d != "generation" and dataset.sizes[d] > 1]
    if len(varying) > 2:
        return []
    written = []
    for metric in (name for name in dataset.data_vars if name != "failed"):
        if any(d.startswith(f"{metric}_axis") for d in dataset[metric].dims):
            continue  # a probe metric with axes of its own: no default figure
        if len(varying) == 2:
            ax = plot.heatmap(dataset, metric, x=varying[1], y=varying[0])
        else:
            ax = plot.curves(dataset, metric, hue=varying[0] if varying else None)
        path = Path(out) / f"{metric}.png"
        write_atomically(path, lambda tmp, figure=ax.figure: figure.savefig(tmp, dpi=120, format="png"))
        written.append(path)
    return written
