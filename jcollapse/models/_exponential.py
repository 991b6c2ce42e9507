"""Discrete exponential families in their mean parametrisation: :class:`Poisson` and
:class:`Bernoulli`, ``dim`` independent coordinates each, estimated by the sample mean.

Both are :class:`~jcollapse.models.AbstractMeanFamily` models: ``E x = theta`` and the
maximum-likelihood estimator is the (weighted) sample mean, ``theta_hat = x_bar``. Each
has absorbing states: a Poisson coordinate whose fitted rate is 0, or a Bernoulli
coordinate whose fitted probability is 0 or 1, draws only that value, so without real
data the model regenerates itself forever (Xu, He & Cheng's random walk with absorption,
"A Probabilistic Perspective on Model Collapse", arXiv 2505.13947). The ``absorbed`` metric
marks such fits; its mean over seeds is the fraction of seeds collapsed, whose closed form is
in :mod:`jcollapse.theory`.

What the two share (statistics, fit, metrics, the exact path's bookkeeping) lives in the
private abstract :class:`_IndependentMeanFamily`; each final class supplies only its
parameters, its raw sampler, its exact sampler of coordinate sums, its per-coordinate
variance as a function of the mean, and its absorbing-state test.
"""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from equinox import AbstractClassVar, AbstractVar
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ..internal.reduce import pairwise_sum, squared_distance
from ..internal.samplers import binomial, poisson
from ..internal.special import safe_divide
from ..internal.validation import as_finite_array, as_stored, to_device
from ._base import AbstractMeanFamily, Params, uniform_mean_prior
from ._moments import MomentStatistics
from ._registry import register_family


def _check_dim(dim) -> None:
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1; got {dim!r}")


def _mean_statistics(total: Float[Array, " dim"], count) -> MomentStatistics:
    """The statistics of ``count`` samples with coordinate sums ``total`` (mean 0 if empty)."""
    count = count.astype(total.dtype)
    return MomentStatistics(count, safe_divide(total, count))


def _validated(name: str, values, dim: int, invalid, requirement: str) -> Array:
    """``values`` as a finite ``[dim]`` device array, with no entry where ``invalid`` holds
    for the values as the device stores them (so ``1e-50`` is a rate of 0 in float32).

    Raises `ValueError` ``"{name} must be {requirement}; got {value} at index {j}"`` at the
    first invalid entry.
    """
    values = as_finite_array(name, values, (dim,))
    stored = as_stored(values)
    bad = invalid(stored)
    if np.any(bad):
        j = int(np.flatnonzero(bad)[0])
        rounded = "" if stored[j] == values[j] else f" ({stored[j]} in {to_device(stored[j:j + 1]).dtype})"
        raise ValueError(f"{name} must be {requirement}; got {values[j]} at index {j}{rounded}")
    return to_device(values)


class PoissonParams(eqx.Module):
    """Parameters of ``dim`` independent Poisson coordinates.

    **Fields:**

    - `rate`: shape ``[dim]``, ``>= 0`` (the truth's ``> 0``); a fitted rate of 0 is
      absorbing.

    ```python
    >>> Poisson(dim=2).params(rate=[1.0, 4.0]).rate
    Array([1., 4.], dtype=float32)

    ```
    """

    rate: Float[Array, " dim"]


class BernoulliParams(eqx.Module):
    """Parameters of ``dim`` independent Bernoulli coordinates.

    **Fields:**

    - `probs`: shape ``[dim]``, in ``[0, 1]`` (the truth's in ``(0, 1)``); a fitted
      probability of 0 or 1 is absorbing.

    ```python
    >>> Bernoulli(dim=2).params(probs=[0.5, 0.25]).probs
    Array([0.5 , 0.25], dtype=float32)

    ```
    """

    probs: Float[Array, " dim"]


