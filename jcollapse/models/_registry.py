"""The registry of model families: how the rest of jcollapse finds a family by name.

A family registers itself next to its definition, with :func:`register_family`; the TOML
schema of ``jcollapse sweep``, ``jcollapse list``, and :mod:`jcollapse.theory` (which
imports a family's theory module when asked about it) read the registry, so adding a family
edits no file but its own, its theory module and its tests.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

from ._base import AbstractModel

_FAMILIES: dict[str, type] = {}
_THEORIES: dict[type, tuple[str, ...]] = {}


def register_family(cls: Optional[type] = None, *,
                    theory: Union[str, tuple[str, ...], None] = None) -> Union[type, Callable]:
    """Class decorator: make a model family known by its class name.

    **Arguments:**

    - `cls`: a concrete subclass of :class:`~jcollapse.models.AbstractModel`.
    - `theory`: the dotted name of the module (or a tuple of them) that registers the
      family's closed forms with :func:`jcollapse.theory.register`; :mod:`jcollapse.theory`
      imports them when asked about the family. ``None``: the family has no closed forms, or
      registers them where it is defined.

    **Returns:**

    The class, unchanged (used as ``@register_family`` or ``@register_family(theory=...)``).

    **Raises:**

    `TypeError` for a class that is not a model; `ValueError` for a name another family holds.

    ```python
    >>> import jcollapse as jc
    >>> @register_family
    ... class ShiftedMean(jc.models.GaussianMean):
    ...     '''A toy family.'''
    >>> families()["ShiftedMean"] is ShiftedMean
    True

    ```
    """

    def decorate(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, AbstractModel)):
            raise TypeError(f"register_family takes a model class (a jc.models.AbstractModel); got {cls!r}")
        held = _FAMILIES.get(cls.__name__)
        if held is not None and (held.__module__, held.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"a model family named {cls.__name__!r} is already registered ({held.__module__})")
        _FAMILIES[cls.__name__] = cls
        if theory is not None:
            _THEORIES[cls] = (theory,) if isinstance(theory, str) else tuple(theory)
        return cls

    return decorate if cls is None else decorate(cls)


def families() -> dict[str, type]:
    """Every registered family, by name (sorted).

    ```python
    >>> sorted(families())[:3]
    ['Bernoulli', 'Categorical', 'Gaussian']

    ```
    """
    return dict(sorted(_FAMILIES.items()))


def family(name: str) -> type:
    """The family registered as `name`.

    **Raises:**

    `ValueError` naming the registered families.

    ```python
    >>> family("Poisson").__name__
    'Poisson'
    >>> family("Gausian")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: family must be one of Bernoulli, Categorical, Gaussian, GaussianMean, ...; got 'Gausian'

    ```
    """
    if name not in _FAMILIES:
        raise ValueError(f"family must be one of {', '.join(families())}; got {name!r}")
    return _FAMILIES[name]


def theory_modules(cls: type) -> list[str]:
    """The theory modules registered for `cls` and its ancestors, nearest first.

    ```python
    >>> theory_modules(family("Categorical"))
    ['jcollapse.theory._categorical']

    ```
    """
    return [name for c in cls.__mro__ for name in _THEORIES.get(c, ())]
