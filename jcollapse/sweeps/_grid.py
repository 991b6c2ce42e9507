"""A sweep's grid, validated on the host and expanded into one :class:`Loop` per configuration."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any, Callable, Union

import numpy as np

from .. import schedules
from ..loop import Loop

#: The :class:`Loop` fields a grid may sweep directly.
LOOP_FIELDS = ("generations", "real_fraction", "sample_size", "pool", "mixing", "pool_weights", "path")
#: The fields that take a schedule, whose named parameters a grid may sweep ("sample_size.exponent").
SCHEDULE_FIELDS = ("real_fraction", "sample_size", "pool_weights")


@dataclasses.dataclass(frozen=True)
class Config:
    """One point of the grid.

    **Fields:**

    - `index`: its position, one index per grid key.
    - `loop`: the loop with the point's values.
    - `truth`: the true parameters for the loop's model.
    """

    index: tuple[int, ...]
    loop: Loop
    truth: Any


@dataclasses.dataclass(frozen=True)
class Grid:
    """The expanded grid: its keys, their values, and every configuration in C order.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMean(dim=1), generations=3)
    >>> truth = loop.model.params(mean=0.0, cov=[[1.0]])
    >>> grid = expand(loop, truth, {"real_fraction": [0.0, 0.5], "mixing": ["iid", "split"]})
    >>> grid.shape, grid.configs[3].loop.mixing
    ((2, 2), 'split')

    ```
    """

    names: tuple[str, ...]
    values: tuple[tuple, ...]
    configs: tuple[Config, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """The number of values of each key (see the class example)."""
        return tuple(len(values) for values in self.values)


def _model_fields(model) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(model) if f.init)


def _check_key(key, loop: Loop) -> None:
    if not isinstance(key, str):
        raise ValueError(f"grid keys must be strings; got {key!r}")
    if key in LOOP_FIELDS:
        return
    head, _, tail = key.partition(".")
    if head == "model" and tail:
        if tail not in _model_fields(loop.model):
            raise ValueError(
                f"grid key {key!r}: {type(loop.model).__name__} has no setting {tail!r}; its settings are "
                f"{', '.join(_model_fields(loop.model))}"
            )
        return
    if head in SCHEDULE_FIELDS and tail:
        spec = loop.specs[head]
        if not isinstance(spec, schedules.Schedule):
            raise ValueError(
                f"grid key {key!r}: loop.{head} must be a jc.schedules schedule to sweep its parameter "
                f"{tail!r}; it is {spec!r}"
            )
        spec.replace(**{tail: 0.0})  # raises ValueError naming the parameter if it has none
        return
    raise ValueError(
        f"grid key {key!r} is not sweepable; use a Loop field ({', '.join(LOOP_FIELDS)}), a schedule "
        f"parameter such as 'sample_size.exponent', or a model setting such as 'model.dim'"
    )


def _check_values(key: str, values) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, np.ndarray)):
        raise ValueError(f"grid[{key!r}] must be a non-empty list of values; got {values!r}")
    values = tuple(values)
    if not values:
        raise ValueError(f"grid[{key!r}] must be a non-empty list of values; got an empty list")
    labels = [label(value) for value in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f"grid[{key!r}] has repeated values: {labels}")
    return values


def label(value) -> Union[str, float, int]:
    """A grid value as a coordinate: numbers and strings as they are, anything else as text.

    ```python
    >>> import jcollapse as jc
    >>> label(0.5), label(jc.schedules.power(100, 1.0))
    (0.5, 'power(scale=100, exponent=1, offset=1)')

    ```
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating, str)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, schedules.Schedule) and value.kind in schedules.PARAMETER_NAMES:
        named = ", ".join(f"{n}={p:g}" for n, p in zip(schedules.PARAMETER_NAMES[value.kind], value.parameters))
        return f"{value.kind}({named})"
    array = np.asarray(value.parameters[0] if isinstance(value, schedules.Schedule) else value, dtype=np.float64)
    return "[" + ", ".join(f"{v:g}" for v in array.ravel()) + "]"


def _configure(loop: Loop, truth, point: dict) -> Config:
    loop_changes, model_changes = {}, {}
    for key, value in point.items():
        head, _, tail = key.partition(".")
        if key in LOOP_FIELDS:
            loop_changes[key] = value
        elif head == "model":
            model_changes[tail] = value
        else:
            base = loop_changes.get(head, loop.specs[head])
            loop_changes[head] = base.replace(**{tail: value})
    where = ", ".join(f"{k}={label(v)!r}" for k, v in point.items())
    try:
        model = dataclasses.replace(loop.model, **model_changes) if model_changes else loop.model
        configured = loop.replace(model=model, **loop_changes)
        point_truth = truth(model) if callable(truth) else truth
    except (TypeError, ValueError) as error:
        raise ValueError(f"grid point {where}: {error}") from None
    return Config(index=(), loop=configured, truth=point_truth)


def expand(loop: Loop, truth: Union[Any, Callable], grid: Mapping) -> Grid:
    """Validate ``grid`` and build the loop of every point of its Cartesian product.

    **Arguments:**

    - `loop`: the base loop; each point changes some of its fields.
    - `truth`: the true parameters, or a function ``model -> params`` when the grid
      changes the model's shapes (``"model.dim"``).
    - `grid`: key -> non-empty list of values. Keys: a :class:`Loop` field
      (:data:`LOOP_FIELDS`), a schedule parameter (``"sample_size.exponent"``, when the
      loop's ``sample_size`` is a :mod:`jcollapse.schedules` schedule), or a model
      setting (``"model.variance"``).

    **Returns:**

    A :class:`Grid`, configurations in C order (the last key varies fastest).

    **Raises:**

    `ValueError` naming the key (and the point, for a value the loop rejects), before
    anything is compiled.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.Gaussian(dim=1), generations=2, sample_size=jc.schedules.power(10, 1.0))
    >>> truth = loop.model.params(mean=0.0, cov=[[1.0]])
    >>> grid = expand(loop, truth, {"sample_size.exponent": [0.0, 1.0], "model.variance": ["mle", "unbiased"]})
    >>> [int(c.loop.sample_size[-1]) for c in grid.configs], grid.configs[1].loop.model.variance
    ([10, 10, 30, 30], 'unbiased')

    ```
    """
    if not isinstance(loop, Loop):
        raise TypeError(f"loop must be a jc.Loop; got {type(loop).__name__}")
    if not isinstance(grid, Mapping):
        raise ValueError(f"grid must be a dict of key -> list of values; got {grid!r}")
    names = tuple(grid)
    for key in names:
        _check_key(key, loop)
    for key in names:
        head = key.partition(".")[0]
        if "." in key and head in grid:
            raise ValueError(f"grid sweeps both {head!r} and its parameter {key!r}; sweep one of them")
    values = tuple(_check_values(key, grid[key]) for key in names)
    configs = []
    for index in itertools.product(*(range(len(v)) for v in values)):
        point = {key: values[k][i] for k, (key, i) in enumerate(zip(names, index))}
        configs.append(dataclasses.replace(_configure(loop, truth, point), index=index))
    return Grid(names=names, values=values, configs=tuple(configs))
