r"""Closed forms for the kernel density estimate and the EM Gaussian mixture fitted to their own
samples (our own derivation).

Notation: generation ``t`` adds ``n_t`` points; the fit of generation ``t`` is the KDE of its
pool, ``N_t`` points with equal weights (``N_t = n_t`` for ``pool="replace"``,
``N_t = n_0 + ... + n_t`` for ``"accumulate"``), pooled mean ``M_t`` and pooled variance
``V_t`` (normalised by ``N_t``, averaged over coordinates: the ``data_variance`` metric), and
bandwidth ``h_t`` (fixed, or ``h_t^2 = c_t^2 V_t`` under a rule, ``c_t`` the rule's factor of
``N_t`` times the model's multiplier). Generations ``t >= 1`` are fully synthetic (``a_t = 0``).

**One draw from the fit.** A point ``Y = X_I + h_t Z`` with ``I`` uniform on the pool and
``Z ~ N(0, I)`` has, given the pool, mean ``M_t`` and per-coordinate variance (law of total
variance) ``Var(X_I) + h_t^2``; averaged over coordinates: ``V_t + h_t^2``.

**Replace.** The next pool is ``n = n_{t+1}`` such i.i.d. points, and the ``1/n`` sample
variance of i.i.d. points has expectation ``(1 - 1/n)`` times their variance, so

    E[V_{t+1} | pool_t] = (1 - 1/n_{t+1}) (V_t + h_t^2).

With a fixed ``h`` and fixed ``n`` the expectation converges to the fixed point
``s = (1 - 1/n)(s + h^2)``, i.e. ``s = (n - 1) h^2``. Under a rule the recursion is linear
with factor ``(1 - 1/n_{t+1})(1 + c_t^2)``: above 1 as soon as ``c_t^2 > 1/(n - 1)``, so the
variance grows geometrically (Scott's rule at ``n = 100``, ``dim = 1``: 1.147 per generation).

**Accumulate.** The new ``n`` points join the ``N = N_t`` old ones. The pooled variance of
the union is ``[N V_t + n S^2 + (N n / (N + n)) (Ybar - M_t)^2] / (N + n)`` with ``S^2`` the
new points' ``1/n`` variance and ``Ybar`` their mean; given the pool, ``E n S^2 = (n - 1)(V_t
+ h_t^2)`` and ``E (Ybar - M_t)^2 = (V_t + h_t^2) / n``, so

    E[V_{t+1} | pool_t] = [N_t V_t + (n_{t+1} - 1 + N_t / N_{t+1}) (V_t + h_t^2)] / N_{t+1}.

For fixed ``n`` and ``N_t = (t + 1) n`` the increment is
``E V_{t+1} - E V_t = [h^2 (n - 1/(t+2)) - E V_t / (t+2)] / ((t + 2) n)``, at most
``h^2 / (t + 2)``: the increments shrink like ``h^2 / k`` and ``E V_t`` grows at most like
``h^2 log t``, where replacing converges to ``(n - 1) h^2``.

Every right-hand side is linear in ``V_t`` (``h_t^2`` is either constant or ``c_t^2 V_t``),
so the expectations satisfy the same recursions, started from ``E V_0 = (1 - 1/n_0)
sigma^2``, ``sigma^2`` the truth's covariance trace over ``dim``.

**The Gaussian mixture fitted by EM.** Every M-step preserves the pool's first two moments:
with responsibilities ``r_ik`` summing to 1 over ``k``, weights ``w_i`` and ``N = sum_i w_i``,
``N_k = sum_i w_i r_ik``, ``pi_k = N_k / N``, ``mu_k = sum_i w_i r_ik x_i / N_k`` and
``Sigma_k = sum_i w_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k + rho I`` (``rho = reg_covar``),

    sum_k pi_k mu_k = sum_i w_i x_i / N = M,
    sum_k pi_k (Sigma_k + mu_k mu_k^T) = sum_i w_i x_i x_i^T / N + rho I,

so the fitted mixture has the pool's mean and the pool's ``1/N`` covariance plus ``rho I``,
whatever the responsibilities, the number of steps or the initialisation (the diagonal
variant keeps the diagonal, which is all ``V`` sees). A draw from it therefore has mean
``M_t`` and per-coordinate variance ``V_t + rho``, exactly as a kernel draw with
``h^2 = rho``, and the recursions above hold with ``h_t^2 = rho``. The mixture's ``variance``
metric is its covariance trace over ``dim``, ``V_t + rho``. (scikit-learn's guard adds
``10 eps`` to every ``N_k``, which moves these moments by a relative ``10 eps / N_k``, about
``1e-9`` for ``N_k`` of 1,000 points: below float32's resolution.)
"""

from __future__ import annotations

import numpy as np

from ..loop import Loop
from ..models import GaussianMixture, KernelDensity, bandwidth_rule_factor
from ._registry import register


def _truth_variance(model, truth) -> float:
    covariance = getattr(truth, "covariance", None)
    if covariance is None:
        raise ValueError("these closed forms need a jc.truths.GaussianMixture truth (its covariance is "
                         f"known); got {type(truth).__name__}")
    cov = np.asarray(covariance(), np.float64)
    if cov.shape != (model.dim, model.dim):
        raise ValueError(f"truth has dimension {cov.shape[0]}; the model has dim={model.dim}")
    return float(np.trace(cov)) / model.dim


