"""Host-side validation of parameter fields: clear ``ValueError`` before any compilation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def check_count(name: str, value, minimum: int) -> int:
    """``value`` as an ``int`` after checking it is an integer ``>= minimum``.

    ```python
    >>> check_count("seeds", 3, 1)
    3
    >>> check_count("seeds", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: seeds must be an integer >= 1; got 0

    ```
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def float_dtype():
    """The default floating dtype: float64 when ``jax_enable_x64`` is on, else float32.

    ```python
    >>> float_dtype()
    dtype('float32')

    ```
    """
    return jnp.zeros(()).dtype


def as_finite_array(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 NumPy array of ``shape``, or a ``ValueError`` naming ``name``.

    ```python
    >>> as_finite_array("mean", [0.0, 1.0], (2,))
    array([0., 1.])

    ```
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of shape {shape}; got {value!r}") from None
    if array.shape != shape:
        array = np.broadcast_to(array, shape).copy() if array.ndim == 0 else array
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or inf); got {array}")
    return array


def psd_factor(name: str, cov: np.ndarray) -> np.ndarray:
    """A square root ``L`` with ``L L^T = cov`` for a symmetric PSD ``cov``.

    Uses the eigendecomposition, so a singular (rank-deficient) covariance is accepted.

    **Raises:**

    `ValueError` naming `name` if ``cov`` is not symmetric or has a negative eigenvalue
    (beyond a relative tolerance of ``1e-10``).

    ```python
    >>> psd_factor("cov", np.eye(2))
    array([[1., 0.],
           [0., 1.]])

    ```
    """
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    tolerance = 1e-10 * max(1.0, float(np.max(np.abs(eigenvalues))))
    if eigenvalues.min() < -tolerance:
        raise ValueError(
            f"{name} must be positive semi-definite; its smallest eigenvalue is "
            f"{eigenvalues.min():.3g} (allowed: >= 0)"
        )
    return eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))


def to_device(array: np.ndarray) -> jax.Array:
    """A validated host array as a JAX array of the default float dtype.

    ```python
    >>> to_device(np.ones(2))
    Array([1., 1.], dtype=float32)

    ```
    """
    return jnp.asarray(array, dtype=float_dtype())


def check_fraction(name: str, value) -> float:
    """``value`` as a float after checking it is a finite number in ``[0, 1]``.

    ```python
    >>> check_fraction("real_fraction", 0.25)
    0.25
    >>> check_fraction("real_fraction", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: real_fraction must be a number in [0, 1]; got 1.5

    ```
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}") from None
    if isinstance(value, bool) or np.ndim(value) != 0 or not (0.0 <= number <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}")
    return number
