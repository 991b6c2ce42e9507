r"""Mean estimation on an accumulating pool: Amin et al.'s Theorem 1, its generalisation to
any schedule and per-generation weights, and the weights that minimise the variance.

Setting (Amin, Bie, Kong, Syed & Vassilvitskii, "Learning from Synthetic Data: Limitations of
ERM", arXiv 2601.15468, in our notation): :class:`~jcollapse.models.GaussianMean`
with ``pool="accumulate"``. Generation ``t`` draws ``n_t`` samples, a share ``a_t`` real
(Amin et al.'s contamination is ``alpha = 1 - a``), the rest from the previous fit
``N(Y_{t-1}, Sigma)``. The pool weighs generation ``s`` by ``w_s`` (``loop.pool_weights``),
so the fit is ``Y_t = sum_s w_s n_s X_s / W_t`` with ``X_s`` the mean of generation ``s`` and
``W_t = sum_{s <= t} w_s n_s``. Uniform weights are Amin et al.'s ERM.

**Recursion (our own derivation).** Write ``e_t = Y_t - mu``, ``p = W_{t-1} / W_t`` and
``c = w_t n_t / W_t = 1 - p``. With ``split`` mixing (``b_t = round(a_t n_t) / n_t``),
``X_t - mu = (1 - b) e_{t-1} + U_t`` where ``U_t`` has covariance ``Sigma / n_t`` (real and
synthetic samples have the same covariance) and is independent of the past, so

    e_t = (1 - c b) e_{t-1} + c U_t,
    m_t = (1 - c b)^2 m_{t-1} + c^2 / n_t,

in units of ``Sigma`` (``E e_t e_t^T = m_t Sigma``), from ``m_0 = 1 / n_0`` (generation 0 is
real). With ``iid`` mixing the real count is ``K ~ Binomial(n, a)`` and
``X_t - mu = (1 - K / n) e_{t-1} + U_t``; ``E (1 - K/n) = 1 - a`` and
``Var (K/n) = a (1 - a) / n`` give

    m_t = [(1 - c a)^2 + c^2 a (1 - a) / n_t] m_{t-1} + c^2 / n_t.

For uniform weights and constant ``n`` and ``a``, ``c = 1 / (t + 1)`` and the split recursion
is ``e_t = ((t - 1 + alpha) / t) e_{t-1} + U_t / t`` in Amin et al.'s rounds (counted from 1);
unrolled, it is Amin et al.'s Theorem 1 (:func:`amin_theorem_1`).

**Optimal weights (our own derivation).** Given ``m_{t-1}``, ``m_t`` is a quadratic in
``c`` in ``[0, 1)``, minimised by ``c* = b m / (b^2 m + 1/n)`` (split) or
``c* = a m / (a^2 m + (a (1 - a) m + 1) / n)`` (iid), and the minimum increases with
``m_{t-1}``; so choosing ``c*`` greedily minimises ``m_t`` at every ``t`` at once (a
Kalman filter). For split mixing the result is ``1 / m_t = 1 / m_{t-1} + b_t^2 n_t``:
generation ``t`` is worth ``b_t^2 n_t`` real samples, and
``m_t = 1 / (n_0 + sum_{1 <= s <= t} b_s^2 n_s)``. With constant ``n`` this is
the variance ``Sigma_round / (1 + t (1 - alpha)^2)`` of the debiased estimator (``Z_1 = X_1``,
``Z_s = (X_s - alpha Y_{s-1}) / (1 - alpha)``, weighted 1 and ``(1 - alpha)^2``): the optimal pool
weights reach it without subtracting the previous fit. The weights need ``a_t`` (as the
debiased estimator does); ``c = 0`` at ``a = 0``: synthetic-only generations get weight 0.

**Poisson.** The derivation uses only that one sample has covariance ``Sigma`` whether it is
real or synthetic. A Poisson sample's variance is its rate, so a synthetic sample has
variance ``rate_hat``, but ``E rate_hat_t = rate*`` at every ``t`` and ``U_t`` has mean zero
given the past, so ``E U_t U_t^T = diag(rate*) / n`` and every step above holds in
expectation with ``Sigma = diag(rate*)`` (our own derivation). The Bernoulli's variance
``p (1 - p)`` is not linear in the estimate, so it does not reduce to this form.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ..loop import Loop
from ..models import Poisson
from ._exponential import truth_field
from ._gaussian import GaussianMean, loop_schedules, split_real_fraction, truth_trace
from ._registry import register


def _mixing_share(loop: Loop) -> np.ndarray:
    """``b_t`` for split mixing, ``a_t`` for iid (with generation 0 real)."""
    return split_real_fraction(loop) if loop.mixing == "split" else loop_schedules(loop)[0]


def _step(m: float, c: float, a: float, n: float, mixing: str) -> float:
    """``m_t`` from ``m_{t-1}`` for the new generation's share ``c`` of the pool."""
    extra = c * c * a * (1 - a) / n if mixing == "iid" else 0.0
    return ((1 - c * a) ** 2 + extra) * m + c * c / n


