"""Key handling: what every seed-parallel entry point accepts as a key."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def as_key(key) -> jax.Array:
    """A scalar typed PRNG key from a typed key or a legacy ``uint32[2]`` key.

    **Arguments:**

    - `key`: ``jax.random.key(seed)`` or ``jax.random.PRNGKey(seed)``.

    **Returns:**

    A typed key of shape ``()``.

    **Raises:**

    `ValueError` for anything else (an integer, a batch of keys).

    ```python
    >>> as_key(jax.random.PRNGKey(0)).shape
    ()

    ```
    """
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single key (shape ()); got shape {key.shape}")
        return key
    array = np.asarray(key)
    if array.dtype == np.uint32 and array.shape == (2,):
        return jax.random.wrap_key_data(jnp.asarray(array))
    raise ValueError(f"key must be jax.random.key(...) or jax.random.PRNGKey(...); got {key!r}")
