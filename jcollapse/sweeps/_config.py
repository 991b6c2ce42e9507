"""Sweep configurations in TOML, for ``jcollapse sweep CONFIG.toml``.

The schema (every table but ``[grid]`` is required; unknown keys are errors)::

    seeds = 2000                 # seeds per grid point, >= 1
    key = 0                      # jax.random.key(key)
    chunk_size = 1024            # optional: seeds per compiled batch
    quantiles = [0.05, 0.5, 0.95]  # optional: the quantiles reported beside mean and sem

    [model]                      # a registered family (jc.models.families()) and its settings
    family = "Gaussian"
    dim = 1

    [truth]                      # the arguments of model.params(...), or, for a family fitted to a
    mean = [0.0]                 # jc.truths law (KernelDensity), its name and arguments:
    cov = [[1.0]]                # law = "TwoMoons" and noise = 0.1 (see jc.truths.law)

    [loop]                       # jc.Loop's arguments, model excepted
    generations = 500
    sample_size = 100            # or a schedule: { schedule = "power", scale = 100, exponent = 1.0 }
    real_fraction = 0.0

    [grid]                       # key -> list of values, as in jc.sweep
    real_fraction = [0.0, 0.1, 0.5]

A schedule is an inline table with ``schedule`` = ``"constant"`` | ``"power"`` |
``"geometric"`` | ``"values"`` and its parameters by name (``values = [...]`` for
``"values"``); grid values may be schedules too.
"""

from __future__ import annotations

import dataclasses
import inspect
import tomllib
from pathlib import Path
from typing import Any, Optional, Union

import jax

from .. import models, schedules, truths
from ..loop import Loop