def accumulate_mean_moments(loop: Loop) -> np.ndarray:
    """``m_t`` with ``E[(Y_t - mu)(Y_t - mu)^T] = m_t Sigma`` on a weighted accumulating pool.

    Implements the recursion of this module's docstring (our own derivation):
    ``m_t = (1 - c_t b_t)^2 m_{t-1} + c_t^2 / n_t`` (split; iid adds
    ``c_t^2 a_t (1 - a_t) m_{t-1} / n_t`` and uses ``a_t``), ``c_t = w_t n_t / W_t``,
    ``m_0 = 1 / n_0``.

    **Arguments:**

    - `loop`: a loop with a :class:`~jcollapse.models.GaussianMean` or
      :class:`~jcollapse.models.Poisson` model and ``pool="accumulate"`` (any schedules,
      any ``pool_weights``).

    **Returns:**

    ``m``, a float64 array ``[G + 1]`` (units of one sample's covariance).

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMean(dim=1), generations=2, real_fraction=0.5,
    ...                sample_size=10, pool="accumulate", mixing="split")
    >>> accumulate_mean_moments(loop).round(5)
    array([0.1    , 0.08125, 0.06753])

    ```
    """
    if not isinstance(loop.model, (GaussianMean, Poisson)) or loop.pool != "accumulate":
        raise ValueError(f"accumulate_mean_moments needs a GaussianMean or Poisson model and pool='accumulate'; "
                         f"got {loop}")
    share = _mixing_share(loop)
    n = np.asarray(loop.sample_size, dtype=np.float64)
    mass = np.asarray(loop.pool_weights, dtype=np.float64) * n
    pooled = np.cumsum(mass)
    m = np.empty_like(n)
    m[0] = 1.0 / n[0]
    for t in range(1, n.shape[0]):
        m[t] = _step(m[t - 1], mass[t] / pooled[t], share[t], n[t], loop.mixing)
    return m