class _IndependentMeanFamily(AbstractMeanFamily):
    """``dim`` independent coordinates of a one-parameter family indexed by its mean,
    estimated by the sample mean; the parameters are one ``[dim]`` field (the mean).

    Concrete subclasses are final and provide the field ``dim``, the class variables
    ``_params_type`` (the parameters class) and ``_mean_field`` (the name of its field),
    and implement ``params``, ``sample`` and the three private hooks ``_sample_sum``,
    ``_variance`` and ``_is_absorbing``. Everything else is concrete here.
    """

    dim: AbstractVar[int]
    _params_type: AbstractClassVar[type]
    _mean_field: AbstractClassVar[str]
    prior_range: AbstractClassVar[tuple[float, float]]

    metric_names: ClassVar[tuple[str, ...]] = ("param_sq_error", "variance", "absorbed")

    def __check_init__(self):
        _check_dim(self.dim)

    @abc.abstractmethod
    def _sample_sum(self, key: PRNGKeyArray, mean: Float[Array, " dim"], count) -> Float[Array, " dim"]:
        """Each coordinate's sum of ``count`` i.i.d. samples with mean ``mean``, drawn
        directly (``count`` may be traced and zero)."""

    @abc.abstractmethod
    def _variance(self, mean: Float[Array, " dim"]) -> Float[Array, " dim"]:
        """One sample's per-coordinate variance under the parameters with mean ``mean``."""

    @abc.abstractmethod
    def _is_absorbing(self, mean: Float[Array, " dim"]) -> Bool[Array, " dim"]:
        """Which coordinates of the mean are absorbing states."""

    @property
    def min_sample_size(self) -> int:
        """1: the sample mean of one sample is a valid fit.

        ```python
        >>> Poisson(dim=2).min_sample_size, Bernoulli(dim=2).min_sample_size
        (1, 1)

        ```
        """
        return 1

    def statistics(self, data, weights) -> MomentStatistics:
        """Weighted count and mean of the rows of ``data``.

        ```python
        >>> import jax.numpy as jnp
        >>> Poisson(dim=1).statistics(jnp.array([[1.0], [3.0]]), jnp.ones(2)).mean
        Array([2.], dtype=float32)
        >>> Bernoulli(dim=1).statistics(jnp.array([[1.0], [0.0]]), jnp.ones(2)).mean
        Array([0.5], dtype=float32)

        ```
        """
        return MomentStatistics.of(data, weights, scatter=False)

    def sample_statistics(self, key, params: Params, count) -> MomentStatistics:
        """The statistics of ``count`` samples: each coordinate's sum is drawn directly,
        ``Poisson(count * rate)`` for :class:`Poisson` and ``Binomial(count, p)`` for
        :class:`Bernoulli`; ``count = 0`` gives the empty statistics.

        ```python
        >>> import jax, jax.numpy as jnp
        >>> model = Poisson(dim=2)
        >>> stats = model.sample_statistics(jax.random.key(0), model.params(rate=1.0), jnp.array(0))
        >>> float(stats.count), stats.mean
        (0.0, Array([0., 0.], dtype=float32))
        >>> model = Bernoulli(dim=2)
        >>> stats = model.sample_statistics(jax.random.key(0), model.params(probs=0.5), jnp.array(10))
        >>> float(stats.count), stats.mean.shape
        (10.0, (2,))

        ```
        """
        return _mean_statistics(self._sample_sum(key, self.mean_parameter(params), count), count)

    def fit(self, stats: MomentStatistics, truth: Params) -> Params:
        """The MLE: the sample mean.

        ```python
        >>> import jax.numpy as jnp
        >>> model = Poisson(dim=1)
        >>> stats = MomentStatistics(jnp.float32(2), jnp.array([1.5]))
        >>> model.fit(stats, model.params(rate=1.0)).rate
        Array([1.5], dtype=float32)
        >>> model = Bernoulli(dim=1)
        >>> stats = MomentStatistics(jnp.float32(4), jnp.array([0.25]))
        >>> model.fit(stats, model.params(probs=0.5)).probs
        Array([0.25], dtype=float32)

        ```
        """
        return self.from_mean_parameter(stats.mean, truth)

    def mean_parameter(self, params: Params) -> Float[Array, " dim"]:
        """``E x``: the rates of :class:`Poisson`, the probabilities of :class:`Bernoulli`.

        ```python
        >>> model = Poisson(dim=1)
        >>> model.mean_parameter(model.params(rate=2.0))
        Array([2.], dtype=float32)
        >>> model = Bernoulli(dim=1)
        >>> model.mean_parameter(model.params(probs=0.25))
        Array([0.25], dtype=float32)

        ```
        """
        return getattr(params, self._mean_field)

    def from_mean_parameter(self, mean, truth: Params) -> Params:
        """The parameters with ``E x = mean`` (``truth`` is not needed).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Poisson(dim=1)
        >>> model.from_mean_parameter(jnp.array([0.5]), model.params(rate=1.0)).rate
        Array([0.5], dtype=float32)
        >>> model = Bernoulli(dim=1)
        >>> model.from_mean_parameter(jnp.array([1.0]), model.params(probs=0.5)).probs
        Array([1.], dtype=float32)

        ```
        """
        return self._params_type(mean)

    def sample_std(self, params: Params) -> Float[Array, " dim"]:
        """One sample's per-coordinate standard deviation: ``sqrt(rate)`` for
        :class:`Poisson`, ``sqrt(p (1 - p))`` for :class:`Bernoulli`.

        ```python
        >>> model = Poisson(dim=1)
        >>> model.sample_std(model.params(rate=4.0))
        Array([2.], dtype=float32)
        >>> model = Bernoulli(dim=1)
        >>> model.sample_std(model.params(probs=0.5))
        Array([0.5], dtype=float32)

        ```
        """
        return jnp.sqrt(self._variance(self.mean_parameter(params)))

    def parameter_prior(self):
        """A prior of truths: every coordinate uniform on :attr:`prior_range` (Poisson rates
        in ``(1, 10)``, Bernoulli probabilities in ``(0.1, 0.9)``).

        **Returns:**

        ``prior(key) -> params`` (traceable, vmappable).

        ```python
        >>> import jax
        >>> float(Bernoulli(dim=1).parameter_prior()(jax.random.key(0)).probs[0]) < 0.9
        True

        ```
        """
        low, high = self.prior_range
        template = self.params(**{self._mean_field: np.full(self.dim, (low + high) / 2)})
        return uniform_mean_prior(self, template, low=low, high=high)

    def metrics(self, params: Params, truth: Params) -> dict[str, Array]:
        """``param_sq_error``, ``variance`` and ``absorbed`` (see :class:`Poisson` and
        :class:`Bernoulli`).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Poisson(dim=2)
        >>> m = model.metrics(PoissonParams(jnp.zeros(2)), model.params(rate=[1.0, 2.0]))
        >>> float(m["param_sq_error"]), float(m["variance"]), float(m["absorbed"])
        (5.0, 0.0, 1.0)
        >>> model = Bernoulli(dim=2)
        >>> m = model.metrics(BernoulliParams(jnp.array([0.0, 1.0])), model.params(probs=0.5))
        >>> float(m["param_sq_error"]), float(m["variance"]), float(m["absorbed"])
        (0.5, 0.0, 1.0)

        ```
        """
        mean = self.mean_parameter(params)
        return {
            "param_sq_error": squared_distance(mean, self.mean_parameter(truth)),
            "variance": pairwise_sum(self._variance(mean)) / self.dim,
            "absorbed": jnp.all(self._is_absorbing(mean)).astype(mean.dtype),
        }

    def is_degenerate(self, params: Params) -> Bool[Array, ""]:
        """True only for a NaN mean; an absorbing state (a Poisson rate of 0, a Bernoulli
        probability of 0 or 1) is absorption, not a failed fit.

        ```python
        >>> import jax.numpy as jnp
        >>> bool(Poisson(dim=1).is_degenerate(PoissonParams(jnp.zeros(1))))
        False
        >>> bool(Bernoulli(dim=1).is_degenerate(BernoulliParams(jnp.ones(1))))
        False
        >>> bool(Bernoulli(dim=1).is_degenerate(BernoulliParams(jnp.full(1, jnp.nan))))
        True

        ```
        """
        return jnp.any(jnp.isnan(self.mean_parameter(params)))

    def exact_is_cheaper(self, sample_size: int) -> bool:
        """Always True: one draw of each coordinate's sum (Poisson or binomial) against
        ``n`` draws per coordinate.

        ```python
        >>> Poisson(dim=1).exact_is_cheaper(10), Bernoulli(dim=1).exact_is_cheaper(10)
        (True, True)

        ```
        """
        return True


