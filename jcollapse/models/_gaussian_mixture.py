"""The Gaussian mixture fitted by EM: the learned generator of "The curse of recursion"."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ..distances import mixture_joint_log_densities, squared_distances
from ..internal.reduce import pairwise_sum
from ..internal.samplers import weighted_indices
from ..internal.validation import check_count, check_number, mixture_arrays, to_device
from ._registry import register_family
from ._samples import SAMPLE_METRICS, AbstractSampleModel, SampleStatistics

COVARIANCES = ("full", "diag")
INITS = ("kmeans++", "warm")
#: A component whose share of the pool's weight falls below this has lost its mass: the fit
#: is flagged degenerate (less than a thousandth of a point in a pool of 1,000 points).
EMPTY_SHARE = 1e-6


class GaussianMixtureParams(eqx.Module):
    """A fitted mixture ``sum_k weights[k] N(means[k], covs[k])``.

    **Fields:**

    - `weights`: ``[K]``, non-negative, summing to 1.
    - `means`: ``[K, dim]``.
    - `covs`: ``[K, dim, dim]``, positive definite (diagonal for ``covariance="diag"``).
    """

    weights: Float[Array, " K"]
    means: Float[Array, "K dim"]
    covs: Float[Array, "K dim dim"]


@register_family(theory="jcollapse.theory._kernel_density")
class GaussianMixture(AbstractSampleModel):
    """A mixture of ``num_components`` Gaussians in ``dim`` dimensions, fitted by EM.

    Each generation's fit runs exactly ``em_steps`` EM steps (a ``lax.scan``) on the pool's
    weighted sample, from an initial mixture chosen by `init`. A step computes each point's
    responsibilities ``r_ik`` (the E-step) and then, with the pool's weights ``w_i`` and
    ``N_k = sum_i w_i r_ik + 10 eps`` (scikit-learn's guard against an empty component),
    ``weights = N / sum N``, ``means_k = sum_i w_i r_ik x_i / N_k`` and
    ``covs_k = sum_i w_i r_ik (x_i - means_k)(x_i - means_k)^T / N_k + reg_covar I`` (the
    M-step; only the diagonal for ``covariance="diag"``). This is scikit-learn's
    ``GaussianMixture`` with weighted points.

    **Arguments:**

    - `num_components`: ``K >= 1``.
    - `dim`: the dimension of a point, ``>= 1``.
    - `covariance`: ``"full"`` or ``"diag"``.
    - `em_steps`: EM steps per generation, ``>= 1`` (scikit-learn's ``max_iter``, default 100).
    - `init`: where EM starts each generation:

      - ``"kmeans++"``: ``K`` centres drawn from the pool by k-means++ seeding (the first by
        the pool's weights, each next one by weight times squared distance to the nearest
        centre chosen), every point assigned to its nearest centre, and one M-step
        (scikit-learn's ``init_params="k-means++"``; its default ``"kmeans"`` runs k-means to
        convergence first). The seeding depends on the order of the pool's points.
      - ``"warm"``: the previous generation's fit (generation 0, fitted to real data with no
        previous fit, seeds by k-means++). EM from a given mixture is a function of the
        weighted sample, whatever the order of its points.

    - `reg_covar`: ``> 0``, added to every covariance's diagonal (scikit-learn's default 1e-6).
    - `tol`: ``>= 0``. A lane whose mean log-likelihood per unit weight changed by less than
      `tol` over one step keeps its mixture for the rest of the ``em_steps`` (scikit-learn's
      stopping rule, without a data-dependent loop); 0 runs every step.
    - `test_size`: held-out points per seed, drawn from the truth once (``>= 2``).
    - `mmd_bandwidth`: the length scale of the Gaussian kernel of the ``mmd2`` metric (``> 0``).

    Truth: a :mod:`jcollapse.truths` law. Metrics of each generation's fit:

    - ``nll``: the mean negative log-likelihood of the seed's test set under the fit (exact);
    - ``variance``: the mixture's covariance trace over ``dim``. Every M-step gives the mixture
      the pool's mean and ``1/N`` covariance plus ``reg_covar I``, so this is the pool's
      variance plus ``reg_covar``, and its expectation in a fully synthetic loop has a closed
      form (:func:`jcollapse.theory.mixture_variance`);
    - ``min_weight``: the smallest component weight (below :data:`EMPTY_SHARE` the fit is
      flagged degenerate);
    - ``mmd2``, ``sliced_w2``, ``precision``, ``recall``, ``tail_mass``: ``test_size`` points
      drawn from the fit against the test set, and the truth's own metrics
      (:meth:`~jcollapse.models.AbstractSampleModel.compare`);
    - ``l2`` for a Gaussian-mixture truth: ``int (p - q)^2`` between truth and fit, exactly.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMixture(num_components=2, dim=2, em_steps=20, test_size=50)
    >>> loop = jc.Loop(model, generations=3, real_fraction=0.0, sample_size=100)
    >>> truth = jc.truths.GaussianMixture.gaussian(mean=[0.0, 0.0], cov=[[1.0, 0.0], [0.0, 1.0]])
    >>> run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=2)
    >>> run.metrics["l2"].shape
    (2, 4)

    ```
    """

    num_components: int = eqx.field(static=True)
    dim: int = eqx.field(static=True)
    covariance: str = eqx.field(static=True)
    em_steps: int = eqx.field(static=True)
    init: str = eqx.field(static=True)
    reg_covar: float
    tol: float
    test_size: int = eqx.field(static=True)
    mmd_bandwidth: float

    metric_names: ClassVar[tuple[str, ...]] = ("nll", "variance", "min_weight", *SAMPLE_METRICS)

    def __init__(self, num_components: int, dim: int, covariance: str = "full", em_steps: int = 100,
                 init: str = "kmeans++", reg_covar: float = 1e-6, tol: float = 1e-3, test_size: int = 500,
                 mmd_bandwidth: float = 1.0):
        self.num_components = check_count("num_components", num_components, 1)
        self.dim = check_count("dim", dim, 1)
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}; got {covariance!r}")
        self.covariance = covariance
        self.em_steps = check_count("em_steps", em_steps, 1)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {init!r}")
        self.init = init
        self.reg_covar = check_number("reg_covar", reg_covar, positive=True)
        self.tol = check_number("tol", tol)
        self.test_size = check_count("test_size", test_size, 2)
        self.mmd_bandwidth = check_number("mmd_bandwidth", mmd_bandwidth, positive=True)

    def params(self, *, weights, means, covs) -> GaussianMixtureParams:
        """A mixture made by hand (a loop fits its own): `weights` ``[K]`` summing to 1,
        `means` ``[K, dim]``, `covs` ``[K, dim, dim]`` symmetric positive semi-definite.

        ```python
        >>> GaussianMixture(1, 1).params(weights=[1.0], means=[[0.0]], covs=[[[2.0]]]).covs
        Array([[[2.]]], dtype=float32)

        ```
        """
        weights, means, covs, _ = mixture_arrays(weights, means, covs)
        expected = (self.num_components, self.dim)
        if means.shape != expected:
            raise ValueError(f"means must have shape {list(expected)}; got shape {list(means.shape)}")
        return GaussianMixtureParams(*map(to_device, (weights, means, covs)))

    @property
    def min_sample_size(self) -> int:
        return self.num_components

    def sample(self, key, params: GaussianMixtureParams, n: int) -> Float[Array, "n dim"]:
        key_component, key_noise = jax.random.split(key)
        component = weighted_indices(key_component, params.weights, n)
        z = jax.random.normal(key_noise, (n, self.dim), params.means.dtype)
        factors = jnp.linalg.cholesky(params.covs)
        return params.means[component] + jnp.einsum("nij,nj->ni", factors[component], z)

    @staticmethod
    def joint_log_densities(params: GaussianMixtureParams, x: Float[Array, "n dim"]) -> Float[Array, "n K"]:
        """``log weights[k] + log N(x_i; means[k], covs[k])`` for every point and component
        (:func:`jcollapse.distances.mixture_joint_log_densities`).

        ```python
        >>> import jax.numpy as jnp
        >>> fit = GaussianMixtureParams(jnp.ones(1), jnp.zeros((1, 1)), jnp.ones((1, 1, 1)))
        >>> GaussianMixture.joint_log_densities(fit, jnp.zeros((2, 1))).shape
        (2, 1)

        ```
        """
        return mixture_joint_log_densities(x, params.weights, params.means, params.covs)

    def log_density(self, params: GaussianMixtureParams, x: Float[Array, "m dim"]) -> Float[Array, " m"]:
        """``log p(x)`` at each row of ``x``, exactly.

        ```python
        >>> import jax.numpy as jnp
        >>> model = GaussianMixture(1, 1)
        >>> fit = model.params(weights=[1.0], means=[[0.0]], covs=[[[1.0]]])
        >>> round(float(model.log_density(fit, jnp.zeros((1, 1)))[0]), 4)  # -log(2 pi) / 2
        -0.9189

        ```
        """
        return jax.scipy.special.logsumexp(self.joint_log_densities(params, x), axis=1)

    def total_covariance(self, params: GaussianMixtureParams) -> Float[Array, "dim dim"]:
        """The mixture's covariance, ``sum_k w_k (C_k + m_k m_k^T) - m m^T`` with
        ``m = sum_k w_k m_k`` (the law of total covariance).

        ```python
        >>> model = GaussianMixture(2, 1)
        >>> fit = model.params(weights=[0.5, 0.5], means=[[-1.0], [1.0]], covs=[[[0.25]], [[0.25]]])
        >>> model.total_covariance(fit)
        Array([[1.25]], dtype=float32)

        ```
        """
        mean = params.weights @ params.means
        second = jnp.einsum("k,kij->ij", params.weights,
                            params.covs + params.means[:, :, None] * params.means[:, None, :])
        return second - mean[:, None] * mean[None, :]

    def maximisation(self, stats: SampleStatistics, responsibilities: Float[Array, "n K"]) -> GaussianMixtureParams:
        """The M-step: the mixture maximising the expected weighted log-likelihood under
        `responsibilities` (see the class docstring).

        ```python
        >>> import jax.numpy as jnp
        >>> stats = SampleStatistics(jnp.array([[0.0], [2.0]]), jnp.ones(2))
        >>> fit = GaussianMixture(1, 1, reg_covar=0.5).maximisation(stats, jnp.ones((2, 1)))
        >>> round(float(fit.means[0, 0]), 5), round(float(fit.covs[0, 0, 0]), 5)  # 1 and 1 + 0.5
        (1.0, 1.5)

        ```
        """
        x = stats.data
        mass = stats.weights[:, None] * responsibilities
        counts = pairwise_sum(mass) + 10 * jnp.finfo(x.dtype).eps
        means = pairwise_sum(mass[:, :, None] * x[:, None, :]) / counts[:, None]
        centred = x[:, None, :] - means[None]
        if self.covariance == "full":
            outer = centred[..., :, None] * centred[..., None, :]
        else:
            outer = jax.vmap(jax.vmap(jnp.diag))(centred**2)
        covs = pairwise_sum(mass[:, :, None, None] * outer) / counts[:, None, None]
        covs = covs + self.reg_covar * jnp.eye(self.dim, dtype=x.dtype)[None]
        return GaussianMixtureParams(counts / pairwise_sum(counts), means, covs)

    def em_step(self, stats: SampleStatistics, params: GaussianMixtureParams
                ) -> tuple[GaussianMixtureParams, Float[Array, ""]]:
        """One EM step from `params`, and the mean log-likelihood per unit weight of `params`
        (before the step, as scikit-learn's lower bound).

        ```python
        >>> import jax.numpy as jnp
        >>> model = GaussianMixture(1, 1)
        >>> stats = SampleStatistics(jnp.array([[0.0], [2.0]]), jnp.ones(2))
        >>> fit, _ = model.em_step(stats, model.params(weights=[1.0], means=[[5.0]], covs=[[[1.0]]]))
        >>> round(float(fit.means[0, 0]), 5)
        1.0

        ```
        """
        joint = self.joint_log_densities(params, stats.data)
        log_density = jax.scipy.special.logsumexp(joint, axis=1)
        responsibilities = jnp.exp(joint - log_density[:, None])
        likelihood = pairwise_sum(stats.weights * log_density) / stats.count
        return self.maximisation(stats, responsibilities), likelihood

    def kmeans_plus_plus(self, key: PRNGKeyArray, stats: SampleStatistics) -> GaussianMixtureParams:
        """The k-means++ initial mixture (see `init` in the class docstring).

        ```python
        >>> import jax, jax.numpy as jnp
        >>> stats = SampleStatistics(jnp.array([[0.0], [0.1], [9.0], [9.1]]), jnp.ones(4))
        >>> start = GaussianMixture(2, 1).kmeans_plus_plus(jax.random.key(0), stats)
        >>> sorted(round(float(m), 2) for m in start.means[:, 0])
        [0.05, 9.05]

        ```
        """
        keys = jax.random.split(key, self.num_components)
        first = stats.data[weighted_indices(keys[0], stats.weights, 1)[0]]

        def next_centre(nearest, key):
            centre = stats.data[weighted_indices(key, stats.weights * nearest, 1)[0]]
            return jnp.minimum(nearest, squared_distances(stats.data, centre[None])[:, 0]), centre

        nearest = squared_distances(stats.data, first[None])[:, 0]
        _, rest = jax.lax.scan(next_centre, nearest, keys[1:])
        centres = jnp.concatenate([first[None], rest])
        closest = jnp.argmin(squared_distances(stats.data, centres), axis=1)
        return self.maximisation(stats, jax.nn.one_hot(closest, self.num_components, dtype=stats.data.dtype))

    def expectation_maximisation(self, stats: SampleStatistics, start: GaussianMixtureParams) -> GaussianMixtureParams:
        """``em_steps`` EM steps from `start` (a ``lax.scan``), each lane keeping its mixture
        once a step changed its mean log-likelihood by less than `tol`.

        ```python
        >>> import jax.numpy as jnp
        >>> model = GaussianMixture(1, 1, em_steps=3)
        >>> stats = SampleStatistics(jnp.array([[0.0], [2.0]]), jnp.ones(2))
        >>> fit = model.expectation_maximisation(stats, model.params(weights=[1.0], means=[[5.0]], covs=[[[1.0]]]))
        >>> round(float(fit.covs[0, 0, 0]), 5)  # the sample's variance, 1, plus reg_covar
        1.0

        ```
        """

        def step(carry, _):
            params, previous_likelihood, converged = carry
            stepped, likelihood = self.em_step(stats, params)
            params = jax.tree.map(lambda old, new: jnp.where(converged, old, new), params, stepped)
            converged = converged | (jnp.abs(likelihood - previous_likelihood) < self.tol)
            return (params, likelihood, converged), None

        start_likelihood = jnp.asarray(-jnp.inf, stats.data.dtype)
        (params, _, _), _ = jax.lax.scan(step, (start, start_likelihood, jnp.asarray(False)), None, self.em_steps)
        return params

    def fit_generation(self, key, stats: SampleStatistics, previous, truth) -> GaussianMixtureParams:
        start = self.kmeans_plus_plus(key, stats)
        if self.init == "warm" and previous is not None:
            has_previous = pairwise_sum(previous.weights) > 0  # generation 0's placeholder is zeros
            start = jax.tree.map(lambda warm, seeded: jnp.where(has_previous, warm, seeded), previous, start)
        return self.expectation_maximisation(stats, start)

    def fit(self, stats: SampleStatistics, truth) -> GaussianMixtureParams:
        return self.fit_generation(jax.random.key(0), stats, None, truth)

    def evaluate(self, key, params: GaussianMixtureParams, truth, reference) -> dict[str, Array]:
        key_sample, key_compare = jax.random.split(key)
        generated = self.sample(key_sample, params, reference.shape[0])
        metrics = {
            "nll": -pairwise_sum(self.log_density(params, reference)) / reference.shape[0],
            "variance": self.total_covariance(params).trace() / self.dim,
            "min_weight": jnp.min(params.weights),
        } | self.compare(key_compare, generated, reference, truth)
        if hasattr(truth, "l2_distance"):
            metrics["l2"] = truth.l2_distance(params.weights, params.means, params.covs)
        return metrics

    def is_degenerate(self, params: GaussianMixtureParams) -> Bool[Array, ""]:
        return jnp.min(params.weights) < EMPTY_SHARE