@register(GaussianMean, pool="accumulate", mixing=("iid", "split"), metrics=("mean_sq_error",))
def gaussian_mean_accumulate(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``mean_sq_error`` of :class:`~jcollapse.models.GaussianMean` on an
    accumulating pool with any per-generation weights, iid or split mixing, any schedules.

    Formula: ``E ||Y_t - mu||^2 = m_t tr(Sigma)`` with ``m_t`` from
    :func:`accumulate_mean_moments` (our own derivation; with uniform weights, split
    mixing and constant ``n`` it is Amin et al.'s Theorem 1, :func:`amin_theorem_1`).

    **Arguments:**

    - `loop`: a loop with a ``GaussianMean`` model and ``pool="accumulate"``.
    - `truth`: ``loop.model.params(mean=..., cov=...)``.

    **Returns:**

    ``{"mean_sq_error": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=1, pool="accumulate",
    ...                mixing="split")
    >>> gaussian_mean_accumulate(loop, model.params(mean=0.0, cov=[[1.0]]))["mean_sq_error"].round(4)
    array([1.    , 1.25  , 1.3611])

    With nothing real, the error is ``sum_{k <= t + 1} 1 / k^2``, bounded by ``pi^2 / 6``.

    ```
    """
    return {"mean_sq_error": accumulate_mean_moments(loop) * truth_trace(loop.model, truth)}


@register(Poisson, pool="accumulate", mixing=("iid", "split"), metrics=("param_sq_error", "variance"))
def poisson_accumulate(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``param_sq_error`` and ``variance`` of :class:`~jcollapse.models.Poisson` on an
    accumulating pool with any per-generation weights, iid or split mixing, any schedules.

    Formula (our own derivation, module docstring): ``E ||rate_hat_t - rate*||^2 =
    m_t sum(rate*)`` with ``m_t`` from :func:`accumulate_mean_moments`, and
    ``E variance = mean(rate*)`` (the pooled mean is unbiased).

    **Arguments:**

    - `loop`: a loop with a ``Poisson`` model and ``pool="accumulate"``.
    - `truth`: ``loop.model.params(rate=...)``.

    **Returns:**

    ``{"param_sq_error": [G + 1], "variance": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Poisson(dim=1)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=1, pool="accumulate",
    ...                mixing="split")
    >>> poisson_accumulate(loop, model.params(rate=2.0))["param_sq_error"].round(4)
    array([2.    , 2.5   , 2.7222])

    ```
    """
    rate = truth_field(loop, truth, "rate")
    m = accumulate_mean_moments(loop)
    return {"param_sq_error": m * rate.sum(), "variance": np.full_like(m, rate.mean())}


def amin_theorem_1(contamination: float, rounds: int) -> np.ndarray:
    """Amin et al.'s Theorem 1: ``Var(Y_t) / Sigma`` of ERM (uniform weights) after ``t`` rounds.

    Implements ``Var(Y_t) = (1/t^2 + (Gamma(t + alpha) / Gamma(t + 1))^2
    sum_{k=1}^{t-1} (Gamma(k + 1) / (k Gamma(k + alpha)))^2) Sigma`` (Amin et al.,
    Theorem 1 [paper]), in log-gamma arithmetic. ``Sigma`` is the covariance of one round's mean
    (``Sigma_sample / n``); round ``t`` is our generation ``t - 1``.

    **Arguments:**

    - `contamination`: ``alpha`` in ``[0, 1]``, the share of each round's data drawn from
      the previous fit.
    - `rounds`: the number of rounds ``T >= 1``.

    **Returns:**

    A float64 array ``[T]``: entry ``t - 1`` is ``Var(Y_t) / Sigma``.

    ```python
    >>> round(float(amin_theorem_1(0.75, 100)[-1]), 5)  # a value computed independently
    0.26556

    ```
    """
    alpha = _check_contamination(contamination)
    if not isinstance(rounds, (int, np.integer)) or isinstance(rounds, bool) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1; got {rounds!r}")
    t = np.arange(1, rounds + 1, dtype=np.float64)
    terms = np.exp(2 * (gammaln(t + 1) - np.log(t) - gammaln(t + alpha)))  # k = 1..T
    partial = np.concatenate([[0.0], np.cumsum(terms)[:-1]])  # sum over k <= t - 1
    return 1 / t**2 + np.exp(2 * (gammaln(t + alpha) - gammaln(t + 1))) * partial


def _check_contamination(contamination) -> float:
    alpha = float(contamination)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"contamination must be in [0, 1]; got {contamination!r}")
    return alpha


def amin_asymptote(contamination: float, rounds) -> np.ndarray:
    """The leading term of Theorem 1 as ``t -> infinity``: the four regimes of the phase transition.

    ``1 / ((1 - 2 alpha) t)`` for ``alpha < 1/2``; ``log(t) / t`` at ``alpha = 1/2``;
    ``C_alpha t^(-2 (1 - alpha))`` for ``1/2 < alpha < 1`` with
    ``C_alpha = sum_{k >= 1} (Gamma(k + 1) / (k Gamma(k + alpha)))^2``; ``pi^2 / 6`` at
    ``alpha = 1`` ([paper: the regimes; the rates derived]; ``C_alpha`` is our reading
    of Theorem 1: ``Gamma(t + alpha) / Gamma(t + 1) ~ t^(alpha - 1)`` times the convergent sum).

    **Arguments:**

    - `contamination`: ``alpha`` in ``[0, 1]``.
    - `rounds`: round numbers ``t >= 1`` (array-like).

    **Returns:**

    A float64 array shaped like ``rounds``, in units of ``Sigma``.

    ```python
    >>> amin_asymptote(1.0, [10, 1000]).round(4)
    array([1.6449, 1.6449])

    ```
    """
    alpha = _check_contamination(contamination)
    t = np.asarray(rounds, dtype=np.float64)
    if np.any(t < 1):
        raise ValueError("rounds must be >= 1")
    if alpha < 0.5:
        return 1 / ((1 - 2 * alpha) * t)
    if alpha == 0.5:
        return np.log(t) / t
    return _sum_constant(alpha) * t ** (-2 * (1 - alpha))


def _sum_constant(alpha: float, terms: int = 1_000_000) -> float:
    """``sum_{k >= 1} (Gamma(k + 1) / (k Gamma(k + alpha)))^2`` for ``alpha > 1/2``: the first
    ``terms`` exactly, the tail by the integral of its leading term ``k^(-2 alpha)``."""
    k = np.arange(1, terms + 1, dtype=np.float64)
    head = np.sum(np.exp(2 * (gammaln(k + 1) - np.log(k) - gammaln(k + alpha))))
    return float(head + (terms + 0.5) ** (1 - 2 * alpha) / (2 * alpha - 1))


def optimal_pool_weights(loop: Loop) -> np.ndarray:
    """Per-generation pool weights that minimise ``E ||Y_t - mu||^2`` at every generation.

    Implements the greedy Kalman gain of this module's docstring (our own derivation):
    ``c_t = b_t m_{t-1} / (b_t^2 m_{t-1} + 1 / n_t)`` for split mixing (``a_t`` and the
    extra ``a_t (1 - a_t) m_{t-1} / n_t`` in the denominator for iid), turned into weights by
    ``w_t n_t = c_t W_{t-1} / (1 - c_t)``, ``w_0 = 1``. With split mixing the variance is
    ``Sigma / (n_0 + sum_s b_s^2 n_s)``. The weights use the real fraction ``a_t``, which
    the learner must know (as the debiased estimator does).

    **Arguments:**

    - `loop`: a loop with a :class:`~jcollapse.models.GaussianMean` or
      :class:`~jcollapse.models.Poisson` model and ``pool="accumulate"`` (its own
      ``pool_weights`` are ignored).

    **Returns:**

    A float64 array ``[G + 1]`` to pass as ``loop.replace(pool_weights=...)``.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMean(dim=1), generations=3, real_fraction=0.5,
    ...                sample_size=10, pool="accumulate", mixing="split")
    >>> weights = optimal_pool_weights(loop)
    >>> weights.round(4)
    array([1.    , 0.6667, 0.8333, 1.    ])
    >>> (1 / accumulate_mean_moments(loop.replace(pool_weights=weights))).round(6)  # 10 + 2.5 t
    array([10. , 12.5, 15. , 17.5])

    ```
    """
    if not isinstance(loop.model, (GaussianMean, Poisson)) or loop.pool != "accumulate":
        raise ValueError(f"optimal_pool_weights needs a GaussianMean or Poisson model and pool='accumulate'; "
                         f"got {loop}")
    share = _mixing_share(loop)
    n = np.asarray(loop.sample_size, dtype=np.float64)
    weights = np.zeros_like(n)
    weights[0] = 1.0
    m, pooled = 1.0 / n[0], n[0]
    for t in range(1, n.shape[0]):
        a = share[t]
        noise = (a * (1 - a) * m + 1) / n[t] if loop.mixing == "iid" else 1 / n[t]
        c = a * m / (a * a * m + noise)
        weights[t] = c * pooled / ((1 - c) * n[t])
        pooled += weights[t] * n[t]
        m = _step(m, c, a, n[t], loop.mixing)
    return weights
