r"""Closed forms for :class:`~jcollapse.models.Categorical`: Bakshi & Chakraborty's
Theorem 3.1 (``pool="replace"``, iid mixing), our split-mixing analogue, and our
recursion for the accumulating pool (both mixings).

Notation (docs/theory.md): generation ``t`` draws ``n_t`` tokens, a share ``a_t``
real (from ``theta*``) and the rest from the previous fit ``theta_hat_{t-1}``, and fits
``theta_hat_t = counts / n_t``. Generation 0 is real (``a_0 := 1``).
``R_t = E ||theta_hat_t - theta*||^2`` and ``c = 1 - ||theta*||^2``.

**Two facts.** (i) For counts ``C ~ Multinomial(n, q)``,
``E ||C/n - q||^2 = sum_k q_k (1 - q_k) / n = (1 - ||q||^2) / n``. (ii) The fit is
unbiased: ``E[theta_hat_t | past] = q_t``, whose mean is ``theta*`` when
``E theta_hat_{t-1} = theta*``; by induction from generation 0, ``E theta_hat_t = theta*``
for all ``t``, and so ``E ||theta_hat_{t-1}||^2 = ||theta*||^2 + R_{t-1}``.

**iid mixing [paper: Theorem 3.1].** The ``n = n_t`` tokens are i.i.d. from
``q_t = a theta* + (1 - a) theta_hat_{t-1}`` (``a = a_t``); the exact path draws
``Binomial(n, a)`` real and the rest synthetic, the same law. Splitting ``theta_hat_t -
theta*`` into ``theta_hat_t - q_t`` (mean zero given the past) and
``q_t - theta* = (1 - a)(theta_hat_{t-1} - theta*)``:

    R_t = E (1 - ||q_t||^2) / n + (1 - a)^2 R_{t-1}.

By (ii), ``E ||q_t||^2 = ||theta*||^2 + (1 - a)^2 R_{t-1}`` (the cross term has mean zero), so

    R_t = (1 - a_t)^2 (1 - 1/n_t) R_{t-1} + c / n_t              [derived form]
        = (n_0 / n_t) R_0 + ((n_t - 1) / n_t)(1 - a_t)^2 R_{t-1}  [the paper's form],

the same thing since ``n_0 R_0 = c``, with ``R_0 = c / n_0`` (``a_0 = 1``).

**split mixing [derived].** Exactly ``r = round(a n)`` tokens are real (the engine's
rounding, :func:`jcollapse.mixing.split_real_counts`) and ``s = n - r`` synthetic:
``C = C_r + C_s``, ``C_r ~ Multinomial(r, theta*)`` and ``C_s ~ Multinomial(s,
theta_hat_{t-1})`` independent given the past. Then
``E[theta_hat_t | past] = (r theta* + s theta_hat_{t-1}) / n``, its distance to
``theta*`` is ``(s/n)(theta_hat_{t-1} - theta*)``, and the conditional variance is
``[r (1 - ||theta*||^2) + s (1 - ||theta_hat_{t-1}||^2)] / n^2`` by (i). Taking
expectations with (ii):

    R_t = (s^2 / n^2) R_{t-1} + [r c + s (c - R_{t-1})] / n^2
        = ((s^2 - s) / n^2) R_{t-1} + c / n.

Written as ``(1 - b)(1 - b - 1/n) R_{t-1} + c/n`` with ``b = r/n``, the coefficient is
below iid's ``(1 - a)^2 (1 - 1/n)`` at ``b = a`` by ``a (1 - a) / n``: a random number of
real tokens adds noise. Both agree for ``a = 0`` and ``a = 1``.

**Limits [derived].** Constant ``a``, ``n``: the recursion is affine with coefficient
``rho < 1`` (for ``n > 1`` or ``a > 0``), so ``R_t -> R_inf = (c/n) / (1 - rho)``; for iid,
``R_inf = R_0 n / (n - (n - 1)(1 - a)^2)``, bounded, never below ``R_0``.
With ``a = 0`` (both mixings, ``rho = 1 - 1/n``): ``R_t = c (1 - (1 - 1/n)^(t+1)) -> c =
1 - ||theta*||^2``, the expected squared distance from ``theta*`` of a point mass at a
category drawn from ``theta*``: the collapse limit.

**Accumulating pool [derived].** With ``pool="accumulate"`` and weights ``w_s``, the fit is
``theta_hat_t = sum_{s<=t} w_s C_s / W_t``, ``W_t = sum_{s<=t} w_s n_s``, i.e.
``theta_hat_t = (W_{t-1} theta_hat_{t-1} + w_t C_t) / W_t``. Write the new counts as
``C_t - n theta* = m (theta_hat_{t-1} - theta*) + xi_t`` with ``xi_t`` of mean zero given the
past: ``m = n (1 - a)`` for iid mixing and ``m = s`` for split. With ``e_t = theta_hat_t -
theta*``,

    e_t = rho_t e_{t-1} + (w_t / W_t) xi_t,      rho_t = (W_{t-1} + w_t m_t) / W_t,

and by (i), (ii) the noise has ``E ||xi_t||^2 = n c - v_t R_{t-1}`` with ``v = n (1 - a)^2``
(iid: ``n (1 - E||q_t||^2)``) or ``v = s`` (split: ``r c + s (c - R_{t-1})``), so

    R_t = rho_t^2 R_{t-1} + (w_t / W_t)^2 (n_t c - v_t R_{t-1}).

The replacing pool is the case ``W_{t-1} = 0``, ``w_t = 1``, where this is the recursion
above. With ``a = 0`` and equal weights and sizes, ``R_t = R_{t-1} + (c - R_{t-1}) n /
W_t^2`` grows by ``O(1/t^2)`` per generation: bounded, no collapse (Gerstgrasser et al.'s
observation for accumulating data, here exactly).
"""

