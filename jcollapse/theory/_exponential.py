r"""Closed forms for :class:`~jcollapse.models.Poisson` and
:class:`~jcollapse.models.Bernoulli` (our own derivation).

Notation (docs/theory.md): generation ``t = 0..G`` draws ``n_t`` samples, a share ``a_t``
real and the rest synthetic from the fit of generation ``t - 1``; generation 0 is real
(``a_0 := 1``). Coordinates are independent, so everything below is per coordinate, with
``theta*`` the true mean (rate or probability), ``theta_hat_t`` the fitted one (the sample
mean), ``delta_t = theta_hat_t - theta*``, ``m_t = E delta_t^2``, ``m_{-1} = 0`` and
``v* = Var(one sample under the truth)``: ``rate*`` (Poisson) or ``p* (1 - p*)``
(Bernoulli). Under split mixing ``b_t = round(a_t n_t) / n_t``
(:func:`~jcollapse.theory.split_real_fraction`).

**Unbiasedness.** Given generation ``t - 1``, a sample has mean
``theta* + (1 - a) delta_{t-1}`` (iid) or the sample mean has mean
``theta* + (1 - b) delta_{t-1}`` (split), so ``E delta_t = (1 - a) E delta_{t-1} = 0`` by
induction: ``E theta_hat_t = theta*`` for every ``t``.

**Poisson** (``pool="replace"``). One sample's variance equals its mean, so the mixture's
variance is ``a rate* + (1 - a) rate_hat + a (1 - a) delta^2`` (iid, law of total
variance), with expectation ``v* + a (1 - a) m`` since ``E rate_hat = rate* = v*``; under
split mixing the sample mean's variance is ``(r rate* + s rate_hat) / n^2`` with
expectation ``v* / n``. These are :class:`~jcollapse.models.GaussianMean`'s recursions
with ``Sigma* = diag(rate*)``:

    iid:   m_t = (1 - a_t)^2 m_{t-1} + (v* + a_t (1 - a_t) m_{t-1}) / n_t
    split: m_t = (1 - b_t)^2 m_{t-1} + v* / n_t

so ``m_t = g_t rate*`` with ``g_t`` from :func:`~jcollapse.theory.gaussian_moments` (run on
the same schedules) and ``E param_sq_error = g_t sum(rate*)``;
``E variance = E mean(rate_hat) = mean(rate*)`` for every ``t``.

**Bernoulli** (``pool="replace"``). With ``q = theta* + (1 - a) delta`` the iid samples are
Bernoulli(``q``) and the sample mean has variance ``q (1 - q) / n``;
``E q (1 - q) = v* - (1 - a)^2 m`` (``E delta = 0``), so

    iid:   m_t = (1 - a_t)^2 (1 - 1/n_t) m_{t-1} + v* / n_t.

Under split mixing the ``r`` real samples contribute ``r v*`` and the ``s`` synthetic ones
``s p_hat (1 - p_hat)`` to the variance of the sum, and
``E p_hat (1 - p_hat) = p* - (p*^2 + m) = v* - m``, so

    split: m_t = (1 - b_t)^2 m_{t-1} + (v* - (1 - b_t) m_{t-1}) / n_t.

Both are linear in ``v*`` from ``m_{-1} = 0``, so ``m_t = mu_t v*`` with
:func:`bernoulli_moments`' ``mu_t`` (the recursions with ``v* = 1``);
``E param_sq_error = mu_t sum(v*)`` and ``E variance = E mean(p_hat (1 - p_hat)) =
(1 - mu_t) mean(v*)``. At ``a = 0`` (Wright-Fisher): ``v* - m_t = (1 - 1/n_t)(v* - m_{t-1})``,
so ``m_t = v* (1 - prod_{k <= t} (1 - 1/n_k))``: the expected heterozygosity decays by
``1 - 1/n_t`` per generation.

**Absorption** (``a_t = 0`` for ``t >= 1``, one coordinate). A fitted rate of 0, or a
fitted probability of 0 or 1, is absorbing; :func:`poisson_absorption_probability` and
:func:`bernoulli_absorption_probability` give ``P(absorbed by generation t)``, the
expected ``absorbed`` metric. Xu, He & Cheng (arXiv 2505.13947): the chain collapses
almost surely iff ``sum 1/n_t = infinity`` (constant and linear ``n_t`` collapse, linear
slowly; ``n_t ~ t^(1+s)`` does not).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..loop import Loop
from ..models import Bernoulli, GaussianMean, Poisson
from ._gaussian import gaussian_moments, loop_schedules, split_real_fraction
from ._registry import register

#: Largest sample size :func:`bernoulli_absorption_probability` accepts: each generation
#: multiplies the count distribution by an ``(n_{t-1} + 1) x (n_t + 1)`` matrix.
BERNOULLI_ABSORPTION_MAX_N = 5000


def truth_field(loop: Loop, truth, field: str) -> np.ndarray:
    model = loop.model
    value = np.asarray(getattr(truth, field, None), dtype=np.float64)
    if value.shape != (model.dim,):
        raise ValueError(
            f"truth must be {type(model).__name__}(dim={model.dim}).params({field}=...) with "
            f"{field} of shape ({model.dim},); got {field} of shape {value.shape}"
        )
    return value


def bernoulli_moments(loop: Loop) -> np.ndarray:
    """The scalars ``mu_t`` with ``E (p_hat_t - p*)^2 = mu_t p* (1 - p*)`` per coordinate,
    for :class:`~jcollapse.models.Bernoulli` with ``pool="replace"``.

    Implements the recursions derived in the module docstring (our own derivation), with
    ``v* = 1``, ``mu_{-1} = 0`` and ``a_0 = 1``: iid mixing
    ``mu_t = (1 - a_t)^2 (1 - 1/n_t) mu_{t-1} + 1/n_t``; split mixing
    ``mu_t = (1 - b_t)^2 mu_{t-1} + (1 - (1 - b_t) mu_{t-1}) / n_t``,
    ``b_t = round(a_t n_t) / n_t``.

    **Arguments:**

    - `loop`: a loop with a ``Bernoulli`` model and ``pool="replace"``.

    **Returns:**

    ``mu``, a float64 array of shape ``[G + 1]``.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.Bernoulli(dim=1), generations=2, real_fraction=0.0, sample_size=10)
    >>> bernoulli_moments(loop)
    array([0.1  , 0.19 , 0.271])

    ```
    """
    if not isinstance(loop.model, Bernoulli) or loop.pool != "replace":
        raise ValueError(f"bernoulli_moments needs a Bernoulli model and pool='replace'; got {loop}")
    a, n = loop_schedules(loop)
    split = loop.mixing == "split"
    if split:
        a = split_real_fraction(loop)
    out = np.empty_like(n)
    mu = 0.0
    for t in range(n.shape[0]):
        keep = 1 - a[t]
        if split:
            mu = keep**2 * mu + (1 - keep * mu) / n[t]
        else:
            mu = keep**2 * (1 - 1 / n[t]) * mu + 1 / n[t]
        out[t] = mu
    return out


@register(Poisson, pool="replace", mixing=("iid", "split"), metrics=("param_sq_error", "variance"))
def poisson_replace(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``param_sq_error`` and ``variance`` of :class:`~jcollapse.models.Poisson`
    with ``pool="replace"``, iid or split mixing, any schedules.

    Formula (our own derivation, module docstring): ``E ||rate_hat_t - rate*||^2 =
    g_t sum(rate*)`` with ``g_{-1} = 0``; iid:
    ``g_t = (1 - a_t)^2 g_{t-1} + (1 + a_t (1 - a_t) g_{t-1}) / n_t``; split:
    ``g_t = (1 - b_t)^2 g_{t-1} + 1 / n_t`` (GaussianMean's recursion with
    ``Sigma* = diag(rate*)``, since a Poisson sample's variance is its mean and
    ``E rate_hat_t = rate*``). ``E variance = mean(rate*)`` for every ``t``.

    **Arguments:**

    - `loop`: a loop with a ``Poisson`` model and ``pool="replace"``.
    - `truth`: ``loop.model.params(rate=...)``.

    **Returns:**

    ``{"param_sq_error": [G + 1], "variance": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Poisson(dim=2)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=10)
    >>> out = poisson_replace(loop, model.params(rate=[1.0, 3.0]))
    >>> out["param_sq_error"], out["variance"]
    (array([0.4, 0.8, 1.2]), array([2., 2., 2.]))

    ```
    """
    rate = truth_field(loop, truth, "rate")
    if not isinstance(loop.model, Poisson) or loop.pool != "replace":
        raise ValueError(f"poisson_replace needs a Poisson model and pool='replace'; got {loop}")
    # The same recursion as GaussianMean with unit covariance, on the same schedules.
    g, _ = gaussian_moments(loop.replace(model=GaussianMean(dim=loop.model.dim)))
    return {"param_sq_error": g * rate.sum(), "variance": np.full_like(g, rate.mean())}


@register(Bernoulli, pool="replace", mixing=("iid", "split"), metrics=("param_sq_error", "variance"))
def bernoulli_replace(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``param_sq_error`` and ``variance`` of :class:`~jcollapse.models.Bernoulli`
    with ``pool="replace"``, iid or split mixing, any schedules.

    Formula (our own derivation, module docstring): with ``v* = p* (1 - p*)`` per
    coordinate and ``mu_t`` from :func:`bernoulli_moments` (iid:
    ``mu_t = (1 - a_t)^2 (1 - 1/n_t) mu_{t-1} + 1/n_t``; split:
    ``mu_t = (1 - b_t)^2 mu_{t-1} + (1 - (1 - b_t) mu_{t-1}) / n_t``),
    ``E ||p_hat_t - p*||^2 = mu_t sum(v*)`` and
    ``E mean(p_hat_t (1 - p_hat_t)) = (1 - mu_t) mean(v*)``.

    **Arguments:**

    - `loop`: a loop with a ``Bernoulli`` model and ``pool="replace"``.
    - `truth`: ``loop.model.params(probs=...)``.

    **Returns:**

    ``{"param_sq_error": [G + 1], "variance": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Bernoulli(dim=1)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=10)
    >>> bernoulli_replace(loop, model.params(probs=0.5))["variance"]
    array([0.225  , 0.2025 , 0.18225])

    ```
    """
    probs = truth_field(loop, truth, "probs")
    v = probs * (1 - probs)
    mu = bernoulli_moments(loop)
    return {"param_sq_error": mu * v.sum(), "variance": (1 - mu) * v.mean()}


