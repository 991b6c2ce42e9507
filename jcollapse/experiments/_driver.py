"""The one driver of every reproduction: simulate, then write figures, CSV tables,
``checks.csv``, ``summary.md`` and ``index.html`` into a directory, atomically; and, for
``jcollapse reproduce --all``, an index page over several reproductions."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Optional, Sequence, TextIO, Union

from ..executor import progress_bar
from ..internal.atomic import atomic_directory, directory_path, write_atomically
from . import _render
from ._figures import save
from ._protocol import Check, Reproduction, Result, worst_z


@dataclasses.dataclass(frozen=True)
class Report:
    """One reproduction run and written by :func:`run`.

    **Fields:**

    - `name`, `title`: the reproduction's.
    - `out`: the directory written.
    - `result`: the :class:`~jcollapse.experiments.Result`.
    - `checks`: its :class:`~jcollapse.experiments.Check` list.
    - `seconds`: wall time of simulation, figures and files.

    ```python
    >>> Report("xu", "X", Path("out/xu"), Result("xu", 2, 1, 0, ()), (), 1.0).verdict
    'no closed form checked'

    ```
    """

    name: str
    title: str
    out: Path
    result: Result
    checks: tuple[Check, ...]
    seconds: float

    @property
    def verdict(self) -> str:
        """One line: the largest |z| over the checks of exact closed forms, and apart over
        approximations.

        ```python
        >>> report = Report("x", "X", Path("out"), Result("x", 2, 1, 0, ()),
        ...                 (Check("a", "f", "exact", "m", "z", 4, 1.5),), 1.0)
        >>> report.verdict
        'worst |z| 1.5 over 1 exact check(s)'

        ```
        """
        return verdict(self.checks)


def verdict(checks: Sequence[Check]) -> str:
    """One line on `checks`: the largest |z| over the exact closed forms, and apart over the
    approximations, with how many of each were checked.

    **Arguments:**

    - `checks`: a reproduction's :class:`~jcollapse.experiments.Check` list.

    **Returns:**

    The line, without a final full stop.

    ```python
    >>> verdict([Check("a", "f", "exact", "m", "z", 4, 1.5), Check("b", "g", "heuristic", "m", "z", 2, 6.0)])
    'worst |z| 1.5 over 1 exact check(s); approximations: worst |z| 6 over 1'

    ```
    """
    exact = [c for c in checks if c.checked and c.kind == "exact"]
    approximate = [c for c in checks if c.checked and c.kind != "exact"]
    parts = []
    if exact:
        parts.append(f"worst |z| {_render.format_number(worst_z(exact), 3)} over {len(exact)} exact check(s)")
    if approximate:
        parts.append(f"approximations: worst |z| {_render.format_number(worst_z(approximate, exact=False), 3)} "
                     f"over {len(approximate)}")
    return "; ".join(parts) if parts else "no closed form checked"


def _say(log: Optional[TextIO], text: str) -> None:
    if log is not None:
        print(text, file=log, flush=True)


def write(
    reproduction: Reproduction,
    result: Result,
    out: Union[str, Path],
    *,
    started: Optional[float] = None,
    parent: bool = False,
) -> tuple[Check, ...]:
    """Write `result`'s figures, CSV tables, ``checks.csv``, ``summary.md`` and
    ``index.html`` into `out`, atomically
    (:func:`jcollapse.internal.atomic.atomic_directory`): `out` is replaced only once complete.

    **Arguments:**

    - `reproduction`: what simulated `result`.
    - `result`: from ``reproduction.simulate``.
    - `out`: the output directory.
    - `started`: ``time.perf_counter()`` at program start, for the reported total (default:
      this call's start).
    - `parent`: link the page to ``../index.html`` (written by :func:`run_all`).

    **Returns:**

    The reproduction's checks.

    **Raises:**

    `ValueError` if the figures drawn are not those of ``reproduction.figure_captions``;
    nothing is written then.

    ```python
    >>> import tempfile, pathlib
    >>> from jcollapse.experiments import REPRODUCTIONS
    >>> write(REPRODUCTIONS["xu"], Result("xu", 2, 2, 0, ()), pathlib.Path(tempfile.mkdtemp()) / "xu")
    Traceback (most recent call last):
    ...
    KeyError: "no series 'gaussian, constant' in study 'collapse'"

    ```
    """
    started = time.perf_counter() if started is None else started
    with atomic_directory(out) as tmp:
        figures_start = time.perf_counter()
        figures = reproduction.figures(result)
        if list(figures) != list(reproduction.figure_captions):
            raise ValueError(f"{reproduction.name}: drew {sorted(figures)}, captions name "
                             f"{sorted(reproduction.figure_captions)}")
        for name, fig in figures.items():
            save(fig, tmp / name)
        figures_seconds = time.perf_counter() - figures_start
        checks = tuple(reproduction.checks(result))
        tables = {**reproduction.tables(result), "checks.csv": _render.check_rows(checks)}
        for name, rows in tables.items():
            (tmp / name).write_text(_render.csv_text(rows), encoding="utf-8")
        runtime = {
            "simulation (compilation included)": result.simulate_seconds,
            "figures": figures_seconds,
            "total (from program start, JAX import included)": time.perf_counter() - started,
        }
        machine = _render.machine_facts()
        body = _render.render(reproduction.summary_template, r=result, reproduction=reproduction,
                              **reproduction.summary_context(result))
        (tmp / "summary.md").write_text(
            _render.render(_render.SUMMARY_TEMPLATE, body=body, checks=checks, runtime=runtime, machine=machine,
                           figures=reproduction.figure_captions), encoding="utf-8")
        (tmp / "index.html").write_text(
            _render.render(_render.PAGE_TEMPLATE, html=True, reproduction=reproduction, r=result, checks=checks,
                           figures=reproduction.figure_captions, files=["summary.md", *tables], runtime=runtime,
                           machine=machine, verdict=verdict(checks) + ".", command=reproduction.command,
                           parent=parent, style=_render.style()), encoding="utf-8")
    return checks


def run(
    reproduction: Reproduction,
    out: Union[str, Path],
    *,
    seeds: Optional[int] = None,
    generations: Optional[int] = None,
    key: int = 0,
    started: Optional[float] = None,
    log: Optional[TextIO] = None,
    progress: Optional[bool] = False,
    parent: bool = False,
) -> Report:
    """Simulate `reproduction` and write its outputs into `out` (see :func:`write`).

    Sizes and `out` are checked before anything is simulated; nothing is written until every
    simulation has finished.

    **Arguments:**

    - `reproduction`: e.g. ``jcollapse.experiments.REPRODUCTIONS["xu"]``.
    - `out`: output directory (replaced if it exists).
    - `seeds`, `generations`: the sizes (``None``: the reproduction's defaults).
    - `key`: integer seed of ``jax.random.key``.
    - `started`: ``time.perf_counter()`` at program start (default: this call's start).
    - `log`: a text stream for a line before and after (default: none).
    - `progress`: the progress bar on standard error: ``True`` shown, ``False`` (default)
      not, ``None`` shown once the run lasts a few seconds.
    - `parent`: link the page to ``../index.html`` (as :func:`run_all` does).

    **Returns:**

    A :class:`Report`.

    **Raises:**

    `ValueError` for sizes below the reproduction's minima or an `out` that is a file;
    nothing is simulated or written then.

    ```python
    >>> import tempfile, pathlib
    >>> from jcollapse.experiments import REPRODUCTIONS
    >>> run(REPRODUCTIONS["xu"], pathlib.Path(tempfile.mkdtemp()) / "xu", seeds=1)
    Traceback (most recent call last):
    ...
    ValueError: seeds must be an integer >= 2; got 1

    ```
    """
    start = time.perf_counter()
    started = start if started is None else started
    seeds, generations = reproduction.check_counts(seeds, generations)
    out = directory_path(out, "--out")
    _say(log, f"jcollapse {reproduction.command}: {reproduction.title} ({seeds} seeds, {generations} generations, "
              f"key {key})")
    with progress_bar(0, desc=reproduction.name, enabled=progress) as bar:
        result = reproduction.simulate(seeds, generations, key, progress=bar)
    checks = write(reproduction, result, out, started=started, parent=parent)
    seconds = time.perf_counter() - start
    _say(log, f"  wrote {out}/ ({seconds:.1f} s; {verdict(checks)})")
    return Report(reproduction.name, reproduction.title, out, result, checks, seconds)


def run_all(
    reproductions: Sequence[Reproduction],
    out: Union[str, Path],
    *,
    seeds: Optional[int] = None,
    generations: Optional[int] = None,
    key: int = 0,
    started: Optional[float] = None,
    log: Optional[TextIO] = None,
    progress: Optional[bool] = False,
) -> list[Report]:
    """Run every reproduction into ``out/NAME`` (:func:`run`), then write ``out/index.html``:
    a line per reproduction with its verdict and runtime, linking its page.

    Every reproduction's sizes and directory are checked before the first is simulated.

    **Arguments:**

    - `reproductions`: the reproductions, in the order run and listed.
    - `out`: the parent directory.
    - `seeds`, `generations`: the sizes for all (``None``: each reproduction's defaults).
    - `key`, `started`, `log`, `progress`: see :func:`run`.

    **Returns:**

    A :class:`Report` per reproduction.

    **Raises:**

    `ValueError` as :func:`run` does, before anything is simulated or written.

    ```python
    >>> import tempfile, pathlib
    >>> from jcollapse.experiments import REPRODUCTIONS
    >>> run_all(list(REPRODUCTIONS.values()), pathlib.Path(tempfile.mkdtemp()), generations=1)
    Traceback (most recent call last):
    ...
    ValueError: amin: generations must be an integer >= 2; got 1

    ```
    """
    started = time.perf_counter() if started is None else started
    out = directory_path(out, "--out")
    for reproduction in reproductions:
        try:
            reproduction.check_counts(seeds, generations)
            directory_path(out / reproduction.name, "--out")
        except ValueError as error:
            raise ValueError(f"{reproduction.name}: {error}") from None
    reports = [run(reproduction, out / reproduction.name, seeds=seeds, generations=generations, key=key,
                   started=started, log=log, progress=progress, parent=True) for reproduction in reproductions]
    out.mkdir(parents=True, exist_ok=True)
    page = _render.render(_render.INDEX_TEMPLATE, html=True, reports=reports, machine=_render.machine_facts(),
                          style=_render.style())
    write_atomically(out / "index.html", lambda path: path.write_text(page, encoding="utf-8"))
    total = sum(report.seconds for report in reports)
    _say(log, f"jcollapse reproduce --all: wrote {out}/index.html ({len(reports)} reproductions, "
              f"{total:.1f} s; worst exact |z| {_render.format_number(max_worst(reports), 3)})")
    return reports


def max_worst(reports: Sequence[Report]) -> float:
    """The largest |z| over the exact checks of every report (NaN if none).

    **Arguments:**

    - `reports`: :class:`Report` objects.

    **Returns:**

    A float.

    ```python
    >>> max_worst([])
    nan

    ```
    """
    values = [worst_z(report.checks) for report in reports]
    values = [v for v in values if math.isfinite(v)]
    return max(values) if values else math.nan
