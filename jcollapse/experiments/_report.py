"""Facts and number formats shared by the experiments' written reports."""

from __future__ import annotations

import csv
import io
import os
import platform
import time
from pathlib import Path
from typing import Callable, Union

import numpy as np

from ..internal.atomic import directory_path


def machine_facts() -> list[tuple[str, str]]:
    """Labelled facts about the machine and software a report was produced on.

    **Returns:**

    ``(label, value)`` pairs: jcollapse, jax/jaxlib, backend and devices, Python,
    platform, CPU cores.

    ```python
    >>> dict(machine_facts())["python"] == platform.python_version()
    True

    ```
    """
    import jax
    import jaxlib

    import jcollapse

    devices = jax.devices()
    return [
        ("jcollapse", jcollapse.__version__),
        ("jax / jaxlib", f"{jax.__version__} / {jaxlib.__version__}"),
        ("backend", f"{jax.default_backend()} ({len(devices)} × {devices[0].device_kind})"),
        ("python", platform.python_version()),
        ("platform", platform.platform()),
        ("cpu cores", f"{os.cpu_count()} (usable: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'})"),
    ]


def format_number(value: float, digits: int, fixed: bool = False) -> str:
    """``value`` with ``digits`` significant digits (or, with ``fixed``, signed with
    ``digits`` decimals); an em dash for NaN or infinity.

    ```python
    >>> format_number(0.123456, 3), format_number(1.5, 2, fixed=True), format_number(float("nan"), 3)
    ('0.123', '+1.50', '—')

    ```
    """
    if not np.isfinite(value):
        return "—"
    return f"{value:+.{digits}f}" if fixed else f"{value:.{digits}g}"


def summary_markdown_tail(runtime: dict[str, float]) -> str:
    """The "Machine and runtime" section that ends every experiment's ``summary.md``.

    **Arguments:**

    - `runtime`: labelled wall times in seconds.

    **Returns:**

    Markdown text ending with a newline.

    ```python
    >>> summary_markdown_tail({"total": 1.25}).splitlines()[0]
    '## Machine and runtime'

    ```
    """
    lines = ["## Machine and runtime", ""]
    lines += [f"- {label}: {value}" for label, value in machine_facts()]
    lines += [f"- {label}: {seconds:.1f} s" for label, seconds in runtime.items()]
    return "\n".join(lines) + "\n"


def csv_text(rows: list[dict]) -> str:
    """`rows` (dicts with the same keys) as CSV text, floats with 8 significant digits.

    ```python
    >>> print(csv_text([{"a": 1, "b": 0.5}]), end="")
    a,b
    1,0.5

    ```
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.8g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def output_directory(out: Union[str, Path]) -> Path:
    """`out` as a ``Path``, checked before any simulation: it must not be an existing file.

    ```python
    >>> output_directory("out/bc").name
    'bc'

    ```
    """
    return directory_path(out, "--out")


def progress(log, start: float) -> Callable[[str], None]:
    """A function printing ``text`` and the seconds since `start` to `log` (nothing for ``None``).

    ```python
    >>> import sys
    >>> say = progress(sys.stdout, time.perf_counter())
    >>> say("warm-up")  # doctest: +ELLIPSIS
      warm-up ... s

    ```
    """

    def say(text: str) -> None:
        if log is not None:
            print(f"  {text:45s} {time.perf_counter() - start:7.1f} s", file=log, flush=True)

    return say


def write_reproduction(
    out: Union[str, Path],
    *,
    figures: Callable[[], dict],
    tables: dict[str, list[dict]],
    summary: str,
    simulate_seconds: float,
    started: float,
    log=None,
) -> None:
    """Write a reproduction's figures, CSV tables and ``summary.md`` into `out`, atomically
    (:func:`jcollapse.internal.atomic.atomic_directory`): `out` is replaced only once complete.

    **Arguments:**

    - `out`: the output directory.
    - `figures`: a callable returning ``{file name: matplotlib figure}`` (called inside,
      so that drawing counts in the reported runtime).
    - `tables`: ``{file name: rows}``, written with :func:`csv_text`.
    - `summary`: the Markdown report; the machine and runtime section is appended.
    - `simulate_seconds`: wall time of the simulations, for the runtime section.
    - `started`: ``time.perf_counter()`` at program start.
    - `log`: a text stream for the closing progress line (default: none).

    ```python
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "r"
    >>> write_reproduction(out, figures=dict, tables={"t.csv": [{"a": 1}]}, summary="# R",
    ...                    simulate_seconds=0.0, started=time.perf_counter())
    >>> sorted(p.name for p in out.iterdir())
    ['summary.md', 't.csv']

    ```
    """
    from ..internal.atomic import atomic_directory
    from ._figures import save

    with atomic_directory(out) as tmp:
        figures_start = time.perf_counter()
        for name, fig in figures().items():
            save(fig, tmp / name)
        for name, rows in tables.items():
            (tmp / name).write_text(csv_text(rows), encoding="utf-8")
        runtime = {
            "simulation (all studies, compilation included)": simulate_seconds,
            "figures": time.perf_counter() - figures_start,
            "total (from program start, JAX import included)": time.perf_counter() - started,
        }
        (tmp / "summary.md").write_text(summary + summary_markdown_tail(runtime), encoding="utf-8")
    if log is not None:
        print(f"  wrote {out}/ ({time.perf_counter() - started:.1f} s in total)", file=log, flush=True)
