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


def safe_divide(numerator: Array, denominator: Array) -> Array:
    """``numerator / denominator`` where the denominator is positive, else zero; exactly 1
    where the two are equal.

    XLA does not promise a correctly rounded quotient. On the CPU it rewrites a division
    by a broadcast scalar into a multiplication by its reciprocal, so ``n / n`` can come
    out one ulp below 1 (in float32, ``110 * (1/110) < 1``); on a GPU the vmapped
    multinomial's last ratio ``p / p`` is not always exactly 1, which made its counts NaN.
    Identities that samplers and fits rely on (a Bernoulli fit of ``n`` ones is exactly 1,
    an absorbing state; a binomial probability ``p_k / S_k`` is at most 1) are kept exact.

    **Arguments:**

    - `numerator`, `denominator`: arrays of the same float dtype (broadcast together).

    **Returns:**

    The quotient, broadcast shape.

    ```python
    >>> import jax.numpy as jnp
    >>> safe_divide(jnp.array([110.0, 0.0, 3.0]), jnp.array([110.0, 0.0, 4.0]))
    Array([1.  , 0.  , 0.75], dtype=float32)

    ```
    """
    positive = denominator > 0
    quotient = jnp.where(numerator == denominator, 1, numerator / jnp.where(positive, denominator, 1))
    return jnp.where(positive, quotient, 0)
