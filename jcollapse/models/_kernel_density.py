"""The kernel density estimate: a learned generator whose fit is its training sample."""

from __future__ import annotations

import math
from typing import ClassVar, Union

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ..distances import squared_distances
from ..internal.reduce import pairwise_sum
from ..internal.samplers import weighted_indices
from ..internal.validation import as_finite_array, check_count, check_number, to_device
from ._registry import register_family
from ._samples import SAMPLE_METRICS, AbstractSampleModel, SampleStatistics

#: Bandwidth rules: the pool's standard deviation times a factor of its size ``N`` and ``dim``.
RULES = ("scott", "silverman")
#: Points per block of the log-density's running log-sum-exp (memory ``test_size x block x dim``).
DENSITY_BLOCK = 256


class KernelDensityParams(eqx.Module):
    """A fitted kernel density estimate: the mixture ``sum_i w_i N(points_i, h^2 I) / sum_i w_i``.

    **Fields:**

    - `points`: ``[N, dim]``, the training sample.
    - `weights`: ``[N]``, its weights (zero for an empty slot).
    - `bandwidth`: ``h``, a scalar.
    """

    points: Float[Array, "N dim"]
    weights: Float[Array, " N"]
    bandwidth: Float[Array, ""]


def bandwidth_rule_factor(rule: str, count, dim: int):
    """The factor multiplying the pool's standard deviation under a bandwidth rule: Scott's
    ``N^(-1/(dim+4))`` or Silverman's ``(N (dim+2) / 4)^(-1/(dim+4))`` (scipy's
    ``gaussian_kde`` factors), with ``N`` the pool's total weight.

    ```python
    >>> round(float(bandwidth_rule_factor("scott", 100.0, 1)), 4)
    0.3981

    ```
    """
    exponent = -1.0 / (dim + 4)
    base = count if rule == "scott" else count * (dim + 2) / 4
    return base**exponent


