"""The contract every reproduction meets.

A :class:`Reproduction` has a name, a one-line title and default sizes; its
:meth:`~Reproduction.simulate` returns a :class:`Result` made of named
:class:`~jcollapse.experiments.Series` (mean, standard error, theory where known, z) and
tables; it draws its figures from that result and reports its :class:`Check` objects, each
a closed form against the simulation. :mod:`jcollapse.experiments` runs any reproduction
through one driver (:func:`jcollapse.experiments.run`).
"""

import abc
import dataclasses
import math
from typing import Any, Callable, ClassVar, Mapping, Optional, Protocol, Sequence, runtime_checkable

import equinox as eqx
import numpy as np
from equinox import AbstractClassVar

from ..executor import progress_bar
from ..internal.validation import check_count
from ._series import RESOLUTION, Series, series_rows

#: How a plain check compares: the z-score with the standard error of the run.
Z_INTERVAL = "|z| = |mean − theory| / SE, SE of the mean over seeds"


@runtime_checkable
class Progress(Protocol):
    """What :meth:`Reproduction.simulate` reports its progress to: a ``tqdm`` bar, e.g.
    :func:`jcollapse.executor.progress_bar`.

    **Methods:**

    - ``reset(total)``: announces the seeds to simulate (called once, first).
    - ``update(n)``: counts ``n`` of them done.

    ```python
    >>> from jcollapse.executor import progress_bar
    >>> isinstance(progress_bar(0, desc="xu", enabled=False), Progress)
    True

    ```
    """

    def reset(self, total: Optional[float] = None) -> None:
        """Start over, counting to `total`."""

    def update(self, n: float = 1) -> Optional[bool]:
        """Count `n` more done."""


def quiet_progress(progress: Optional[Progress] = None) -> Progress:
    """`progress`, or a disabled ``tqdm`` bar when it is ``None``.

    **Arguments:**

    - `progress`: a :class:`Progress` or ``None``.

    **Returns:**

    A :class:`Progress`.

    ```python
    >>> bar = quiet_progress()
    >>> bar.reset(total=4); bar.update(4)

    ```
    """
    return progress if progress is not None else progress_bar(0, desc="", enabled=False)


@dataclasses.dataclass(frozen=True)
class Check:
    """One closed form compared with the simulation.

    **Fields:**

    - `name`: what is compared, e.g. ``"Theorem 1 (ERM's variance)"``.
    - `closed_form`: the function computing the theory, e.g. ``"jc.theory.expected"``.
    - `kind`: ``"exact"``, or an approximation (``"deterministic equivalent"``,
      ``"normal approximation"``, ``"heuristic"``).
    - `statistic`: the simulated statistic compared, e.g. ``"mean of log σ̂²_t over seeds"``.
    - `interval`: how it is compared (which standard error), or why it is not.
    - `points`: the points compared (0: shown, not checked).
    - `worst_z`: the largest ``|z|`` over those points (NaN when there are none).
    - `note`: anything else the comparison reports, e.g. a relative deviation.

    ```python
    >>> Check("Theorem 1", "jc.theory.expected", "exact", "mean of n (μ̂_t − μ)²", Z_INTERVAL, 10, 2.1).checked
    True

    ```
    """

    name: str
    closed_form: str
    kind: str
    statistic: str
    interval: str
    points: int
    worst_z: float
    note: str = ""

    @property
    def checked(self) -> bool:
        """Whether any point was compared (a check with none is shown, not checked).

        ```python
        >>> Check("a", "f", "exact", "mean", "z", 0, float("nan")).checked
        False

        ```
        """
        return self.points > 0

    @classmethod
    def compare(
        cls,
        name: str,
        series: Sequence[Series],
        *,
        statistic: str,
        interval: str = Z_INTERVAL,
        last: bool = False,
        resolution: float = RESOLUTION,
        standard_error: Optional[Callable[[Series], np.ndarray]] = None,
        note: str = "",
    ) -> "Check":
        """The check of `series` against their (one) closed form: the largest ``|z|``.

        Points without a finite theory, or whose standard error is at float32 resolution
        (:meth:`Series.resolved`), are left out; how many of the latter is said in `note`.

        **Arguments:**

        - `name`, `statistic`, `interval`, `note`: as in :class:`Check`.
        - `series`: series with a theory, all of the same `closed_form` and `theory_kind`.
        - `last`: compare the last point of each series only (default: every point).
        - `resolution`: see :meth:`Series.resolved`.
        - `standard_error`: ``series -> SE`` used instead of ``series.sem`` (say so in `interval`).

        **Returns:**

        A :class:`Check`.

        **Raises:**

        `ValueError` for no series, a series without theory, or mixed closed forms.

        ```python
        >>> one = np.ones(3)
        >>> s = Series("s", "a", np.arange(3.0), one * 1.2, one / 10, theory=one, theory_kind="exact",
        ...            closed_form="jc.theory.expected")
        >>> check = Check.compare("demo", [s], statistic="mean")
        >>> check.points, round(check.worst_z, 6), check.closed_form
        (3, 2.0, 'jc.theory.expected')

        ```
        """
        if not series or any(s.theory is None for s in series):
            raise ValueError(f"check {name!r} needs series with a theory")
        forms = {(s.closed_form, s.theory_kind) for s in series}
        if len(forms) != 1:
            raise ValueError(f"check {name!r} mixes closed forms {sorted(forms)}")
        ((closed_form, kind),) = forms
        z, flat = [], 0
        for s in series:
            chosen = slice(-1, None) if last else slice(None)
            theory = np.asarray(s.theory, dtype=np.float64)[chosen]
            se = np.asarray(s.sem if standard_error is None else standard_error(s), dtype=np.float64)[chosen]
            resolved = (se > resolution * np.abs(s.mean[chosen])) & np.isfinite(theory)
            flat += int(np.sum(np.isfinite(theory) & ~resolved))
            with np.errstate(divide="ignore", invalid="ignore"):
                z.append(np.abs(s.mean[chosen] - theory)[resolved] / se[resolved])
        values = np.concatenate(z)
        worst = float(np.round(values.max(), 12)) if values.size else math.nan
        if flat:
            left_out = f"{flat} point(s) with a standard error at float32 resolution left out"
            note = f"{note}; {left_out}" if note else left_out
        return cls(name, closed_form, kind, statistic, interval, int(values.size), worst, note)

    @classmethod
    def shown(cls, name: str, closed_form: str, kind: str, statistic: str, why: str) -> "Check":
        """A closed form drawn next to a simulation but deliberately not checked, and `why`.

        **Arguments:**

        - `name`, `closed_form`, `kind`, `statistic`: as in :class:`Check`.
        - `why`: the reason, e.g. that the statistic is heavy-tailed.

        **Returns:**

        A :class:`Check` with no points and ``interval = "not checked: " + why``.

        ```python
        >>> Check.shown("variance, a = 0", "jc.theory.expected", "exact", "mean of σ̂²_t", "heavy-tailed").checked
        False

        ```
        """
        return cls(name, closed_form, kind, statistic, f"not checked: {why}", 0, math.nan)


