"""Exact samplers for sufficient statistics, shared by the model families.

Each sampler takes its count as a traced integer, so one compiled loop serves any
sample-size schedule, and costs the same whatever the count is.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._reduce import matmul


def chi_square(key: PRNGKeyArray, df: Float[Array, "..."], dtype) -> Float[Array, "..."]:
    """Chi-square draws with (traced, possibly zero) degrees of freedom ``df``.

    ``df = 0`` gives exactly 0 (the point mass), as the sum of zero squared normals.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> chi_square(jax.random.key(0), jnp.array([0.0, 3.0]), jnp.float32).shape
    (2,)

    ```
    """
    positive = df > 0
    shape = jnp.where(positive, df / 2, 1).astype(dtype)
    return jnp.where(positive, 2 * jax.random.gamma(key, shape, dtype=dtype), 0)


def standard_wishart_factor(
    key: PRNGKeyArray, dim: int, df: Int[Array, ""], dtype
) -> Float[Array, "dim dim"]:
    """A lower-triangular ``A`` with ``A A^T ~ Wishart(df, I_dim)``, for any integer ``df >= 0``.

    Bartlett's decomposition: ``A_ii^2 ~ chi^2(df - i)`` and ``A_ij ~ N(0, 1)`` for
    ``j < i``, all independent (0-based indices). For ``df < dim`` the Wishart matrix is
    singular: it is ``Z Z^T`` with ``Z`` of shape ``[dim, df]``, whose LQ factor is the
    same triangle with the columns ``j >= df`` removed, so those columns are zeroed.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> standard_wishart_factor(jax.random.key(0), 3, jnp.array(10), jnp.float32).shape
    (3, 3)

    ```
    """
    key_normal, key_chi = jax.random.split(key)
    index = jnp.arange(dim)
    live_column = index[None, :] < df
    below = jnp.tril(jax.random.normal(key_normal, (dim, dim), dtype=dtype), k=-1)
    diagonal = jnp.sqrt(chi_square(key_chi, (df - index).astype(dtype), dtype))
    return jnp.where(live_column, below, 0) + jnp.diag(diagonal)


def wishart(
    key: PRNGKeyArray, factor: Float[Array, "dim dim"], df: Int[Array, ""]
) -> Float[Array, "dim dim"]:
    """A draw of ``Wishart(df, factor factor^T)``: the scatter matrix ``sum_i z_i z_i^T`` of
    ``df`` i.i.d. ``N(0, factor factor^T)`` vectors, in ``O(dim^3)`` whatever ``df`` is.

    Any square root works as ``factor`` (``Wishart(df, I)`` is rotation invariant), so a
    singular covariance with a rank-deficient factor is fine.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> w = wishart(jax.random.key(0), jnp.eye(2), jnp.array(5))
    >>> w.shape
    (2, 2)

    ```
    """
    a = standard_wishart_factor(key, factor.shape[0], df, factor.dtype)
    la = matmul(factor, a)
    return matmul(la, la.T)