def random_walk_error(sample_sizes) -> np.ndarray:
    """``sum_{k <= t} 1/n_k`` for every ``t``: the mean squared error of a random-walk
    estimate in units of one sample's variance.

    With no real data after generation 0 (``a_t = 0``, ``pool="replace"``), the unbiased
    Gaussian's mean (``E(mu_hat_t - mu)^2 = sigma^2 sum_{k<=t} 1/n_k``, :func:`gaussian_moments`;
    Shumailov et al.; Xu, He & Cheng's random-walk view) and the Poisson rate
    (``E(rate_hat_t - rate*)^2 = rate* sum_{k<=t} 1/n_k``, module docstring) are martingales
    whose increments have variance ``Var(one sample) / n_t`` in expectation.

    **Arguments:**

    - `sample_sizes`: ``n_t``, ``t = 0..G``, each ``>= 1``.

    **Returns:**

    A float64 array ``[G + 1]``.

    ```python
    >>> random_walk_error([10, 10, 20])
    array([0.1 , 0.2 , 0.25])

    ```
    """
    n = _sample_sizes("sample_sizes", sample_sizes)
    return np.cumsum(1.0 / n)


def _sample_sizes(name: str, value) -> np.ndarray:
    n = np.asarray(value)
    if n.ndim != 1 or n.shape[0] < 1:
        raise ValueError(f"{name} must be a 1-D array of length G + 1 >= 1; got shape {n.shape}")
    if not np.issubdtype(n.dtype, np.number) or not np.all(np.isfinite(n)) or np.any(n != np.round(n)) or np.any(n < 1):
        raise ValueError(f"{name} must hold integers >= 1; got {value!r}")
    return n.astype(np.float64)


