"""The Gaussian family: :class:`Gaussian` (mean and full covariance estimated) and
:class:`GaussianMean` (only the mean estimated; the covariance is part of the truth)."""

from __future__ import annotations

from typing import ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ..internal.linalg import cholesky, eigvalsh
from ..internal.reduce import matmul, pairwise_sum, squared_distance, trace
from ..internal.samplers import wishart
from ..internal.validation import as_finite_array, psd_factor, to_device
from ._base import AbstractExactModel, AbstractMeanFamily
from ._moments import MomentStatistics
from ._registry import register_family


class GaussianParams(eqx.Module):
    """Parameters of a Gaussian ``N(mean, cov)``.

    **Fields:**

    - `mean`: shape ``[dim]``.
    - `cov`: shape ``[dim, dim]``, symmetric positive semi-definite.
    - `factor`: a square root of `cov` (``factor @ factor.T == cov``), used for sampling.
      Fitted parameters carry the Cholesky factor; it is NaN when the fit is singular.

    ```python
    >>> Gaussian(dim=2).params(mean=0.0, cov=[[4.0, 0.0], [0.0, 1.0]]).factor
    Array([[0., 2.],
           [1., 0.]], dtype=float32)

    ```
    """

    mean: Float[Array, " dim"]
    cov: Float[Array, "dim dim"]
    factor: Float[Array, "dim dim"]


def _gaussian_params(dim: int, mean, cov) -> GaussianParams:
    mean = as_finite_array("mean", mean, (dim,))
    cov = as_finite_array("cov", cov, (dim, dim))
    factor = psd_factor("cov", cov)
    return GaussianParams(to_device(mean), to_device(cov), to_device(factor))


def _sample_gaussian(key: PRNGKeyArray, params: GaussianParams, n: int) -> Float[Array, "n dim"]:
    z = jax.random.normal(key, (n, params.mean.shape[0]), dtype=params.mean.dtype)
    return params.mean[None, :] + matmul(z, params.factor.T)


def _sample_mean(key: PRNGKeyArray, params: GaussianParams, count: Int[Array, ""]) -> Float[Array, " dim"]:
    """The mean of ``count`` samples, ``N(mean, cov / count)``; zero for ``count = 0``."""
    z = jax.random.normal(key, params.mean.shape, dtype=params.mean.dtype)
    scale = jax.lax.rsqrt(jnp.maximum(count, 1).astype(z.dtype))
    return jnp.where(count > 0, params.mean + scale * matmul(params.factor, z), 0)


@register_family(theory="jcollapse.theory._gaussian")
class Gaussian(AbstractExactModel):
    """A ``dim``-dimensional Gaussian with mean and full covariance estimated.

    **Arguments:**

    - `dim`: dimension.
    - `variance`: ``"mle"`` (scatter / n, biased: collapses in expectation) or
      ``"unbiased"`` (scatter / (n - 1): unbiased each generation, collapses almost surely).

    Truth: ``model.params(mean=..., cov=...)``. Metrics: ``mean_sq_error``
    ``||mu_hat - mu||^2``, ``variance`` ``tr(Sigma_hat) / dim``, and ``w2_sq``, the squared
    2-Wasserstein distance between the fitted and the true Gaussian.

    Exact-statistics path: the sample mean is ``N(mu, Sigma / n)`` and, independently, the
    scatter matrix is ``Wishart(n - 1, Sigma)`` (chi-square in one dimension), so a
    generation costs ``O(dim^3)`` whatever ``n`` is. It is the default path.

    ```python
    >>> import jax.numpy as jnp
    >>> model = Gaussian(dim=2)
    >>> truth = model.params(mean=jnp.zeros(2), cov=jnp.eye(2))
    >>> model.min_sample_size
    3

    ```
    """

    dim: int = eqx.field(static=True)
    variance: Literal["mle", "unbiased"] = eqx.field(static=True, default="mle")

    metric_names: ClassVar[tuple[str, ...]] = ("mean_sq_error", "variance", "w2_sq")

    def __check_init__(self):
        if not isinstance(self.dim, int) or isinstance(self.dim, bool) or self.dim < 1:
            raise ValueError(f"dim must be an integer >= 1; got {self.dim!r}")
        if self.variance not in ("mle", "unbiased"):
            raise ValueError(f"variance must be 'mle' or 'unbiased'; got {self.variance!r}")

    def params(self, *, mean, cov) -> GaussianParams:
        """Validated truth ``N(mean, cov)``.

        **Arguments:**

        - `mean`: shape ``[dim]`` (a scalar broadcasts).
        - `cov`: shape ``[dim, dim]``, symmetric PSD.

        **Returns:**

        :class:`GaussianParams`.

        **Raises:**

        `ValueError` for a wrong shape, a non-finite entry, or a covariance that is not
        symmetric positive semi-definite.

        ```python
        >>> import numpy as np
        >>> Gaussian(dim=1).params(mean=0.0, cov=np.eye(1)).cov.shape
        (1, 1)

        ```
        """
        return _gaussian_params(self.dim, mean, cov)

    @property
    def min_sample_size(self) -> int:
        # The scatter of n samples has rank n - 1: a non-singular fit needs n >= dim + 1,
        # and the unbiased estimator divides by n - 1.
        return self.dim + 1

    def sample(self, key, params: GaussianParams, n: int) -> Float[Array, "n dim"]:
        return _sample_gaussian(key, params, n)

    def statistics(self, data, weights) -> MomentStatistics:
        return MomentStatistics.of(data, weights, scatter=True)

    def sample_statistics(self, key, params: GaussianParams, count) -> MomentStatistics:
        key_mean, key_scatter = jax.random.split(key)
        mean = _sample_mean(key_mean, params, count)
        scatter = wishart(key_scatter, params.factor, jnp.maximum(count - 1, 0))
        return MomentStatistics(count.astype(mean.dtype), mean, scatter)

    def fit(self, stats: MomentStatistics, truth: GaussianParams) -> GaussianParams:
        divisor = stats.count if self.variance == "mle" else stats.count - 1
        cov = stats.scatter / divisor
        return GaussianParams(stats.mean, cov, cholesky(cov))

    def metrics(self, params: GaussianParams, truth: GaussianParams) -> dict[str, Array]:
        # tr((S^1/2 C S^1/2)^1/2) = sum sqrt(eig(C S)) = sum sqrt(eig(L^T S L)), C = L L^T.
        cross = matmul(matmul(params.factor.T, truth.cov), params.factor)
        root_trace = pairwise_sum(jnp.sqrt(jnp.clip(eigvalsh(cross), 0, None)))
        mean_sq_error = squared_distance(params.mean, truth.mean)
        bures = trace(params.cov) + trace(truth.cov) - 2 * root_trace
        return {
            "mean_sq_error": mean_sq_error,
            "variance": trace(params.cov) / self.dim,
            "w2_sq": mean_sq_error + jnp.maximum(bures, 0),
        }

    def is_degenerate(self, params: GaussianParams) -> Bool[Array, ""]:
        return ~jnp.all(jnp.isfinite(params.factor))

    def exact_is_cheaper(self, sample_size: int) -> bool:
        # A Wishart draw costs O(dim^3), the n >= dim + 1 samples O(n dim^2).
        return True


