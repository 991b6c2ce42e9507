"""Plots of a sweep's ``xarray.Dataset`` (see :func:`jcollapse.sweep`).

- :func:`curves`: a metric's mean over seeds against generation, one line per value of a
  grid dimension, with a band (``mean +- 2 sem`` or a quantile range) and, optionally,
  the closed-form expectation dashed in the same colour (for a sweep's grid,
  :func:`jcollapse.sweeps.theory_curves` computes it).
- :func:`heatmap`: one statistic of a metric over a 2-D grid at one generation.

Each function draws on the ``ax`` it is given, or on a new figure rendered by the Agg
canvas directly (no global backend is selected and nothing is shown), and returns the
matplotlib ``Axes``; its figure is ``ax.figure``. matplotlib is imported on first use.

```python
import jax, jcollapse as jc
model = jc.models.GaussianMean(dim=1)
loop = jc.Loop(model, generations=20, sample_size=10, mixing="split")
truth = model.params(mean=0.0, cov=[[1.0]])
fractions = [0.1, 0.5, 0.9]
ds = jc.sweep(loop, truth, {"real_fraction": fractions}, seeds=200, key=jax.random.key(0))
theory = jc.sweeps.theory_curves(loop, truth, "real_fraction", fractions, "mean_sq_error")
ax = jc.plot.curves(ds, "mean_sq_error", theory=theory)
ax.figure.savefig("curves.png")
```
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import xarray as xr

__all__ = ["COLOURS", "curves", "draw_band", "heatmap"]

#: Colours for successive curves (matplotlib's tab10, colour-blind friendlier order), shared with
#: the experiments' figures; more curves than colours take evenly spaced viridis colours instead.
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
#: The values of ``band`` that :func:`curves` accepts.
BANDS = ("sem", "quantiles", None)
#: Half-width of the ``band="sem"`` band, in standard errors.
SEM_WIDTH = 2.0
#: Smallest value drawn on a logarithmic axis: a band that crosses zero is clipped here.
_LOG_FLOOR = 1e-12
#: ``logy=None``/``log=None`` choose a log scale when positive values span more than this factor.
_LOG_SPAN = 100.0
_FIXED = ("generation", "stat")


# ---------------------------------------------------------------------------- helpers


def _new_axes(width: float = 6.0, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415  (matplotlib is imported on first use)
    from matplotlib.figure import Figure  # noqa: PLC0415  (matplotlib is imported on first use)

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def _python(value):
    """A NumPy scalar as the Python scalar it holds."""
    return value.item() if isinstance(value, np.generic) else value


def _fmt(value) -> str:
    value = _python(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _metric(ds, metric) -> xr.DataArray:
    """The variable ``metric`` of a sweep's Dataset, validated."""
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"ds must be an xarray.Dataset returned by jc.sweep; got {type(ds).__name__}")
    names = [str(n) for n, v in ds.data_vars.items() if all(d in v.dims for d in _FIXED)]
    if not isinstance(metric, str) or metric not in names:
        raise ValueError(f"metric must be one of {', '.join(map(repr, names)) or 'none'} "
                         f"(variables of ds with 'generation' and 'stat' dimensions); got {metric!r}")
    return ds[metric]


def _grid_dims(da: xr.DataArray) -> list[str]:
    return [str(d) for d in da.dims if d not in _FIXED]


def _sizes(da: xr.DataArray, dims: Sequence[str]) -> str:
    return ", ".join(f"{d!r} ({da.sizes[d]} values)" for d in dims)


def _stat(da: xr.DataArray, name: str, argument: str) -> xr.DataArray:
    stats = [str(s) for s in da["stat"].values]
    if name not in stats:
        raise ValueError(f"{argument} needs the stat {name!r}, which ds does not have; its stats are "
                         f"{', '.join(map(repr, stats))}")
    return da.sel(stat=name)