def _absorption_inputs(function: str, model_type: type, sample_sizes, theta, field: str):
    """``(n, theta)`` from either a loop (checked: model, dim 1, replace, a_t = 0 for
    t >= 1) or a sample-size array, and a scalar or one-coordinate parameter."""
    if isinstance(sample_sizes, Loop):
        loop = sample_sizes
        if not isinstance(loop.model, model_type) or loop.model.dim != 1:
            raise ValueError(f"{function} needs a {model_type.__name__}(dim=1) loop; got {loop.model}")
        if loop.pool != "replace":
            raise ValueError(f"{function} needs pool='replace'; got pool={loop.pool!r}")
        later = np.asarray(loop.real_fraction, dtype=np.float64)[1:]
        if np.any(later != 0):
            t = int(np.flatnonzero(later != 0)[0]) + 1
            raise ValueError(
                f"{function} needs real_fraction 0 at every t >= 1 (absorption is permanent "
                f"only without real data); got {later[t - 1]} at t={t}"
            )
        sample_sizes = loop.sample_size
    n = _sample_sizes("sample_sizes", sample_sizes)
    value = np.asarray(getattr(theta, field, theta), dtype=np.float64)
    if value.size != 1:
        raise ValueError(f"{function} needs dim = 1 (one {field}); got {field} of shape {value.shape}")
    return n, float(value.reshape(()))


