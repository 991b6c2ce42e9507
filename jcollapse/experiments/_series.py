"""The one series type of the reproductions: a simulated curve (mean and standard error over
seeds) next to its closed form, and the statistics the reports and checks compute from it."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .. import theory as jc_theory

#: How a mean squared error is checked: a squared error of a (near-)normal estimate is
#: skewed (about theory x chi^2_1), and with few seeds its sample SE is small exactly when the
#: sample mean is low, so the SE is floored at the chi^2_1 one (:func:`chi2_floored_sem`).
CHI2_INTERVAL = "|z| with the SE floored at theory · √(2/seeds), a χ²₁-like squared error's own SE"

#: Standard errors below this fraction of the mean are float32 rounding, not Monte-Carlo
#: error (e.g. a chain that has collapsed onto one value in every seed).
RESOLUTION = 1e-6


@dataclasses.dataclass(frozen=True)
class Series:
    """One simulated curve of a reproduction, next to its closed form where one is known.

    **Fields:**

    - `study`: the study it belongs to (e.g. ``"collapse"``, or a metric's name).
    - `label`: the curve's setting within the study, e.g. ``"poisson, linear"``.
    - `x`: abscissae, e.g. generations, rounds, ridge penalties or sample sizes.
    - `mean`, `sem`: mean over healthy seeds and its standard error, at each ``x``.
    - `theory`: the closed form at each ``x``, or ``None``.
    - `theory_kind`: ``"exact"``, ``"deterministic equivalent"``, ``"normal approximation"``,
      ``"heuristic"``, ...; ``""`` without theory.
    - `closed_form`: the function that computes `theory`, e.g. ``"jc.theory.expected"``
      (required with a theory).
    - `xname`: what `x` is (default ``"generation"``).
    - `seeds`, `failed`: seeds simulated, and those with a status flag (left out).
    - `metric`: the run's metric summarised, where there is one.
    - `config`: the reproduction's own description of the setting (any value).
    - `quantiles`: ``{q: values}`` of the healthy seeds at each ``x`` (e.g. 0.05, 0.5, 0.95),
      where kept.

    **Raises:**

    `ValueError` for a theory without `theory_kind` and `closed_form`, or arrays whose
    shapes differ from `x`'s.

    ```python
    >>> s = Series("u_curves", "T=1", np.arange(2.0), np.ones(2) * 1.2, np.full(2, 0.1), theory=np.ones(2),
    ...            theory_kind="exact", closed_form="f", xname="ridge")
    >>> s.z.round(6), s.max_abs_z()
    (array([2., 2.]), 2.0)

    ```
    """

    study: str
    label: str
    x: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    theory: Optional[np.ndarray] = None
    theory_kind: str = ""
    closed_form: str = ""
    xname: str = "generation"
    seeds: int = 0
    failed: int = 0
    metric: str = ""
    config: Any = None
    quantiles: Mapping[float, np.ndarray] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        shape = np.shape(self.x)
        arrays = {"mean": self.mean, "sem": self.sem, "theory": self.theory, **self.quantiles}
        for name, values in arrays.items():
            if values is not None and np.shape(values) != shape:
                raise ValueError(f"{name} must have the shape of x, {shape}; got {np.shape(values)}")
        if self.theory is not None and not (self.theory_kind and self.closed_form):
            raise ValueError(f"series {self.study}/{self.label}: a theory needs theory_kind and closed_form")

    @property
    def z(self) -> np.ndarray:
        """``(mean - theory) / sem`` at each point (NaN without theory).

        ```python
        >>> Series("s", "a", np.arange(2.0), np.ones(2), np.ones(2)).z
        array([nan, nan])

        ```
        """
        if self.theory is None:
            return np.full(np.shape(self.x), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):  # SE 0: every seed equal (e.g. all absorbed)
            return (self.mean - self.theory) / self.sem

    def resolved(self, resolution: float = RESOLUTION) -> np.ndarray:
        """Where the standard error exceeds `resolution` times ``|mean|`` (``sem > 0`` for
        ``resolution = 0``): the points a ``z`` can be computed at.

        **Arguments:**

        - `resolution`: the smallest SE, relative to ``|mean|``, that counts as Monte-Carlo error.

        **Returns:**

        A bool array of the shape of ``x``.

        ```python
        >>> Series("s", "a", np.arange(2.0), np.ones(2), np.array([0.0, 0.1])).resolved().tolist()
        [False, True]

        ```
        """
        return np.asarray(self.sem > resolution * np.abs(self.mean))

    def max_abs_z(self, resolution: float = RESOLUTION) -> float:
        """The largest ``|z|`` over the :meth:`resolved` points; NaN without theory or such a point.

        **Arguments:**

        - `resolution`: see :meth:`resolved`.

        **Returns:**

        A float.

        ```python
        >>> Series("s", "a", np.arange(2.0), np.array([1.0, 2.0]), np.array([0.0, 0.5]), theory=np.ones(2),
        ...        theory_kind="exact", closed_form="f").max_abs_z(resolution=0.0)
        2.0

        ```
        """
        return max_abs_z([self], resolution)

    def max_relative(self) -> float:
        """The largest ``|mean / theory - 1|`` where the theory is finite and non-zero; NaN
        without one.

        ```python
        >>> Series("s", "a", np.arange(2.0), np.array([1.0, 2.2]), np.ones(2), theory=np.array([1.0, 2.0]),
        ...        theory_kind="exact", closed_form="f").max_relative()
        0.1

        ```
        """
        if self.theory is None:
            return float("nan")
        usable = np.isfinite(self.theory) & (self.theory != 0)
        if not usable.any():
            return float("nan")
        return float(np.round(np.max(np.abs(self.mean[usable] / self.theory[usable] - 1)), 12))


def healthy_mean_sem(values, failed) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over the seeds (axis 0) without a status flag, in float64.

    With fewer than two healthy seeds the standard error is NaN, with none both are.

    **Arguments:**

    - `values`: ``[seeds, ...]``, e.g. a run's metric.
    - `failed`: bool ``[seeds]``, the seeds to leave out.

    **Returns:**

    ``(mean, sem)``, each of shape ``values.shape[1:]``.

    ```python
    >>> healthy_mean_sem(np.array([[1.0], [3.0], [9.0]]), np.array([False, False, True]))
    (array([2.]), array([1.]))

    ```
    """
    healthy = np.asarray(values, dtype=np.float64)[~np.asarray(failed)]
    count = healthy.shape[0]
    if not count:
        return np.full(healthy.shape[1:], np.nan), np.full(healthy.shape[1:], np.nan)
    sem = healthy.std(axis=0, ddof=1) / np.sqrt(count) if count > 1 else np.full(healthy.shape[1:], np.nan)
    return healthy.mean(axis=0), sem


def summarize(values, failed, *, study: str, label: str, metric: str = "", theory: Optional[np.ndarray] = None,
              theory_kind: str = "", closed_form: str = "", config: Any = None) -> Series:
    """The :class:`Series` over generations ``0..G`` of per-seed values ``[seeds, G + 1]``
    (e.g. a :class:`jcollapse.Run`'s metric), over the healthy seeds, with their 5 %, 50 %
    and 95 % quantiles.

    Seeds flagged in `failed` are left out (and counted); with fewer than two healthy seeds
    the standard error is NaN, with none every statistic is.

    **Arguments:**

    - `values`: ``[seeds, G + 1]``.
    - `failed`: bool ``[seeds]``.
    - `study`, `label`, `metric`, `theory`, `theory_kind`, `closed_form`, `config`: stored
      in the series (see :class:`Series`).

    **Returns:**

    A :class:`Series` with ``x = 0..G``.

    ```python
    >>> s = summarize(np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros(2, bool), study="a", label="b")
    >>> s.mean.tolist(), s.quantiles[0.5].tolist(), s.seeds
    ([2.0, 3.0], [2.0, 3.0], 2)

    ```
    """
    values = np.asarray(values, dtype=np.float64)
    failed = np.asarray(failed)
    mean, sem = healthy_mean_sem(values, failed)
    healthy = values[~failed]
    if healthy.shape[0]:
        q05, median, q95 = np.quantile(healthy, [0.05, 0.5, 0.95], axis=0)
    else:
        q05 = median = q95 = np.full(healthy.shape[1:], np.nan)
    return Series(study, label, np.arange(values.shape[1], dtype=np.float64), mean, sem, theory=theory,
                  theory_kind=theory_kind if theory is not None else "",
                  closed_form=closed_form if theory is not None else "", seeds=int(failed.shape[0]),
                  failed=int(failed.sum()), metric=metric, config=config,
                  quantiles={0.05: q05, 0.5: median, 0.95: q95})


def theory_or_none(loop, truth, metric: str) -> Optional[np.ndarray]:
    """:func:`jcollapse.theory.expected` as float64, or ``None`` where no closed form is
    registered.

    **Arguments:**

    - `loop`, `truth`, `metric`: as for :func:`jcollapse.theory.expected`.

    **Returns:**

    A float64 array ``[G + 1]`` or ``None``.

    ```python
    >>> from jcollapse import Loop, models
    >>> model = models.Categorical(num_categories=2)
    >>> loop = Loop(model, generations=1, sample_size=2)
    >>> truth = model.params(probs=[0.5, 0.5])
    >>> theory_or_none(loop, truth, "param_sq_error"), theory_or_none(loop, truth, "tv")
    (array([0.25 , 0.375]), None)

    ```
    """
    try:
        return np.asarray(jc_theory.expected(loop, truth, metric), dtype=np.float64)
    except NotImplementedError:
        return None


def series_rows(series: Sequence[Series]) -> list[dict]:
    """Every point of `series` as a dict: ``study``, ``label``, ``x_name``, ``x``, ``mean``,
    ``sem``, ``theory``, ``theory_kind``, ``z``, ``seeds``, ``failed`` (the reproductions'
    ``errors.csv``).

    **Arguments:**

    - `series`: :class:`Series` objects.

    **Returns:**

    A list of dicts, one per point.

    ```python
    >>> one = np.ones(2)
    >>> rows = series_rows([Series("s", "OLS", np.arange(2.0), one, one / 10, theory=one * 0.9,
    ...                            theory_kind="exact", closed_form="f", xname="n", seeds=8)])
    >>> [round(row["z"], 6) for row in rows]
    [1.0, 1.0]

    ```
    """
    out = []
    for s in series:
        theory = s.theory if s.theory is not None else np.full(np.shape(s.x), np.nan)
        for x, mean, sem, th, z in zip(s.x, s.mean, s.sem, theory, s.z):
            out.append(dict(study=s.study, label=s.label, x_name=s.xname, x=float(x), mean=float(mean),
                            sem=float(sem), theory=float(th), theory_kind=s.theory_kind, z=float(z),
                            seeds=s.seeds, failed=s.failed))
    return out


def max_abs_z(series: Sequence[Series], resolution: float = RESOLUTION) -> float:
    """The largest ``|z|`` over `series`, at points whose standard error exceeds `resolution`
    times ``|mean|`` (:meth:`Series.resolved`); NaN if there is none.

    **Arguments:**

    - `series`: :class:`Series` objects (those without theory add nothing).
    - `resolution`: see :meth:`Series.resolved`.

    **Returns:**

    A float.

    ```python
    >>> one = np.ones(2)
    >>> max_abs_z([Series("s", "a", one, one * 1.3, one / 10, theory=one, theory_kind="exact", closed_form="f")])
    3.0

    ```
    """
    if not series:
        return float("nan")
    z = np.concatenate([np.where(s.resolved(resolution), np.abs(s.z), np.nan) for s in series])
    z = z[np.isfinite(z)]
    return float(np.round(z.max(), 12)) if z.size else float("nan")


def chi2_floored_sem(series: Series) -> np.ndarray:
    """``max(sem, theory * sqrt(2 / seeds))``: the standard error of a mean of ``seeds``
    squared errors that are ``theory`` times a ``chi^2_1``, where the sample's own SE is smaller
    (see :data:`CHI2_INTERVAL`): the squared error of a normal estimate is exactly
    ``theory`` times a ``chi^2_1``, whose mean over ``seeds`` has that SE.

    **Arguments:**

    - `series`: a :class:`~jcollapse.experiments.Series` with a theory.

    **Returns:**

    An array of the shape of ``series.x``.

    ```python
    >>> s = Series("g", "a", np.arange(2.0), np.ones(2), np.array([0.01, 0.5]), theory=np.ones(2),
    ...            theory_kind="exact", closed_form="f", seeds=8)
    >>> chi2_floored_sem(s).tolist()
    [0.5, 0.5]

    ```
    """
    return np.maximum(series.sem, series.theory * np.sqrt(2 / series.seeds))


def log_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of ``log y`` against ``log x`` (NaN for fewer than two points).

    **Arguments:**

    - `x`, `y`: positive arrays of one shape.

    **Returns:**

    A float.

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

    **Arguments:**

    - `stop`: the largest integer, ``>= 1``.
    - `points`: about how many.

    **Returns:**

    An increasing integer array starting at 1 and ending at `stop`.

    ```python
    >>> log_spaced(5, 60).tolist(), log_spaced(1000, 4).tolist()
    ([1, 2, 3, 4, 5], [1, 10, 100, 1000])

    ```
    """
    return np.unique(np.round(np.geomspace(1, stop, points)).astype(int))