def _quantile_names(da: xr.DataArray) -> tuple[str, str]:
    """The stats bounding the ``band="quantiles"`` band: q0.25 and q0.75, else the outermost quantiles."""
    quantiles = {}
    for name in (str(s) for s in da["stat"].values):
        if name.startswith("q"):
            try:
                quantiles[float(name[1:])] = name
            except ValueError:
                pass
    if 0.25 in quantiles and 0.75 in quantiles:
        return quantiles[0.25], quantiles[0.75]
    if len(quantiles) < 2:
        raise ValueError(f"band='quantiles' needs at least two quantile stats (q...); ds has "
                         f"{', '.join(map(repr, quantiles.values())) or 'none'}")
    return quantiles[min(quantiles)], quantiles[max(quantiles)]


def _fixed_title(da: xr.DataArray, keep: Sequence[str]) -> str:
    """``"key = value, ..."`` for the coordinates held at one value (selected or of size 1)."""
    parts = []
    for name, coord in da.coords.items():
        if name in _FIXED or name in keep:
            continue
        if coord.ndim == 0:
            parts.append(f"{name} = {_fmt(coord.values.item())}")
        elif coord.ndim == 1 and coord.dims[0] == name and coord.size == 1:
            parts.append(f"{name} = {_fmt(coord.values[0])}")
    return ", ".join(parts)


def draw_band(ax, t, mean, lower, upper, *, colour: str, label: str) -> None:
    """Draw ``mean`` as a line over a shaded ``[lower, upper]`` band, in one colour.

    On a logarithmic axis the band's lower edge is clipped at ``max(1e-12, 1e-3 |mean|)``,
    so a band that crosses zero stays drawable. Shared by :func:`curves` and the
    experiments' figures.

    ```python
    >>> ax = _new_axes()
    >>> draw_band(ax, np.arange(3), np.ones(3), np.zeros(3), np.full(3, 2.0), colour="k", label="a")
    >>> len(ax.lines), len(ax.collections)
    (1, 1)

    ```
    """
    mean, lower = np.asarray(mean, dtype=np.float64), np.asarray(lower, dtype=np.float64)
    if ax.get_yscale() == "log":
        lower = np.maximum(lower, np.maximum(_LOG_FLOOR, 1e-3 * np.abs(mean)))
    ax.fill_between(t, lower, upper, color=colour, alpha=0.22, linewidth=0)
    ax.plot(t, mean, color=colour, linewidth=1.6, label=label)


def _auto_log(values: np.ndarray) -> bool:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return bool(values.size > 0 and values.min() > 0 and values.max() / values.min() > _LOG_SPAN)


def _colours(count: int) -> list:
    if count <= len(COLOURS):
        return list(COLOURS[:count])
    from matplotlib import colormaps  # noqa: PLC0415  (matplotlib is imported on first use)

    return [colormaps["viridis"](x) for x in np.linspace(0.0, 0.9, count)]


def _theory_line(theory, hue: Optional[str], value, generations: np.ndarray) -> Optional[np.ndarray]:
    """The theory curve for one hue value, over ``generations``, or ``None`` when it is all NaN."""
    if isinstance(theory, xr.DataArray):
        extra = [str(d) for d in theory.dims if d not in ("generation", hue)]
        if "generation" not in theory.dims or extra:
            raise ValueError(f"theory must be a DataArray with dimensions ('generation',) or "
                             f"({hue!r}, 'generation'); got {tuple(theory.dims)}")
        if hue is not None and hue in theory.dims:
            if value not in theory[hue].values:
                raise ValueError(f"theory has no curve for {hue} = {_fmt(value)}; its {hue} values are "
                                 f"{', '.join(_fmt(v) for v in theory[hue].values)}")
            theory = theory.sel({hue: value})
        line = theory.reindex(generation=generations).values
    elif callable(theory):
        line = np.asarray(theory(value), dtype=np.float64)
        if line.shape != generations.shape:
            raise ValueError(f"theory({_fmt(value)!s}) must return an array of shape {generations.shape} "
                             f"(one value per generation); got shape {line.shape}")
    else:
        raise ValueError(f"theory must be None, an xarray.DataArray or a callable value -> array; "
                         f"got {type(theory).__name__}")
    line = np.asarray(line, dtype=np.float64)
    return None if np.all(np.isnan(line)) else line


# ---------------------------------------------------------------------------- curves