def poisson_absorption_probability(sample_sizes, rate, generations=None) -> np.ndarray:
    """``P(rate_hat_t = 0)`` for ``t = 0..G``: the fraction of seeds collapsed, for a
    one-dimensional :class:`~jcollapse.models.Poisson` loop with ``pool="replace"`` and no
    real data after generation 0.

    Derivation (ours): ``S_t = n_t rate_hat_t`` is the generation's sum. Given ``S_{t-1}``,
    ``S_t ~ Poisson(n_t S_{t-1} / n_{t-1})``, a sum of ``S_{t-1}`` i.i.d.
    ``Poisson(m_t)``, ``m_t = n_t / n_{t-1}``: a Galton-Watson process with offspring
    generating function ``f_t(s) = exp(m_t (s - 1))``, started from
    ``S_0 ~ Poisson(n_0 rate)`` with ``G_0(s) = exp(n_0 rate (s - 1))``. Hence

        P(S_t = 0) = G_0(f_1(f_2(... f_t(0)))).

    The compositions are inhomogeneous, so each ``t`` needs its own chain: ``O(G T)``
    work for ``T`` requested generations, vectorised over them (``G`` NumPy steps;
    milliseconds for all of ``G = 1000``, or for 25 generations up to ``10^5``). It runs
    on ``u = 1 - s``, ``u <- -expm1(-m_k u)`` and ``P = exp(-n_0 rate u)``, so neither a
    probability near 1 nor its complement loses digits.

    **Arguments:**

    - `sample_sizes`: ``n_t`` for ``t = 0..G`` (integers ``>= 1``), or a
      :class:`jcollapse.Loop` with a ``Poisson(dim=1)`` model, ``pool="replace"`` and
      ``real_fraction`` 0 at every ``t >= 1``.
    - `rate`: the true rate ``> 0`` (a number or ``Poisson(dim=1).params(rate=...)``).
    - `generations`: the generations ``t`` to compute, integers in ``0..G`` (default: all).

    **Returns:**

    A float64 array ``[G + 1]`` (or one entry per requested generation), non-decreasing in ``t``.

    **Raises:**

    `ValueError` for a loop with real data after generation 0, another pool, a model other
    than ``Poisson(dim=1)``, a rate with more than one entry or ``<= 0``, or sample sizes
    that are not integers ``>= 1``.

    ```python
    >>> poisson_absorption_probability([1, 1], 1.0).round(4)
    array([0.3679, 0.5315])
    >>> poisson_absorption_probability([1, 1], 1.0, generations=[1]).round(4)
    array([0.5315])

    ```
    """
    name = "poisson_absorption_probability"
    n, rate = _absorption_inputs(name, Poisson, sample_sizes, rate, "rate")
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(f"rate must be > 0 (allowed range (0, inf)); got {rate}")
    t = np.arange(n.shape[0]) if generations is None else np.asarray(generations)
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.integer) or np.any((t < 0) | (t >= n.shape[0])):
        raise ValueError(f"generations must be integers in [0, {n.shape[0] - 1}]; got {generations!r}")
    growth = n[1:] / n[:-1]
    u = np.ones(t.shape[0])  # u_t = 1 - (f_k o ... o f_t)(0), innermost first
    for k in range(int(t.max(initial=0)), 0, -1):
        live = t >= k
        u[live] = -np.expm1(-growth[k - 1] * u[live])
    return np.exp(-n[0] * rate * u)


