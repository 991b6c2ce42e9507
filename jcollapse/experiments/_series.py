"""Simulated curves next to their theory, shared by the reproductions that report points
rather than whole runs (dohmatob, amin, xu, han): the :class:`Series`, its table rows, and
the summary statistics their reports quote."""

from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class Series:
    """One simulated curve of a study, next to its theory.

    **Fields:**

    - `study`: the study's name in its reproduction.
    - `label`: the curve's setting, e.g. ``"T=100, n=2"``.
    - `xname`: what `x` is, e.g. ``"ridge"``, ``"n"``, ``"T"`` or ``"round"``.
    - `x`, `mean`, `sem`: abscissae, mean over healthy seeds and its standard error.
    - `theory`: the closed form at `x`, or ``None``.
    - `theory_kind`: ``"exact"``, ``"deterministic equivalent"``, ``"heuristic"`` or ``""``.
    - `seeds`, `failed`: seeds simulated, and those with a status flag (left out).
    """

    study: str
    label: str
    xname: str
    x: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    theory: Optional[np.ndarray]
    theory_kind: str
    seeds: int
    failed: int

    @property
    def z(self) -> np.ndarray:
        """``(mean - theory) / sem`` at each point (NaN without theory).

        ```python
        >>> one = np.ones(2)
        >>> Series("u_curves", "T=1", "ridge", one, one * 1.2, one * 0.1, one, "exact", 4, 0).z.round(6)
        array([2., 2.])

        ```
        """
        if self.theory is None:
            return np.full(self.x.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):  # SE 0: every seed equal (e.g. all absorbed)
            return (self.mean - self.theory) / self.sem


def select(series: Sequence[Series], study: str) -> list[Series]:
    """The series of `study`, in their order.

    ```python
    >>> one = np.ones(1)
    >>> [s.label for s in select([Series("a", "x", "n", one, one, one, None, "", 1, 0)], "a")]
    ['x']

    ```
    """
    return [s for s in series if s.study == study]


def series_rows(series: Sequence[Series]) -> list[dict]:
    """Every point of `series` as a dict: ``study``, ``label``, ``x_name``, ``x``, ``mean``,
    ``sem``, ``theory``, ``theory_kind``, ``z``, ``seeds``, ``failed``.

    ```python
    >>> one = np.ones(2)
    >>> rows = series_rows([Series("s", "OLS", "n", np.arange(2.0), one, one / 10, one * 0.9, "exact", 8, 0)])
    >>> [round(row["z"], 6) for row in rows]
    [1.0, 1.0]

    ```
    """
    out = []
    for s in series:
        theory = s.theory if s.theory is not None else np.full(s.x.shape, np.nan)
        for x, mean, sem, th, z in zip(s.x, s.mean, s.sem, theory, s.z):
            out.append(dict(study=s.study, label=s.label, x_name=s.xname, x=float(x), mean=float(mean),
                            sem=float(sem), theory=float(th), theory_kind=s.theory_kind, z=float(z),
                            seeds=s.seeds, failed=s.failed))
    return out


#: Standard errors below this fraction of the mean are float32 rounding, not Monte-Carlo
#: error (e.g. a chain that has collapsed onto one value in every seed).
RESOLUTION = 1e-6


def max_abs_z(series: Sequence[Series]) -> float:
    """The largest ``|z|`` over `series`, at points whose standard error is above float32
    resolution (:data:`RESOLUTION` times the mean); NaN if there is none.

    ```python
    >>> one = np.ones(2)
    >>> max_abs_z([Series("s", "a", "n", one, one * 1.3, one / 10, one, "exact", 8, 0)])
    3.0

    ```
    """
    if not series:
        return float("nan")
    z = np.concatenate([np.where(s.sem > RESOLUTION * np.abs(s.mean), np.abs(s.z), np.nan) for s in series])
    z = z[np.isfinite(z)]
    return float(np.round(z.max(), 12)) if z.size else float("nan")


def log_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of ``log y`` against ``log x`` (NaN for fewer than two points).

    ```python
    >>> round(log_slope(np.array([1.0, 10.0, 100.0]), np.array([1.0, 0.1, 0.01])), 6)
    -1.0

    ```
    """
    if np.size(x) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def log_spaced(stop: int, points: int) -> np.ndarray:
    """About `points` log-spaced integers in ``1..stop`` (every one when few): the points a
    long curve keeps in its table and figure.

    ```python
    >>> log_spaced(5, 60).tolist(), log_spaced(1000, 4).tolist()
    ([1, 2, 3, 4, 5], [1, 10, 100, 1000])

    ```
    """
    return np.unique(np.round(np.geomspace(1, stop, points)).astype(int))