def curves(
    ds: xr.Dataset,
    metric: str,
    *,
    hue: Optional[str] = None,
    band: Optional[str] = "sem",
    theory: Union[None, xr.DataArray, Callable[[Any], Any]] = None,
    ax=None,
    logy: Optional[bool] = None,
    title: Optional[str] = None,
):
    """Plot a metric's mean over seeds against generation, one line per value of ``hue``.

    Every grid dimension other than ``hue`` must hold one value: of size 1, or selected
    beforehand (``ds.sel(mixing="split")``). The legend names each line's ``hue`` value
    and what the band is; the theory lines are dashed, in their curve's colour.

    **Arguments:**

    - `ds`: a Dataset returned by :func:`jcollapse.sweep` (or a selection of one).
    - `metric`: the variable to plot, e.g. ``"mean_sq_error"``.
    - `hue`: the grid dimension whose values are the lines. Default: the only grid
      dimension with more than one value (one line when there is none).
    - `band`: ``"sem"``: ``mean +- 2 sem`` (the mean's 95 % interval over seeds);
      ``"quantiles"``: between the ``q0.25`` and ``q0.75`` stats, else the lowest and
      highest quantiles present (``min`` and ``max`` are not used); ``None``: no band.
    - `theory`: ``None``; an ``xarray.DataArray`` with dimensions ``(hue, "generation")``
      or ``("generation",)`` (e.g. from :func:`jcollapse.sweeps.theory_curves`); or a callable
      ``hue value -> array [G + 1]`` (called with ``None`` when there is no ``hue``).
      All-NaN curves (no closed form) are not drawn.
    - `ax`: a matplotlib ``Axes`` to draw on; default a new figure's.
    - `logy`: logarithmic y axis. Default: when every plotted mean is positive and they
      span more than two decades.
    - `title`: the title; default the metric and the grid values held fixed.

    **Returns:**

    The matplotlib ``Axes``.

    **Raises:**

    `ValueError` naming the argument: ``metric`` not a metric of ``ds``; ``hue`` not a
    grid dimension, or not given while several dimensions have more than one value;
    another grid dimension with more than one value (select it first); ``band`` not one
    of ``"sem"``, ``"quantiles"``, ``None``, or its stats missing; ``theory`` of the
    wrong dimensions or shape.

    ```python
    >>> import numpy as np, xarray as xr
    >>> from jcollapse import plot
    >>> stats = ["mean", "sem", "min", "q0.25", "q0.5", "q0.75", "max"]
    >>> values = np.ones((2, 4, 7)) * np.array([[1.0], [2.0]])[:, :, None]
    >>> ds = xr.Dataset({"variance": (("real_fraction", "generation", "stat"), values)},
    ...                 coords={"real_fraction": [0.1, 0.9], "generation": np.arange(4), "stat": stats})
    >>> ax = plot.curves(ds, "variance", band="quantiles")
    >>> [line.get_label() for line in ax.get_lines()]
    ['real_fraction = 0.1', 'real_fraction = 0.9']

    ```
    """
    da = _metric(ds, metric)
    if band not in BANDS:
        raise ValueError(f"band must be one of 'sem', 'quantiles', None; got {band!r}")
    if logy is not None and not isinstance(logy, (bool, np.bool_)):
        raise ValueError(f"logy must be True, False or None; got {logy!r}")
    dims = _grid_dims(da)
    if hue is None:
        varying = [d for d in dims if da.sizes[d] > 1]
        if len(varying) > 1:
            raise ValueError(f"hue must be given: several grid dimensions have more than one value: "
                             f"{_sizes(da, varying)}; pass hue=one of them and .sel() the others")
        hue = varying[0] if varying else None
    elif hue not in dims:
        raise ValueError(f"hue must be a grid dimension of ds[{metric!r}]: one of "
                         f"{', '.join(map(repr, dims)) or 'none'}; got {hue!r}")
    others = [d for d in dims if d != hue and da.sizes[d] > 1]
    if others:
        raise ValueError(f"hue={hue!r} is plotted, but other grid dimensions have more than one value: "
                         f"{_sizes(da, others)}; select one value of each first, e.g. "
                         f"ds.sel({others[0]}={_python(da[others[0]].values[0])!r})")
    da = da.isel({d: 0 for d in dims if d != hue})

    mean = _stat(da, "mean", "the mean line")
    if band == "sem":
        sem = _stat(da, "sem", "band='sem'")
        lower, upper = mean - SEM_WIDTH * sem, mean + SEM_WIDTH * sem
        band_label = f"mean \u00b1 {SEM_WIDTH:g} sem over seeds"
    elif band == "quantiles":
        low, high = _quantile_names(da)
        lower, upper = da.sel(stat=low), da.sel(stat=high)
        band_label = f"{low}\u2013{high} over seeds"
    hue_values = list(da[hue].values) if hue is not None else [None]
    generations = np.asarray(da["generation"].values)

    if ax is None:
        ax = _new_axes()
    if logy is None:
        logy = _auto_log(mean.values)
    ax.set_yscale("log" if logy else "linear")
    colours = _colours(len(hue_values))
    drew_theory = False
    for colour, value in zip(colours, hue_values):
        pick = (lambda x, value=value: x.sel({hue: value})) if hue is not None else (lambda x: x)
        m = np.asarray(pick(mean).values, dtype=np.float64)
        label = metric if hue is None else f"{hue} = {_fmt(value)}"
        if band is not None:
            draw_band(ax, generations, m, pick(lower).values, pick(upper).values, colour=colour, label=label)
        else:
            ax.plot(generations, m, color=colour, linewidth=1.6, label=label)
        if theory is not None:
            line = _theory_line(theory, hue, value, generations)
            if line is not None:
                ax.plot(generations, line, color=colour, linewidth=1.1, linestyle="--", alpha=0.9)
                drew_theory = True

    from matplotlib.lines import Line2D  # noqa: PLC0415  (matplotlib is imported on first use)
    from matplotlib.patches import Patch  # noqa: PLC0415  (matplotlib is imported on first use)

    handles, _ = ax.get_legend_handles_labels()
    if band is not None:
        handles.append(Patch(color="grey", alpha=0.3, linewidth=0, label=band_label))
    if drew_theory:
        handles.append(Line2D([], [], color="grey", linewidth=1.1, linestyle="--", label="theory (closed form)"))
    ax.legend(handles=handles, fontsize=8, framealpha=0.85)
    if title is None:
        fixed = _fixed_title(da, [hue] if hue is not None else [])
        title = metric + (f" ({fixed})" if fixed else "")
    ax.set_title(title, fontsize=10)
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415  (matplotlib is imported on first use)

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation")
    ax.set_ylabel(metric)
    if len(generations) > 1:
        ax.set_xlim(generations[0], generations[-1])
    ax.grid(True, which="major", alpha=0.3)
    return ax