@register_family(theory=("jcollapse.theory._gaussian", "jcollapse.theory._mean_accumulate"))
class GaussianMean(AbstractMeanFamily):
    """A ``dim``-dimensional Gaussian whose covariance is known; only the mean is estimated.

    The covariance is part of the truth and is used to draw synthetic samples from every
    fitted model ``N(mu_hat, Sigma)``. This is the setting of Amin et al.'s mean-estimation
    analysis. Metric: ``mean_sq_error`` ``||mu_hat - mu||^2``.

    Exact-statistics path: the sample mean is ``N(mu, Sigma / n)``; it is the default.

    ```python
    >>> import numpy as np
    >>> model = GaussianMean(dim=3)
    >>> truth = model.params(mean=np.zeros(3), cov=np.eye(3))
    >>> model.min_sample_size
    1

    ```
    """

    dim: int = eqx.field(static=True)

    metric_names: ClassVar[tuple[str, ...]] = ("mean_sq_error",)

    def __check_init__(self):
        if not isinstance(self.dim, int) or isinstance(self.dim, bool) or self.dim < 1:
            raise ValueError(f"dim must be an integer >= 1; got {self.dim!r}")

    def params(self, *, mean, cov) -> GaussianParams:
        """Validated truth ``N(mean, cov)``; see :meth:`Gaussian.params`.

        ```python
        >>> GaussianMean(dim=1).params(mean=1.0, cov=[[2.0]]).mean
        Array([1.], dtype=float32)

        ```
        """
        return _gaussian_params(self.dim, mean, cov)

    @property
    def min_sample_size(self) -> int:
        return 1

    def sample(self, key, params: GaussianParams, n: int) -> Float[Array, "n dim"]:
        return _sample_gaussian(key, params, n)

    def statistics(self, data, weights) -> MomentStatistics:
        return MomentStatistics.of(data, weights, scatter=False)

    def sample_statistics(self, key, params: GaussianParams, count) -> MomentStatistics:
        mean = _sample_mean(key, params, count)
        return MomentStatistics(count.astype(mean.dtype), mean)

    def fit(self, stats: MomentStatistics, truth: GaussianParams) -> GaussianParams:
        return self.from_mean_parameter(stats.mean, truth)

    def mean_parameter(self, params: GaussianParams) -> Float[Array, " dim"]:
        return params.mean

    def from_mean_parameter(self, mean, truth: GaussianParams) -> GaussianParams:
        return GaussianParams(mean, truth.cov, truth.factor)

    def sample_std(self, params: GaussianParams) -> Float[Array, " dim"]:
        return jnp.sqrt(jnp.diagonal(params.cov))

    def parameter_prior(self, *, scale: float = 1.0, cov=None):
        """A prior of truths: ``mean ~ N(0, scale^2 I)``, the covariance `cov` known.

        **Arguments:**

        - `scale`: the standard deviation of each mean coordinate.
        - `cov`: the known covariance (default: the identity).

        **Returns:**

        ``prior(key) -> params`` (traceable, vmappable).

        ```python
        >>> import jax
        >>> GaussianMean(dim=2).parameter_prior()(jax.random.key(0)).mean.shape
        (2,)

        ```
        """
        template = self.params(mean=np.zeros(self.dim), cov=np.eye(self.dim) if cov is None else cov)
        dtype = template.mean.dtype

        def prior(key):
            return self.from_mean_parameter(scale * jax.random.normal(key, (self.dim,), dtype=dtype), template)

        return prior

    def metrics(self, params: GaussianParams, truth: GaussianParams) -> dict[str, Array]:
        return {"mean_sq_error": squared_distance(params.mean, truth.mean)}

    def is_degenerate(self, params: GaussianParams) -> Bool[Array, ""]:
        return jnp.asarray(False)

    def exact_is_cheaper(self, sample_size: int) -> bool:
        # One normal draw of dim values against n of them.
        return True
