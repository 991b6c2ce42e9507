r"""Closed forms for model collapse in linear regression (docs/theory.md, section 6).

Float64 NumPy on the host; nothing here needs JAX. Each function says where its formula
comes from: **[paper]** Dohmatob, Feng & Kempe 2024, "Model Collapse Demystified: The
Case of Regression" (arXiv 2402.07712); **[Gerstgrasser]** Gerstgrasser et al. 2024,
"Is Model Collapse Inevitable?" (arXiv 2404.01413); **[derived]** our derivation, below,
checked by float64 Monte-Carlo in ``tests/test_theory_regression.py``.

**Setting [paper].** ``x ~ N(0, Sigma)`` in ``R^d``. A generator chain starts at the truth,
``w_hat_0 = w_0``; for ``k = 1..n`` it draws a fresh design ``Xbar`` (``T_0 x d``), labels
``Xbar w_hat_{k-1} + N(0, sigma_0^2)`` and refits ``w_hat_k`` by OLS (min-norm when
``T_0 < d``). A downstream ridge model is fit on ``T`` fresh samples labelled by
``w_hat_n`` with noise ``sigma``: ``Sigma_hat = X^T X / T``,
``R = (Sigma_hat + lambda I)^{-1}``, ``w_pred = R X^T y / T``. Its test error is
``E ||w_pred - w_0||_Sigma^2`` (label noise excluded). ``n = 0`` trains the downstream
model on real labels. The library's generation ``t`` is the generator ``w_hat_{t+1}``
(generation 0 is the first fit, on real data), so a downstream probe of generation ``t``
(:class:`jcollapse.probes.DownstreamRidge`) measures ``n = t + 1``.

**Wishart fact.** For ``X`` with ``T`` i.i.d. ``N(0, Sigma)`` rows, ``X^T X`` is
Wishart``(T, Sigma)`` and ``E (X^T X)^{-1} = Sigma^{-1} / (T - d - 1)`` for
``T >= d + 2`` (the mean is infinite for ``T <= d + 1``). Hence for ``eps ~ N(0,
sigma^2 I_T)`` independent of ``X``, the OLS noise ``eta = (X^T X)^{-1} X^T eps`` has mean
zero, ``E[eta eta^T | X] = sigma^2 (X^T X)^{-1}`` and
``E ||eta||_Sigma^2 = sigma^2 tr(Sigma E(X^T X)^{-1}) = sigma^2 d / (T - d - 1)``.

**OLS chain [derived].** With ``T_0 >= d``, ``Xbar`` has full column rank and
``w_hat_k = w_hat_{k-1} + eta_k``, ``eta_k = (Xbar_k^T Xbar_k)^{-1} Xbar_k^T eps_k``. The
``eta_k`` are zero-mean given everything before them and built from fresh draws, so they
are uncorrelated and ``w_hat_n - w_0 = eta_1 + ... + eta_n`` has covariance
``n sigma_0^2 Sigma^{-1} / (T_0 - d - 1)``: the errors add up,
``E ||w_hat_n - w_0||_Sigma^2 = n sigma_0^2 d / (T_0 - d - 1)``, for any ``Sigma``. With a
sample size ``n_s`` per generation (:func:`ols_chain_error`) the terms are
``sigma_0^2 d / (n_s - d - 1)``.

**Downstream decomposition [derived].** ``R Sigma_hat = I - lambda R``, so with
``y = X w_hat_n + eps``,

    w_pred - w_0 = -lambda R w_0 + (I - lambda R)(w_hat_n - w_0) + R X^T eps / T.

The three terms have zero cross moments: ``eps`` has mean zero given the rest, and
``w_hat_n - w_0`` has mean zero and is independent of the downstream ``X``. Its
covariance ``n sigma_0^2 Sigma^{-1} / (T_0 - d - 1)`` enters through
``E[e^T A Sigma A e | X] = tr(A Sigma A Cov e)`` with ``A = I - lambda R``, so

    E_test = E[lambda^2 w_0^T R Sigma R w_0] + (sigma^2 / T) E tr(Sigma R Sigma_hat R)
             + n sigma_0^2 rho,     rho = E tr(Sigma^{-1} A Sigma A) / (T_0 - d - 1).

For ``lambda = 0`` and ``T >= d + 2`` (OLS downstream) ``A = I``, the bias vanishes and
the variance term is ``sigma^2 tr(Sigma E(X^T X)^{-1})``, which gives
:func:`ols_pipeline_error`, ``sigma^2 d / (T - d - 1) + n sigma_0^2 d / (T_0 - d - 1)``.

**Deterministic equivalents.** ``df_m(kappa) = tr Sigma^m (Sigma + kappa I)^{-m}``;
``kappa`` solves ``kappa - lambda = kappa df_1(kappa) / T`` and ``u = df_2(kappa) / T``.
The first-order equivalent ``lambda R ~ kappa (Sigma + kappa)^{-1}`` and the second-order
one (Bach 2023, arXiv 2303.01372)

    lambda^2 R B R ~ kappa^2 (Sigma + kappa)^{-1} B (Sigma + kappa)^{-1}
                     + kappa^2 [tr(B Sigma (Sigma + kappa)^{-2}) / T] / (1 - u)
                       * Sigma (Sigma + kappa)^{-2}

give the standard bias ``kappa^2 w_0^T Sigma (Sigma + kappa)^{-2} w_0 / (1 - u)``
(``B = Sigma``) and variance ``sigma^2 u / (1 - u)``, as used by the paper. For the
generator term [derived], ``tr(Sigma^{-1} A Sigma A) = d - 2 lambda tr R +
lambda^2 tr(Sigma R Sigma^{-1} R)``; the second-order equivalent with ``B = Sigma^{-1}``
gives ``lambda^2 tr(Sigma R Sigma^{-1} R) ~ kappa^2 tr(Sigma + kappa)^{-2} / (1 - u)``, and
``d - 2 kappa tr(Sigma + kappa)^{-1} + kappa^2 tr(Sigma + kappa)^{-2} = df_2``, so

    rho ~ [df_2(kappa) + kappa^2 tr(Sigma + kappa)^{-2} u / (1 - u)] / (T_0 - d - 1),

the generator term's equivalent (our derivation). Measured against float64 Monte-Carlo
(d = 50, eigenvalues ``1/j``, 20000 designs per point) the three equivalents are within a
few per cent; see :func:`ridge_deterministic_equivalent`.

**Solving for kappa.** Dividing by ``kappa > 0``, ``h(kappa) = 1 - lambda/kappa -
df_1(kappa)/T = 0``; ``h`` is strictly increasing, ``h(lambda) = -df_1(lambda)/T < 0`` and
``h(lambda + tr Sigma / T) > 0`` (as ``df_1(kappa) < tr Sigma / kappa``), so bisection on
that bracket finds the unique root. For ``lambda = 0``: if ``T < d`` the root is the
``kappa > 0`` with ``df_1(kappa) = T`` (the min-norm interpolator's implicit
regularisation); if ``T > d``, ``h > 0`` everywhere and ``kappa = 0`` (OLS, ``u = d/T``).
At the root ``u <= df_1/T = 1 - lambda/kappa < 1``.

**Over-parametrised, noise-free generator [paper claim; formula derived].** With
``T_0 < d``, ``sigma_0 = 0``, ``Sigma = I``: the min-norm fit of labels ``Xbar w`` is
``Xbar^+ Xbar w = P w``, ``P`` the orthogonal projection on the row space of ``Xbar``,
which by rotation invariance is a uniformly random ``T_0``-dimensional subspace; so
``E P = (T_0/d) I =: rho I``. ``w_hat_n = P_n ... P_1 w_0`` with independent ``P_k``:
``E <w_hat_n, w_0> = w_0^T (E P)^n w_0 = rho^n ||w_0||^2`` and, as ``P^T P = P``,
``E[||P_n v||^2 | v] = rho ||v||^2``, so ``E ||w_hat_n||^2 = rho^n ||w_0||^2``. Hence
``E ||w_hat_n - w_0||^2 = ||w_0||^2 (1 - rho^n)``: exponential collapse to the null model.

**Power law [paper; exponents derived, unconfirmed].** Eigenvalues ``lambda_j = j^-beta``
and the source condition ``lambda_j (w_0)_j^2 = j^-(1 + 2 beta r)``. Writing
``J = kappa^{-1/beta}`` (the index where ``lambda_j = kappa``), the bias is about
``sum_{j > J} lambda_j w_j^2 + kappa^2 sum_{j < J} w_j^2 / lambda_j ~ kappa^{2r}``
(for ``r <= 1``; beyond, the second sum converges and ridge saturates at ``kappa^2``) and
the variance ``sigma^2 df_2 / T ~ sigma^2 kappa^{-1/beta} / T``. Balancing them:
``lambda ~ T^{-l}``, ``l = beta / (2 beta r + 1)``, error ``~ T^{-2 beta r/(2 beta r+1)}``.
The generator term ``n sigma_0^2 df_2 / (T_0 - d - 1)`` adds to the variance, as an
effective noise ``sigma_eff^2 ~ sigma^2 + n sigma_0^2 T / T_0`` (``sigma^2 + n sigma_0^2``
for ``T_0 = T``).

**Replace vs accumulate, fixed design [Gerstgrasser; derived].** One design ``X``
(``T x d``, ``T >= d + 2``) is drawn once and reused; the labels of fit ``i = 1, 2, ...``
are ``X w_hat_{i-1} + eps_i`` with noise ``sigma`` and ``w_hat_0 = w_0`` (so fit 1 is on
real labels). With ``M = (X^T X)^{-1} X^T`` and ``eta_i = M eps_i``: *replace* fits on
its own labels, ``w_hat_i = w_hat_{i-1} + eta_i``, so ``w_hat_m - w_0 = sum_{i<=m}
eta_i``. *Accumulate* fits OLS on all labels so far (the design ``X`` stacked ``i``
times): ``w_hat_i = (1/i) sum_{j<=i} (w_hat_{j-1} + eta_j)``; subtracting ``(i - 1)``
times the same identity for ``i - 1`` gives ``i w_hat_i - (i - 1) w_hat_{i-1} =
w_hat_{i-1} + eta_i``, i.e. ``w_hat_i = w_hat_{i-1} + eta_i / i``. The ``eta_i`` are
independent with covariance ``sigma^2 (X^T X)^{-1}``, so given ``X`` the errors are
``sigma^2 tr(Sigma (X^T X)^{-1})`` times ``m`` (replace) and ``sum_{i<=m} 1/i^2``
(accumulate, below ``pi^2/6``); averaging over ``X``, ``tr(...)`` becomes
``d / (T - d - 1)``. Here ``m`` counts the fitted models (the ``n`` of the replace error
``n sigma^2 d / (T - d - 1)`` as usually stated). In the library's indexing (generation 0 is the real-data fit)
generation ``t`` is fit ``m = t + 1``, which is what :func:`replace_vs_accumulate` takes.
"""

