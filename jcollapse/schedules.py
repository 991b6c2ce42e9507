"""Schedules for per-generation quantities: real fractions, sample sizes, pool weights.

A schedule is a recipe; :meth:`Schedule.values` turns it into a NumPy array of length
``G + 1`` (one entry per generation ``t = 0, ..., G``). :class:`jcollapse.Loop` resolves
every schedule on the host, validates it, and hands the arrays to the compiled loop as
data, so changing a value never recompiles.
"""

from __future__ import annotations

import dataclasses
from typing import Union

import numpy as np

__all__ = ["PARAMETER_NAMES", "Schedule", "constant", "power", "geometric", "from_values", "resolve"]


#: The named parameters of each kind of schedule, in the order of its constructor.
PARAMETER_NAMES = {"constant": ("value",), "power": ("scale", "exponent", "offset"), "geometric": ("start", "ratio")}


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A per-generation value ``f(t)`` for ``t = 0, ..., G``.

    Build one with :func:`constant`, :func:`power`, :func:`geometric` or
    :func:`from_values`.

    ```python
    >>> constant(0.5)
    Schedule(kind='constant', parameters=(0.5,))

    ```
    """

    kind: str
    parameters: tuple

    def replace(self, **parameters) -> "Schedule":
        """A copy with some named parameters changed (see :data:`PARAMETER_NAMES`).

        **Raises:**

        `ValueError` naming the parameter if this kind of schedule has no such parameter.

        ```python
        >>> power(100, 1.0).replace(exponent=1.5)
        Schedule(kind='power', parameters=(100.0, 1.5, 1.0))

        ```
        """
        names = PARAMETER_NAMES.get(self.kind, ())
        unknown = sorted(set(parameters) - set(names))
        if unknown:
            raise ValueError(
                f"a {self.kind} schedule has no parameter {unknown[0]!r}; its parameters are "
                f"{', '.join(map(repr, names)) or 'none (a from_values array)'}"
            )
        values = [float(parameters.get(name, old)) for name, old in zip(names, self.parameters)]
        return Schedule(self.kind, tuple(values))

    def values(self, length: int) -> np.ndarray:
        """Evaluate the schedule at ``t = 0, ..., length - 1``.

        **Arguments:**

        - `length`: number of generations including generation 0 (``G + 1``).

        **Returns:**

        A float64 NumPy array of shape ``[length]``.

        ```python
        >>> power(100, 1.0).values(3)
        array([100., 200., 300.])

        ```
        """
        t = np.arange(length, dtype=np.float64)
        if self.kind == "constant":
            (value,) = self.parameters
            return np.full(length, value, dtype=np.float64)
        if self.kind == "power":
            scale, exponent, offset = self.parameters
            return scale * (t + offset) ** exponent
        if self.kind == "geometric":
            start, ratio = self.parameters
            return start * ratio**t
        (array,) = self.parameters
        array = np.asarray(array, dtype=np.float64)
        if array.shape != (length,):
            raise ValueError(
                f"a from_values schedule has shape {array.shape}; it must have shape "
                f"({length},), one value per generation t = 0..{length - 1}"
            )
        return array.copy()


def constant(value: float) -> Schedule:
    """The same value in every generation.

    ```python
    >>> constant(0.1).values(3)
    array([0.1, 0.1, 0.1])

    ```
    """
    return Schedule("constant", (float(value),))


def power(scale: float, exponent: float, offset: float = 1.0) -> Schedule:
    """``scale * (t + offset) ** exponent``: decaying real fractions, growing sample sizes.

    ```python
    >>> power(1.0, -1.0).values(3)      # a_t = 1/(t+1)
    array([1.        , 0.5       , 0.33333333])

    ```
    """
    return Schedule("power", (float(scale), float(exponent), float(offset)))


def geometric(start: float, ratio: float) -> Schedule:
    """``start * ratio ** t``.

    ```python
    >>> geometric(100, 2).values(3)
    array([100., 200., 400.])

    ```
    """
    return Schedule("geometric", (float(start), float(ratio)))


def from_values(values) -> Schedule:
    """An explicit array with one value per generation ``t = 0, ..., G``.

    ```python
    >>> from_values([1.0, 0.5, 0.25]).values(3)
    array([1.  , 0.5 , 0.25])

    ```
    """
    return Schedule("values", (tuple(np.asarray(values, dtype=np.float64).ravel().tolist()),))


ScheduleLike = Union[Schedule, float, int, "np.ndarray", list, tuple]


def resolve(spec: ScheduleLike, length: int, field: str) -> np.ndarray:
    """Turn a number, a :class:`Schedule` or an array into a float64 array of ``length``.

    **Arguments:**

    - `spec`: the user's value for the field.
    - `length`: ``G + 1``.
    - `field`: the field's name, used in error messages.

    **Returns:**

    A float64 array of shape ``[length]``.

    **Raises:**

    `ValueError` naming `field` if an array has the wrong length or the value is not
    numeric (text is not, even ``"0.5"``).

    ```python
    >>> resolve(0.5, 2, "real_fraction")
    array([0.5, 0.5])

    ```
    """
    if isinstance(spec, Schedule):
        try:
            return spec.values(length)
        except ValueError as error:
            raise ValueError(f"{field}: {error}") from None
    try:
        array = np.asarray(spec)
        if array.dtype.kind in "SU":  # text is not a number, even "0.5"
            raise TypeError
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{field} must be a number, a jc.schedules.Schedule or an array of length "
            f"{length}; got {spec!r}"
        ) from None
    if array.ndim == 0:
        return np.full(length, float(array))
    if array.shape != (length,):
        raise ValueError(
            f"{field} has shape {array.shape}; a per-generation array must have shape "
            f"({length},), one value per generation t = 0..{length - 1}"
        )
    return array.copy()