from __future__ import annotations

import numpy as np

from ..loop import Loop
from ..mixing import split_real_counts
from ..models import Categorical
from ._registry import register


def _truth_probs(model: Categorical, truth) -> np.ndarray:
    probs = np.asarray(getattr(truth, "probs", None), dtype=np.float64)
    if probs.shape != (model.num_categories,):
        raise ValueError(
            f"truth must be Categorical(num_categories={model.num_categories}).params(probs=...) "
            f"with probs of shape ({model.num_categories},); got shape {probs.shape}"
        )
    return probs


def collapse_limit(truth) -> float:
    """``1 - ||theta*||^2``: the limit of ``R_t`` with no real data (``a = 0``) [derived].

    It is the expected squared error of a point mass at a category drawn from
    ``theta*``, the state every seed ends in; ``R_t = c (1 - prod_s (1 - 1/n_s))`` on the
    way. It also sets the scale of every ``R_t``: Theorem 3.1 is linear in it.

    **Arguments:**

    - `truth`: ``Categorical(K).params(probs=...)``, or the probabilities themselves.

    **Returns:**

    A float.

    ```python
    >>> import jcollapse as jc
    >>> collapse_limit(jc.models.Categorical(num_categories=4).params(probs=[0.25] * 4))
    0.75

    ```
    """
    probs = np.asarray(getattr(truth, "probs", truth), dtype=np.float64)
    return float(1.0 - probs @ probs)


def fixed_point(truth, real_fraction: float, sample_size: int, mixing: str = "iid") -> float:
    """``R_inf``, the limit of ``R_t`` for constant ``a`` and ``n`` (pool "replace").

    iid: ``R_inf = R_0 n / (n - (n - 1)(1 - a)^2)`` with ``R_0 = (1 - ||theta*||^2)/n``
    (derived from the paper's Theorem 3.1). split [derived, see the module
    docstring]: ``R_inf = R_0 n^2 / (n^2 - s^2 + s)`` with ``s = n - round(a n)``. For
    ``a = 0`` both give :func:`collapse_limit`.

    **Arguments:**

    - `truth`: ``Categorical(K).params(probs=...)`` or the probabilities.
    - `real_fraction`: ``a`` in ``[0, 1]``.
    - `sample_size`: integer ``n >= 1``.
    - `mixing`: ``"iid"`` or ``"split"``.

    **Returns:**

    A float. ``n = 1`` with ``a = 0`` is fine (``R_t = c`` for every ``t``).

    **Raises:**

    `ValueError` for ``a`` outside ``[0, 1]``, ``n < 1`` or an unknown mixing.

    ```python
    >>> import numpy as np
    >>> probs = np.full(50, 0.02)
    >>> round(fixed_point(probs, 0.1, 100), 6)
    0.04947

    ```
    """
    a = float(real_fraction)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"real_fraction must lie in [0, 1]; got {real_fraction!r}")
    n = int(sample_size)
    if n < 1 or n != sample_size:
        raise ValueError(f"sample_size must be an integer >= 1; got {sample_size!r}")
    c = collapse_limit(truth)
    if mixing == "iid":
        return c / (n - (n - 1) * (1 - a) ** 2)
    if mixing == "split":
        s = n - int(split_real_counts(np.array([a]), np.array([n]))[0])
        return c * n / (n * n - s * s + s)
    raise ValueError(f"mixing must be 'iid' or 'split'; got {mixing!r}")