def _binomial_transition(before: int, after: int) -> np.ndarray:
    """``T[i, j] = P(Binomial(after, i / before) = j)``, shape ``[before + 1, after + 1]``.

    In log space with ``gammaln``; the rows ``i = 0`` and ``i = before`` are exact point
    masses. Several times faster than ``scipy.stats.binom.pmf``.
    """
    freq = np.arange(1, before) / before  # the inner rows; 0 < freq < 1
    j = np.arange(after + 1)
    log_choose = special.gammaln(after + 1) - special.gammaln(j + 1) - special.gammaln(after - j + 1)
    inner = np.outer(np.log(freq), j) + np.outer(np.log1p(-freq), after - j)
    inner += log_choose[None, :]
    out = np.zeros((before + 1, after + 1))
    out[1:before] = np.exp(inner, out=inner)
    out[0, 0] = out[before, after] = 1.0  # frequencies 0 and 1 are absorbing
    return out


def bernoulli_absorption_probability(sample_sizes, prob) -> np.ndarray:
    """``P(p_hat_t in {0, 1})`` for ``t = 0..G``: the fraction of seeds collapsed, for a
    one-dimensional :class:`~jcollapse.models.Bernoulli` loop with ``pool="replace"`` and
    no real data after generation 0.

    Derivation: the counts form a Wright-Fisher chain, ``K_0 ~ Binomial(n_0, p)`` and
    ``K_t ~ Binomial(n_t, K_{t-1} / n_{t-1})``; its law is propagated exactly by the
    ``(n_{t-1} + 1) x (n_t + 1)`` transition matrices of binomial probabilities (built
    again only when ``(n_{t-1}, n_t)`` changes, so memory is one matrix), and
    ``P(K_t in {0, n_t})`` read off.

    **Arguments:**

    - `sample_sizes`: ``n_t`` for ``t = 0..G`` (integers ``>= 1``, at most
      :data:`BERNOULLI_ABSORPTION_MAX_N`), or a :class:`jcollapse.Loop` with a
      ``Bernoulli(dim=1)`` model, ``pool="replace"`` and ``real_fraction`` 0 at every
      ``t >= 1``.
    - `prob`: the true probability in ``(0, 1)`` (a number or
      ``Bernoulli(dim=1).params(probs=...)``).

    **Returns:**

    A float64 array ``[G + 1]``, non-decreasing in ``t``.

    **Raises:**

    `ValueError` as :func:`poisson_absorption_probability`, for ``prob`` outside
    ``(0, 1)``, and for a sample size above :data:`BERNOULLI_ABSORPTION_MAX_N` (the
    transition matrix is ``n_{t-1} x n_t``: memory and time grow with its square).

    ```python
    >>> bernoulli_absorption_probability([1, 2], 0.5)
    array([1., 1.])
    >>> bernoulli_absorption_probability([2, 2], 0.5)
    array([0.5 , 0.75])

    ```
    """
    name = "bernoulli_absorption_probability"
    n, prob = _absorption_inputs(name, Bernoulli, sample_sizes, prob, "probs")
    if not (0 < prob < 1):
        raise ValueError(f"prob must be in (0, 1) (allowed range (0, 1), endpoints excluded); got {prob}")
    if n.max() > BERNOULLI_ABSORPTION_MAX_N:
        raise ValueError(
            f"{name} needs sample sizes <= {BERNOULLI_ABSORPTION_MAX_N}; got max {int(n.max())} "
            f"(each generation multiplies by an n_(t-1) x n_t transition matrix, whose size "
            f"and cost grow with the square of n)"
        )
    counts = n.astype(np.int64)
    law = stats.binom.pmf(np.arange(counts[0] + 1), counts[0], prob)
    out = np.empty(n.shape[0])
    out[0] = law[0] + law[-1]
    pair, matrix = None, None  # only the latest matrix: a growing schedule has G distinct ones
    for t in range(1, n.shape[0]):
        if pair != (counts[t - 1], counts[t]):
            pair = (int(counts[t - 1]), int(counts[t]))
            matrix = _binomial_transition(*pair)
        law = law @ matrix
        out[t] = law[0] + law[-1]
    return out