_TOP = {"seeds", "key", "chunk_size", "quantiles", "model", "truth", "loop", "grid"}
_REQUIRED = ("seeds", "model", "truth", "loop")
_LOOP_KEYS = tuple(p for p in inspect.signature(Loop.__init__).parameters if p not in ("self", "model"))


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A parsed configuration: the arguments of :func:`jcollapse.sweep`.

    ```python
    >>> config = parse_config({"seeds": 10, "model": {"family": "GaussianMean", "dim": 1},
    ...                 "truth": {"mean": [0.0], "cov": [[1.0]]}, "loop": {"generations": 3},
    ...                 "grid": {"real_fraction": [0.1, 0.5]}})
    >>> config.loop.generations, config.grid, config.seeds
    (3, {'real_fraction': [0.1, 0.5]}, 10)

    ```
    """

    loop: Loop
    truth: Any
    grid: dict
    seeds: int
    key: int
    chunk_size: Optional[int]
    quantiles: Optional[tuple]

    def sweep_arguments(self) -> dict:
        """Keyword arguments for :func:`jcollapse.sweep` (the key as ``jax.random.key``)."""
        arguments = dict(loop=self.loop, truth=self.truth, grid=self.grid, seeds=self.seeds,
                         key=jax.random.key(self.key), chunk_size=self.chunk_size)
        if self.quantiles is not None:
            arguments["quantiles"] = self.quantiles
        return arguments


def _schedule(value, where: str):
    """An inline table ``{schedule = ..., ...}`` as a Schedule; anything else unchanged."""
    if not isinstance(value, dict):
        return value
    table = dict(value)
    kind = table.pop("schedule", None)
    makers = {"constant": schedules.constant, "power": schedules.power, "geometric": schedules.geometric,
              "values": schedules.from_values}
    if kind not in makers:
        raise ValueError(f"{where}: a schedule table needs schedule = one of {', '.join(map(repr, makers))}; "
                         f"got {value!r}")
    try:
        return makers[kind](**table)
    except TypeError:
        allowed = ", ".join(inspect.signature(makers[kind]).parameters)
        raise ValueError(f"{where}: a {kind} schedule takes {allowed}; got {sorted(table)}") from None


def _integer(data: dict, name: str, minimum: int, default=None) -> Optional[int]:
    value = data.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def parse_config(data: dict) -> SweepConfig:
    """Validate a configuration's data (as read from TOML) and build the sweep's arguments.

    **Raises:**

    `ValueError` naming the table and key of the first problem.

    ```python
    >>> parse_config({"seeds": 0})
    Traceback (most recent call last):
    ...
    ValueError: missing required key(s): model, truth, loop

    ```
    """
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ValueError(f"unknown top-level key(s) {unknown}; allowed: {', '.join(sorted(_TOP))}")
    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        raise ValueError(f"missing required key(s): {', '.join(missing)}")
    for table in ("model", "truth", "loop", "grid"):
        if not isinstance(data.get(table, {}), dict):
            raise ValueError(f"[{table}] must be a table; got {data[table]!r}")
    seeds = _integer(data, "seeds", 1)
    key = _integer(data, "key", 0, default=0)
    chunk_size = _integer(data, "chunk_size", 1)
    quantiles = data.get("quantiles")
    if quantiles is not None and not isinstance(quantiles, list):
        raise ValueError(f"quantiles must be a list of numbers in [0, 1]; got {quantiles!r}")

    settings = dict(data["model"])
    family = settings.pop("family", None)
    try:
        family_class = models.family(family)
    except ValueError as error:
        raise ValueError(f"[model] {error}") from None
    try:
        model = family_class(**settings)
    except (TypeError, ValueError) as error:
        fields = [f.name for f in dataclasses.fields(family_class) if f.init]
        raise ValueError(f"[model] {family} takes {', '.join(fields)}; got {sorted(settings)} ({error})") from None
    if not model.truth_is_params:
        arguments = dict(data["truth"])
        try:
            truth = truths.law(arguments.pop("law", None), **arguments)
        except ValueError as error:
            raise ValueError(f"[truth] of {family} names a jc.truths law (law = ...) and its arguments: "
                             f"{error}") from None
    else:
        try:
            truth = model.params(**data["truth"])
        except (TypeError, ValueError) as error:
            allowed = ", ".join(p for p in inspect.signature(model.params).parameters)
            raise ValueError(f"[truth] must hold the arguments of {family}.params ({allowed}): {error}") from None

    loop_data = data["loop"]
    unknown = sorted(set(loop_data) - set(_LOOP_KEYS))
    if unknown:
        raise ValueError(f"[loop] unknown key(s) {unknown}; allowed: {', '.join(_LOOP_KEYS)}")
    if "generations" not in loop_data:
        raise ValueError("[loop] generations is required")
    try:
        loop = Loop(model, **{k: _schedule(v, f"[loop] {k}") for k, v in loop_data.items()})
    except (TypeError, ValueError) as error:
        raise ValueError(f"[loop] {error}") from None
    grid = {}
    for name, values in data.get("grid", {}).items():
        if not isinstance(values, list):
            raise ValueError(f"[grid] {name} must be a list of values; got {values!r}")
        grid[name] = [_schedule(v, f"[grid] {name}") for v in values]
    return SweepConfig(loop=loop, truth=truth, grid=grid, seeds=seeds, key=key, chunk_size=chunk_size,
                       quantiles=None if quantiles is None else tuple(quantiles))


def load_config(path: Union[str, Path]) -> SweepConfig:
    """Read and validate a TOML sweep configuration (see the module's schema).

    **Raises:**

    `ValueError` starting with the file's name: unreadable file, TOML syntax, or the
    first invalid key.

    ```python
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bad.toml"
    >>> _ = path.write_text("seeds = 10\\n[model]\\nfamily = 'Gausian'\\n[truth]\\n[loop]\\n")
    >>> load_config(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: bad.toml: [model] family must be one of Bernoulli, Categorical, Gaussian, ...; got 'Gausian'

    ```
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"{path.name}: cannot read the configuration: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path.name}: not valid TOML: {error}") from None
    try:
        return parse_config(data)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None