@register_family(theory="jcollapse.theory._kernel_density")
class KernelDensity(AbstractSampleModel):
    """A Gaussian kernel density estimate in ``dim`` dimensions.

    Fitting stores the pool's points and weights; sampling picks a stored point with
    probability proportional to its weight and adds ``h N(0, I)``.

    **Arguments:**

    - `dim`: the dimension of a point, ``>= 1``.
    - `bandwidth`: ``h > 0``, a number (fixed every generation), or a rule, ``"scott"`` or
      ``"silverman"``: ``h = sigma_hat * factor(N, dim)`` (:func:`bandwidth_rule_factor`), with
      ``sigma_hat^2`` the pool's weighted variance about its weighted mean, normalised by its
      total weight ``N``, averaged over the coordinates. (scikit-learn's ``"scott"`` is the
      factor alone, for standardised data; scipy's ``gaussian_kde`` scales a full-covariance
      kernel instead of this isotropic one.)
    - `test_size`: the held-out points per seed, drawn from the truth once (``>= 2``).
    - `mmd_bandwidth`: the length scale of the Gaussian kernel of the ``mmd2`` metric (``> 0``).

    Truth: a :mod:`jcollapse.truths` law. Metrics of each generation's fit:

    - ``nll``: the mean negative log-likelihood of the seed's test set under the fit (exact);
    - ``data_variance``: ``sigma_hat^2`` of the fit's points (the ``S^2`` of the closed forms);
    - ``bandwidth``: ``h``;
    - ``mmd2``, ``sliced_w2``, ``precision``, ``recall``, ``tail_mass``: ``test_size`` points
      drawn from the fit against the test set, and the truth's own metrics
      (:meth:`~jcollapse.models.AbstractSampleModel.compare`).

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.KernelDensity(dim=2, bandwidth=0.5, test_size=50)
    >>> loop = jc.Loop(model, generations=3, real_fraction=0.0, sample_size=50)
    >>> run = jc.simulate(loop, jc.truths.TwoMoons(noise=0.1), key=jax.random.key(0), seeds=2)
    >>> run.metrics["nll"].shape
    (2, 4)

    ```
    """

    dim: int = eqx.field(static=True)
    rule: str = eqx.field(static=True)
    h: float
    test_size: int = eqx.field(static=True)
    mmd_bandwidth: float

    metric_names: ClassVar[tuple[str, ...]] = ("nll", "data_variance", "bandwidth", *SAMPLE_METRICS)

    def __init__(self, dim: int, bandwidth: Union[float, str] = 0.5, test_size: int = 500, mmd_bandwidth: float = 1.0):
        self.dim = check_count("dim", dim, 1)
        if isinstance(bandwidth, str):
            if bandwidth not in RULES:
                raise ValueError(f"bandwidth must be a number > 0 or one of {RULES}; got {bandwidth!r}")
            self.rule, self.h = bandwidth, 1.0
        else:
            self.rule, self.h = "fixed", check_number("bandwidth", bandwidth, positive=True)
        self.test_size = check_count("test_size", test_size, 2)
        self.mmd_bandwidth = check_number("mmd_bandwidth", mmd_bandwidth, positive=True)

    @property
    def bandwidth(self) -> Union[float, str]:
        """The bandwidth as given: a number or a rule's name."""
        return self.h if self.rule == "fixed" else self.rule

    def params(self, *, points, bandwidth, weights=None) -> KernelDensityParams:
        """A kernel density estimate made by hand (a loop fits its own).

        **Arguments:**

        - `points`: ``[N, dim]``.
        - `bandwidth`: ``h > 0``.
        - `weights`: ``[N]``, non-negative, not all zero (default: equal).

        ```python
        >>> KernelDensity(dim=1).params(points=[[0.0], [1.0]], bandwidth=0.2).weights
        Array([1., 1.], dtype=float32)

        ```
        """
        shape = np.shape(points)
        if len(shape) != 2 or shape[1] != self.dim or shape[0] < 1:
            raise ValueError(f"points must have shape [N, {self.dim}] with N >= 1; got shape {shape}")
        points = as_finite_array("points", points, shape)
        weights = np.ones(len(points)) if weights is None else as_finite_array("weights", weights, (len(points),))
        if np.any(weights < 0) or not np.any(weights > 0):
            raise ValueError(f"weights must be >= 0 and not all zero; got {weights.tolist()}")
        h = np.asarray(check_number("bandwidth", bandwidth, positive=True))
        return KernelDensityParams(*map(to_device, (points, weights, h)))

    @property
    def min_sample_size(self) -> int:
        return 1 if self.rule == "fixed" else 2

    def sample(self, key, params: KernelDensityParams, n: int) -> Float[Array, "n dim"]:
        key_point, key_noise = jax.random.split(key)
        index = weighted_indices(key_point, params.weights, n)
        noise = jax.random.normal(key_noise, (n, params.points.shape[1]), params.points.dtype)
        return params.points[index] + params.bandwidth * noise

    def fit(self, stats: SampleStatistics, truth) -> KernelDensityParams:
        if self.rule == "fixed":
            h = jnp.asarray(self.h, stats.data.dtype)
        else:
            h = self.h * jnp.sqrt(stats.variance()) * bandwidth_rule_factor(self.rule, stats.count, self.dim)
        return KernelDensityParams(stats.data, stats.weights, h)

    def log_density(self, params: KernelDensityParams, x: Float[Array, "m dim"]) -> Float[Array, " m"]:
        """``log p(x)`` at each row of ``x``, exactly: a running log-sum-exp over blocks of
        :data:`DENSITY_BLOCK` stored points, so memory stays ``m x block x dim``.

        ```python
        >>> import jax.numpy as jnp
        >>> model = KernelDensity(dim=1)
        >>> fit = model.params(points=[[0.0]], bandwidth=1.0)
        >>> round(float(model.log_density(fit, jnp.zeros((1, 1)))[0]), 4)  # -log(2 pi) / 2
        -0.9189

        ```
        """
        count = params.points.shape[0]
        block = min(count, DENSITY_BLOCK)
        pad = -count % block
        points = jnp.pad(params.points, ((0, pad), (0, 0)))
        log_w = jnp.log(jnp.pad(params.weights, (0, pad))) - jnp.log(pairwise_sum(params.weights))
        scale = -0.5 / jnp.square(params.bandwidth)
        lowest = jnp.full(x.shape[0], jnp.finfo(x.dtype).min, x.dtype)

        def add_block(carry, block_xs):
            running_max, running_sum = carry
            block_points, block_log_w = block_xs
            logits = block_log_w[None, :] + scale * squared_distances(x, block_points)
            new_max = jnp.maximum(running_max, jnp.max(logits, axis=1))
            total = running_sum * jnp.exp(running_max - new_max) + pairwise_sum(jnp.exp(logits - new_max[:, None]).T)
            return (new_max, total), None

        blocks = (points.reshape(-1, block, self.dim), log_w.reshape(-1, block))
        (top, total), _ = jax.lax.scan(add_block, (lowest, jnp.zeros_like(lowest)), blocks)
        normaliser = 0.5 * self.dim * (math.log(2 * math.pi) + 2 * jnp.log(params.bandwidth))
        return top + jnp.log(total) - normaliser

    def evaluate(self, key, params: KernelDensityParams, truth, reference) -> dict[str, Array]:
        stored = SampleStatistics(params.points, params.weights)
        key_sample, key_compare = jax.random.split(key)
        generated = self.sample(key_sample, params, reference.shape[0])
        return {
            "nll": -pairwise_sum(self.log_density(params, reference)) / reference.shape[0],
            "data_variance": stored.variance(),
            "bandwidth": params.bandwidth,
        } | self.compare(key_compare, generated, reference, truth)

    def is_degenerate(self, params: KernelDensityParams) -> Bool[Array, ""]:
        return ~(params.bandwidth > 0)
