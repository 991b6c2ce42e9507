"""Symmetric factorizations with the one-by-one case in closed form.

Vmapped over thousands of seeds, ``jnp.linalg.cholesky`` and ``eigh`` call batched
LAPACK kernels that split their batch over XLA's thread pool. For a 1x1 matrix that
machinery is all overhead, a visible share of a 1-D Gaussian loop's time. The closed forms
below return what LAPACK returns for a 1x1 matrix
(``potrf`` takes the square root of a positive pivot and fails otherwise, which jax
reports as NaN; ``syevd`` returns the entry and the eigenvector 1), so a trajectory is
the same either way; larger matrices go to ``jnp.linalg``.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float


def _is_scalar_matrix(a: Array) -> bool:
    return a.shape[-2:] == (1, 1)


def cholesky(a: Float[Array, "dim dim"]) -> Float[Array, "dim dim"]:
    """The lower Cholesky factor of a symmetric matrix, NaN where it is not positive definite.

    ```python
    >>> import jax.numpy as jnp
    >>> cholesky(jnp.array([[4.0]])), cholesky(jnp.array([[0.0]]))
    (Array([[2.]], dtype=float32), Array([[nan]], dtype=float32))

    ```
    """
    if _is_scalar_matrix(a):
        return jnp.where(a > 0, jnp.sqrt(a), jnp.nan)
    return jnp.linalg.cholesky(a)


def eigh(a: Float[Array, "dim dim"]) -> tuple[Float[Array, " dim"], Float[Array, "dim dim"]]:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix.

    ```python
    >>> import jax.numpy as jnp
    >>> eigh(jnp.array([[3.0]]))
    (Array([3.], dtype=float32), Array([[1.]], dtype=float32))

    ```
    """
    if _is_scalar_matrix(a):
        return a[..., 0], jnp.ones_like(a)
    return jnp.linalg.eigh(a)


def eigvalsh(a: Float[Array, "dim dim"]) -> Float[Array, " dim"]:
    """Eigenvalues (ascending) of a symmetric matrix.

    ```python
    >>> import jax.numpy as jnp
    >>> eigvalsh(jnp.array([[2.0, 0.0], [0.0, 1.0]]))
    Array([1., 2.], dtype=float32)

    ```
    """
    return eigh(a)[0] if _is_scalar_matrix(a) else jnp.linalg.eigvalsh(a)