def worst_z(checks: Sequence[Check], exact: bool = True) -> float:
    """The largest ``|z|`` over the `checks` of exact closed forms (``exact=False``: of
    approximations); NaN if there is none.

    **Arguments:**

    - `checks`: :class:`Check` objects (those without points are left out).
    - `exact`: over the exact closed forms (default) or over the approximations.

    **Returns:**

    A float.

    ```python
    >>> checks = [Check("a", "f", "exact", "m", "z", 4, 1.5), Check("b", "g", "heuristic", "m", "z", 4, 6.0)]
    >>> worst_z(checks), worst_z(checks, exact=False)
    (1.5, 6.0)

    ```
    """
    values = [c.worst_z for c in checks if c.checked and (c.kind == "exact") == exact and math.isfinite(c.worst_z)]
    return max(values) if values else math.nan


@dataclasses.dataclass(frozen=True)
class Result:
    """What a reproduction's :meth:`~Reproduction.simulate` measured.

    **Fields:**

    - `name`: the reproduction's name.
    - `seeds`, `generations`, `key`: the run's size and integer PRNG seed.
    - `series`: every :class:`~jcollapse.experiments.Series`, in simulation order.
    - `tables`: further tables, ``{file name: rows}`` (rows are dicts with the same keys).
    - `extras`: anything else the figures and summary read (e.g. training losses).
    - `simulate_seconds`: wall time of the simulations, compilation included.

    ```python
    >>> s = Series("collapse", "poisson", np.arange(2.0), np.ones(2), np.ones(2))
    >>> Result("xu", 8, 1, 0, (s,)).get("collapse", "poisson") is s
    True

    ```
    """

    name: str
    seeds: int
    generations: int
    key: int
    series: tuple[Series, ...]
    tables: Mapping[str, Sequence[Mapping[str, Any]]] = dataclasses.field(default_factory=dict)
    extras: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    simulate_seconds: float = 0.0

    def study(self, name: str) -> list[Series]:
        """The series of study `name`, in simulation order (empty if none).

        ```python
        >>> Result("xu", 8, 1, 0, (Series("a", "b", np.arange(1.0), np.ones(1), np.ones(1)),)).study("c")
        []

        ```
        """
        return [s for s in self.series if s.study == name]

    def get(self, study: str, label: str) -> Series:
        """The series of `study` labelled `label`.

        **Raises:**

        `KeyError` naming both if there is none.

        ```python
        >>> Result("xu", 8, 1, 0, ()).get("collapse", "poisson")
        Traceback (most recent call last):
        ...
        KeyError: "no series 'poisson' in study 'collapse'"

        ```
        """
        for s in self.series:
            if s.study == study and s.label == label:
                return s
        raise KeyError(f"no series {label!r} in study {study!r}")


