"""Facts and number formats shared by the experiments' written reports."""

from __future__ import annotations

import os
import platform

import numpy as np


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
