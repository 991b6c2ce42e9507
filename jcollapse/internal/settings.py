"""Settings: the numbers of a module that are data to the compiled program, not structure.

A model family or a probe is an ``eqx.Module``. Its static fields (``dim``, an estimator's
name) shape the compiled program; its float fields that are not static (``LinearRegression``'s
``noise`` and ``ridge``, a probe's ``ridges``) are *settings*: they travel into the program
as traced values, so a grid over them compiles once. :func:`split_settings` separates the
two; the structure is hashable and keys the compiled program, the settings are its inputs.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def is_setting(leaf) -> bool:
    """Whether a module's leaf is a traced setting: an array, or a Python float.

    ```python
    >>> is_setting(0.5), is_setting(3), is_setting(True)
    (True, False, False)

    ```
    """
    return eqx.is_array(leaf) or isinstance(leaf, float)


def split_settings(module) -> tuple[Any, Any]:
    """``(settings, structure)``: the module's settings as host arrays of the default float
    dtype (everything else ``None``; ``None`` for no module) and the module with its settings
    replaced by ``None`` (hashable when its static parts are).

    Arrays, not Python floats: the executor traces array arguments and keys its compiled
    programs on everything else, so new values of a setting do not recompile.

    ```python
    >>> import jcollapse as jc
    >>> settings, structure = split_settings(jc.models.LinearRegression(dim=2, noise=0.5))
    >>> settings.noise, structure.noise, structure.dim
    (array(0.5, dtype=float32), None, 2)

    ```
    """
    if module is None:
        return None, None
    settings, structure = eqx.partition(module, is_setting)
    dtype = jnp.result_type(float)
    return jax.tree.map(lambda x: np.asarray(x, dtype), settings), structure


def join_settings(settings, structure):
    """The module of :func:`split_settings`'s two parts (settings may be traced).

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.LinearRegression(dim=2, noise=0.5)
    >>> float(join_settings(*split_settings(model)).noise)
    0.5

    ```
    """
    return eqx.combine(settings, structure)
