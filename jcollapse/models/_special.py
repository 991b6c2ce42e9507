"""Special functions and argument handling the samplers share."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float


def log1pmx(x: Float[Array, "..."]) -> Float[Array, "..."]:
    """``log(1 + x) - x``, accurate also where ``|x|`` is small (no cancellation).

    For ``|x| < 1/2`` it uses ``log(1 + x) = 2 atanh(z)``, ``z = x / (2 + x)``, so
    ``log(1 + x) - x = -x^2 / (2 + x) + 2 (z^3/3 + z^5/5 + ...)`` (``|z| < 1/3``; the series
    is cut after ``z^17``, relative error below ``1e-9``). ``x = -1`` gives ``-inf``.

    **Arguments:**

    - `x`: array with entries ``>= -1``.

    **Returns:**

    ``log1p(x) - x``, same shape and dtype.

    ```python
    >>> import jax.numpy as jnp
    >>> [round(float(v), 6) for v in log1pmx(jnp.array([-1.0, 0.5]))]
    [-inf, -0.094535]

    ```
    """
    small = jnp.abs(x) < 0.5
    xs = jnp.where(small, x, 0)
    z = xs / (2 + xs)
    z2 = z * z
    series = jnp.zeros_like(z2)
    for j in range(8, 0, -1):  # 1/3 + z2/5 + ... + z2^7/17, by Horner
        series = 1 / (2 * j + 1) + z2 * series
    near = -xs * xs / (2 + xs) + 2 * z * z2 * series
    far = jnp.log1p(jnp.where(small, 0, x)) - x
    return jnp.where(small, near, far)


def as_float(x) -> Array:
    """``x`` as a JAX array, converted to the default float dtype unless it is already a float.

    ```python
    >>> as_float(3).dtype, as_float(jnp.float32(2.5)).dtype
    (dtype('float32'), dtype('float32'))

    ```
    """
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.zeros(()).dtype)
