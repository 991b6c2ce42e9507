r"""Closed forms for the Gaussian family with ``pool="replace"`` (our own derivation).

Notation (docs/theory.md): generation ``t = 0..G`` draws ``n_t`` samples, a share ``a_t``
real (from the truth ``N(mu*, Sigma*)``) and the rest synthetic (from the fit
``N(mu_hat_{t-1}, Sigma_hat_{t-1})`` of generation ``t - 1``), and fits on them only.
Generation 0 is real: ``a_0 := 1`` whatever the loop says.

Let ``delta_t = mu_hat_t - mu*``, ``M_t = E[delta_t delta_t^T]`` and ``V_t = E[Sigma_hat_t]``
(expectations over everything), started from ``M_{-1} = 0``, ``V_{-1} = Sigma*``. With
``a = a_t``, ``n = n_t`` and conditioning on generation ``t - 1``:

**iid mixing.** The ``n`` samples are i.i.d. from the mixture
``a N(mu*, Sigma*) + (1 - a) N(mu_hat, Sigma_hat)``, whose mean is ``mu* + (1 - a) delta``
and whose covariance is (law of total covariance: the two component means sit at
``-(1 - a) delta`` and ``a delta`` from the mixture mean, so the between-component part is
``a (1 - a)^2 + (1 - a) a^2 = a (1 - a)`` times ``delta delta^T``)

    C = a Sigma* + (1 - a) Sigma_hat + a (1 - a) delta delta^T.

The sample mean of ``n`` i.i.d. draws has mean ``mu* + (1 - a) delta`` and covariance
``C / n``; the scatter matrix has expectation ``(n - 1) C`` (no Gaussianity needed). Both
are linear in ``(Sigma_hat, delta delta^T)``, so taking expectations:

    E C_t = a Sigma* + (1 - a) V_{t-1} + a (1 - a) M_{t-1}
    M_t   = (1 - a)^2 M_{t-1} + E C_t / n
    V_t   = (n - 1) E C_t / d_t,          d_t = n ("mle") or n - 1 ("unbiased").

(The exact-statistics path draws ``K ~ Binomial(n, a)`` real and ``n - K`` synthetic
samples' statistics and merges them, which is the same law as the i.i.d. mixture.)

**split mixing.** Exactly ``r = round(a n)`` samples are real (round half to even, with
the engine's own rounding rule; see :func:`split_real_fraction`) and ``s = n - r``
synthetic; write ``b = r / n``. The sample mean is ``(r xbar_r + s xbar_s) / n``, with
mean ``mu* + (1 - b) delta`` and covariance ``(r Sigma* + s Sigma_hat) / n^2``. The pooled
scatter is
``S_r + S_s + (r s / n)(xbar_r - xbar_s)(xbar_r - xbar_s)^T`` with
``E S_r = (r - 1) Sigma*``, ``E S_s = (s - 1) Sigma_hat`` and
``E (xbar_r - xbar_s)(.)^T = delta delta^T + Sigma* / r + Sigma_hat / s``, so

    E scatter = (r - 1 + s/n) Sigma* + (s - 1 + r/n) Sigma_hat + (r s / n) delta delta^T
              = (n - 1)(b Sigma* + (1 - b) Sigma_hat) + n b (1 - b) delta delta^T,

using ``r - 1 + s/n = r (n - 1)/n``. This also holds for ``r = 0`` (it gives
``(n - 1) Sigma_hat``) and ``s = 0`` (``(n - 1) Sigma*``), where one group is empty and
the naive per-group terms would not be defined. Hence

    M_t = (1 - b)^2 M_{t-1} + (b Sigma* + (1 - b) V_{t-1}) / n
    V_t = [(n - 1)(b Sigma* + (1 - b) V_{t-1}) + n b (1 - b) M_{t-1}] / d_t.

Compared with iid mixing, the ``delta delta^T`` term carries ``n`` instead of ``n - 1``
and the mean's variance lacks the ``a (1 - a) M`` term: random real counts add noise.

**GaussianMean** (covariance known): ``Sigma_hat = Sigma*`` always, so ``V = Sigma*`` and
iid: ``M_t = (1 - a)^2 M_{t-1} + (Sigma* + a (1 - a) M_{t-1}) / n``;
split: ``M_t = (1 - b)^2 M_{t-1} + Sigma* / n``.

**Reduction to scalars.** Every coefficient above is a scalar and the recursion starts
from ``0`` and ``Sigma*``, so by induction ``M_t = m_t Sigma*`` and ``V_t = v_t Sigma*``
with ``m_{-1} = 0``, ``v_{-1} = 1`` and the same recursions for ``m_t, v_t`` with
``Sigma*`` replaced by 1. The metrics are ``E mean_sq_error = tr M_t = m_t tr Sigma*`` and
``E variance = tr V_t / dim = v_t tr Sigma* / dim``; the true mean does not enter.

Special cases (checked as identities in the tests): MLE, ``a = 0``, fixed ``n``:
``E sigma_hat^2_t = sigma^2 ((n - 1)/n)^(t + 1)``; unbiased, ``a = 0``, any ``n_t``:
``E (mu_hat_t - mu)^2 = tr Sigma sum_{k <= t} 1/n_k`` and ``E Sigma_hat_t = Sigma``
(Shumailov et al., "AI models collapse when trained on recursively generated data", Nature 2024).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..loop import Loop
from ..mixing import split_real_counts
from ..models import Gaussian, GaussianMean
from ._registry import register


def loop_schedules(loop: Loop) -> tuple[np.ndarray, np.ndarray]:
    """``(a, n)`` as float64 arrays of length ``G + 1``, with ``a_0 = 1`` (generation 0 is
    real)."""
    a = np.array(loop.real_fraction, dtype=np.float64)
    a[0] = 1.0
    n = np.asarray(loop.sample_size, dtype=np.float64)
    return a, n


def split_real_fraction(loop: Loop) -> np.ndarray:
    """The realised real share ``b_t = round(a_t n_t) / n_t`` of ``mixing="split"``.

    **Arguments:**

    - `loop`: a :class:`jcollapse.Loop`.

    **Returns:**

    A float64 array ``[G + 1]``; ``b_0 = 1`` (generation 0 is real). The counts
    ``round(a_t n_t)`` come from the engine's own host-side rule,
    :func:`jcollapse.mixing.split_real_counts` (half to even, exact for ties such as
    ``0.59 * 50 = 29.5``), so the closed form describes exactly what
    :func:`jcollapse.simulate` draws.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMean(dim=1), generations=2,
    ...                real_fraction=[0.0, 0.25, 0.3], sample_size=[4, 10, 7])
    >>> split_real_fraction(loop).round(4)
    array([1.    , 0.2   , 0.2857])

    ```
    """
    n = np.asarray(loop.sample_size, dtype=np.float64)
    share = split_real_counts(loop.real_fraction, loop.sample_size) / n
    share[0] = 1.0
    return share


def truth_trace(model, truth) -> float:
    cov = np.asarray(getattr(truth, "cov", None), dtype=np.float64)
    if cov.shape != (model.dim, model.dim):
        raise ValueError(
            f"truth must be {type(model).__name__}(dim={model.dim}).params(...) with cov of "
            f"shape ({model.dim}, {model.dim}); got cov of shape {cov.shape}"
        )
    return float(np.trace(cov))


def gaussian_moments(loop: Loop) -> tuple[np.ndarray, np.ndarray]:
    """The scalars ``m_t, v_t`` with ``E[delta_t delta_t^T] = m_t Sigma*`` and
    ``E[Sigma_hat_t] = v_t Sigma*`` for :class:`~jcollapse.models.Gaussian` or
    :class:`~jcollapse.models.GaussianMean` (then ``v_t = 1``) with ``pool="replace"``.

    Implements the recursions derived in the module docstring (our own derivation): for
    iid mixing ``c = a + (1 - a) v + a (1 - a) m``, ``m <- (1 - a)^2 m + c / n``,
    ``v <- (n - 1) c / d``; for split mixing, with ``b = round(a n) / n``,
    ``m <- (1 - b)^2 m + (b + (1 - b) v) / n``,
    ``v <- ((n - 1)(b + (1 - b) v) + n b (1 - b) m) / d``; ``d = n`` (MLE) or ``n - 1``
    (unbiased); from ``m = 0``, ``v = 1``, ``a_0 = 1``.

    **Arguments:**

    - `loop`: a loop with a Gaussian-family model and ``pool="replace"``.

    **Returns:**

    ``(m, v)``, float64 arrays of shape ``[G + 1]``.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.Gaussian(dim=1), generations=2, sample_size=10)
    >>> m, v = gaussian_moments(loop)
    >>> m.round(4), v.round(4)
    (array([0.1  , 0.19 , 0.271]), array([0.9  , 0.81 , 0.729]))

    ```
    """
    model = loop.model
    if not isinstance(model, (Gaussian, GaussianMean)) or loop.pool != "replace":
        raise ValueError(f"gaussian_moments needs a Gaussian-family model and pool='replace'; got {loop}")
    a, n = loop_schedules(loop)
    if loop.mixing == "split":
        a = split_real_fraction(loop)
    estimate_cov = isinstance(model, Gaussian)
    divisor = n if (not estimate_cov or model.variance == "mle") else n - 1
    m_out = np.empty_like(n)
    v_out = np.empty_like(n)
    m, v = 0.0, 1.0
    for t in range(n.shape[0]):
        at, nt, dt = a[t], n[t], divisor[t]
        if loop.mixing == "iid":
            c = at + (1 - at) * v + at * (1 - at) * m
            m_new = (1 - at) ** 2 * m + c / nt
            scatter = (nt - 1) * c
        else:
            pooled = at + (1 - at) * v
            m_new = (1 - at) ** 2 * m + pooled / nt
            scatter = (nt - 1) * pooled + nt * at * (1 - at) * m
        m = m_new
        v = scatter / dt if estimate_cov else 1.0
        m_out[t], v_out[t] = m, v
    return m_out, v_out


@register(Gaussian, pool="replace", mixing=("iid", "split"), metrics=("mean_sq_error", "variance"))
def gaussian_replace(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``mean_sq_error`` and ``variance`` of :class:`~jcollapse.models.Gaussian`
    with ``pool="replace"``, iid or split mixing, any ``a_t`` and ``n_t`` schedules.

    Formula: ``E ||mu_hat_t - mu*||^2 = m_t tr(Sigma*)`` and
    ``E tr(Sigma_hat_t) / dim = v_t tr(Sigma*) / dim`` with ``m_t, v_t`` from
    :func:`gaussian_moments` (our own derivation, written out in this module's docstring;
    it reduces to Shumailov et al.'s ``sigma^2 ((n - 1)/n)^(t + 1)`` for the MLE with
    ``a = 0``). ``w2_sq`` has no closed form here (it needs ``E tr((Sigma*^1/2 Sigma_hat
    Sigma*^1/2)^1/2)``, not a linear moment).

    **Arguments:**

    - `loop`: a loop with a ``Gaussian`` model and ``pool="replace"``.
    - `truth`: ``loop.model.params(mean=..., cov=...)``.

    **Returns:**

    ``{"mean_sq_error": [G + 1], "variance": [G + 1]}``, float64.

    ```python
    >>> import numpy as np, jcollapse as jc
    >>> model = jc.models.Gaussian(dim=2, variance="unbiased")
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=10)
    >>> out = gaussian_replace(loop, model.params(mean=np.zeros(2), cov=np.diag([1.0, 3.0])))
    >>> out["mean_sq_error"], out["variance"]
    (array([0.4, 0.8, 1.2]), array([2., 2., 2.]))

    ```
    """
    trace = truth_trace(loop.model, truth)
    m, v = gaussian_moments(loop)
    return {"mean_sq_error": m * trace, "variance": v * trace / loop.model.dim}


