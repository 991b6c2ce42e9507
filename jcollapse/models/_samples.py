"""Families that keep their training sample: the learned generators.

A kernel density estimate, a Gaussian mixture fitted by EM or a diffusion model is fitted to
the whole weighted sample, not to a fixed-size summary of it, and to data from a
:mod:`jcollapse.truths` law it cannot represent exactly. :class:`AbstractSampleModel` gives
such a family the engine's hooks (:class:`jcollapse.models.AbstractModel`): its statistics are
the weighted sample itself (:class:`SampleStatistics`), real data is drawn from the truth law,
generation 0's "previous model" is a placeholder of the fit's shapes, and every generation of
a seed is measured against one held-out test set drawn from the truth once per seed.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..distances import knn_precision_recall, mmd2, sliced_w2, tail_mass
from ..internal.reduce import pairwise_sum
from ..internal.special import safe_divide
from ..internal.validation import float_dtype
from ._base import AbstractModel, AbstractStatistics


class SampleStatistics(AbstractStatistics):
    """A weighted sample: the statistics of a family fitted to all its data.

    **Fields:**

    - `data`: ``[n, dim]`` points.
    - `weights`: ``[n]`` non-negative weights (zero drops a point; the engine's are its 0/1
      slot masks, times a generation's pool weight).

    Merging concatenates, so two samples' union is the same weighted sample in any order (as
    arrays the order differs; every fit here is invariant to it).

    ```python
    >>> import jax.numpy as jnp
    >>> s = SampleStatistics(jnp.array([[1.0], [3.0]]), jnp.array([1.0, 0.0]))
    >>> float(s.count), s.merge(s).data.shape
    (1.0, (4, 1))

    ```
    """

    data: Float[Array, "n dim"]
    weights: Float[Array, " n"]

    def merge(self, other: "SampleStatistics") -> "SampleStatistics":
        """The union of the two samples (concatenated)."""
        return SampleStatistics(jnp.concatenate([self.data, other.data]),
                                jnp.concatenate([self.weights, other.weights]))

    def reweight(self, weight: Float[Array, ""]) -> "SampleStatistics":
        """Every point's weight multiplied by ``weight``."""
        return SampleStatistics(self.data, weight * self.weights)

    @property
    def count(self) -> Float[Array, ""]:
        """The total weight (the sample size for 0/1 weights)."""
        return pairwise_sum(self.weights)

    def mean(self) -> Float[Array, " dim"]:
        """The weighted mean (zero for an empty sample).

        ```python
        >>> import jax.numpy as jnp
        >>> SampleStatistics(jnp.array([[1.0], [3.0]]), jnp.ones(2)).mean()
        Array([2.], dtype=float32)

        ```
        """
        return safe_divide(pairwise_sum(self.weights[:, None] * self.data), self.count)

    def variance(self) -> Float[Array, ""]:
        """The weighted variance about the weighted mean, normalised by the total weight
        (``1/n`` for unit weights), averaged over coordinates.

        ```python
        >>> import jax.numpy as jnp
        >>> float(SampleStatistics(jnp.array([[1.0, 0.0], [3.0, 0.0]]), jnp.ones(2)).variance())
        0.5

        ```
        """
        centred = self.data - self.mean()[None, :]
        per_coordinate = safe_divide(pairwise_sum(self.weights[:, None] * centred**2), self.count)
        return jnp.mean(per_coordinate)


#: The metrics every learned family reports on samples of its fit (:meth:`AbstractSampleModel.compare`).
SAMPLE_METRICS = ("mmd2", "sliced_w2", "precision", "recall", "tail_mass")
#: A generated point is in the tail when it lies more than this many standard deviations from
#: the generated points' mean (Mahalanobis distance under the test set's covariance).
TAIL_RADIUS = 3.0


