"""Text the driver writes: ``summary.md``, a reproduction's ``index.html`` and the index of
``--all``, rendered from Jinja2 templates, plus CSV text and number formats."""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import platform
from typing import Any, Mapping, Sequence

import jax
import jaxlib
import jinja2
import numpy as np

from ..internal.version import VERSION
from ._protocol import Check

#: ``summary.md``: the reproduction's own body, then its checks, figures, machine and runtime.
SUMMARY_TEMPLATE = """{{ body | trim }}

## Checks

Every closed form this reproduction compares with its simulation (also in `checks.csv`):
the statistic compared, how (which standard error, or why a form is shown but not
checked), over how many points, and the largest |z| = |mean − theory| / SE there. An
exact closed form with a sound check keeps |z| below about 4; for an approximation |z|
also measures the approximation's own error.

| check | closed form | kind | statistic | how | points | worst \\|z\\| | note |
|---|---|---|---|---|---|---|---|
{% for c in checks %}
| {{ c.name | cell }} | `{{ c.closed_form }}` | {{ c.kind }} | {{ c.statistic | cell }} | {{ c.interval | cell }} \
| {{ c.points }} | {{ c.worst_z | num(3) }} | {{ c.note | cell }} |
{% endfor %}

## Figures

{% for name, caption in figures.items() %}
![{{ name }}]({{ name }})

*{{ caption }}*

{% endfor %}
## Machine and runtime

{% for label, value in machine %}
- {{ label }}: {{ value }}
{% endfor %}
{% for label, seconds in runtime.items() %}
- {{ label }}: {{ "%.1f" | format(seconds) }} s
{% endfor %}
"""

_STYLE = """body { font-family: system-ui, sans-serif; max-width: 78em; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: .25em .5em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } img { max-width: 100%; }
figure { margin: 2em 0; } figcaption { color: #333; max-width: 60em; }"""

#: A reproduction's ``index.html``: its checks table and its figures, with links to its files.
PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ reproduction.name }}: {{ reproduction.title }}</title>
<style>
{{ style }}
</style>
</head>
<body>
{% if parent %}
<p><a href="../index.html">All reproductions</a></p>
{% endif %}
<h1>{{ reproduction.title }}</h1>
<p><code>jcollapse {{ command }}</code>: {{ r.seeds }} seeds, {{ r.generations }} generations,
PRNG <code>jax.random.key({{ r.key }})</code>. {{ verdict }}</p>
<p>Files: {% for name in files %}<a href="{{ name }}">{{ name }}</a>{{ ", " if not loop.last }}{% endfor %}.</p>
<h2>Checks</h2>
<p>Each closed form against the simulation: the statistic compared, how, over how many points,
and the largest |z| = |mean − theory| / SE there.</p>
<table id="checks">
<thead><tr><th>check</th><th>closed form</th><th>kind</th><th>statistic</th><th>how</th><th>points</th>
<th>worst |z|</th><th>note</th></tr></thead>
<tbody>
{% for c in checks %}
<tr><td>{{ c.name }}</td><td><code>{{ c.closed_form }}</code></td><td>{{ c.kind }}</td><td>{{ c.statistic }}</td>
<td>{{ c.interval }}</td><td class="num">{{ c.points }}</td><td class="num">{{ c.worst_z | num(3) }}</td>
<td>{{ c.note }}</td></tr>
{% endfor %}
</tbody>
</table>
<h2>Figures</h2>
{% for name, caption in figures.items() %}
<figure><img src="{{ name }}" alt="{{ name }}"><figcaption>{{ caption }}</figcaption></figure>
{% endfor %}
<h2>Machine and runtime</h2>
<ul>
{% for label, value in machine %}
<li>{{ label }}: {{ value }}</li>
{% endfor %}
{% for label, seconds in runtime.items() %}
<li>{{ label }}: {{ "%.1f" | format(seconds) }} s</li>
{% endfor %}
</ul>
</body>
</html>
"""

#: ``DIR/index.html`` of ``jcollapse reproduce --all``: a line per reproduction.
INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>jcollapse reproductions</title>
<style>
{{ style }}
</style>
</head>
<body>
<h1>jcollapse reproductions</h1>
<p>Each paper's experiments simulated next to their closed forms. Verdict: the largest |z| =
|mean − theory| / SE over the reproduction's checks of exact closed forms (and, apart, of
approximations); each page lists every check.</p>
<table id="reproductions">
<thead><tr><th>reproduction</th><th>title</th><th>seeds</th><th>generations</th><th>verdict</th>
<th>runtime</th></tr></thead>
<tbody>
{% for report in reports %}
<tr><td><a href="{{ report.name }}/index.html">{{ report.name }}</a></td><td>{{ report.title }}</td>
<td class="num">{{ report.result.seeds }}</td><td class="num">{{ report.result.generations }}</td>
<td>{{ report.verdict }}</td><td class="num">{{ "%.1f" | format(report.seconds) }} s</td></tr>
{% endfor %}
</tbody>
</table>
<ul>
{% for label, value in machine %}
<li>{{ label }}: {{ value }}</li>
{% endfor %}
</ul>
</body>
</html>
"""


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
    devices = jax.devices()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return [
        ("jcollapse", VERSION),
        ("jax / jaxlib", f"{jax.__version__} / {jaxlib.__version__}"),
        ("backend", f"{jax.default_backend()} ({len(devices)} × {devices[0].device_kind})"),
        ("python", platform.python_version()),
        ("platform", platform.platform()),
        ("cpu cores", f"{os.cpu_count()} (usable: {usable})"),
    ]