def _recursion(loop: Loop, probs: np.ndarray) -> np.ndarray:
    """``R_t`` by the derived recursion of the module docstring, for either pool and mixing."""
    c = 1.0 - probs @ probs
    n = np.asarray(loop.sample_size, dtype=np.float64)
    a = np.array(loop.real_fraction, dtype=np.float64)
    a[0] = 1.0
    if loop.mixing == "split":
        s = n - split_real_counts(loop.real_fraction, loop.sample_size)
        s[0] = 0.0
        carried, noise_drop = s, s
    else:
        carried, noise_drop = n * (1 - a), n * (1 - a) ** 2
    if loop.pool == "accumulate":  # W_t = sum_{s<=t} w_s n_s, and W_{t-1} before it
        weight = np.asarray(loop.pool_weights, dtype=np.float64)
        total = np.cumsum(weight * n)
        before = np.concatenate([[0.0], total[:-1]])
    else:  # replace: w_t = 1, W_t = n_t, nothing carried over
        weight, total, before = np.ones_like(n), n, np.zeros_like(n)
    rho = (before + weight * carried) / total
    share = (weight / total) ** 2
    out = np.empty_like(n)
    previous = 0.0
    for t in range(n.shape[0]):
        previous = rho[t] ** 2 * previous + share[t] * (n[t] * c - noise_drop[t] * previous)
        out[t] = previous
    return out


def theorem_3_1(loop: Loop, truth, form: str = "derived") -> np.ndarray:
    """``R_t = E ||theta_hat_t - theta*||^2`` for every generation, float64.

    With ``c = 1 - ||theta*||^2`` and ``a_0 := 1``:

    - ``form="paper"`` (Bakshi & Chakraborty, Theorem 3.1; iid mixing only):
      ``R_0 = c / n_0``, ``R_t = (n_0/n_t) R_0 + ((n_t - 1)/n_t)(1 - a_t)^2 R_{t-1}``.
    - ``form="derived"`` (proved in the module docstring): iid:
      ``R_t = (1 - a_t)^2 (1 - 1/n_t) R_{t-1} + c / n_t``; split, with
      ``s_t = n_t - round(a_t n_t)``: ``R_t = ((s_t^2 - s_t)/n_t^2) R_{t-1} + c / n_t``.

    **Arguments:**

    - `loop`: a loop with a ``Categorical`` model and ``pool="replace"``.
    - `truth`: ``loop.model.params(probs=...)``.
    - `form`: ``"derived"`` or ``"paper"``.

    **Returns:**

    A float64 array ``[G + 1]``.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Categorical(num_categories=2)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=2)
    >>> theorem_3_1(loop, model.params(probs=[0.5, 0.5]))
    array([0.25  , 0.375 , 0.4375])

    ```
    """
    model = loop.model
    if not isinstance(model, Categorical) or loop.pool != "replace":
        raise ValueError(f"theorem_3_1 needs a Categorical model and pool='replace'; got {loop}")
    if form not in ("derived", "paper"):
        raise ValueError(f"form must be 'derived' or 'paper'; got {form!r}")
    if form == "paper" and loop.mixing != "iid":
        raise ValueError("form='paper' is Theorem 3.1, for mixing='iid'; use form='derived' for split")
    probs = _truth_probs(model, truth)
    if form == "derived":
        return _recursion(loop, probs)
    c = 1.0 - probs @ probs
    n = np.asarray(loop.sample_size, dtype=np.float64)
    a = np.array(loop.real_fraction, dtype=np.float64)
    out = np.empty_like(n)
    out[0] = c / n[0]
    for t in range(1, n.shape[0]):
        out[t] = (n[0] / n[t]) * out[0] + ((n[t] - 1) / n[t]) * (1 - a[t]) ** 2 * out[t - 1]
    return out