class Reproduction(eqx.Module):
    """A reproduction: configuration (its fields), simulation, figures, tables and checks.

    Concrete reproductions are final classes that set the class variables and implement
    :meth:`simulate`, :meth:`figures` and :meth:`checks`; their fields are options that
    shrink a run (fewer sizes, a smaller grid), each with the paper's value as default.

    **Class variables:**

    - `name`: the command's name, ``jcollapse reproduce NAME``.
    - `title`: one line: the paper, or what the experiment shows.
    - `default_seeds`, `default_generations`: the sizes of a full run.
    - `min_seeds`, `min_generations`: the smallest sizes :meth:`simulate` accepts.
    - `figure_captions`: ``{file name: caption}``, the figures :meth:`figures` draws.
    - `summary_template`: the Jinja2 template of ``summary.md``'s body, rendered with the
      result as ``r``, the reproduction as ``reproduction`` and :meth:`summary_context`.

    ```python
    >>> from jcollapse.experiments import REPRODUCTIONS
    >>> xu = REPRODUCTIONS["xu"]
    >>> xu.name, xu.check_counts(None, 5)
    ('xu', (2000, 5))

    ```
    """

    name: AbstractClassVar[str]
    title: AbstractClassVar[str]
    default_seeds: AbstractClassVar[int]
    default_generations: AbstractClassVar[int]
    figure_captions: AbstractClassVar[Mapping[str, str]]
    summary_template: AbstractClassVar[str]
    min_seeds: ClassVar[int] = 1
    min_generations: ClassVar[int] = 1

    @property
    def command(self) -> str:
        """The arguments of the ``jcollapse`` command that runs it: ``reproduce NAME``.

        ```python
        >>> from jcollapse.experiments import REPRODUCTIONS
        >>> REPRODUCTIONS["han"].command
        'reproduce han'

        ```
        """
        return f"reproduce {self.name}"

    def check_counts(self, seeds: Optional[int] = None, generations: Optional[int] = None) -> tuple[int, int]:
        """`seeds` and `generations` (``None``: the defaults), checked against the minima.

        **Arguments:**

        - `seeds`, `generations`: the sizes asked for, or ``None``.

        **Returns:**

        ``(seeds, generations)``.

        **Raises:**

        `ValueError` naming the count, e.g. ``"seeds must be an integer >= 2; got 1"``.

        ```python
        >>> from jcollapse.experiments import REPRODUCTIONS
        >>> REPRODUCTIONS["han"].check_counts(seeds=8, generations=3)
        Traceback (most recent call last):
        ...
        ValueError: generations must be an integer >= 4; got 3

        ```
        """
        seeds = self.default_seeds if seeds is None else seeds
        generations = self.default_generations if generations is None else generations
        return check_count("seeds", seeds, self.min_seeds), check_count("generations", generations,
                                                                         self.min_generations)

    @abc.abstractmethod
    def simulate(self, seeds: int, generations: int, key: int = 0, *,
                 progress: Optional[Progress] = None) -> Result:
        """Simulate every study (no files are written).

        **Arguments:**

        - `seeds`, `generations`: the sizes (see :meth:`check_counts`).
        - `key`: integer seed of ``jax.random.key``.
        - `progress`: told the seeds to simulate and counts them done (default: nothing shown).

        **Returns:**

        A :class:`Result`.
        """

    @abc.abstractmethod
    def figures(self, result: Result) -> dict:
        """Every figure of `result`.

        **Arguments:**

        - `result`: from :meth:`simulate`.

        **Returns:**

        ``{file name: matplotlib figure}``, with the keys of `figure_captions`, in their order.
        """

    @abc.abstractmethod
    def checks(self, result: Result) -> list[Check]:
        """Every closed form the reproduction compares with `result` (or shows without checking).

        **Arguments:**

        - `result`: from :meth:`simulate`.

        **Returns:**

        A list of :class:`Check`; every ``closed_form`` of a series with a theory is among them.
        """

    def tables(self, result: Result) -> dict[str, list[dict]]:
        """The CSV tables of `result`.

        **Arguments:**

        - `result`: from :meth:`simulate`.

        **Returns:**

        ``{file name: rows}``: by default every point of every series as ``errors.csv``
        (:func:`~jcollapse.experiments.series_rows`) and the result's own tables.

        ```python
        >>> from jcollapse.experiments import REPRODUCTIONS
        >>> REPRODUCTIONS["xu"].tables(Result("xu", 2, 2, 0, (Series("s", "a", np.arange(1.0), np.ones(1),
        ...                                                          np.ones(1)),)))["errors.csv"][0]["study"]
        's'

        ```
        """
        return {"errors.csv": series_rows(result.series), **{name: list(rows) for name, rows in result.tables.items()}}

    def summary_context(self, result: Result) -> dict:
        """Values computed from `result` for :attr:`summary_template`.

        **Arguments:**

        - `result`: from :meth:`simulate`.

        **Returns:**

        A dict of template variables (default: none).
        """
        return {}
