"""A sweep's identity: the JSON record of its configuration and the fingerprint of everything
that determines its numbers (checked before a checkpoint is resumed)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jax
import numpy as np

from .. import schedules
from ._grid import Grid, label


def jsonable(value) -> Any:
    """A schedule, array, model or number as plain JSON data.

    ```python
    >>> import jcollapse as jc
    >>> jsonable(jc.schedules.power(100, 1.0))
    {'schedule': 'power', 'parameters': [100.0, 1.0, 1.0]}

    ```
    """
    if isinstance(value, schedules.Schedule):
        parameters = value.parameters[0] if value.kind == "values" else value.parameters
        return {"schedule": value.kind, "parameters": list(parameters)}
    if isinstance(value, (np.ndarray, np.generic, jax.Array)):
        return np.asarray(value).tolist()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return repr(value)


def tree_record(tree) -> dict[str, Any]:
    """A parameter pytree as ``{path: nested list}``.

    ```python
    >>> import jcollapse as jc
    >>> tree_record(jc.models.Poisson(dim=1).params(rate=[2.0]))
    {'.rate': [2.0]}

    ```
    """
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {jax.tree_util.keystr(path): np.asarray(leaf).tolist() for path, leaf in leaves}


def describe(grid: Grid, base_loop, truth, seeds: int, key_data: list, chunk_size: int, quantiles) -> dict:
    """The whole configuration of a sweep as JSON-ready data.

    The base loop's fields as given (schedules as recipes), the grid's values, every
    configuration's true parameters (when the truth is a function of the model), the
    seeds, the key, the chunk size and the quantiles.
    """
    loop_record = {"model": repr(base_loop.model), "generations": base_loop.generations,
                   "pool": base_loop.pool, "mixing": base_loop.mixing}
    loop_record.update({name: jsonable(spec) for name, spec in base_loop.specs.items()})
    truths = [tree_record(config.truth) for config in grid.configs]
    return {
        "loop": loop_record,
        "grid": {name: [label(v) for v in values] for name, values in zip(grid.names, grid.values)},
        "truth": truths[0] if not callable(truth) else {"function": repr(truth), "per_config": truths},
        "seeds": seeds,
        "key": key_data,
        "chunk_size": chunk_size,
        "quantiles": list(quantiles),
    }


def fingerprint(record: dict, version: str) -> str:
    """A SHA-256 of the record and the library's version: equal fingerprints, equal numbers.

    ```python
    >>> fingerprint({"a": 1}, "0.1.0") == fingerprint({"a": 1}, "0.1.0") != fingerprint({"a": 2}, "0.1.0")
    True

    ```
    """
    text = json.dumps({"record": record, "version": version}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