def kde_variance_moments(loop: Loop, truth_variance: float) -> np.ndarray:
    """``E V_t``, the expected pooled variance of the KDE's points (the ``data_variance``
    metric), for a fully synthetic loop (``a_t = 0`` for ``t >= 1``) with ``pool="replace"``
    or ``"accumulate"`` (unit pool weights), any ``n_t`` schedule, a fixed bandwidth or a rule.

    Implements the recursions derived and proved in this module's docstring (our own
    derivation): replace ``E V_{t+1} = (1 - 1/n_{t+1})(E V_t + b_t)``, accumulate
    ``E V_{t+1} = [N_t E V_t + (n_{t+1} - 1 + N_t / N_{t+1})(E V_t + b_t)] / N_{t+1}``, with
    ``b_t = h^2`` or ``c(N_t)^2 E V_t``, from ``E V_0 = (1 - 1/n_0) sigma^2``.

    **Arguments:**

    - `loop`: a loop of :class:`jcollapse.models.KernelDensity`.
    - `truth_variance`: ``sigma^2``, the truth's per-coordinate variance (averaged).

    **Returns:**

    A float64 array ``[G + 1]``.

    **Raises:**

    `ValueError` for real data after generation 0, another pool, or unequal pool weights.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.KernelDensity(dim=1, bandwidth=1.0), generations=2,
    ...                real_fraction=0.0, sample_size=2)
    >>> kde_variance_moments(loop, 1.0)  # 0.5, then (0.5 + 1) / 2, then (0.75 + 1) / 2
    array([0.5  , 0.75 , 0.875])

    ```
    """
    model = loop.model

    def kernel(v, total):
        if model.rule == "fixed":
            return model.h**2
        return model.h**2 * bandwidth_rule_factor(model.rule, total, model.dim) ** 2 * v

    return _pooled_variance_moments(loop, truth_variance, kernel)


def _pooled_variance_moments(loop: Loop, truth_variance: float, kernel) -> np.ndarray:
    """The module docstring's recursions for ``E V_t``, the fit of a pool of variance ``V``
    and total weight ``N`` adding the variance ``kernel(V, N)`` to a draw."""
    if np.any(np.asarray(loop.real_fraction)[1:] > 0):
        raise ValueError("these closed forms are for fully synthetic loops: real_fraction must be 0 for t >= 1")
    if loop.pool not in ("replace", "accumulate"):
        raise ValueError(f"these closed forms need pool 'replace' or 'accumulate'; got {loop.pool!r}")
    if loop.pool == "accumulate" and np.any(np.asarray(loop.pool_weights) != 1):
        raise ValueError("the accumulate closed form needs unit pool_weights")
    n = np.asarray(loop.sample_size, np.float64)
    pooled = np.cumsum(n) if loop.pool == "accumulate" else n
    out = np.empty(len(n))
    out[0] = (1 - 1 / n[0]) * truth_variance
    for t in range(len(n) - 1):
        v, total = out[t], pooled[t]
        added = kernel(v, total)
        if loop.pool == "replace":
            out[t + 1] = (1 - 1 / n[t + 1]) * (v + added)
        else:
            out[t + 1] = (total * v + (n[t + 1] - 1 + total / pooled[t + 1]) * (v + added)) / pooled[t + 1]
    return out


@register(KernelDensity, pool=("replace", "accumulate"), mixing=("iid", "split"), metrics=("data_variance",))
def kde_variance(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``data_variance`` of :class:`~jcollapse.models.KernelDensity` fitted to its
    own samples (``a_t = 0`` for ``t >= 1``), ``pool="replace"`` or ``"accumulate"``, fixed
    bandwidth or a rule: :func:`kde_variance_moments` with the truth's variance.

    **Arguments:**

    - `loop`: the loop.
    - `truth`: a :class:`jcollapse.truths.GaussianMixture` (its covariance is known).

    **Returns:**

    ``{"data_variance": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.KernelDensity(dim=1, bandwidth=0.5), generations=200,
    ...                real_fraction=0.0, sample_size=10)
    >>> truth = jc.truths.GaussianMixture.gaussian(mean=[0.0], cov=[[1.0]])
    >>> round(float(kde_variance(loop, truth)["data_variance"][-1]), 3)  # (n - 1) h^2
    2.25

    ```
    """
    return {"data_variance": kde_variance_moments(loop, _truth_variance(loop.model, truth))}


@register(GaussianMixture, pool=("replace", "accumulate"), mixing=("iid", "split"), metrics=("variance",))
def mixture_variance(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``variance`` (covariance trace over ``dim``) of
    :class:`~jcollapse.models.GaussianMixture` fitted by EM to its own samples (``a_t = 0`` for
    ``t >= 1``), ``pool="replace"`` or ``"accumulate"`` (unit pool weights): ``E V_t + rho``,
    ``E V_t`` by the kernel density estimate's recursions with ``h^2 = rho = reg_covar``, since
    every M-step gives the mixture the pool's mean and covariance plus ``rho I`` (proved in
    this module's docstring; our derivation).

    **Arguments:**

    - `loop`: the loop.
    - `truth`: a :class:`jcollapse.truths.GaussianMixture` (its covariance is known).

    **Returns:**

    ``{"variance": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMixture(2, 1, reg_covar=0.01), generations=2,
    ...                real_fraction=0.0, sample_size=10)
    >>> truth = jc.truths.GaussianMixture.gaussian(mean=[0.0], cov=[[1.0]])
    >>> mixture_variance(loop, truth)["variance"].round(4)  # 0.9 + 0.01, then 0.9 (0.9 + 0.01) + 0.01, ...
    array([0.91  , 0.829 , 0.7561])

    ```
    """
    rho = loop.model.reg_covar
    moments = _pooled_variance_moments(loop, _truth_variance(loop.model, truth), lambda v, total: rho)
    return {"variance": moments + rho}
