"""Discrete exponential families in their mean parametrisation: :class:`Poisson` and
:class:`Bernoulli`, ``dim`` independent coordinates each, estimated by the sample mean.

Both are :class:`~jcollapse.models.AbstractMeanFamily` models: ``E x = theta`` and the
maximum-likelihood estimator is the (weighted) sample mean, ``theta_hat = x_bar``. Each
has absorbing states: a Poisson coordinate whose fitted rate is 0, or a Bernoulli
coordinate whose fitted probability is 0 or 1, draws only that value, so without real
data the model regenerates itself forever (REFERENCE.md section 4: Xu et al.'s random walk
with absorption). The ``absorbed`` metric marks such fits; its mean over seeds is the
fraction of seeds collapsed, whose closed form is in :mod:`jcollapse.theory`.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._reduce import pairwise_sum
from ._base import AbstractMeanFamily
from ._gaussian import _squared_distance
from ._moments import MomentStatistics
from ._random import binomial, poisson
from ._validation import as_finite_array, to_device

def _check_dim(dim) -> None:
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1; got {dim!r}")


def _mean_statistics(total: Float[Array, " dim"], count) -> MomentStatistics:
    """The statistics of ``count`` samples with coordinate sums ``total`` (mean 0 if empty)."""
    count = count.astype(total.dtype)
    return MomentStatistics(count, total / jnp.maximum(count, 1))


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


class Poisson(AbstractMeanFamily):
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

    metric_names: ClassVar[tuple[str, ...]] = ("param_sq_error", "variance", "absorbed")

    def __check_init__(self):
        _check_dim(self.dim)

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
        rate = as_finite_array("rate", rate, (self.dim,))
        if np.any(rate <= 0):
            j = int(np.flatnonzero(rate <= 0)[0])
            raise ValueError(f"rate must be > 0 (allowed range (0, inf)); got {rate[j]} at index {j}")
        return PoissonParams(to_device(rate))

    @property
    def min_sample_size(self) -> int:
        return 1

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

    def statistics(self, data, weights) -> MomentStatistics:
        """Weighted count and mean of the rows of ``data``.

        ```python
        >>> import jax.numpy as jnp
        >>> Poisson(dim=1).statistics(jnp.array([[1.0], [3.0]]), jnp.ones(2)).mean
        Array([2.], dtype=float32)

        ```
        """
        return MomentStatistics.of(data, weights, scatter=False)

    def sample_statistics(self, key, params: PoissonParams, count) -> MomentStatistics:
        """The statistics of ``count`` samples: each coordinate's sum is
        ``Poisson(count * rate)``; ``count = 0`` gives the empty statistics.

        ```python
        >>> import jax, jax.numpy as jnp
        >>> model = Poisson(dim=2)
        >>> stats = model.sample_statistics(jax.random.key(0), model.params(rate=1.0), jnp.array(0))
        >>> float(stats.count), stats.mean
        (0.0, Array([0., 0.], dtype=float32))

        ```
        """
        total = poisson(key, count.astype(params.rate.dtype) * params.rate)
        return _mean_statistics(total, count)

    def fit(self, stats: MomentStatistics, truth: PoissonParams) -> PoissonParams:
        """The MLE: the sample mean.

        ```python
        >>> import jax.numpy as jnp
        >>> model = Poisson(dim=1)
        >>> stats = MomentStatistics(jnp.float32(2), jnp.array([1.5]))
        >>> model.fit(stats, model.params(rate=1.0)).rate
        Array([1.5], dtype=float32)

        ```
        """
        return self.from_mean_parameter(stats.mean, truth)

    def mean_parameter(self, params: PoissonParams) -> Float[Array, " dim"]:
        """``E x = rate``.

        ```python
        >>> model = Poisson(dim=1)
        >>> model.mean_parameter(model.params(rate=2.0))
        Array([2.], dtype=float32)

        ```
        """
        return params.rate

    def from_mean_parameter(self, mean, truth: PoissonParams) -> PoissonParams:
        """The parameters with ``E x = mean`` (``truth`` is not needed).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Poisson(dim=1)
        >>> model.from_mean_parameter(jnp.array([0.5]), model.params(rate=1.0)).rate
        Array([0.5], dtype=float32)

        ```
        """
        return PoissonParams(mean)

    def sample_std(self, params: PoissonParams) -> Float[Array, " dim"]:
        """``sqrt(rate)``.

        ```python
        >>> model = Poisson(dim=1)
        >>> model.sample_std(model.params(rate=4.0))
        Array([2.], dtype=float32)

        ```
        """
        return jnp.sqrt(params.rate)

    def metrics(self, params: PoissonParams, truth: PoissonParams) -> dict[str, Array]:
        """``param_sq_error``, ``variance`` and ``absorbed`` (see the class).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Poisson(dim=2)
        >>> m = model.metrics(PoissonParams(jnp.zeros(2)), model.params(rate=[1.0, 2.0]))
        >>> float(m["param_sq_error"]), float(m["variance"]), float(m["absorbed"])
        (5.0, 0.0, 1.0)

        ```
        """
        rate = params.rate
        return {
            "param_sq_error": _squared_distance(rate, truth.rate),
            "variance": pairwise_sum(rate) / self.dim,
            "absorbed": jnp.all(rate == 0).astype(rate.dtype),
        }

    def is_degenerate(self, params: PoissonParams) -> Bool[Array, ""]:
        """True only for a NaN rate; a zero rate is absorption, not a failed fit.

        ```python
        >>> import jax.numpy as jnp
        >>> bool(Poisson(dim=1).is_degenerate(PoissonParams(jnp.zeros(1))))
        False

        ```
        """
        return jnp.any(jnp.isnan(params.rate))

    def exact_is_cheaper(self, sample_size: int) -> bool:
        """Always True: one Poisson draw per coordinate against ``n`` of them.

        ```python
        >>> Poisson(dim=1).exact_is_cheaper(10)
        True

        ```
        """
        return True


class Bernoulli(AbstractMeanFamily):
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
    per coordinate, drawn with :func:`~jcollapse.models._random.binomial` (exact at large
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

    metric_names: ClassVar[tuple[str, ...]] = ("param_sq_error", "variance", "absorbed")

    def __check_init__(self):
        _check_dim(self.dim)

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
        probs = as_finite_array("probs", probs, (self.dim,))
        bad = (probs <= 0) | (probs >= 1)
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"probs must be in (0, 1) (allowed range (0, 1), endpoints excluded); got {probs[j]} at index {j}"
            )
        return BernoulliParams(to_device(probs))

    @property
    def min_sample_size(self) -> int:
        return 1

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

    def statistics(self, data, weights) -> MomentStatistics:
        """Weighted count and mean of the rows of ``data``.

        ```python
        >>> import jax.numpy as jnp
        >>> Bernoulli(dim=1).statistics(jnp.array([[1.0], [0.0]]), jnp.ones(2)).mean
        Array([0.5], dtype=float32)

        ```
        """
        return MomentStatistics.of(data, weights, scatter=False)

    def sample_statistics(self, key, params: BernoulliParams, count) -> MomentStatistics:
        """The statistics of ``count`` samples: each coordinate's sum is
        ``Binomial(count, p)``; ``count = 0`` gives the empty statistics.

        ```python
        >>> import jax, jax.numpy as jnp
        >>> model = Bernoulli(dim=2)
        >>> stats = model.sample_statistics(jax.random.key(0), model.params(probs=0.5), jnp.array(10))
        >>> float(stats.count), stats.mean.shape
        (10.0, (2,))

        ```
        """
        return _mean_statistics(binomial(key, count, params.probs), count)

    def fit(self, stats: MomentStatistics, truth: BernoulliParams) -> BernoulliParams:
        """The MLE: the sample mean.

        ```python
        >>> import jax.numpy as jnp
        >>> model = Bernoulli(dim=1)
        >>> stats = MomentStatistics(jnp.float32(4), jnp.array([0.25]))
        >>> model.fit(stats, model.params(probs=0.5)).probs
        Array([0.25], dtype=float32)

        ```
        """
        return self.from_mean_parameter(stats.mean, truth)

    def mean_parameter(self, params: BernoulliParams) -> Float[Array, " dim"]:
        """``E x = probs``.

        ```python
        >>> model = Bernoulli(dim=1)
        >>> model.mean_parameter(model.params(probs=0.25))
        Array([0.25], dtype=float32)

        ```
        """
        return params.probs

    def from_mean_parameter(self, mean, truth: BernoulliParams) -> BernoulliParams:
        """The parameters with ``E x = mean`` (``truth`` is not needed).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Bernoulli(dim=1)
        >>> model.from_mean_parameter(jnp.array([1.0]), model.params(probs=0.5)).probs
        Array([1.], dtype=float32)

        ```
        """
        return BernoulliParams(mean)

    def sample_std(self, params: BernoulliParams) -> Float[Array, " dim"]:
        """``sqrt(p (1 - p))``.

        ```python
        >>> model = Bernoulli(dim=1)
        >>> model.sample_std(model.params(probs=0.5))
        Array([0.5], dtype=float32)

        ```
        """
        p = params.probs
        return jnp.sqrt(p * (1 - p))

    def metrics(self, params: BernoulliParams, truth: BernoulliParams) -> dict[str, Array]:
        """``param_sq_error``, ``variance`` and ``absorbed`` (see the class).

        ```python
        >>> import jax.numpy as jnp
        >>> model = Bernoulli(dim=2)
        >>> m = model.metrics(BernoulliParams(jnp.array([0.0, 1.0])), model.params(probs=0.5))
        >>> float(m["param_sq_error"]), float(m["variance"]), float(m["absorbed"])
        (0.5, 0.0, 1.0)

        ```
        """
        p = params.probs
        return {
            "param_sq_error": _squared_distance(p, truth.probs),
            "variance": pairwise_sum(p * (1 - p)) / self.dim,
            "absorbed": jnp.all((p == 0) | (p == 1)).astype(p.dtype),
        }

    def is_degenerate(self, params: BernoulliParams) -> Bool[Array, ""]:
        """True only for a NaN probability; 0 and 1 are absorption, not a failed fit.

        ```python
        >>> import jax.numpy as jnp
        >>> bool(Bernoulli(dim=1).is_degenerate(BernoulliParams(jnp.ones(1))))
        False

        ```
        """
        return jnp.any(jnp.isnan(params.probs))

    def exact_is_cheaper(self, sample_size: int) -> bool:
        """Always True: one binomial draw per coordinate against ``n`` uniforms.

        ```python
        >>> Bernoulli(dim=1).exact_is_cheaper(10)
        True

        ```
        """
        return True