class AbstractSampleModel(AbstractModel):
    """A family fitted to its whole weighted sample, from a :mod:`jcollapse.truths` law.

    Subclasses provide ``sample``, ``fit`` (or ``fit_generation``), ``evaluate``,
    ``is_degenerate``, ``params`` and the :attr:`test_size` of the held-out set every
    generation is measured on. The hooks' defaults here:

    - ``sample_truth(key, truth, n) = truth.sample(key, n)``;
    - ``statistics(data, weights)``: the :class:`SampleStatistics` of the sample;
    - ``initial_params``: zeros shaped like a fit (generation 0 is drawn from the truth,
      so it is never sampled from);
    - ``reference(key, truth)``: ``test_size`` points from the truth, drawn once per seed;
    - ``metrics(params, truth)``: ``evaluate`` with fixed keys, for a fit measured outside
      a loop (the loop measures each generation with its own key and the seed's test set).
    """

    truth_is_params = False
    #: The number of held-out points drawn from the truth per seed.
    test_size: eqx.AbstractVar[int]
    #: The length scale of the Gaussian kernel of the ``mmd2`` metric.
    mmd_bandwidth: eqx.AbstractVar[float]

    @abc.abstractmethod
    def evaluate(self, key: PRNGKeyArray, params: Any, truth: Any, reference: Any) -> dict[str, Array]:
        """The metrics of a fit against the truth and the test set `reference`."""

    def sample_truth(self, key, truth, n: int):
        return truth.sample(key, n)

    def statistics(self, data, weights) -> SampleStatistics:
        return SampleStatistics(data, weights)

    def initial_params(self, key, truth, stats):
        shapes = jax.eval_shape(self.fit_generation, key, stats, None, truth)
        return jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), shapes)

    def reference(self, key, truth) -> Float[Array, "m dim"]:
        return truth.sample(key, self.test_size)

    def compare(self, key, generated: Float[Array, "m dim"], reference: Float[Array, "m dim"],
                truth) -> dict[str, Array]:
        """The :data:`SAMPLE_METRICS` of points drawn from a fit against the test set, and the
        truth's own (``truth.sample_metrics``, e.g. a mixture's mode coverage):

        - ``mmd2``: :func:`jcollapse.distances.mmd2` with :attr:`mmd_bandwidth`;
        - ``sliced_w2``: :func:`jcollapse.distances.sliced_w2` (64 random directions from `key`);
        - ``precision``, ``recall``: :func:`jcollapse.distances.knn_precision_recall` (k = 5);
        - ``tail_mass``: the share of generated points more than :data:`TAIL_RADIUS` standard
          deviations from their own mean, by the Mahalanobis distance under the test set's
          covariance: the fit's tails in the truth's units (about ``exp(-9/2) = 1.1 %`` for a
          fit equal to a 2-D Gaussian truth; it falls as the fit's spread shrinks, wherever
          the fit has drifted to).
        """
        precision, recall = knn_precision_recall(generated, reference)
        reference_stats = SampleStatistics(reference, jnp.ones(reference.shape[0], reference.dtype))
        centred = reference - reference_stats.mean()[None, :]
        covariance = pairwise_sum(centred[:, :, None] * centred[:, None, :]) / reference.shape[0]
        own_mean = SampleStatistics(generated, jnp.ones(generated.shape[0], generated.dtype)).mean()
        whitened = jax.scipy.linalg.solve_triangular(jnp.linalg.cholesky(covariance),
                                                     (generated - own_mean[None, :]).T, lower=True).T
        metrics = {
            "mmd2": mmd2(generated, reference, self.mmd_bandwidth),
            "sliced_w2": sliced_w2(key, generated, reference),
            "precision": precision,
            "recall": recall,
            "tail_mass": tail_mass(whitened, jnp.zeros(reference.shape[1], reference.dtype), TAIL_RADIUS),
        }
        return metrics | truth.sample_metrics(generated)

    def evaluation_bytes(self, dim: int) -> int:
        """A bound on one lane's working memory for a generation's metrics, which the engine adds
        to the sample's when it sizes chunks: the pairwise matrices of :meth:`compare` between
        ``test_size`` points (the k-NN and kernel matrices and the coordinate differences they
        are summed from), about ``(4 + dim) test_size^2`` floats; 6 MB per lane at
        ``test_size = 500``, ``dim = 2`` in float32.

        ```python
        >>> import jcollapse as jc
        >>> jc.models.KernelDensity(dim=2, test_size=500).evaluation_bytes(2)
        6000000

        ```
        """
        return np.dtype(float_dtype()).itemsize * (4 + dim) * self.test_size**2

    def metrics(self, params, truth) -> dict[str, Array]:
        key_reference, key_evaluate = jax.random.split(jax.random.key(0))
        return self.evaluate(key_evaluate, params, truth, self.reference(key_reference, truth))
