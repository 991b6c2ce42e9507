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

    The values must be finite also in the default float dtype, the precision the device
    stores them in (float32 unless ``jax_enable_x64``): ``1e39`` is finite in float64 but
    ``inf`` in float32. Range checks should look at :func:`as_stored` values.

    ```python
    >>> as_finite_array("mean", [0.0, 1.0], (2,))
    array([0., 1.])
    >>> as_finite_array("mean", 1e39, (1,))
    Traceback (most recent call last):
    ...
    ValueError: mean must be finite in float32 (magnitudes up to 3.4e+38; jax_enable_x64 is off); got [1.e+39]

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
    dtype = float_dtype()
    with np.errstate(over="ignore"):
        overflow = not np.all(np.isfinite(array.astype(dtype)))
    if overflow:
        raise ValueError(f"{name} must be finite in {dtype} (magnitudes up to {np.finfo(dtype).max:.2g}; "
                         f"jax_enable_x64 is {'on' if dtype == np.float64 else 'off'}); got {array}")
    return array


def as_stored(array: np.ndarray) -> np.ndarray:
    """``array`` (float64) rounded to the default float dtype, as the device will hold it, back
    in float64: range checks look at this, so that what passes them is what is used
    (``1e-50`` is ``0.0`` in float32, ``1 - 1e-10`` is ``1.0``).

    ```python
    >>> as_stored(np.array([1e-50, 1 - 1e-10, 0.5]))
    array([0. , 1. , 0.5])

    ```
    """
    return np.asarray(array, np.float64).astype(float_dtype()).astype(np.float64)


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


def check_number(name: str, value, *, positive: bool = False) -> float:
    """``value`` as a float after checking it is a finite number ``>= 0`` (``> 0`` when
    ``positive``).

    ```python
    >>> check_number("noise", 0.0)
    0.0
    >>> check_number("bandwidth", 0.0, positive=True)
    Traceback (most recent call last):
    ...
    ValueError: bandwidth must be a finite number > 0; got 0.0

    ```
    """
    number = float(as_finite_array(name, value, ()))
    if number < 0 or (positive and number == 0):
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0; got {value!r}")
    return number


def mixture_arrays(weights, means, covs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A Gaussian mixture's fields checked: ``weights [K]`` non-negative and summing to 1
    (within ``1e-6``), ``means [K, dim]``, ``covs [K, dim, dim]`` each symmetric PSD.

    **Returns:**

    ``(weights, means, covs, factors)`` as float64 host arrays, ``factors[k]`` a square root
    of ``covs[k]`` (:func:`psd_factor`).

    **Raises:**

    `ValueError` naming the field for a wrong shape, a non-finite entry, negative weights or
    weights that do not sum to 1, or a covariance that is not PSD.

    ```python
    >>> [a.shape for a in mixture_arrays([1.0], [[0.0, 0.0]], [np.eye(2)])]
    [(1,), (1, 2), (1, 2, 2), (1, 2, 2)]

    ```
    """
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2:
        raise ValueError(f"means must have shape [K, dim]; got shape {means.shape}")
    k, dim = means.shape
    weights = as_finite_array("weights", weights, (k,))
    if np.any(weights < 0) or abs(weights.sum() - 1) > 1e-6:
        raise ValueError(f"weights must be >= 0 and sum to 1; got {weights.tolist()}")
    means = as_finite_array("means", means, (k, dim))
    covs = as_finite_array("covs", covs, (k, dim, dim))
    factors = np.stack([psd_factor(f"covs[{i}]", c) for i, c in enumerate(covs)])
    return weights, means, covs, factors
