"""Plotting helpers shared by the reproductions: empirical mean with a band, theory dashed.

Figures are built as :class:`matplotlib.figure.Figure` objects rendered by the Agg canvas
directly, so no global backend is selected and nothing is shown on screen: importing this
module from a notebook does not change the notebook's own backend. matplotlib is imported
on first use, so that the command line starts without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from ..plot import COLOURS, draw_band

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["COLOURS", "band_plot", "curves_panel", "finish_legend", "new_figure", "save", "theory_legend_handle",
           "wants_log"]


def new_figure(rows: int, cols: int, *, width: float = 5.2, height: float = 3.6) -> tuple["Figure", np.ndarray]:
    """A figure of ``rows x cols`` panels on the Agg canvas.

    **Arguments:**

    - `rows`, `cols`: the panel grid.
    - `width`, `height`: size of one panel in inches.

    **Returns:**

    ``(figure, axes)`` with ``axes`` a 2-D object array of shape ``[rows, cols]``.

    ```python
    >>> fig, axes = new_figure(1, 2)
    >>> axes.shape
    (1, 2)

    ```
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415  (matplotlib is imported on first use)
    from matplotlib.figure import Figure  # noqa: PLC0415  (matplotlib is imported on first use)

    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def wants_log(curves: Sequence, width: float = 2.0) -> bool:
    """Whether to draw `curves` on a logarithmic axis: when their means and upper band
    edges (``mean + width * sem``) span more than a factor of 4.

    **Arguments:**

    - `curves`: objects with ``mean`` and ``sem`` arrays (e.g.
      :class:`jcollapse.experiments.Series`).
    - `width`: half-width of the band in standard errors.

    **Returns:**

    A bool.

    ```python
    >>> from types import SimpleNamespace as Curve
    >>> import numpy as np
    >>> wants_log([Curve(mean=np.array([1.0, 100.0]), sem=np.zeros(2))])
    True

    ```
    """
    values = np.concatenate([np.concatenate([c.mean, c.mean + width * c.sem]) for c in curves])
    values = values[np.isfinite(values) & (values > 0)]
    return bool(values.size > 0 and values.max() / values.min() > 4)


def band_plot(
    ax,
    t: np.ndarray,
    mean: np.ndarray,
    sem: np.ndarray,
    *,
    theory: Optional[np.ndarray] = None,
    label: str = "",
    colour: str = COLOURS[0],
    width: float = 2.0,
) -> None:
    """Draw an empirical mean with a ``mean +- width * sem`` band, and theory dashed.

    On a logarithmic axis the lower edge of the band is clipped at a tiny positive value.

    **Arguments:**

    - `ax`: a matplotlib ``Axes``.
    - `t`: generations, shape ``[G + 1]``.
    - `mean`, `sem`: mean over seeds and its standard error, shape ``[G + 1]``.
    - `theory`: the closed-form expectation, shape ``[G + 1]``, or ``None`` (not drawn).
    - `label`: legend label of the empirical curve.
    - `colour`: colour of curve, band and theory line.
    - `width`: half-width of the band in standard errors.

    **Returns:**

    ``None``; draws on `ax`.

    ```python
    >>> import numpy as np
    >>> fig, axes = new_figure(1, 1)
    >>> t = np.arange(3)
    >>> band_plot(axes[0, 0], t, np.ones(3), np.full(3, 0.1), theory=np.ones(3), label="a = 0")

    ```
    """
    draw_band(ax, t, mean, mean - width * sem, mean + width * sem, colour=colour, label=label)
    if theory is not None:
        ax.plot(t, theory, color="black", linewidth=1.1, linestyle=(0, (4, 3)), alpha=0.85)


def curves_panel(ax, curves: Sequence, labels: Sequence[str], *, title: str, width: float = 2.0) -> None:
    """Draw several curves on one panel: each mean with a ``+- width * sem`` band and its
    theory dashed, on a log axis when they span more than a factor of 4 (:func:`wants_log`).

    **Arguments:**

    - `ax`: a matplotlib ``Axes``.
    - `curves`: objects with ``mean``, ``sem`` and ``theory`` (``None`` for none), all
      over generations ``0..G``.
    - `labels`: a legend label per curve.
    - `title`: the panel's title.
    - `width`: half-width of the bands in standard errors.

    **Returns:**

    ``None``; draws on `ax`.

    ```python
    >>> from types import SimpleNamespace as Curve
    >>> import numpy as np
    >>> fig, axes = new_figure(1, 1)
    >>> curve = Curve(mean=np.ones(3), sem=np.zeros(3), theory=None)
    >>> curves_panel(axes[0, 0], [curve], ["a = 0"], title="variance")

    ```
    """
    t = np.arange(curves[0].mean.shape[0])
    ax.set_yscale("log" if wants_log(curves, width) else "linear")
    for i, (label, curve) in enumerate(zip(labels, curves)):
        band_plot(ax, t, curve.mean, curve.sem, theory=curve.theory, label=label, colour=COLOURS[i], width=width)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("generation $t$")
    ax.set_xlim(0, t[-1])
    ax.grid(True, which="major", alpha=0.3)


def theory_legend_handle(label: str = "theory (closed form)"):
    """A legend handle for the dashed theory line (black, dashed).

    **Arguments:**

    - `label`: the legend text.

    **Returns:**

    A ``matplotlib.lines.Line2D`` usable in ``ax.legend(handles=...)``.

    ```python
    >>> theory_legend_handle().get_linestyle()
    '--'

    ```
    """
    from matplotlib.lines import Line2D  # noqa: PLC0415  (matplotlib is imported on first use)

    return Line2D([], [], color="black", linewidth=1.1, linestyle="--", label=label)


def finish_legend(ax, *, extra: Sequence = (), loc: str = "best") -> None:
    """Add a legend with the axes' labelled lines plus `extra` handles.

    **Arguments:**

    - `ax`: a matplotlib ``Axes``.
    - `extra`: further legend handles, e.g. :func:`theory_legend_handle`.
    - `loc`: legend location.

    **Returns:**

    ``None``.

    ```python
    >>> fig, axes = new_figure(1, 1)
    >>> finish_legend(axes[0, 0], extra=[theory_legend_handle()])

    ```
    """
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, *extra], loc=loc, fontsize=8, framealpha=0.85)


def save(fig: Figure, path: Path, *, dpi: int = 130) -> Path:
    """Write `fig` as a PNG to `path`.

    **Arguments:**

    - `fig`: the figure.
    - `path`: destination file.
    - `dpi`: resolution.

    **Returns:**

    `path`.

    ```python
    >>> import tempfile, pathlib
    >>> fig, _ = new_figure(1, 1)
    >>> save(fig, pathlib.Path(tempfile.mkdtemp()) / "x.png").name
    'x.png'

    ```
    """
    path = Path(path)
    fig.savefig(path, dpi=dpi, format="png")
    return path