@register_family(theory=("jcollapse.theory._exponential", "jcollapse.theory._mean_accumulate"))
class Poisson(_IndependentMeanFamily):
    """``dim`` independent Poisson coordinates; the rates are estimated by the sample mean.

    Truth: ``model.params(rate=...)``. Metrics:

    - ``param_sq_error``: ``||rate_hat - rate*||^2`` (summed over coordinates);
    - ``variance``: the mean over coordinates of one sample's variance under the fit,
      ``mean(rate_hat)``;
    - ``absorbed``: 1.0 when every fitted rate is 0 (the absorbing state: the model draws
      only zeros and, without real data, fits zeros forever), else 0.0. Its mean over
      seeds is the fraction of seeds collapsed.

    Exact-statistics path (the default): the sum of ``n`` draws of Poisson(rate) is
    Poisson(``n`` rate), drawn directly (:func:`poisson`, exact up to ``n rate = 2^24``),
    so a generation costs ``O(dim)`` whatever ``n`` is. The raw path draws every sample
    with ``jax.random.poisson``, exact for rates up to ``10^4`` (:meth:`sample`).

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.Poisson(dim=2)
    >>> truth = model.params(rate=[1.0, 3.0])
    >>> loop = jc.Loop(model, generations=3, real_fraction=0.2, sample_size=50)
    >>> run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=4)
    >>> run.metrics["param_sq_error"].shape, loop.path
    ((4, 4), 'exact')

    ```
    """

    dim: int = eqx.field(static=True)

    _params_type: ClassVar[type] = PoissonParams
    _mean_field: ClassVar[str] = "rate"
    #: The range of :meth:`parameter_prior`'s rates.
    prior_range: ClassVar[tuple[float, float]] = (1.0, 10.0)

    def params(self, *, rate) -> PoissonParams:
        """Validated truth: independent Poisson(``rate``) coordinates.

        **Arguments:**

        - `rate`: shape ``[dim]`` (a scalar broadcasts), finite, every entry ``> 0``.

        **Returns:**

        :class:`PoissonParams`.

        **Raises:**

        `ValueError` naming `rate` for a wrong shape, a NaN or infinite entry, or an entry
        ``<= 0`` (allowed range ``(0, inf)``).

        ```python
        >>> Poisson(dim=2).params(rate=2.0).rate
        Array([2., 2.], dtype=float32)
        >>> Poisson(dim=1).params(rate=0.0)
        Traceback (most recent call last):
        ...
        ValueError: rate must be > 0 (allowed range (0, inf)); got 0.0 at index 0

        ```
        """
        return PoissonParams(_validated("rate", rate, self.dim, lambda r: r <= 0, "> 0 (allowed range (0, inf))"))

    def sample(self, key, params: PoissonParams, n: int) -> Float[Array, "n dim"]:
        """``n`` i.i.d. samples, shape ``[n, dim]``, integer-valued floats.

        Drawn with ``jax.random.poisson``, exact for rates up to :data:`POISSON_DIRECT_MAX`
        (``10^4``; beyond, its float32 rejection test loses the law). The raw path is for
        small ``n``; at larger rates use the exact path (the default), whose sums go
        through :func:`poisson`. Not :func:`poisson` here: its gamma and binomial
        samplers would triple the raw path's compile time for every ``n x dim`` draw.

        ```python
        >>> import jax
        >>> model = Poisson(dim=3)
        >>> model.sample(jax.random.key(0), model.params(rate=1.0), 5).shape
        (5, 3)

        ```
        """
        rate = params.rate
        draws = jax.random.poisson(key, rate[None, :], (n, rate.shape[0]), dtype=jnp.int32)
        return draws.astype(rate.dtype)

    def _sample_sum(self, key, mean, count):
        return poisson(key, count.astype(mean.dtype) * mean)

    def _variance(self, mean):
        return mean

    def _is_absorbing(self, mean):
        return mean == 0


