"""The abstract model: the pure functions every model family provides.

A model is an ``eqx.Module`` that holds static structure only (dimensions, estimator
choices). Its parameters are a separate pytree made by :meth:`AbstractModel.params`. The
engine meets a model only through these signatures:

- ``sample(key, params, n) -> data``: ``n`` i.i.d. samples (``n`` static);
- ``statistics(data, weights) -> stats``: weighted sufficient statistics of raw data
  (the engine's weights are 0/1 slot masks, whose sums are exact in any order);
- ``fit(stats, truth) -> params``: the estimator (``truth`` supplies the fields that are
  known rather than estimated, e.g. :class:`GaussianMean`'s covariance);
- ``metrics(params, truth) -> dict``: scalar errors against the truth;
- ``is_degenerate(params) -> bool``: the fit cannot be sampled from or is meaningless.

Families whose truth is not one of their own parameter sets (learned generators fitted to a
:mod:`jcollapse.truths` law) override the hooks that default to the closed-form case:
``sample_truth``, ``initial_params``, ``fit_generation``, ``reference`` and ``evaluate``
(see :class:`AbstractModel`); ``truth_is_params = False`` tells the loop so.

Models whose estimator depends on the data only through sufficient statistics subclass
:class:`AbstractExactModel` and add ``sample_statistics(key, params, count)``, which draws
the statistics of ``count`` samples directly and exactly in distribution.
"""

from __future__ import annotations

import abc
from typing import Any, Callable, ClassVar

import equinox as eqx
import jax
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

Params = Any
Data = Any


class AbstractStatistics(eqx.Module):
    """Sufficient statistics of a weighted sample, closed under merging.

    The all-zeros pytree of a statistics class is the empty sample: merging it with any
    statistics returns them unchanged.
    """

    @abc.abstractmethod
    def merge(self, other: "AbstractStatistics") -> "AbstractStatistics":
        """The statistics of the union of the two samples."""

    @abc.abstractmethod
    def reweight(self, weight: Float[Array, ""]) -> "AbstractStatistics":
        """The statistics of the same sample with every sample weight multiplied by ``weight``."""


class AbstractModel(eqx.Module):
    """A model family: static structure plus the pure functions of the contract.

    The engine calls the abstract functions below through five hooks whose defaults suit a
    family whose truth is one of its own parameter sets: real data is ``sample(key, truth,
    n)``, generation 0's "previous model" is the truth, a generation's fit is ``fit(stats,
    truth)`` and its metrics are ``metrics(params, truth)``. A family fitted to another law
    (a :mod:`jcollapse.truths` distribution), whose fit is random or starts from the
    previous generation's, overrides them.
    """

    metric_names: ClassVar[tuple[str, ...]]
    #: Whether the truth is a parameter pytree of this family (the default hooks). False for
    #: families fitted to a :mod:`jcollapse.truths` law: their generation 0 is always drawn
    #: from the truth, which never serves as a "previous model".
    truth_is_params: ClassVar[bool] = True

    @abc.abstractmethod
    def params(self, **fields) -> Params:
        """Validate ``fields`` on the host and return the parameter pytree."""

    @property
    @abc.abstractmethod
    def min_sample_size(self) -> int:
        """The smallest per-generation sample size the estimator accepts."""

    @abc.abstractmethod
    def sample(self, key: PRNGKeyArray, params: Params, n: int) -> Data:
        """Draw ``n`` i.i.d. samples (a pytree with leading axis ``n``)."""

    @abc.abstractmethod
    def statistics(self, data: Data, weights: Float[Array, " n"]) -> AbstractStatistics:
        """Weighted sufficient statistics of ``data``; zero weights drop samples.

        The engine passes 0/1 weights; a seed's statistics are then bitwise the same
        whatever the vmap batch size (:mod:`jcollapse.internal.reduce`).
        """

    @abc.abstractmethod
    def fit(self, stats: AbstractStatistics, truth: Params) -> Params:
        """The estimator: parameters fitted to ``stats``."""

    @abc.abstractmethod
    def metrics(self, params: Params, truth: Params) -> dict[str, Float[Array, ""]]:
        """Scalar error metrics of ``params`` against ``truth``, keyed by ``metric_names``."""

    @abc.abstractmethod
    def is_degenerate(self, params: Params) -> Bool[Array, ""]:
        """True where a fit cannot be sampled from (e.g. a singular covariance)."""

    # The engine's hooks (see the class docstring); each default keeps the closed-form case.

    def sample_truth(self, key: PRNGKeyArray, truth: Any, n: int) -> Data:
        """``n`` real samples from the truth; by default the truth is this family's parameters."""
        return self.sample(key, truth, n)

    def initial_params(self, key: PRNGKeyArray, truth: Any, stats: Any) -> Params:
        """Generation 0's "previous model" (the scan's initial carry). By default the truth,
        so that generation 0 drawn from it is real data. `stats` holds the shapes
        (``jax.ShapeDtypeStruct``) of the statistics every generation's fit will see."""
        return truth

    def fit_generation(self, key: PRNGKeyArray, stats: AbstractStatistics, previous: Params, truth: Any) -> Params:
        """One generation's fit. By default :meth:`fit`; learned families use `key` (a random
        initialisation, minibatches) and `previous` (a warm start)."""
        return self.fit(stats, truth)

    def reference(self, key: PRNGKeyArray, truth: Any) -> Any:
        """What every generation of a seed is measured against (e.g. a held-out test set
        drawn from the truth once per seed); ``None`` by default."""
        return None

    def evaluate(self, key: PRNGKeyArray, params: Params, truth: Any, reference: Any) -> dict[str, Array]:
        """A generation's metrics. By default :meth:`metrics`; families measured through
        samples of the fit use `key` and `reference`."""
        return self.metrics(params, truth)


