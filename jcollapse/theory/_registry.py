"""The registry of closed forms behind :func:`expected`.

A closed form is a host function ``(loop, truth) -> {metric: float64 array [G + 1]}``
registered for a model class, a pool and a mixing rule, together with the metrics it
knows. Each family's closed forms live in its theory module, registered next to their
definition::

    @register(Gaussian, pool="replace", mixing=("iid", "split"),
              metrics=("mean_sq_error", "variance"))
    def gaussian_replace(loop, truth):
        ...

and the family names that module when it registers itself
(``@register_family(theory="jcollapse.theory._gaussian")``). :func:`expected` and
:func:`available` import a family's theory modules before they look, so a closed form is
found whatever has been imported. :func:`expected` validates the metric name against the
model, looks the closed form up, and says precisely what is and is not available when it
has nothing to offer.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Callable, Union

import numpy as np

from ..loop import Loop
from ..mixing import MIXINGS
from ..models import AbstractModel, families, theory_modules
from ..pools import POOL_NAMES

#: A closed form: ``(loop, truth) -> {metric name: float64 array of shape [G + 1]}``.
ClosedForm = Callable[[Loop, object], "dict[str, np.ndarray]"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered closed form.

    **Fields:**

    - `model_type`: the model class it applies to (exactly that class or a subclass).
    - `pool`, `mixing`: the loop configuration it applies to.
    - `metrics`: the metric names it returns.
    - `function`: the closed form, ``(loop, truth) -> dict``.
    """

    model_type: type
    pool: str
    mixing: str
    metrics: tuple[str, ...]
    function: ClosedForm


_REGISTRY: dict[tuple[type, str, str], Entry] = {}


def _as_names(field: str, value: Union[str, tuple, list], allowed: tuple[str, ...]) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    bad = [name for name in names if name not in allowed]
    if not names or bad:
        raise ValueError(f"{field} must be one or more of {', '.join(map(repr, allowed))}; got {value!r}")
    return names


def register(model_type: type, *, pool, mixing, metrics):
    """Decorator: register a closed form for ``model_type`` under ``pool`` and ``mixing``.

    **Arguments:**

    - `model_type`: a model class, e.g. ``jc.models.Gaussian``.
    - `pool`: a pool name or a tuple of them (``"replace"``, ``"accumulate"``,
      ``"accumulate-subsample"``).
    - `mixing`: a mixing name or a tuple of them (``"iid"``, ``"split"``).
    - `metrics`: the metric names the closed form returns; each must be one of
      ``model_type.metric_names``.

    **Returns:**

    The decorator; it registers the function and returns it unchanged. Registering the
    same ``(model_type, pool, mixing)`` twice raises `ValueError`.

    ```python
    >>> import numpy as np
    >>> from jcollapse.models import GaussianMean
    >>> class ToyMean(GaussianMean):
    ...     pass
    >>> @register(ToyMean, pool="accumulate-subsample", mixing="split",
    ...           metrics=("mean_sq_error",))
    ... def _toy(loop, truth):
    ...     return {"mean_sq_error": np.zeros(loop.generations + 1)}

    ```
    """
    if not (isinstance(model_type, type) and issubclass(model_type, AbstractModel)):
        raise TypeError(f"model_type must be a model class (jc.models.*); got {model_type!r}")
    pools = _as_names("pool", pool, POOL_NAMES)
    mixings = _as_names("mixing", mixing, tuple(MIXINGS))
    metrics = _as_names("metrics", metrics, tuple(model_type.metric_names))

    def decorator(function: ClosedForm) -> ClosedForm:
        keys = [(model_type, p, m) for p in pools for m in mixings]
        taken = [key for key in keys if key in _REGISTRY]
        if taken:
            raise ValueError(f"a closed form is already registered for {_describe(*taken[0])}")
        for key in keys:
            _REGISTRY[key] = Entry(model_type, key[1], key[2], metrics, function)
        return function

    return decorator


def _describe(model_type: type, pool: str, mixing: str) -> str:
    return f"{model_type.__name__}, pool={pool!r}, mixing={mixing!r}"


