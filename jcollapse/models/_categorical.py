"""The categorical family: :class:`Categorical`, the fixed-context next-token model of
Bakshi & Chakraborty ("From Collapse to Improvement", arXiv 2602.10531), estimated by
empirical frequencies."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ..internal.reduce import pairwise_sum
from ..internal.samplers import multinomial
from ..internal.special import log1pmx
from ..internal.validation import as_finite_array, to_device
from ._base import AbstractExactModel
from ._counts import CountStatistics
from ._registry import register_family

#: ``path="auto"`` draws counts (K binomials) once ``n >= 16 K``; below, n CDF inversions
#: are cheaper: the break-even point measured on a 2-core CPU (docs/performance.md).
RAW_SAMPLES_PER_CATEGORY = 16


class CategoricalParams(eqx.Module):
    """Parameters of a categorical distribution over ``K`` categories.

    **Fields:**

    - `probs`: shape ``[K]``, ``>= 0``, summing to 1 (up to float rounding for fits).

    ```python
    >>> Categorical(num_categories=3).params(probs=[0.5, 0.25, 0.25]).probs
    Array([0.5 , 0.25, 0.25], dtype=float32)

    ```
    """

    probs: Float[Array, " K"]


def probs_tolerance(num_categories: int) -> float:
    """How far from 1 the sum of a truth's ``probs`` may be: ``1e-6 + K 2^-24``.

    Loose enough for a float32 probability vector (each entry rounded, then summed), tight
    enough to catch unnormalised weights. The accepted vector is renormalised in float64.

    **Arguments:**

    - `num_categories`: ``K``.

    **Returns:**

    The absolute tolerance on ``|sum(probs) - 1|``.

    ```python
    >>> round(probs_tolerance(50), 9)
    3.98e-06

    ```
    """
    return 1e-6 + num_categories * 2.0**-24


def _sample_indices(key: PRNGKeyArray, probs: Float[Array, " K"], n: int) -> Int[Array, " n"]:
    """``n`` category indices by inversion of the cumulative distribution.

    The CDF is a sequential scan, so it is non-decreasing and flat exactly across a zero
    probability: ``u * total`` falls in category ``k`` only if ``probs[k] > 0``. The clamp
    to the last positive category only guards the edge ``u * total == total``.
    """
    _, cdf = jax.lax.scan(lambda s, p: (s + p, s + p), jnp.zeros((), probs.dtype), probs)
    u = jax.random.uniform(key, (n,), dtype=probs.dtype) * cdf[-1]
    index = jnp.searchsorted(cdf, u, side="right")
    positions = jnp.arange(probs.shape[0])
    last_positive = jnp.max(jnp.where(probs > 0, positions, 0))
    return jnp.minimum(index, last_positive).astype(jnp.int32)


@register_family(theory="jcollapse.theory._categorical")
class Categorical(AbstractExactModel):
    """A categorical distribution over ``num_categories`` tokens, fitted by frequencies.

    The learner is contamination-agnostic: it fits ``theta_hat = counts / n`` to the mixed
    sample whatever its origin (Bakshi & Chakraborty's setting; docs/theory.md, section 2).

    **Arguments:**

    - `num_categories`: ``K >= 1``.

    Truth: ``model.params(probs=...)``. Metrics, for a fit ``theta_hat`` and truth
    ``theta*``:

    - ``param_sq_error``: ``||theta_hat - theta*||^2`` (the ``R_t`` of Theorem 3.1).
    - ``tv``: total variation ``(1/2) sum_k |theta_hat_k - theta*_k|``.
    - ``kl``: ``KL(P* || P_hat) = sum_{k: theta*_k > 0} theta*_k log(theta*_k / theta_hat_k)``.
      It is **+inf** as soon as the fit has lost a category the truth has
      (``theta_hat_k = 0 < theta*_k``): the fitted model then gives probability 0 to
      something that happens. That is the honest value, and it is not a failure: the fit
      is still a valid distribution that can be sampled from, so such lanes keep status 0
      (the engine flags only non-finite parameters and NaN metrics). Average ``kl`` over
      seeds only where you know no category was lost (``support``), or report the share
      of infinite values. Computed as
      ``sum_{theta*_k > 0} theta*_k [x_k - log(1 + x_k)] + sum_{theta*_k = 0} theta_hat_k``
      with ``x_k = theta_hat_k / theta*_k - 1``, which equals the KL when both vectors sum
      to 1 (then ``-sum_{theta*_k > 0} theta*_k x_k`` is the fit's mass outside the
      truth's support) and has only terms ``>= 0``: no cancellation, so a KL of order
      ``K / n`` stays accurate in float32 even at ``n = 10^7``.
    - ``entropy``: ``-sum_k theta_hat_k log theta_hat_k`` (``0 log 0 = 0``).
    - ``support``: the number of categories with ``theta_hat_k > 0``, as a float.

    Collapse: with no real data a category that draws no sample is gone for good, and
    the fit drifts to a point mass (``support = 1``). A point mass is a valid model (it
    samples, its metrics are finite except ``kl``), so :meth:`is_degenerate` is always
    False: collapse is the phenomenon being measured, not a failed fit.

    Paths: the exact-statistics path (``path="auto"``'s choice from ``n = 16 K`` on, see
    :meth:`exact_is_cheaper`) draws a generation's counts directly as
    ``Multinomial(n, theta)`` by conditional binomials
    (:func:`jcollapse.internal.samplers.multinomial`), ``O(K)`` work whatever ``n`` is, exact
    in distribution up to ``n = 2^24`` (``jax.random.binomial`` is not, at large ``n``; see
    :func:`jcollapse.internal.samplers.binomial`). The estimator sees the data only through the
    counts, so nothing is lost. The raw path (``path="raw"``) draws ``n`` category indices
    by inverting the CDF with one uniform each, ``O(n log K)``; in float32 the uniform has
    23 random bits, so each category's probability is realised to within ``2^-23`` there.
    The raw path is the reference the exact path is tested against, and the cheaper one
    for small ``n``.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.Categorical(num_categories=3)
    >>> truth = model.params(probs=[0.5, 0.3, 0.2])
    >>> loop = jc.Loop(model, generations=4, real_fraction=0.1, sample_size=100)
    >>> run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=8)
    >>> run.metrics["param_sq_error"].shape, loop.path
    ((8, 5), 'exact')

    ```
    """

    num_categories: int = eqx.field(static=True)

    metric_names: ClassVar[tuple[str, ...]] = ("param_sq_error", "tv", "kl", "entropy", "support")

    def __check_init__(self):
        k = self.num_categories
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"num_categories must be an integer >= 1; got {k!r}")

    def params(self, *, probs) -> CategoricalParams:
        """Validated truth ``Categorical(probs)``.

        **Arguments:**

        - `probs`: shape ``[num_categories]``, finite, ``>= 0``, summing to 1 within
          :func:`probs_tolerance` (``1e-6 + K 2^-24``); it is renormalised in float64.

        **Returns:**

        :class:`CategoricalParams`.

        **Raises:**

        `ValueError` naming `probs` for a wrong shape, a NaN or infinite entry, a negative
        entry, or a sum outside ``1 +- tolerance``.

        ```python
        >>> model = Categorical(num_categories=2)
        >>> model.params(probs=[0.25, 0.75]).probs
        Array([0.25, 0.75], dtype=float32)
        >>> model.params(probs=[0.5, 0.6])
        Traceback (most recent call last):
        ...
        ValueError: probs must sum to 1 (within 1.12e-06); got sum 1.1

        ```
        """
        k = self.num_categories
        probs = as_finite_array("probs", probs, (k,))
        if np.any(probs < 0):
            j = int(np.flatnonzero(probs < 0)[0])
            raise ValueError(f"probs must be >= 0 (allowed range [0, 1]); got {probs[j]} at index {j}")
        total = float(probs.sum())
        tolerance = probs_tolerance(k)
        if not abs(total - 1.0) <= tolerance:
            raise ValueError(f"probs must sum to 1 (within {tolerance:.3g}); got sum {total:.6g}")
        return CategoricalParams(to_device(probs / total))

    @property
    def min_sample_size(self) -> int:
        return 1

    def sample(self, key, params: CategoricalParams, n: int) -> Int[Array, " n"]:
        """``n`` i.i.d. category indices (int32) drawn from ``params.probs``.

        ```python
        >>> import jax
        >>> model = Categorical(num_categories=3)
        >>> x = model.sample(jax.random.key(0), model.params(probs=[0.0, 1.0, 0.0]), 4)
        >>> x
        Array([1, 1, 1, 1], dtype=int32)

        ```
        """
        return _sample_indices(key, params.probs, n)

    def statistics(self, data, weights) -> CountStatistics:
        """Weighted category counts of ``data`` (a scatter-add).

        ```python
        >>> import jax.numpy as jnp
        >>> Categorical(num_categories=3).statistics(jnp.array([2, 0, 2]), jnp.ones(3)).counts
        Array([1., 0., 2.], dtype=float32)

        ```
        """
        return CountStatistics.of(data, weights, self.num_categories)

    def sample_statistics(self, key, params: CategoricalParams, count) -> CountStatistics:
        """The counts of ``count`` draws, ``Multinomial(count, probs)``, in ``O(K)``.

        ```python
        >>> import jax, jax.numpy as jnp
        >>> model = Categorical(num_categories=3)
        >>> truth = model.params(probs=[0.2, 0.3, 0.5])
        >>> float(model.sample_statistics(jax.random.key(0), truth, jnp.array(10**7)).counts.sum())
        10000000.0

        ```
        """
        return CountStatistics(multinomial(key, count, params.probs))

    def fit(self, stats: CountStatistics, truth: CategoricalParams) -> CategoricalParams:
        """Empirical frequencies ``counts / sum(counts)`` (NaN for an empty sample).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Categorical(num_categories=2)
        >>> truth = model.params(probs=[0.5, 0.5])
        >>> model.fit(CountStatistics(jnp.array([1.0, 3.0])), truth).probs
        Array([0.25, 0.75], dtype=float32)

        ```
        """
        return CategoricalParams(stats.counts / pairwise_sum(stats.counts))

    def metrics(self, params: CategoricalParams, truth: CategoricalParams) -> dict[str, Array]:
        """``param_sq_error``, ``tv``, ``kl``, ``entropy`` and ``support`` (see the class).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Categorical(num_categories=2)
        >>> truth = model.params(probs=[0.5, 0.5])
        >>> m = model.metrics(model.params(probs=[1.0, 0.0]), truth)
        >>> float(m["param_sq_error"]), float(m["tv"]), float(m["kl"]), float(m["support"])
        (0.5, 0.5, inf, 1.0)

        ```
        """
        fit, true = params.probs, truth.probs
        diff = fit - true
        live = true > 0
        present = fit > 0
        # x = -1 exactly for a lost category (KL = +inf) and x > -1 for a present one, even
        # where XLA's quotient is not correctly rounded (see _special.safe_divide): below -1,
        # log1pmx is NaN.
        ratio_minus_one = jnp.where(live, diff / jnp.where(live, true, 1), 0)
        above_minus_one = jnp.nextafter(jnp.asarray(-1, fit.dtype), jnp.asarray(0, fit.dtype))
        ratio_minus_one = jnp.where(present, jnp.maximum(ratio_minus_one, above_minus_one), -1)
        kl_terms = jnp.where(live, -true * log1pmx(ratio_minus_one), fit)
        plogp = jnp.where(present, fit * jnp.log(jnp.where(present, fit, 1)), 0)
        return {
            "param_sq_error": pairwise_sum(diff * diff),
            "tv": 0.5 * pairwise_sum(jnp.abs(diff)),
            "kl": pairwise_sum(kl_terms),
            "entropy": -pairwise_sum(plogp),
            "support": pairwise_sum(present.astype(fit.dtype)),
        }

    def is_degenerate(self, params: CategoricalParams) -> Bool[Array, ""]:
        """Always False: a point mass is collapse, not a failed fit (see the class).

        ```python
        >>> model = Categorical(num_categories=2)
        >>> bool(model.is_degenerate(model.params(probs=[1.0, 0.0])))
        False

        ```
        """
        return jnp.asarray(False)

    def exact_is_cheaper(self, sample_size: int) -> bool:
        """True once ``sample_size >= 16 K`` (see :data:`RAW_SAMPLES_PER_CATEGORY`).

        ```python
        >>> Categorical(num_categories=50).exact_is_cheaper(100)
        False

        ```
        """
        return sample_size >= RAW_SAMPLES_PER_CATEGORY * self.num_categories