@register_family(theory="jcollapse.theory._exponential")
class Bernoulli(_IndependentMeanFamily):
    """``dim`` independent Bernoulli coordinates; the probabilities are estimated by the
    sample mean.

    Truth: ``model.params(probs=...)``. Metrics:

    - ``param_sq_error``: ``||p_hat - p*||^2`` (summed over coordinates);
    - ``variance``: the mean over coordinates of one sample's variance under the fit,
      ``mean(p_hat (1 - p_hat))``;
    - ``absorbed``: 1.0 when every fitted probability is 0 or 1 (the absorbing states of
      the Wright-Fisher chain the loop becomes without real data), else 0.0. Its mean over
      seeds is the fraction of seeds collapsed.

    Exact-statistics path (the default): the sum of ``n`` draws is ``Binomial(n, p)``
    per coordinate, drawn with :func:`~jcollapse.internal.samplers.binomial` (exact at large
    ``n``), so a generation costs ``O(dim)`` whatever ``n`` is.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.Bernoulli(dim=2)
    >>> truth = model.params(probs=[0.5, 0.1])
    >>> loop = jc.Loop(model, generations=3, real_fraction=0.2, sample_size=50)
    >>> run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=4)
    >>> run.metrics["variance"].shape
    (4, 4)

    ```
    """

    dim: int = eqx.field(static=True)

    _params_type: ClassVar[type] = BernoulliParams
    _mean_field: ClassVar[str] = "probs"
    #: The range of :meth:`parameter_prior`'s probabilities.
    prior_range: ClassVar[tuple[float, float]] = (0.1, 0.9)

    def params(self, *, probs) -> BernoulliParams:
        """Validated truth: independent Bernoulli(``probs``) coordinates.

        **Arguments:**

        - `probs`: shape ``[dim]`` (a scalar broadcasts), every entry in ``(0, 1)``.

        **Returns:**

        :class:`BernoulliParams`.

        **Raises:**

        `ValueError` naming `probs` for a wrong shape, a NaN or infinite entry, or an
        entry outside the open interval ``(0, 1)`` (0 and 1 are absorbing: a loop started
        there never moves).

        ```python
        >>> Bernoulli(dim=2).params(probs=0.5).probs
        Array([0.5, 0.5], dtype=float32)
        >>> Bernoulli(dim=2).params(probs=[0.5, 1.0])
        Traceback (most recent call last):
        ...
        ValueError: probs must be in (0, 1) (allowed range (0, 1), endpoints excluded); got 1.0 at index 1

        ```
        """
        requirement = "in (0, 1) (allowed range (0, 1), endpoints excluded)"
        return BernoulliParams(_validated("probs", probs, self.dim, lambda p: (p <= 0) | (p >= 1), requirement))

    def sample(self, key, params: BernoulliParams, n: int) -> Float[Array, "n dim"]:
        """``n`` i.i.d. samples, shape ``[n, dim]``, as 0.0 / 1.0.

        ```python
        >>> import jax
        >>> model = Bernoulli(dim=3)
        >>> model.sample(jax.random.key(0), model.params(probs=0.5), 5).shape
        (5, 3)

        ```
        """
        probs = params.probs
        u = jax.random.uniform(key, (n, probs.shape[0]), dtype=probs.dtype)
        return (u < probs[None, :]).astype(probs.dtype)

    def _sample_sum(self, key, mean, count):
        return binomial(key, count, mean)

    def _variance(self, mean):
        return mean * (1 - mean)

    def _is_absorbing(self, mean):
        return (mean == 0) | (mean == 1)