def format_number(value: float, digits: int = 3, fixed: bool = False) -> str:
    """``value`` with ``digits`` significant digits (or, with ``fixed``, signed with
    ``digits`` decimals); an em dash for NaN, infinity or ``None``.

    **Arguments:**

    - `value`: a number or ``None``.
    - `digits`: significant digits, or decimals with `fixed`.
    - `fixed`: fixed-point with a sign.

    **Returns:**

    The text.

    ```python
    >>> format_number(0.123456, 3), format_number(1.5, 2, fixed=True), format_number(float("nan"), 3)
    ('0.123', '+1.50', '—')

    ```
    """
    if value is None or not np.isfinite(value):
        return "—"
    return f"{value:+.{digits}f}" if fixed else f"{value:.{digits}g}"


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """`rows` (dicts with the same keys) as CSV text, floats with 8 significant digits.

    **Arguments:**

    - `rows`: a non-empty sequence of dicts; the first one's keys are the columns.

    **Returns:**

    The CSV text, a header line first.

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


def check_rows(checks: Sequence[Check]) -> list[dict]:
    """The checks as table rows (``checks.csv``): the fields of :class:`Check`.

    **Arguments:**

    - `checks`: :class:`Check` objects.

    **Returns:**

    A dict per check.

    ```python
    >>> check_rows([Check("a", "f", "exact", "mean", "z", 3, 1.25)])[0]["worst_z"]
    1.25

    ```
    """
    return [dict(name=c.name, closed_form=c.closed_form, kind=c.kind, statistic=c.statistic, interval=c.interval,
                 points=c.points, worst_z=float(c.worst_z), note=c.note) for c in checks]


def _markdown_cell(text: Any) -> str:
    return str(text).replace("|", "\\|")


def _percent(value: float, digits: int = 2) -> str:
    return "—" if not math.isfinite(value) else f"{100 * value:.{digits}g} %"


@functools.lru_cache(maxsize=2)
def environment(html: bool) -> jinja2.Environment:
    """The Jinja2 environment of the Markdown (``html=False``) or HTML templates, with the
    filters ``num(digits)`` (:func:`format_number`), ``signed(digits)`` (fixed, signed),
    ``pm(sem, digits, sem_digits)`` (``mean ± SE``), ``percent`` and ``cell`` (a Markdown
    table cell); undefined names raise; HTML is escaped.

    **Arguments:**

    - `html`: the HTML environment (autoescaping) rather than the Markdown one.

    **Returns:**

    A ``jinja2.Environment``, one per kind.

    ```python
    >>> environment(False).from_string("{{ 0.12345 | num(2) }} {{ 1.0 | pm(0.25) }}").render()
    '0.12 1 ± 0.25'

    ```
    """
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=html)
    env.filters.update(
        num=lambda value, digits=3: format_number(value, digits),
        signed=lambda value, digits=2: format_number(value, digits, fixed=True),
        pm=lambda mean, sem, digits=4, sem_digits=2: (f"{format_number(mean, digits)} ± "
                                                      f"{format_number(sem, sem_digits)}"),
        percent=_percent,
        cell=_markdown_cell,
    )
    return env


def render(template: str, html: bool = False, **context) -> str:
    """`template` rendered with `context` in :func:`environment`.

    **Arguments:**

    - `template`: Jinja2 source.
    - `html`: render in the HTML environment (escaped).
    - `context`: the template's variables.

    **Returns:**

    The rendered text.

    ```python
    >>> render("{% for x in xs %}{{ x | num(2) }};{% endfor %}", xs=[1.234, 5.0])
    '1.2;5;'

    ```
    """
    return environment(html).from_string(template).render(**context)


def style() -> str:
    """The CSS of the HTML pages.

    ```python
    >>> "table" in style()
    True

    ```
    """
    return _STYLE
