"""Exact samplers for sufficient statistics, shared by the model families.

Each sampler takes its count as a traced integer, so one compiled loop serves any
sample-size schedule, and costs the same whatever the count is.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .gamma import chi_square, gamma
from .reduce import matmul
from .special import as_float, log1pmx, safe_divide


def standard_wishart_factor(
    key: PRNGKeyArray, dim: int, df: Int[Array, ""], dtype
) -> Float[Array, "dim dim"]:
    """A lower-triangular ``A`` with ``A A^T ~ Wishart(df, I_dim)``, for any integer ``df >= 0``.

    Bartlett's decomposition: ``A_ii^2 ~ chi^2(df - i)`` and ``A_ij ~ N(0, 1)`` for
    ``j < i``, all independent (0-based indices). For ``df < dim`` the Wishart matrix is
    singular: it is ``Z Z^T`` with ``Z`` of shape ``[dim, df]``, whose LQ factor is the
    same triangle with the columns ``j >= df`` removed, so those columns are zeroed.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> standard_wishart_factor(jax.random.key(0), 3, jnp.array(10), jnp.float32).shape
    (3, 3)

    ```
    """
    # fold_in, not split: at dim 1 there is no normal below the diagonal, and XLA drops its key.
    key_normal, key_chi = jax.random.fold_in(key, 0), jax.random.fold_in(key, 1)
    index = jnp.arange(dim)
    live_column = index[None, :] < df
    below = jnp.tril(jax.random.normal(key_normal, (dim, dim), dtype=dtype), k=-1)
    diagonal = jnp.sqrt(chi_square(key_chi, (df - index).astype(dtype), dtype))
    return jnp.where(live_column, below, 0) + jnp.diag(diagonal)


def wishart(
    key: PRNGKeyArray, factor: Float[Array, "dim dim"], df: Int[Array, ""]
) -> Float[Array, "dim dim"]:
    """A draw of ``Wishart(df, factor factor^T)``: the scatter matrix ``sum_i z_i z_i^T`` of
    ``df`` i.i.d. ``N(0, factor factor^T)`` vectors, in ``O(dim^3)`` whatever ``df`` is.

    Any square root works as ``factor`` (``Wishart(df, I)`` is rotation invariant), so a
    singular covariance with a rank-deficient factor is fine.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> w = wishart(jax.random.key(0), jnp.eye(2), jnp.array(5))
    >>> w.shape
    (2, 2)

    ```
    """
    a = standard_wishart_factor(key, factor.shape[0], df, factor.dtype)
    la = matmul(factor, a)
    return matmul(la, la.T)


# ----------------------------------------------------------------------------------------
# Binomial and multinomial counts.
#
# ``jax.random.binomial`` (jax 0.10) follows TensorFlow's BTRS sampler, whose acceptance
# bound is a sum of terms of size ~n that cancel to O(1); in float32 it loses the O(1)
# result once n is large (we measured chi-square p-values below 1e-60 against the exact
# Binomial(10^6, 0.3) law with 2e6 draws, and below 1e-200 at n = 10^7). The sampler below
# is the same algorithm (Hoermann 1993, "The generation of binomial random variates") with
# the bound rewritten so that the large terms cancel analytically.

_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
#: ``log k! - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi)/2]`` for k = 0..9 (float64).
_STIRLING_TAIL_TABLE = tuple(
    math.lgamma(k + 1) - ((k + 0.5) * math.log(k + 1) - (k + 1) + _HALF_LOG_TWO_PI) for k in range(10)
)


def _stirling_tail(k: Array) -> Array:
    """``log k! - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi)/2]`` for integer-valued ``k >= 0``."""
    table = jnp.asarray(_STIRLING_TAIL_TABLE, dtype=k.dtype)
    z = k + 1
    inv2 = 1 / (z * z)
    series = (1 / 12 - (1 / 360 - inv2 / 1260) * inv2) / z
    index = jnp.clip(k, 0, 9).astype(jnp.int32)
    return jnp.where(k < 10, table[index], series)


def _binomial_inversion(key, count, prob, active):
    """Binomial(count, prob) by inverting the CDF; for ``count * prob <= 10`` where ``active``.

    One uniform ``u`` per draw; ``k`` climbs from 0 with ``P(k+1) = P(k) r (n - k)/(k + 1)``,
    ``r = p / (1 - p)``, until ``u <= F(k)``. The float CDF tops out a few ulps below 1,
    so a ``u`` above everything it can reach (probability ~1e-6) is redrawn: the outer loop
    draws a fresh ``u`` for such lanes only, which conditions away a set of that
    probability. Every lane must have ``0 < prob <= 1/2`` and ``count >= 0`` (callers
    substitute safe values). Inactive lanes return 0 and draw nothing that an active lane
    sees, so the loops do not run at all when no lane is active (a generation of large
    counts, all on BTRS, then skips them).
    """
    dtype = prob.dtype
    ratio = prob / (1 - prob)
    first = jnp.exp(count * jnp.log1p(-prob))  # P(0) >= e^-10 here

    def search(u):
        def body(carry):
            k, pk, cdf, _ = carry
            climb = u > cdf
            nxt = pk * ratio * (count - k) / (k + 1)
            grows = (cdf + nxt > cdf) & (k < count)
            step = climb & grows
            return (
                jnp.where(step, k + 1, k),
                jnp.where(step, nxt, pk),
                jnp.where(step, cdf + nxt, cdf),
                step,
            )

        init = (jnp.zeros_like(prob), first, first, jnp.ones(prob.shape, bool))
        k, _, cdf, _ = jax.lax.while_loop(lambda c: jnp.any(c[3]), body, init)
        return k, u > cdf  # stuck: u beyond the float CDF's reach

    def outer(carry):
        attempt, k, stuck = carry
        u = jax.random.uniform(jax.random.fold_in(key, attempt), prob.shape, dtype=dtype)
        k_new, stuck_new = search(jnp.where(stuck, u, 0))
        return attempt + 1, jnp.where(stuck, k_new, k), stuck & stuck_new

    init = (jnp.zeros((), jnp.uint32), jnp.zeros_like(prob), active)
    return jax.lax.while_loop(lambda c: jnp.any(c[2]), outer, init)[1]


#: BTRS proposals per lane and loop iteration in :func:`multinomial`'s binomials. Its K
#: binomials run one after another, each until its slowest lane accepts; four trials per
#: iteration mean fewer iterations, faster at large counts for a little more compilation
#: (docs/performance.md).
MULTINOMIAL_TRIALS = 4


def _binomial_btrs(key, count, prob, active, trials):
    """Binomial(count, prob) by Hoermann's transformed rejection with squeeze (BTRS).

    For ``count * prob > 10`` and ``prob <= 1/2`` where ``active``; other lanes start as
    accepted (and must hold safe values), so the loop runs only while an active lane has
    not accepted, and not at all when no lane is active. The log-ratio ``log f(k)/f(m)`` of the
    acceptance test is computed with ``d = k - m``, ``A = m + 1``, ``B = n - m + 1`` as

        -d [(d - 1/2)/A + (d + 1/2)/B] - (k + 1/2) l(d/A) - (n - k + 1/2) l(-d/B)
        + d log(p B / (q A)) + s(m) + s(n - m) - s(k) - s(n - k),

    ``l = log1pmx``, ``s`` the Stirling tail: an identity of log-factorials (valid for any
    integer ``m``) in which the ``O(n)`` terms have cancelled analytically. Each term is
    ``O(d^2 / n)``, so float32 keeps it to ~1e-6 absolute even at ``n = 2^24``. The
    proposal ``floor(c + (2a/u_s + b) u)`` is formed as ``floor(c) + floor(frac(c) + ...)``
    so that its fractional part survives at large ``c``.
    """
    dtype = prob.dtype
    q = 1 - prob
    spq = jnp.sqrt(count * prob * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    c_int = jnp.floor(c)
    c_frac = c - c_int
    alpha = (2.83 + 5.1 / b) * spq
    v_r = 0.92 - 4.2 / b
    m = jnp.floor((count + 1) * prob)
    big_a = m + 1
    big_b = count - m + 1
    log_tilt = jnp.log(prob * big_b / (q * big_a))
    tail_m = _stirling_tail(m) + _stirling_tail(count - m)

    def trial(u, v):
        u = u - 0.5
        us = 0.5 - jnp.abs(u)
        k = c_int + jnp.floor((2 * a / us + b) * u + c_frac)
        squeeze = (us >= 0.07) & (v <= v_r)
        inside = (k >= 0) & (k <= count)
        kk = jnp.where(inside, k, m)
        d = kk - m
        log_ratio = (
            -d * ((d - 0.5) / big_a + (d + 0.5) / big_b)
            - (kk + 0.5) * log1pmx(d / big_a)
            - (count - kk + 0.5) * log1pmx(-d / big_b)
            + d * log_tilt
            + tail_m
            - _stirling_tail(kk)
            - _stirling_tail(count - kk)
        )
        log_v = jnp.log(v * alpha / (a / (us * us) + b))
        return squeeze | (inside & (log_v <= log_ratio)), k

    def body(carry):
        # `trials` proposals per lane and iteration, the first accepted kept: the same
        # sequence of trials as one per iteration, in fewer iterations of the loop.
        i, k_out, accepted = carry
        uniforms = jax.random.uniform(jax.random.fold_in(key, i), (2 * trials, *prob.shape), dtype=dtype)
        for j in range(trials):
            accept, k = trial(uniforms[j], uniforms[trials + j])
            accept = ~accepted & accept
            k_out, accepted = jnp.where(accept, k, k_out), accepted | accept
        return i + 1, k_out, accepted

    def cond(carry):
        return ~jnp.all(carry[2])

    init = (jnp.zeros((), jnp.uint32), jnp.zeros_like(prob), ~active)
    return jax.lax.while_loop(cond, body, init)[1]


def binomial(
    key: PRNGKeyArray, count: Float[Array, "..."], prob: Float[Array, "..."], *, trials: int = 1
) -> Float[Array, "..."]:
    """Binomial(count, prob) draws, exact in distribution for counts up to ``2^24``.

    Uses CDF inversion (one uniform per draw) where ``count * min(p, 1 - p) <= 10`` and
    Hoermann's BTRS rejection sampler elsewhere (the regimes of ``jax.random.binomial``),
    with an acceptance test that stays accurate in float32 at large counts (see
    :func:`_binomial_btrs`). Exact up to float rounding: the sampled law is that of a
    probability within a few ulps of ``prob``, and in float32 the inversion's uniform has
    23 random bits, so events rarer than ``2^-23`` per draw are not resolved.

    **Arguments:**

    - `key`: a PRNG key.
    - `count`: number of trials, integer-valued, ``0 <= count <= 2^24`` (may be traced;
      any dtype, converted to ``prob``'s).
    - `prob`: success probability in ``[0, 1]``, broadcast against ``count``.
    - `trials`: BTRS proposals per lane in each iteration of its rejection loop (static,
      ``>= 1``). More trials mean fewer iterations, each a little slower, and a longer
      compilation; the law is the same, the random stream is not.

    **Returns:**

    Integer-valued draws in ``prob``'s float dtype, shape of ``broadcast(count, prob)``;
    ``prob = 0``, ``prob = 1`` and ``count = 0`` are exact point masses. A NaN ``prob`` or
    a negative or non-finite ``count`` gives NaN (without looping forever).

    ```python
    >>> import jax, jax.numpy as jnp
    >>> x = binomial(jax.random.key(0), jnp.array([0, 10, 10_000_000]), jnp.array([0.5, 1.0, 0.3]))
    >>> x[:2]
    Array([ 0., 10.], dtype=float32)

    ```
    """
    prob = as_float(prob)
    count = jnp.asarray(count).astype(prob.dtype)
    shape = jnp.broadcast_shapes(count.shape, prob.shape)
    count = jnp.broadcast_to(count, shape)
    prob = jnp.broadcast_to(prob, shape)
    flip = prob > 0.5
    q = jnp.where(flip, 1 - prob, prob)  # exact for prob in (1/2, 1]
    bad = ~(jnp.isfinite(q) & (q >= 0) & jnp.isfinite(count) & (count >= 0))
    trivial = bad | (q == 0) | (count == 0)
    use_btrs = ~trivial & (count * q > 10)
    use_inversion = ~trivial & ~use_btrs
    key_inversion, key_btrs = jax.random.split(key)
    k_inversion = _binomial_inversion(
        key_inversion, jnp.where(use_inversion, count, 0), jnp.where(use_inversion, q, 0.5), use_inversion
    )
    k_btrs = _binomial_btrs(
        key_btrs, jnp.where(use_btrs, count, 1e4), jnp.where(use_btrs, q, 0.5), use_btrs, trials
    )
    k = jnp.where(use_btrs, k_btrs, jnp.where(use_inversion, k_inversion, 0))
    k = jnp.where(flip, count - k, k)
    return jnp.where(bad, jnp.nan, k)


def multinomial(key: PRNGKeyArray, count: Int[Array, ""], probs: Float[Array, " K"]) -> Float[Array, " K"]:
    """Multinomial(count, probs) counts in ``O(K)`` work whatever ``count`` is.

    Conditional binomials, one category after another (a ``lax.scan``, so one binomial
    sampler is compiled): category ``k`` receives ``Binomial(remaining, p_k / S_k)`` of the
    draws not yet assigned, ``S_k = p_k + ... + p_{K-1}``, which is the multinomial law
    exactly. ``S`` is a sequential suffix sum, so ``p_k / S_k <= 1``, it is exactly 1 at
    the last category with positive mass and exactly 0 at a zero one: a category with
    probability 0 never receives a count, and the counts always sum to ``count`` exactly.

    **Arguments:**

    - `key`: a PRNG key.
    - `count`: number of draws, integer ``0 <= count <= 2^24`` (may be traced).
    - `probs`: shape ``[K]``, ``>= 0``; need not be normalised (only ratios of partial
      sums are used).

    **Returns:**

    Counts, shape ``[K]``, in ``probs``'s float dtype.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> counts = multinomial(jax.random.key(0), jnp.array(1000), jnp.array([0.5, 0.0, 0.5]))
    >>> float(counts.sum()), float(counts[1])
    (1000.0, 0.0)

    ```
    """
    zero = jnp.zeros((), probs.dtype)
    _, suffix = jax.lax.scan(lambda s, p: (s + p, s + p), zero, probs, reverse=True)
    # Exactly 1 where nothing is left after k, never above 1 (see safe_divide).
    ratio = jnp.minimum(safe_divide(probs, suffix), 1)
    keys = jax.random.split(key, probs.shape[0])

    def step(remaining, xs):
        r, k = xs
        drawn = binomial(k, remaining, r, trials=MULTINOMIAL_TRIALS)
        return remaining - drawn, drawn

    _, counts = jax.lax.scan(step, jnp.asarray(count).astype(probs.dtype), (ratio, keys))
    return counts


#: Means up to this are drawn by ``jax.random.poisson`` directly; larger ones are first
#: reduced by one gamma step (see :func:`poisson`). ``jax.random.poisson``'s rejection test
#: forms ``-lam + k log(lam) - lgamma(k + 1)`` in float32, terms of size ``~lam log lam``
#: that cancel to O(1): we measured chi-square p-values of 0.48 at ``lam = 10^4`` but below
#: ``1e-100`` at ``10^5`` and 0 at ``10^6`` (2e6 draws against the exact law).
POISSON_DIRECT_MAX = 1e4


def poisson(key: PRNGKeyArray, lam: Float[Array, "..."]) -> Float[Array, "..."]:
    """Poisson(lam) draws, exact in distribution (up to float rounding) for ``lam <= 2^24``.

    Small means (``<= POISSON_DIRECT_MAX``) use ``jax.random.poisson``. A larger mean is
    first reduced by Ahrens & Dieter's gamma step (1974): with ``m = floor(lam)`` and
    ``X ~ Gamma(m)``, the ``m``-th arrival time of a unit-rate Poisson process, the number
    of arrivals in ``[0, lam]`` is ``N = m + Poisson(lam - X)`` if ``X <= lam``
    (memorylessness), else ``N ~ Binomial(m - 1, lam / X)`` (given ``X``, the first
    ``m - 1`` arrivals are uniform on ``[0, X]``), drawn as
    ``m - 1 - Binomial(m - 1, (X - lam) / X)`` with :func:`binomial`,
    which stays exact at large counts. The remaining mean ``lam - X`` is ``O(sqrt(lam))``,
    within ``jax.random.poisson``'s accurate range for every ``lam <= 2^24``.

    **Arguments:**

    - `key`: a PRNG key.
    - `lam`: means ``>= 0`` (any shape, may be traced); ``lam = 0`` gives exactly 0.

    **Returns:**

    Integer-valued draws in ``lam``'s float dtype, shape of ``lam``.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> poisson(jax.random.key(0), jnp.array([0.0, 3.0, 1e6])).shape
    (3,)

    ```
    """
    lam = jnp.asarray(lam)
    dtype = lam.dtype
    key_gamma, key_binomial, key_rest = jax.random.split(key, 3)
    big = lam > POISSON_DIRECT_MAX
    m = jnp.where(big, jnp.floor(lam), 1)
    x = gamma(key_gamma, m)
    over = big & (x > lam)
    thinned = binomial(key_binomial, jnp.where(over, m - 1, 0), jnp.where(over, (x - lam) / x, 0))
    rest_mean = jnp.where(big, jnp.where(over, 0, lam - x), lam)
    rest = jax.random.poisson(key_rest, rest_mean, dtype=jnp.int32).astype(dtype)
    return jnp.where(over, m - 1 - thinned, jnp.where(big, m + rest, rest))


def weighted_indices(key: PRNGKeyArray, weights: Float[Array, " N"], n: int) -> Int[Array, " n"]:
    """``n`` i.i.d. indices into ``weights``, index ``i`` with probability ``weights[i] / sum``.

    Inversion of the cumulative weights (``jnp.cumsum``, a parallel prefix sum, so long
    weight vectors such as an accumulated pool cost ``O(N)`` work and ``O(log N)`` depth).
    For integer weights below ``2^24`` (the engine's 0/1 masks) every partial sum is exact, so
    the cumulative sum is flat across a zero weight and such an index is never drawn; for
    other weights a zero-weight index has a chance of the order of float rounding. The result
    is clamped to the last positive weight.

    **Arguments:**

    - `key`: a PRNG key.
    - `weights`: ``[N]`` non-negative weights, not all zero.
    - `n`: the number of draws (static).

    **Returns:**

    int32 indices, shape ``[n]``.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> index = weighted_indices(jax.random.key(0), jnp.array([0.0, 1.0, 0.0, 1.0]), 1000)
    >>> sorted(set(index.tolist()))
    [1, 3]

    ```
    """
    cdf = jnp.cumsum(weights)
    u = jax.random.uniform(key, (n,), dtype=weights.dtype) * cdf[-1]
    index = jnp.searchsorted(cdf, u, side="right")
    last_positive = jnp.max(jnp.where(weights > 0, jnp.arange(weights.shape[0]), 0))
    return jnp.minimum(index, last_positive).astype(jnp.int32)