@register(Categorical, pool="replace", mixing=("iid", "split"), metrics=("param_sq_error",))
def categorical_replace(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``param_sq_error`` of :class:`~jcollapse.models.Categorical` with
    ``pool="replace"``: Theorem 3.1 (iid mixing, the paper's) or its split analogue
    (derived), any ``a_t`` and ``n_t`` schedules; see :func:`theorem_3_1`.

    ``tv``, ``kl``, ``entropy`` and ``support`` have no closed form here
    (``jc.theory.expected`` raises ``NotImplementedError``).

    **Arguments:**

    - `loop`: a loop with a ``Categorical`` model and ``pool="replace"``.
    - `truth`: ``loop.model.params(probs=...)``.

    **Returns:**

    ``{"param_sq_error": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Categorical(num_categories=2)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.5, sample_size=4, mixing="split")
    >>> jc.theory.expected(loop, model.params(probs=[0.5, 0.5]), "param_sq_error")
    array([0.125     , 0.140625  , 0.14257812])

    ```
    """
    return {"param_sq_error": theorem_3_1(loop, truth)}


@register(Categorical, pool="accumulate", mixing=("iid", "split"), metrics=("param_sq_error",))
def categorical_accumulate(loop: Loop, truth) -> dict[str, np.ndarray]:
    """Expected ``param_sq_error`` of :class:`~jcollapse.models.Categorical` with
    ``pool="accumulate"`` and any ``pool_weights``, ``a_t`` and ``n_t`` [derived; the
    recursion ``R_t = rho_t^2 R_{t-1} + (w_t/W_t)^2 (n_t c - v_t R_{t-1})`` of the module
    docstring].

    **Arguments:**

    - `loop`: a loop with a ``Categorical`` model and ``pool="accumulate"``.
    - `truth`: ``loop.model.params(probs=...)``.

    **Returns:**

    ``{"param_sq_error": [G + 1]}``, float64.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Categorical(num_categories=2)
    >>> loop = jc.Loop(model, generations=2, real_fraction=0.0, sample_size=2, pool="accumulate")
    >>> jc.theory.expected(loop, model.params(probs=[0.5, 0.5]), "param_sq_error")
    array([0.25      , 0.28125   , 0.29340278])

    ```
    """
    return {"param_sq_error": _recursion(loop, _truth_probs(loop.model, truth))}


def power_schedule_regime(decay: float, growth: float) -> str:
    """Where ``R_t`` goes under ``a_t = a (t+1)^-decay`` and ``n_t = n (t+1)^growth`` (pool
    "replace", iid mixing, any ``0 < a <= 1``, ``n >= 1``) as ``t -> infinity`` [derived].

    From the derived form ``R_t = rho_t R_{t-1} + c/n_t``, ``rho_t = (1-a_t)^2 (1-1/n_t)``,
    ``1 - rho_t ~ 2 a_t + 1/n_t``:

    - ``decay <= 1``: ``sum a_t = infinity``, so the recursion forgets its start and tracks
      its moving fixed point ``c / (n_t (1 - rho_t)) ~ c / (2 a_t n_t + 1)``, which depends
      on ``a_t n_t ~ (t+1)^(growth - decay)``: **recovery** (``R_t -> 0``) if
      ``growth > decay``; **collapse** (``R_t -> c = 1 - ||theta*||^2``) if
      ``growth < decay``; **bounded** (a limit strictly between) if they are equal.
    - ``decay > 1``: ``sum a_t < infinity`` and ``prod (1 - a_t)^2 > 0``, so ``R_t`` never
      reaches 0 (``R_t >= R_0 prod rho_s``): with ``growth <= 1`` the synthetic
      drift ``sum 1/n_t = infinity`` wins, **collapse**; with ``growth > 1`` it converges to
      a limit in ``(0, c)``, **bounded**.

    So recovery needs ``a_t n_t -> infinity`` *and* ``sum a_t = infinity``; this sharpens
    the small-``a_t`` heuristic ``R_t ~ n_0 R_0 / (2 a_t n_t)``. At a finite ``G`` the
    boundary is blurred by ``log``-slow transients near ``growth = decay``.

    **Arguments:**

    - `decay`: exponent ``>= 0`` of ``a_t``.
    - `growth`: exponent ``>= 0`` of ``n_t``.

    **Returns:**

    ``"recovery"``, ``"collapse"`` or ``"bounded"``.

    **Raises:**

    `ValueError` for a negative or non-finite exponent.

    ```python
    >>> power_schedule_regime(0.5, 1.0), power_schedule_regime(1.0, 0.5), power_schedule_regime(1.5, 2.0)
    ('recovery', 'collapse', 'bounded')

    ```
    """
    for name, value in (("decay", decay), ("growth", growth)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite exponent >= 0; got {value!r}")
    if decay <= 1:
        if growth > decay:
            return "recovery"
        return "collapse" if growth < decay else "bounded"
    return "bounded" if growth > 1 else "collapse"
