"""Distances between a fitted generator and the truth, measured through samples.

Each function is pure, traceable and vmappable, and sums in a fixed order
(:func:`jcollapse.internal.reduce.pairwise_sum`), so a seed's value does not depend on how
many seeds run beside it. Their costs are ``O(m n dim)`` for ``m`` and ``n`` points: the
learned families call them on a few hundred points per generation.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from .internal.reduce import pairwise_sum


def squared_distances(x: Float[Array, "m dim"], y: Float[Array, "n dim"]) -> Float[Array, "m n"]:
    """``||x_i - y_j||^2`` for every pair, from the differences (not ``|x|^2 + |y|^2 - 2 x.y``,
    which cancels in float32 for nearby points far from the origin).

    ```python
    >>> import jax.numpy as jnp
    >>> squared_distances(jnp.array([[0.0, 0.0]]), jnp.array([[3.0, 4.0], [0.0, 1.0]]))
    Array([[25.,  1.]], dtype=float32)

    ```
    """
    return pairwise_sum(jnp.moveaxis((x[:, None, :] - y[None, :, :]) ** 2, -1, 0))


def _mean_off_diagonal(kernel: Float[Array, "m m"]) -> Float[Array, ""]:
    m = kernel.shape[0]
    off = jnp.where(jnp.eye(m, dtype=bool), 0, kernel)
    return pairwise_sum(pairwise_sum(off)) / (m * (m - 1))


def mmd2(x: Float[Array, "m dim"], y: Float[Array, "n dim"], bandwidth: float) -> Float[Array, ""]:
    """The unbiased estimate of the squared maximum mean discrepancy between the laws of ``x``
    and ``y`` with the Gaussian kernel ``k(a, b) = exp(-||a - b||^2 / (2 bandwidth^2))``
    (Gretton et al. 2012, eq. 3): the mean of ``k`` over distinct pairs within ``x`` plus
    that within ``y``, minus twice the mean over pairs across. It can be slightly negative
    when the laws are equal.

    **Arguments:**

    - `x`, `y`: samples, ``m, n >= 2`` points each.
    - `bandwidth`: the kernel's length scale, ``> 0``.

    **Returns:**

    A scalar.

    ```python
    >>> import jax
    >>> x = jax.random.normal(jax.random.key(0), (200, 2))
    >>> y = jax.random.normal(jax.random.key(1), (200, 2)) + 3.0
    >>> float(mmd2(x, y, 1.0)) > 0.5
    True

    ```
    """
    scale = -0.5 / jnp.square(bandwidth)
    within_x = _mean_off_diagonal(jnp.exp(scale * squared_distances(x, x)))
    within_y = _mean_off_diagonal(jnp.exp(scale * squared_distances(y, y)))
    across = pairwise_sum(pairwise_sum(jnp.exp(scale * squared_distances(x, y)))) / (x.shape[0] * y.shape[0])
    return within_x + within_y - 2 * across