@register(GaussianMean, pool="replace", mixing=("iid", "split"), metrics=("mean_sq_error",))
def gaussian_mean_replace(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``mean_sq_error`` of :class:`~jcollapse.models.GaussianMean` (known
    covariance) with ``pool="replace"``, iid or split mixing, any schedules.

    Formula (our own derivation, module docstring): ``E ||mu_hat_t - mu*||^2 = m_t tr(Sigma*)``
    with ``m_{-1} = 0``; iid: ``m_t = (1 - a_t)^2 m_{t-1} + (1 + a_t (1 - a_t) m_{t-1}) / n_t``;
    split: ``m_t = (1 - b_t)^2 m_{t-1} + 1 / n_t``, ``b_t = round(a_t n_t) / n_t``.

    **Arguments:**

    - `loop`: a loop with a ``GaussianMean`` model and ``pool="replace"``.
    - `truth`: ``loop.model.params(mean=..., cov=...)``.

    **Returns:**

    ``{"mean_sq_error": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.5, sample_size=4, mixing="split")
    >>> gaussian_mean_replace(loop, model.params(mean=0.0, cov=[[1.0]]))["mean_sq_error"]
    array([0.25    , 0.3125  , 0.328125])

    ```
    """
    trace = truth_trace(loop.model, truth)
    m, _ = gaussian_moments(loop)
    return {"mean_sq_error": m * trace}


def gaussian_expected_log_variance(loop: Loop, truth) -> np.ndarray:
    r"""``E log sigma_hat^2_t`` of a one-dimensional :class:`~jcollapse.models.Gaussian` fitted
    on its own samples only: ``pool="replace"``, real fraction ``a_t = 0`` for ``t >= 1``.

    Formula (our derivation), with ``psi`` the digamma function, ``n_k`` the sample sizes and
    ``d_k = n_k`` (``variance="mle"``) or ``n_k - 1`` (``"unbiased"``):

        E log sigma_hat^2_t   = log sigma^2 + sum_{k <= t} [psi((n_k - 1)/2) + log 2 - log d_k]
        Var log sigma_hat^2_t = sum_{k <= t} psi'((n_k - 1)/2).

    Proof. Write ``sigma_hat^2_{-1} = sigma^2``. Generation ``k`` draws ``n_k`` i.i.d. samples
    from ``N(mu_hat_{k-1}, sigma_hat^2_{k-1})`` (generation 0 from the truth; later ones from
    the previous fit, as ``a_k = 0``). Given everything before generation ``k``, their scatter
    ``S_k = sum_i (x_i - xbar)^2`` is ``sigma_hat^2_{k-1} C_k`` with ``C_k ~ chi^2_{n_k - 1}``
    (Cochran's theorem), and the law of ``C_k`` does not depend on the past, so
    ``C_0, C_1, ...`` are independent. Since ``sigma_hat^2_k = S_k / d_k``, by induction

        log sigma_hat^2_t = log sigma^2 + sum_{k <= t} (log C_k - log d_k),

    a sum of independent terms. ``C_k / 2 ~ Gamma((n_k - 1)/2, 1)``, and for
    ``X ~ Gamma(alpha, 1)``, ``E log X = psi(alpha)`` and ``Var log X = psi'(alpha)`` (the first
    and second derivatives in ``alpha`` of ``log Gamma(alpha) = log int x^(alpha - 1) e^(-x) dx``
    are the mean and variance of ``log X``). Adding ``log 2`` for the factor 2 and summing the
    independent terms gives both lines. (The mean and mixing rule do not enter: with ``a = 0``
    every sample is synthetic under either mixing rule.)

    Why this statistic: ``sigma_hat^2_t`` itself is a product of ``t + 1`` independent
    factors, so it is heavy-tailed (log-normal-like with log-variance growing like
    ``2 sum 1/n_k``). Its sample mean sits below ``E sigma_hat^2_t`` in most runs and its
    standard error is unreliable, while ``log sigma_hat^2_t`` is a sum of light-tailed terms
    whose sample mean and standard error behave.

    **Arguments:**

    - `loop`: a loop with ``Gaussian(dim=1)``, ``pool="replace"`` and real fraction 0 in
      every generation ``t >= 1``; every ``n_t >= 2``.
    - `truth`: ``loop.model.params(mean=..., cov=[[sigma^2]])``.

    **Returns:**

    A float64 array ``[G + 1]``: ``E log sigma_hat^2_t`` for ``t = 0..G``.

    **Raises:**

    `ValueError` for another model, dimension or pool, real data after generation 0, or a
    sample size below 2.

    ```python
    >>> import numpy as np, jcollapse as jc
    >>> model = jc.models.Gaussian(dim=1, variance="unbiased")
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=3)
    >>> gaussian_expected_log_variance(loop, model.params(mean=0.0, cov=[[1.0]])).round(4)  # psi(1) = -0.5772
    array([-0.5772, -1.1544, -1.7316])

    ```
    """
    model = loop.model
    if not isinstance(model, Gaussian) or model.dim != 1 or loop.pool != "replace":
        raise ValueError(f"gaussian_expected_log_variance needs Gaussian(dim=1) and pool='replace'; got {loop}")
    if np.any(np.asarray(loop.real_fraction)[1:] != 0):
        raise ValueError("gaussian_expected_log_variance needs real_fraction 0 in every generation t >= 1")
    n = np.asarray(loop.sample_size, dtype=np.float64)
    if np.any(n < 2):
        raise ValueError(f"gaussian_expected_log_variance needs every sample size >= 2; got {n.min():g}")
    variance = truth_trace(model, truth)
    divisor = n if model.variance == "mle" else n - 1
    return np.log(variance) + np.cumsum(special.digamma((n - 1) / 2) + np.log(2.0) - np.log(divisor))