class AbstractExactModel(AbstractModel):
    """A model whose estimator sees the data only through sufficient statistics."""

    @abc.abstractmethod
    def sample_statistics(
        self, key: PRNGKeyArray, params: Params, count: Int[Array, ""]
    ) -> AbstractStatistics:
        """Draw the statistics of ``count`` i.i.d. samples directly (``count`` may be traced
        and may be zero, which gives the empty statistics)."""

    @abc.abstractmethod
    def exact_is_cheaper(self, sample_size: int) -> bool:
        """Whether drawing the statistics of ``sample_size`` samples directly costs less
        than drawing the samples; ``path="auto"`` asks it with the largest ``n_t``."""


class AbstractMeanFamily(AbstractExactModel):
    """A family indexed by its mean: one sample ``x`` has ``E x = mean_parameter(params)``
    and the estimator is the (weighted) sample mean, ``fit(stats) = from_mean_parameter(stats.mean)``.

    Gaussian with known covariance, Poisson and Bernoulli are such families (exponential
    families in their mean parametrisation, where the sufficient statistic is ``x`` itself).
    Estimators that reweight samples, such as :mod:`jcollapse.filters`, meet the model only
    through these three functions.
    """

    @abc.abstractmethod
    def mean_parameter(self, params: Params) -> Float[Array, " dim"]:
        """``E x`` under ``params``."""

    @abc.abstractmethod
    def from_mean_parameter(self, mean: Float[Array, " dim"], truth: Params) -> Params:
        """The parameters with mean ``mean`` (``truth`` supplies the known fields, e.g. a covariance)."""

    @abc.abstractmethod
    def sample_std(self, params: Params) -> Float[Array, " dim"]:
        """The standard deviation of one coordinate of one sample under ``params``."""

    @abc.abstractmethod
    def parameter_prior(self) -> Callable[[PRNGKeyArray], Params]:
        """A default law of plausible parameters of this family, ``prior(key) -> params``
        (traceable and vmappable); :func:`jcollapse.filters.train_filter` draws the truths
        of its training chains from it."""


def uniform_mean_prior(model: AbstractMeanFamily, template: Params, *, low: float, high: float) -> Callable:
    """A prior drawing every coordinate of the mean parameter from ``U(low, high)``.

    Works for any :class:`AbstractMeanFamily` through ``from_mean_parameter(mean,
    template)``, e.g. Poisson rates or Bernoulli probabilities.

    **Arguments:**

    - `model`: the model.
    - `template`: validated parameters supplying the shape, dtype and any known fields.
    - `low`, `high`: the range, ``low < high``.

    **Returns:**

    ``prior(key) -> params``.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> prior = uniform_mean_prior(model, model.params(mean=0.0, cov=[[1.0]]), low=2.0, high=3.0)
    >>> 2.0 <= float(prior(jax.random.key(0)).mean[0]) <= 3.0
    True

    ```
    """
    mean = model.mean_parameter(template)
    if not low < high:
        raise ValueError(f"need low < high; got low={low!r}, high={high!r}")

    def prior(key):
        draw = jax.random.uniform(key, mean.shape, dtype=mean.dtype, minval=low, maxval=high)
        return model.from_mean_parameter(draw, template)

    return prior