from __future__ import annotations

import numpy as np

from ..loop import Loop
from ..models import LinearRegression
from ._registry import register


def _out(value):
    """A Python float for a 0-d result, else the float64 array."""
    value = np.asarray(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


def _integers(name: str, value, low, rule: str) -> np.ndarray:
    """``value`` as float64 after checking that it is finite, integer-valued and ``>= low``."""
    arr = np.asarray(value, dtype=np.float64)
    if (
        arr.size == 0
        or not np.all(np.isfinite(arr))
        or np.any(arr != np.round(arr))
        or np.any(arr < low)
    ):
        raise ValueError(f"{name} must be integer(s) >= {rule}; got {value!r}")
    return arr


def _scalar_integer(name: str, value, low, rule: str) -> float:
    """As :func:`_integers`, for a single number."""
    arr = _integers(name, value, low, rule)
    if arr.ndim:
        raise ValueError(f"{name} must be a single integer >= {rule}; got {value!r}")
    return float(arr)


def _nonnegative(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0; got {value!r}")
    return arr


def _wishart_trace(dim: np.ndarray, size: np.ndarray) -> np.ndarray:
    """``tr(Sigma E (X^T X)^{-1}) = d / (T - d - 1)``."""
    return dim / (size - dim - 1)


def ols_pipeline_error(dim, sample_size, noise, generator_sample_size, generator_noise,
                       generations):
    """Test error of OLS trained on data labelled by the ``n``-th OLS generator [derived].

    ``E ||w_pred - w_0||_Sigma^2 = sigma^2 d/(T - d - 1) + n sigma_0^2 d/(T_0 - d - 1)``:
    exact for any covariance ``Sigma`` (module docstring: the generator errors are
    independent, zero-mean, each of covariance ``sigma_0^2 Sigma^{-1}/(T_0 - d - 1)``);
    linear in ``n``, the collapse of Dohmatob, Feng & Kempe's pipeline [paper].
    All arguments broadcast.

    **Arguments:**

    - `dim`: dimension ``d >= 1``.
    - `sample_size`: downstream sample size ``T >= d + 2``.
    - `noise`: downstream label noise ``sigma >= 0``.
    - `generator_sample_size`: generator sample size ``T_0 >= d + 2``.
    - `generator_noise`: generator label noise ``sigma_0 >= 0``.
    - `generations`: ``n >= 0``, the number of synthetic generations (``0``: trained on
      real labels); an integer or an integer array.

    **Returns:**

    A float, or a float64 array of the broadcast shape.

    ```python
    >>> ols_pipeline_error(dim=20, sample_size=80, noise=0.5, generator_sample_size=60,
    ...                    generator_noise=0.7, generations=[0, 1, 3, 6]).round(4)
    array([0.0847, 0.336 , 0.8386, 1.5924])

    ```
    """
    d = _integers("dim", dim, 1, "1")
    t = _integers("sample_size", sample_size, d + 2, "dim + 2 for the OLS formula")
    t0 = _integers("generator_sample_size", generator_sample_size, d + 2,
                   "dim + 2 for the OLS formula")
    sigma = _nonnegative("noise", noise)
    sigma0 = _nonnegative("generator_noise", generator_noise)
    n = _integers("generations", generations, 0, "0")
    return _out(sigma**2 * _wishart_trace(d, t) + n * sigma0**2 * _wishart_trace(d, t0))


def ols_chain_error(dim, sample_sizes, noise):
    """``E ||w_hat_t - w_0||_Sigma^2`` of the OLS generator chain itself [derived].

    Generation ``t = 0..G`` fits OLS on ``n_t`` fresh samples labelled by the previous
    fit (generation 0 by ``w_0``) with noise ``sigma_0``; its error is the cumulative sum
    ``sigma_0^2 sum_{s <= t} d / (n_s - d - 1)`` (module docstring: independent, zero-mean
    increments), for any ``Sigma``. With constant ``n_s = T_0`` generation ``t`` is
    :func:`ols_pipeline_error`'s generator term at ``n = t + 1``.

    **Arguments:**

    - `dim`: dimension ``d >= 1`` (an integer).
    - `sample_sizes`: the sample sizes ``n_0..n_G``, a 1-d sequence of integers
      ``>= d + 2``.
    - `noise`: label noise ``sigma_0 >= 0`` (a number).

    **Returns:**

    A float64 array ``[G + 1]``; entry ``t`` includes ``s = 0..t``.

    ```python
    >>> ols_chain_error(dim=2, sample_sizes=[5, 5, 13], noise=1.0)
    array([1. , 2. , 2.2])

    ```
    """
    d = _scalar_integer("dim", dim, 1, "1")
    n = _integers("sample_sizes", sample_sizes, d + 2, "dim + 2 for the OLS formula")
    if n.ndim != 1:
        raise ValueError(f"sample_sizes must be a 1-d sequence; got shape {n.shape}")
    sigma = _nonnegative("noise", noise)
    if sigma.ndim:
        raise ValueError(f"noise must be a single number >= 0; got {noise!r}")
    return np.cumsum(sigma**2 * _wishart_trace(d, n))


def overparametrized_collapse(weights_sq_norm, dim, sample_size, generations):
    """``E ||w_hat_n - w_0||^2 = ||w_0||^2 (1 - (T_0/d)^n)`` for the noise-free min-norm
    generator chain with ``Sigma = I`` [paper claim; formula derived in the module docstring].

    Each generation projects the previous weights on a uniformly random
    ``T_0``-dimensional subspace, keeping on average a share ``T_0/d`` of both
    ``||w||^2`` and ``<w, w_0>``, so the chain collapses exponentially to ``0`` (error
    ``||w_0||^2``). For ``T_0 >= d`` the fit is exact and the error is ``0`` (the share is
    ``min(T_0/d, 1)``). Here the error is the Euclidean one, ``= ||.||_Sigma`` for
    ``Sigma = I``. All arguments broadcast.

    **Arguments:**

    - `weights_sq_norm`: ``||w_0||^2 >= 0``.
    - `dim`: dimension ``d >= 1``.
    - `sample_size`: generator sample size ``T_0 >= 1``.
    - `generations`: ``n >= 0``, integer or integer array.

    **Returns:**

    A float, or a float64 array of the broadcast shape.

    ```python
    >>> overparametrized_collapse(weights_sq_norm=1.0, dim=4, sample_size=2,
    ...                           generations=[0, 1, 2, 3])
    array([0.   , 0.5  , 0.75 , 0.875])

    ```
    """
    norm = _nonnegative("weights_sq_norm", weights_sq_norm)
    d = _integers("dim", dim, 1, "1")
    t0 = _integers("sample_size", sample_size, 1, "1")
    n = _integers("generations", generations, 0, "0")
    return _out(norm * (1.0 - np.minimum(t0 / d, 1.0) ** n))


def _spectrum(cov, weights) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues of ``cov`` and the squared coordinates of ``weights`` in its eigenbasis."""
    cov = np.asarray(cov, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if cov.ndim not in (1, 2) or cov.shape != cov.shape[:1] * cov.ndim or cov.size == 0:
        raise ValueError(
            f"cov must be a (d, d) matrix or a length-d vector of eigenvalues (a diagonal "
            f"covariance); got shape {cov.shape}"
        )
    if w.shape != cov.shape[:1] or not np.all(np.isfinite(w)):
        raise ValueError(
            f"weights must be a finite vector of shape {cov.shape[:1]}; got shape {w.shape}"
        )
    if not np.all(np.isfinite(cov)):
        raise ValueError("cov must be finite")
    if cov.ndim == 2:
        if not np.allclose(cov, cov.T, rtol=0.0, atol=1e-12 * np.abs(cov).max()):
            raise ValueError("cov must be symmetric")
        cov, vecs = np.linalg.eigh(cov)
        w = vecs.T @ w
    if np.any(cov <= 0):
        raise ValueError(f"cov must be positive-definite; its smallest eigenvalue is {cov.min()!r}")
    return cov, w**2


def _solve_kappa(eig: np.ndarray, ridge: np.ndarray, size: float) -> np.ndarray:
    """The root ``kappa`` of ``1 - lambda/kappa - df_1(kappa)/T`` for each ``lambda`` (module
    docstring), by bisection to machine precision; ``0`` for ``lambda = 0 < d < T``."""
    kappa = np.zeros_like(ridge)
    todo = (ridge > 0) | (size < eig.size)
    lam = ridge[todo]
    lo, hi = lam.copy(), lam + eig.sum() / size
    while True:
        mid = 0.5 * (lo + hi)
        if np.all((mid <= lo) | (mid >= hi)):
            break
        h = 1.0 - lam / mid - np.sum(eig / (eig + mid[:, None]), axis=1) / size
        lo, hi = np.where(h < 0, mid, lo), np.where(h < 0, hi, mid)
    kappa[todo] = 0.5 * (lo + hi)
    return kappa


def ridge_deterministic_equivalent(cov, weights, ridge, sample_size, noise,
                                   generator_sample_size=None, generator_noise=0.0,
                                   generations=0):
    """Deterministic equivalent of the test error of ridge trained on labels of the
    ``n``-th OLS generator (Dohmatob, Feng & Kempe's [paper] setting; module docstring).

    ``E_test = bias + variance + generator`` with (module docstring)

    - ``bias ~ kappa^2 w_0^T Sigma (Sigma + kappa)^{-2} w_0 / (1 - u)`` for
      ``E[lambda^2 w_0^T R Sigma R w_0]``,
    - ``variance ~ sigma^2 u / (1 - u)`` for ``(sigma^2/T) E tr(Sigma R Sigma_hat R)``,
    - ``generator = n sigma_0^2 rho``, ``rho ~ [df_2 + kappa^2 tr(Sigma + kappa)^{-2}
      u/(1 - u)] / (T_0 - d - 1)`` for ``n sigma_0^2 E tr(Sigma^{-1} A Sigma A) /
      (T_0 - d - 1)``, ``A = I - lambda R``,

    where ``kappa`` solves ``kappa - lambda = kappa df_1(kappa)/T`` and ``u = df_2(kappa)/T``.
    The split into three terms is exact [derived]; each term's equivalent is asymptotic
    (bias and variance: the standard ones, used by the paper; ``rho``: derived). Measured
    against float64 Monte-Carlo (20000 designs per point, ``d = 50``, eigenvalues ``1/j``,
    ``T`` in {25, 50, 100, 200}, ``lambda`` in {0.01, 0.1, 1}), the largest relative
    deviations were 1.9 % (bias, the equivalent is low at finite ``d``), 0.9 % (variance)
    and 0.5 % (``rho``). They grow near the interpolation threshold with little ridge: at
    ``lambda = 10^-3``, 5.7 % (bias) and 3.4 % (variance); ridgeless with ``T < d``,
    ``rho`` stays within 0.5 % but the variance is 4 % low at ``T = 25`` and 11 % at
    ``T = 40``. For ``lambda = 0`` and ``T >= d + 2`` the exact OLS value
    (:func:`ols_pipeline_error`) has ``T - d - 1`` where the equivalent has ``T - d``.

    **Arguments:**

    - `cov`: ``Sigma``, a ``(d, d)`` symmetric positive-definite matrix, or a length-``d``
      vector of positive eigenvalues (a diagonal ``Sigma``, ``weights`` in the same basis).
    - `weights`: ``w_0``, a length-``d`` vector.
    - `ridge`: ``lambda >= 0``, a number or an array (the result is vectorised over it);
      ``lambda = 0`` means the ridgeless limit (min-norm least squares for ``T < d``) and
      needs ``T != d``.
    - `sample_size`: downstream ``T >= 1`` (an integer).
    - `noise`: downstream label noise ``sigma >= 0``.
    - `generator_sample_size`: generator ``T_0 >= d + 2``; needed when ``generations > 0``.
    - `generator_noise`: generator label noise ``sigma_0 >= 0``.
    - `generations`: ``n >= 0`` (an integer), the number of synthetic generations.

    **Returns:**

    A dict with float entries (float64 arrays shaped like `ridge` for an array):
    ``kappa``, ``bias``, ``variance``, ``generator`` and ``total`` (their sum).

    ```python
    >>> out = ridge_deterministic_equivalent(cov=[1.0, 1.0], weights=[1.0, 0.0], ridge=0.0,
    ...                                      sample_size=6, noise=1.0,
    ...                                      generator_sample_size=8, generator_noise=1.0,
    ...                                      generations=2)
    >>> {key: round(value, 4) for key, value in out.items()}
    {'kappa': 0.0, 'bias': 0.0, 'variance': 0.5, 'generator': 0.8, 'total': 1.3}

    ```
    """
    eig, coords_sq = _spectrum(cov, weights)
    d = eig.size
    lam = _nonnegative("ridge", ridge)
    size = _scalar_integer("sample_size", sample_size, 1, "1")
    if size == d and np.any(lam == 0):
        raise ValueError(
            f"ridge = 0 needs sample_size != dim (the interpolation threshold, where the "
            f"error is infinite); got sample_size = dim = {d}"
        )
    sigma = _nonnegative("noise", noise)
    n = _scalar_integer("generations", generations, 0, "0")
    sigma0 = _nonnegative("generator_noise", generator_noise)
    if sigma.ndim or sigma0.ndim:
        raise ValueError("noise and generator_noise must be single numbers >= 0")
    if generator_sample_size is not None or n > 0:
        if generator_sample_size is None:
            raise ValueError("generator_sample_size is needed when generations > 0")
        t0 = _scalar_integer("generator_sample_size", generator_sample_size, d + 2,
                             "dim + 2 for the OLS generator")
    flat = lam.reshape(-1)
    kappa = _solve_kappa(eig, flat, size)[:, None]
    share = eig / (eig + kappa)  # [m, d]
    df2 = np.sum(share**2, axis=1)
    u = df2 / size
    inflate = 1.0 / (1.0 - u)
    k2 = kappa[:, 0] ** 2
    bias = k2 * np.sum(coords_sq * eig / (eig + kappa) ** 2, axis=1) * inflate
    variance = sigma**2 * u * inflate
    if n > 0:
        rho = (df2 + k2 * np.sum(1.0 / (eig + kappa) ** 2, axis=1) * u * inflate) / (t0 - d - 1)
        generator = n * sigma0**2 * rho
    else:
        generator = np.zeros_like(bias)
    parts = dict(kappa=kappa[:, 0], bias=bias, variance=variance, generator=generator,
                 total=bias + variance + generator)
    return {key: _out(value.reshape(lam.shape)) for key, value in parts.items()}


def power_law_rates(beta, r):
    """Exponents of ridge regression under a power law [paper; exponents derived,
    unconfirmed].

    For eigenvalues ``lambda_j ~ j^-beta`` and source ``r``
    (``lambda_j (w_0)_j^2 ~ j^-(1 + 2 beta r)``, :func:`power_law_spectrum`), the ridge
    ``lambda = T^-l`` with ``l = ell_crit = beta / (2 beta r + 1)`` balances bias
    ``~ lambda^{2r}`` and variance ``~ sigma_eff^2 lambda^{-1/beta} / T``, giving the error
    ``~ (sigma_eff^2 / T)^{error_exponent}``, ``error_exponent = 2 beta r / (2 beta r + 1)``
    (module docstring). With ``n`` synthetic generations ``sigma_eff^2 ~ sigma^2 +
    n sigma_0^2 T / T_0``. Ridge saturates beyond ``r = 1``, hence the range of `r`.
    The deterministic equivalent (:func:`ridge_deterministic_equivalent`, ``d = 2 10^5``,
    ``lambda = T^-ell_crit``) reproduces the exponent: local slopes 0.663 against 2/3
    (``beta = 2``, ``r = 1/2``) and 0.477 against 0.474 (``beta = 1.5``, ``r = 0.3``) over
    ``T = 10^4..10^5``; at the saturation edge ``r = 1`` it approaches 0.8 slowly (0.73).
    Both arguments broadcast.

    **Arguments:**

    - `beta`: spectral decay ``beta > 1`` (a trace-class covariance).
    - `r`: source exponent, ``0 < r <= 1``.

    **Returns:**

    A dict with ``ell_crit`` and ``error_exponent`` (floats, or arrays of the broadcast
    shape).

    ```python
    >>> power_law_rates(beta=2.0, r=0.5)
    {'ell_crit': 0.6666666666666666, 'error_exponent': 0.6666666666666666}

    ```
    """
    b = np.asarray(beta, dtype=np.float64)
    if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b <= 1):
        raise ValueError(f"beta must be finite and > 1; got {beta!r}")
    s = np.asarray(r, dtype=np.float64)
    if s.size == 0 or np.any(~((s > 0) & (s <= 1))):
        raise ValueError(f"r must lie in (0, 1] (ridge saturates beyond r = 1); got {r!r}")
    return dict(ell_crit=_out(b / (2 * b * s + 1)),
                error_exponent=_out(2 * b * s / (2 * b * s + 1)))


def power_law_spectrum(dim, beta, r):
    """A diagonal covariance and truth with a power-law spectrum and source condition
    (the standard capacity/source setting; [paper] uses the same kind).

    ``lambda_j = j^-beta`` and ``(w_0)_j = j^{(beta - 1 - 2 beta r)/2} > 0``, so that
    ``lambda_j (w_0)_j^2 = j^-(1 + 2 beta r)``: the share of the signal
    ``||w_0||_Sigma^2`` beyond index ``J`` decays as ``J^{-2 beta r}``. Pass the
    eigenvalues as `cov` to :func:`ridge_deterministic_equivalent`.

    **Arguments:**

    - `dim`: dimension ``d >= 1`` (an integer).
    - `beta`: spectral decay ``beta > 0``.
    - `r`: source exponent ``r > 0``.

    **Returns:**

    ``(eigenvalues, weights)``, two float64 arrays ``[d]``.

    ```python
    >>> eig, w0 = power_law_spectrum(dim=3, beta=2.0, r=0.5)
    >>> eig.round(4), w0.round(4)
    (array([1.    , 0.25  , 0.1111]), array([1.    , 0.7071, 0.5774]))

    ```
    """
    d = _scalar_integer("dim", dim, 1, "1")
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be finite and > 0; got {beta!r}")
    if not (np.isfinite(r) and r > 0):
        raise ValueError(f"r must be finite and > 0; got {r!r}")
    j = np.arange(1, int(d) + 1, dtype=np.float64)
    return j ** -float(beta), j ** (0.5 * (beta - 1 - 2 * beta * r))


def replace_vs_accumulate(dim, sample_size, noise, generations):
    """Test error of fixed-design OLS retraining at generation ``t``, replacing or
    accumulating the data [Gerstgrasser et al. 2024; derived in the module docstring].

    One Gaussian design ``X`` (``T x d``) is reused by every generation; generation ``t``'s
    labels come from model ``t - 1`` (generation 0's from ``w_0``) with noise ``sigma``.
    With ``c = sigma^2 d / (T - d - 1)`` and ``m = t + 1`` fitted models:

    - replace (fit on generation ``t``'s data only): ``m c``, unbounded;
    - accumulate (fit on generations ``0..t``): ``c sum_{i=1}^{m} 1/i^2 < (pi^2/6) c``.

    ``m`` counts the fits (the ``n`` of the usual statement), not the generation index.
    ``E ||w_hat_t - w_0||_Sigma^2`` is taken over the noise and the design; given ``X``,
    ``c`` is ``sigma^2 tr(Sigma (X^T X)^{-1})`` and the ratio of the two is the same.

    **Arguments:**

    - `dim`: dimension ``d >= 1``.
    - `sample_size`: ``T >= d + 2`` rows of the design.
    - `noise`: label noise ``sigma >= 0``.
    - `generations`: ``t >= 0``, integer or integer array (generation 0 is the real-data
      fit).

    **Returns:**

    A dict with ``replace`` and ``accumulate`` (floats, or arrays of the broadcast shape).

    ```python
    >>> out = replace_vs_accumulate(dim=1, sample_size=4, noise=1.0, generations=[0, 1, 2])
    >>> out["replace"], out["accumulate"].round(4)
    (array([0.5, 1. , 1.5]), array([0.5   , 0.625 , 0.6806]))

    ```
    """
    d = _integers("dim", dim, 1, "1")
    t = _integers("sample_size", sample_size, d + 2, "dim + 2 for the OLS formula")
    sigma = _nonnegative("noise", noise)
    g = _integers("generations", generations, 0, "0")
    c = sigma**2 * _wishart_trace(d, t)
    partial = np.cumsum(1.0 / np.arange(1.0, g.max() + 2.0) ** 2)
    return dict(replace=_out(c * (g + 1)), accumulate=_out(c * partial[g.astype(np.int64)]))


@register(LinearRegression, pool="replace", mixing=("iid", "split"), metrics=("test_error", "param_sq_error"))
def linear_regression_replace(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``test_error`` and ``param_sq_error`` of an OLS chain
    (:class:`~jcollapse.models.LinearRegression` with ``ridge = 0``, ``pool="replace"``)
    whose generations are each all synthetic or all real (``a_t`` in ``{0, 1}``).

    Formula [derived, module docstring]: a synthetic generation adds an independent,
    zero-mean OLS error ``eta_t`` with ``E eta_t eta_t^T = sigma_0^2 Sigma^-1 / (n_t - d - 1)``
    to its parent's, a real one starts afresh, so with ``R_{-1} = 0``:
    ``R_t = [a_t = 0] R_{t-1} + sigma_0^2 c / (n_t - d - 1)``, ``c = d`` for ``test_error``
    and ``c = tr(Sigma^-1)`` for ``param_sq_error``. With ``a_t = 0`` and constant
    ``n = T_0`` this is the generator term of Dohmatob et al.'s linear collapse,
    ``(t + 1) sigma_0^2 d / (T_0 - d - 1)``.

    **Arguments:**

    - `loop`: a loop with a ``LinearRegression(ridge=0)`` model and ``pool="replace"``,
      ``a_t`` in ``{0, 1}`` for ``t >= 1`` and every ``n_t >= d + 2``.
    - `truth`: ``loop.model.params(weights=..., cov=...)`` with a non-singular ``cov``.

    **Returns:**

    ``{"test_error": [G + 1], "param_sq_error": [G + 1]}``, float64.

    **Raises:**

    `NotImplementedError` outside that setting (ridge, a real fraction strictly between
    0 and 1, ``n_t <= d + 1`` where the error's mean is infinite or the fit is
    minimum-norm, or a singular covariance).

    ```python
    >>> import numpy as np, jcollapse as jc
    >>> model = jc.models.LinearRegression(dim=2, noise=1.0)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=[5, 5, 13])
    >>> linear_regression_replace(loop, model.params(weights=[1.0, 0.0], cov=np.diag([1.0, 0.5])))
    {'test_error': array([1. , 2. , 2.2]), 'param_sq_error': array([1.5, 3. , 3.3])}

    ```
    """
    model = loop.model
    d = model.dim
    a = np.array(loop.real_fraction, dtype=np.float64)
    a[0] = 1.0
    n = np.asarray(loop.sample_size, dtype=np.float64)
    cov = np.asarray(truth.cov, dtype=np.float64)
    problems = []
    if model.ridge != 0:
        problems.append(f"ridge = {model.ridge} (only OLS, ridge = 0, has a closed form here)")
    if not np.all((a == 0) | (a == 1)):
        problems.append("a real fraction strictly between 0 and 1")
    if np.any(n < d + 2):
        problems.append(f"a sample size below dim + 2 = {d + 2}")
    if np.linalg.matrix_rank(cov) < d:
        problems.append("a singular covariance")
    if problems:
        raise NotImplementedError("no closed form for this OLS chain: " + "; ".join(problems))
    increment = model.noise**2 * _wishart_trace(d, n)  # sigma_0^2 d / (n_t - d - 1)
    test_error, current = np.empty_like(n), 0.0
    for t in range(n.size):
        current = (0.0 if a[t] == 1 else current) + increment[t]
        test_error[t] = current
    # The same sum with tr(Sigma^-1) in place of d.
    param_sq_error = test_error * np.trace(np.linalg.inv(cov)) / d
    return {"test_error": test_error, "param_sq_error": param_sq_error}
