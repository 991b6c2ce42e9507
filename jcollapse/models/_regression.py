"""Linear regression with Gaussian covariates: :class:`LinearRegression`.

The model of Dohmatob, Feng & Kempe (2024): ``x ~ N(0, Sigma)`` in ``R^dim`` and
``y = x . w + noise * eps``. The covariate law is part of the truth (known, not
estimated); the fit estimates ``w`` by ordinary least squares, ridge, or the minimum-norm
least-squares solution when there are fewer samples than dimensions.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ..internal.linalg import eigh
from ..internal.reduce import count_ones, matmul, pairwise_sum
from ..internal.samplers import standard_wishart_factor
from ..internal.validation import as_finite_array, psd_factor, to_device
from ._base import AbstractExactModel, AbstractStatistics
from ._registry import register_family


class RegressionParams(eqx.Module):
    """Parameters of the regression model.

    **Fields:**

    - `weights`: ``w``, shape ``[dim]``.
    - `cov`: the covariate covariance ``Sigma``, shape ``[dim, dim]`` (known: a fit
      carries the truth's).
    - `factor`: a square root of `cov`, used to draw covariates.

    ```python
    >>> LinearRegression(dim=2).params(weights=[1.0, 0.0], cov=[[1.0, 0.0], [0.0, 4.0]]).weights
    Array([1., 0.], dtype=float32)

    ```
    """

    weights: Float[Array, " dim"]
    cov: Float[Array, "dim dim"]
    factor: Float[Array, "dim dim"]


class RegressionStatistics(AbstractStatistics):
    """Weighted normal-equation statistics of a regression sample.

    **Fields:**

    - `count`: total sample weight ``sum_i v_i``.
    - `rows`: number of samples with positive weight (the rank of the design, up to
      ``dim``, for continuous covariates).
    - `gram`: ``X^T V X``, shape ``[dim, dim]``.
    - `moment`: ``X^T V y``, shape ``[dim]``.

    ```python
    >>> import jax.numpy as jnp
    >>> model = LinearRegression(dim=1)
    >>> s = model.statistics((jnp.array([[1.0], [2.0]]), jnp.array([2.0, 4.0])), jnp.ones(2))
    >>> float(s.gram[0, 0]), float(s.moment[0])
    (5.0, 10.0)

    ```
    """

    count: Float[Array, ""]
    rows: Float[Array, ""]
    gram: Float[Array, "dim dim"]
    moment: Float[Array, " dim"]

    def merge(self, other: "RegressionStatistics") -> "RegressionStatistics":
        """The statistics of the union: every field adds.

        ```python
        >>> import jax.numpy as jnp
        >>> model = LinearRegression(dim=1)
        >>> s = model.statistics((jnp.array([[1.0]]), jnp.array([2.0])), jnp.ones(1))
        >>> float(s.merge(s).rows), float(s.merge(s).moment[0])
        (2.0, 4.0)

        ```
        """
        return jax.tree.map(jnp.add, self, other)

    def reweight(self, weight: Float[Array, ""]) -> "RegressionStatistics":
        """Every sample's weight multiplied by ``weight``; weight 0 drops the rows.

        ```python
        >>> import jax.numpy as jnp
        >>> model = LinearRegression(dim=1)
        >>> s = model.statistics((jnp.array([[1.0]]), jnp.array([2.0])), jnp.ones(1))
        >>> float(s.reweight(jnp.float32(0.0)).rows), float(s.reweight(jnp.float32(3.0)).gram[0, 0])
        (0.0, 3.0)

        ```
        """
        rows = jnp.where(weight > 0, self.rows, 0)
        return RegressionStatistics(weight * self.count, rows, weight * self.gram, weight * self.moment)


def ridge_solutions(stats: RegressionStatistics, ridges: Float[Array, " k"]) -> Float[Array, "k dim"]:
    """The fitted weights for each ridge penalty, from one eigendecomposition of ``X^T X``.

    Penalty ``lambda > 0`` gives ``(X^T X + lambda n I)^-1 X^T y`` (``n`` the total
    weight, so that ``lambda`` multiplies ``Sigma_hat = X^T X / n``); ``lambda = 0`` gives
    least squares on the ``min(rows, dim)`` largest eigenvalues: OLS at full rank, the
    minimum-norm solution below it (the rank comes from the row count, not a threshold).

    **Arguments:**

    - `stats`: :class:`RegressionStatistics`.
    - `ridges`: penalties ``>= 0``, shape ``[k]``.

    **Returns:**

    Weights, shape ``[k, dim]``.

    ```python
    >>> import jax.numpy as jnp
    >>> model = LinearRegression(dim=1)
    >>> s = model.statistics((jnp.array([[1.0], [1.0]]), jnp.array([1.0, 1.0])), jnp.ones(2))
    >>> ridge_solutions(s, jnp.array([0.0, 1.0]))[:, 0]
    Array([1. , 0.5], dtype=float32)

    ```
    """
    eigenvalues, vectors = eigh(stats.gram)
    dim = eigenvalues.shape[0]
    in_rank = (jnp.arange(dim) >= dim - jnp.minimum(stats.rows, dim)) & (eigenvalues > 0)
    shifted = eigenvalues[None, :] + ridges[:, None] * stats.count
    keep = jnp.where(ridges[:, None] > 0, shifted > 0, in_rank[None, :])
    inverse = jnp.where(keep, 1 / jnp.where(keep, shifted, 1), 0)
    return matmul(inverse * matmul(vectors.T, stats.moment)[None, :], vectors.T)


def excess_risks(weights: Float[Array, "k dim"], truth: RegressionParams) -> Float[Array, " k"]:
    """The excess risks ``||w_k - w0||^2_Sigma`` of the rows of ``weights`` (test errors,
    label noise excluded).

    ```python
    >>> import jax.numpy as jnp
    >>> truth = LinearRegression(dim=2).params(weights=[0.0, 0.0], cov=[[4.0, 0.0], [0.0, 1.0]])
    >>> excess_risks(jnp.array([[1.0, 0.0], [0.0, 1.0]]), truth)
    Array([4., 1.], dtype=float32)

    ```
    """
    diff = weights - truth.weights[None, :]
    return pairwise_sum((diff * matmul(diff, truth.cov)).T)


def _nonnegative(name: str, value) -> float:
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not (number and 0 <= value < float("inf")):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


@register_family(theory="jcollapse.theory._regression")
class LinearRegression(AbstractExactModel):
    """Linear regression ``y = x . w + noise * eps`` with covariates ``x ~ N(0, cov)``.

    **Arguments:**

    - `dim`: the number of covariates ``d``.
    - `ridge`: ``lambda >= 0``. The fit is ``(Sigma_hat + lambda I)^-1 X^T y / n`` with
      ``Sigma_hat = X^T X / n`` (weighted: ``n`` is the total sample weight), i.e. the
      ridge convention of Dohmatob et al. With ``lambda = 0`` it is ordinary least
      squares, and the minimum-norm least-squares solution ``X^+ y`` when the design has
      rank below ``d`` (fewer samples than covariates).
    - `noise`: ``sigma >= 0``, the label noise of every sample drawn, real or synthetic
      (the generator noise ``sigma_0`` of Dohmatob et al.'s chain).

    Truth: ``model.params(weights=w0, cov=Sigma)``. A fit keeps the truth's ``cov``: the
    covariates of synthetic data come from the true covariate law, only the labels come
    from the fitted ``w``. Metrics: ``test_error`` ``||w_hat - w0||^2_Sigma =
    (w_hat - w0)^T Sigma (w_hat - w0)`` (the excess test risk, label noise excluded) and
    ``param_sq_error`` ``||w_hat - w0||^2``.

    Exact-statistics path: the estimator sees the data only through ``X^T X`` and
    ``X^T y``. ``X^T X ~ Wishart(n, Sigma)`` (Bartlett's decomposition,
    ``X^T X = (L A)(L A)^T``), and given it, ``X^T y ~ N(X^T X w, sigma^2 X^T X)``, drawn
    as ``X^T X w + sigma (L A) z``. A generation costs ``O(d^3)`` whatever ``n`` is;
    ``path="auto"`` takes it from ``n >= d`` samples, where it is the cheaper one.

    The fit diagonalises ``X^T X`` (``eigh``). For ``lambda = 0`` it inverts the
    ``min(rows, d)`` largest eigenvalues and drops the rest: the rank is known from the
    number of samples, so no threshold decides which eigenvalues are zero.

    ```python
    >>> import jax, numpy as np, jcollapse as jc
    >>> model = jc.models.LinearRegression(dim=3, noise=0.5)
    >>> truth = model.params(weights=np.ones(3), cov=np.eye(3))
    >>> loop = jc.Loop(model, generations=4, sample_size=20)
    >>> run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=8)
    >>> run.metrics["test_error"].shape, loop.path
    ((8, 5), 'exact')

    ```
    """

    dim: int = eqx.field(static=True)
    # Settings (jcollapse.internal.settings): traced, so a grid over them compiles once.
    ridge: float = 0.0
    noise: float = 1.0

    metric_names: ClassVar[tuple[str, ...]] = ("test_error", "param_sq_error")

    def __init__(self, dim: int, ridge: float = 0.0, noise: float = 1.0):
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim must be an integer >= 1; got {dim!r}")
        self.dim = dim
        self.ridge = _nonnegative("ridge", ridge)
        self.noise = _nonnegative("noise", noise)

    def params(self, *, weights, cov) -> RegressionParams:
        """Validated truth: weights ``w0`` and covariate covariance ``Sigma``.

        **Arguments:**

        - `weights`: shape ``[dim]`` (a scalar broadcasts).
        - `cov`: shape ``[dim, dim]``, symmetric positive semi-definite.

        **Returns:**

        :class:`RegressionParams`.

        **Raises:**

        `ValueError` for a wrong shape, a non-finite entry, or a covariance that is not
        symmetric positive semi-definite.

        ```python
        >>> LinearRegression(dim=2).params(weights=1.0, cov=[[1.0, 0.5], [0.5, 1.0]]).weights
        Array([1., 1.], dtype=float32)

        ```
        """
        weights = as_finite_array("weights", weights, (self.dim,))
        cov = as_finite_array("cov", cov, (self.dim, self.dim))
        factor = psd_factor("cov", cov)
        return RegressionParams(to_device(weights), to_device(cov), to_device(factor))

    @property
    def min_sample_size(self) -> int:
        """1: with fewer samples than covariates the fit is the minimum-norm solution.

        ```python
        >>> LinearRegression(dim=5).min_sample_size
        1

        ```
        """
        return 1

    def sample(self, key, params: RegressionParams, n: int):
        """``n`` i.i.d. pairs ``(x, y)``: covariates ``[n, dim]`` and labels ``[n]``.

        ```python
        >>> import jax
        >>> model = LinearRegression(dim=2, noise=0.0)
        >>> x, y = model.sample(jax.random.key(0), model.params(weights=[1.0, 2.0], cov=[[1.0, 0.0], [0.0, 1.0]]), 3)
        >>> x.shape, y.shape, bool(abs(y - x[:, 0] - 2 * x[:, 1]).max() < 1e-5)
        ((3, 2), (3,), True)

        ```
        """
        key_x, key_noise = jax.random.split(key)
        dtype = params.weights.dtype
        x = matmul(jax.random.normal(key_x, (n, self.dim), dtype=dtype), params.factor.T)
        y = matmul(x, params.weights) + self.noise * jax.random.normal(key_noise, (n,), dtype=dtype)
        return x, y

    def statistics(self, data, weights) -> RegressionStatistics:
        """Weighted ``X^T X``, ``X^T y``, total weight and row count of ``data = (x, y)``.

        See :class:`RegressionStatistics` for an example.
        """
        x, y = data
        weighted = weights[:, None] * x
        return RegressionStatistics(
            count=count_ones(weights),
            rows=count_ones((weights > 0).astype(x.dtype)),
            gram=matmul(weighted.T, x),
            moment=matmul(weighted.T, y),
        )

    def sample_statistics(self, key, params: RegressionParams, count: Int[Array, ""]) -> RegressionStatistics:
        """The statistics of ``count`` samples, drawn directly (see the class).

        ```python
        >>> import jax, jax.numpy as jnp
        >>> model = LinearRegression(dim=2)
        >>> truth = model.params(weights=[1.0, 0.0], cov=[[1.0, 0.0], [0.0, 1.0]])
        >>> s = model.sample_statistics(jax.random.key(0), truth, jnp.array(0))
        >>> float(s.rows), float(jnp.abs(s.gram).max())
        (0.0, 0.0)

        ```
        """
        key_wishart, key_noise = jax.random.split(key)
        dtype = params.weights.dtype
        root = matmul(params.factor, standard_wishart_factor(key_wishart, self.dim, count, dtype))
        gram = matmul(root, root.T)
        z = jax.random.normal(key_noise, (self.dim,), dtype=dtype)
        moment = matmul(gram, params.weights) + self.noise * matmul(root, z)
        n = count.astype(dtype)
        return RegressionStatistics(count=n, rows=n, gram=gram, moment=moment)

    def fit(self, stats: RegressionStatistics, truth: RegressionParams) -> RegressionParams:
        """Ridge, OLS or minimum-norm least squares (see the class); ``cov`` from ``truth``.

        ```python
        >>> import jax.numpy as jnp
        >>> model = LinearRegression(dim=2)
        >>> truth = model.params(weights=[0.0, 0.0], cov=[[1.0, 0.0], [0.0, 1.0]])
        >>> one_row = model.statistics((jnp.array([[3.0, 4.0]]), jnp.array([5.0])), jnp.ones(1))
        >>> model.fit(one_row, truth).weights  # min-norm: x^T (x x^T)^-1 y
        Array([0.6, 0.8], dtype=float32)

        ```
        """
        ridge = jnp.full((1,), self.ridge, stats.gram.dtype)
        return RegressionParams(ridge_solutions(stats, ridge)[0], truth.cov, truth.factor)

    def metrics(self, params: RegressionParams, truth: RegressionParams) -> dict[str, Float[Array, ""]]:
        """``test_error`` ``||w - w0||^2_Sigma`` and ``param_sq_error`` ``||w - w0||^2``.

        ```python
        >>> model = LinearRegression(dim=2)
        >>> truth = model.params(weights=[0.0, 0.0], cov=[[4.0, 0.0], [0.0, 1.0]])
        >>> m = model.metrics(model.params(weights=[1.0, 1.0], cov=[[4.0, 0.0], [0.0, 1.0]]), truth)
        >>> float(m["test_error"]), float(m["param_sq_error"])
        (5.0, 2.0)

        ```
        """
        diff = params.weights - truth.weights
        return {
            "test_error": excess_risks(params.weights[None, :], truth)[0],
            "param_sq_error": pairwise_sum(diff * diff),
        }

    def is_degenerate(self, params: RegressionParams) -> Bool[Array, ""]:
        """True where the fitted weights are not finite.

        ```python
        >>> model = LinearRegression(dim=1)
        >>> bool(model.is_degenerate(model.params(weights=[1.0], cov=[[1.0]])))
        False

        ```
        """
        return ~jnp.all(jnp.isfinite(params.weights))

    def exact_is_cheaper(self, sample_size: int) -> bool:
        """True from ``sample_size >= dim`` on: a Wishart draw costs ``O(d^3)``, the
        samples' ``X^T X`` ``O(n d^2)``.

        ```python
        >>> LinearRegression(dim=10).exact_is_cheaper(5)
        False

        ```
        """
        return sample_size >= self.dim