# ---------------------------------------------------------------------------- heatmap


def heatmap(
    ds: xr.Dataset,
    metric: str,
    *,
    x: str,
    y: str,
    generation: int = -1,
    stat: str = "mean",
    ax=None,
    log: Optional[bool] = None,
):
    """Show one statistic of a metric over a 2-D grid, at one generation, with a colorbar.

    Cells are equally spaced and labelled with the coordinate values; ``y`` increases
    upward. NaN cells (a point with fewer generations) are left blank.

    **Arguments:**

    - `ds`: a Dataset returned by :func:`jcollapse.sweep` (or a selection of one).
    - `metric`: the variable to show, e.g. ``"mean_sq_error"``.
    - `x`, `y`: the grid dimensions along the horizontal and vertical axes.
    - `generation`: a value of the ``generation`` coordinate, or a negative position
      counted from the end (default ``-1``: the last generation).
    - `stat`: a value of the ``stat`` coordinate (``"mean"``, ``"sem"``, ``"q0.5"``, ...).
    - `ax`: a matplotlib ``Axes`` to draw on; default a new figure's.
    - `log`: logarithmic colour scale. Default: when every finite value is positive and
      they span more than two decades.

    **Returns:**

    The matplotlib ``Axes`` (its image is ``ax.images[0]``).

    **Raises:**

    `ValueError` naming the argument: ``metric`` not a metric of ``ds``; ``x`` or ``y``
    not a grid dimension, or the same one; another grid dimension with more than one
    value (select it first); ``generation`` or ``stat`` not in ``ds``.

    ```python
    >>> import numpy as np, xarray as xr
    >>> from jcollapse import plot
    >>> values = np.arange(24.0).reshape(2, 3, 2, 2)
    >>> ds = xr.Dataset({"variance": (("mixing", "real_fraction", "generation", "stat"), values)},
    ...                 coords={"mixing": ["iid", "split"], "real_fraction": [0.1, 0.5, 0.9],
    ...                         "generation": [0, 1], "stat": ["mean", "sem"]})
    >>> ax = plot.heatmap(ds, "variance", x="real_fraction", y="mixing")
    >>> ax.images[0].get_array().tolist()
    [[2.0, 6.0, 10.0], [14.0, 18.0, 22.0]]

    ```
    """
    da = _metric(ds, metric)
    dims = _grid_dims(da)
    for name, dim in (("x", x), ("y", y)):
        if dim not in dims:
            raise ValueError(f"{name} must be a grid dimension of ds[{metric!r}]: one of "
                             f"{', '.join(map(repr, dims)) or 'none'}; got {dim!r}")
    if x == y:
        raise ValueError(f"x and y must be different grid dimensions; both are {x!r}")
    others = [d for d in dims if d not in (x, y) and da.sizes[d] > 1]
    if others:
        raise ValueError(f"x={x!r} and y={y!r} are shown, but other grid dimensions have more than one value: "
                         f"{_sizes(da, others)}; select one value of each first, e.g. "
                         f"ds.sel({others[0]}={_python(da[others[0]].values[0])!r})")
    if log is not None and not isinstance(log, (bool, np.bool_)):
        raise ValueError(f"log must be True, False or None; got {log!r}")
    stats = [str(s) for s in da["stat"].values]
    if stat not in stats:
        raise ValueError(f"stat must be one of {', '.join(map(repr, stats))}; got {stat!r}")
    available = np.asarray(da["generation"].values)
    if isinstance(generation, (bool, np.bool_)) or not isinstance(generation, (int, np.integer)):
        raise ValueError(f"generation must be an integer; got {generation!r}")
    if generation < -available.size:
        raise ValueError(f"generation={generation} counts back past the first of ds's {available.size} generations")
    if generation >= 0 and generation not in available:
        raise ValueError(f"generation must be one of ds's generations {_fmt(available[0])}..{_fmt(available[-1])} "
                         f"or a negative position from the end; got {generation}")
    generation = available[generation].item() if generation < 0 else int(generation)
    da = da.isel({d: 0 for d in dims if d not in (x, y)})
    cells = da.sel(stat=stat, generation=generation).transpose(y, x)
    data = np.ma.masked_invalid(np.asarray(cells.values, dtype=np.float64))

    from matplotlib.colors import LogNorm  # noqa: PLC0415  (matplotlib is imported on first use)

    if log is None:
        log = _auto_log(data.compressed())
    norm = None
    if log:
        positive = data.compressed()[data.compressed() > 0]
        if positive.size:
            norm = LogNorm(vmin=positive.min(), vmax=positive.max())
    if ax is None:
        ax = _new_axes()
    image = ax.imshow(data, origin="lower", aspect="auto", interpolation="nearest", norm=norm, cmap="viridis")
    ax.figure.colorbar(image, ax=ax, label=f"{metric} ({stat})")
    for axis, dim, size in ((ax.xaxis, x, data.shape[1]), (ax.yaxis, y, data.shape[0])):
        step = max(1, -(-size // 12))  # at most ~12 labels per axis
        ticks = np.arange(0, size, step)
        axis.set_ticks(ticks)
        axis.set_ticklabels([_fmt(v) for v in cells[dim].values[ticks]])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fixed = _fixed_title(da, [x, y])
    ax.set_title(f"{metric} ({stat}) at generation {generation}" + (f"; {fixed}" if fixed else ""), fontsize=10)
    return ax