def _load_theory(cls: type) -> None:
    """Import the theory modules `cls` registered (their closed forms register on import)."""
    for name in theory_modules(cls):
        importlib.import_module(name)


def _lookup(model: AbstractModel, pool: str, mixing: str) -> Union[Entry, None]:
    _load_theory(type(model))
    for cls in type(model).__mro__:
        entry = _REGISTRY.get((cls, pool, mixing))
        if entry is not None:
            return entry
    return None


def available(model=None) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """The registered closed forms, as ``(model class name, pool, mixing, metrics)`` rows.

    **Arguments:**

    - `model`: optionally a model instance or class; then only its closed forms.

    **Returns:**

    A sorted list of ``(model name, pool, mixing, metric names)`` tuples.

    ```python
    >>> import jcollapse as jc
    >>> [(pool, mixing) for _, pool, mixing, _ in available(jc.models.GaussianMean(dim=1))]
    [('accumulate', 'iid'), ('accumulate', 'split'), ('replace', 'iid'), ('replace', 'split')]

    ```
    """
    if model is None:
        for cls in families().values():
            _load_theory(cls)
        entries = list(_REGISTRY.values())
    else:
        cls = model if isinstance(model, type) else type(model)
        _load_theory(cls)
        entries = [e for e in _REGISTRY.values() if issubclass(cls, e.model_type)]
    rows = {(e.model_type.__name__, e.pool, e.mixing, e.metrics) for e in entries}
    return sorted(rows)


def expected(loop: Loop, truth, metric: str) -> np.ndarray:
    """The expected value of ``run.metrics[metric]`` at each generation, in closed form.

    Computed on the host in float64 NumPy from the loop's schedules (``real_fraction``,
    ``sample_size``), pool, mixing rule and model, and the truth. It is the mean over
    seeds that :func:`jcollapse.simulate` estimates (``run.mean(metric)``); which formula
    is used, and where it comes from, is in the docstring of the registered closed form
    (see :func:`available`).

    **Arguments:**

    - `loop`: a :class:`jcollapse.Loop`.
    - `truth`: the true parameters, from ``loop.model.params(...)``.
    - `metric`: a metric name of ``loop.model`` (``loop.model.metric_names``).

    **Returns:**

    A float64 NumPy array of shape ``[G + 1]``: entry ``t`` is ``E[metric]`` of the model
    fitted in generation ``t``.

    **Raises:**

    - `ValueError` if ``metric`` is not a metric of the model.
    - `NotImplementedError` if no closed form is known for this model, pool, mixing rule
      and metric; the message names what is available.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Gaussian(dim=1)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=10)
    >>> expected(loop, model.params(mean=0.0, cov=[[1.0]]), "variance")
    array([0.9  , 0.81 , 0.729])

    ```
    """
    if not isinstance(loop, Loop):
        raise TypeError(f"loop must be a jc.Loop; got {type(loop).__name__}")
    model = loop.model
    name = type(model).__name__
    if not isinstance(metric, str) or metric not in model.metric_names:
        raise ValueError(
            f"metric must be one of {', '.join(map(repr, model.metric_names))} for {model}; "
            f"got {metric!r}"
        )
    entry = _lookup(model, loop.pool, loop.mixing)
    if entry is None or metric not in entry.metrics:
        rows = available(model)
        listing = (
            "; ".join(f"pool={p!r}, mixing={m!r}: {', '.join(ms)}" for _, p, m, ms in rows)
            if rows
            else "none"
        )
        raise NotImplementedError(
            f"no closed form is known for the expected {metric!r} of {name} with "
            f"pool={loop.pool!r}, mixing={loop.mixing!r}. Closed forms available for {name}: "
            f"{listing}."
        )
    values = entry.function(loop, truth)[metric]
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (loop.generations + 1,):
        raise AssertionError(
            f"closed form for {_describe(entry.model_type, entry.pool, entry.mixing)} returned "
            f"{metric!r} of shape {values.shape}; expected ({loop.generations + 1},)"
        )
    return values
