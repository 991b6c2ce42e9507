"""Gamma and chi-square draws: Marsaglia & Tsang's sampler, blocked for vmapped loops.

``jax.random.gamma`` (jax 0.10) runs Marsaglia & Tsang's rejection sampler as two nested
``while_loop``s per variate, each iteration splitting keys and drawing one normal and one
uniform. Vmapped over thousands of seeds inside a scan over generations, those loops took
most of the Gaussian exact path's time. Here every variate draws its first
two candidates from one call for random bits, and keeps the first accepted; a
``while_loop`` draws further pairs only for variates whose two candidates were both
rejected (a rejection probability of about 6e-4 per candidate at shape 49.5, 5 % at
shape 1). Which candidate is kept depends only on that variate's own draws, in order, so
the result is Marsaglia & Tsang's law exactly: rejection sampling, with the trials
merely drawn ahead.

The acceptance test ``log u < z^2/2 + d (1 - v + log v)`` is formed with
``1 - v + log v = log1pmx(v - 1)`` and ``v - 1 = c z (3 + c z (3 + c z))``, without
cancellation: in float32, ``1 - v + log v`` loses every digit once ``d`` is large (at
shape ``10^7``, ``v - 1 ~ 1e-4``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .special import as_float, log1pmx

#: Candidates per variate drawn before the fallback loop.
CANDIDATES = 2


def _unit_uniform(bits: Array, dtype) -> Array:
    """``[0, 1)`` floats from random bits: the top mantissa-many bits, as ``jax.random.uniform`` does."""
    info = jnp.finfo(dtype)
    one = np.array(1, dtype).view(bits.dtype)
    return jax.lax.bitcast_convert_type((bits >> (info.bits - info.nmant)) | one, dtype) - 1


def _standard_normal(bits: Array, dtype) -> Array:
    """Standard normals from random bits, by ``jax.random.normal``'s inverse-CDF map."""
    low = np.nextafter(np.array(-1, dtype), np.array(1, dtype))
    u = jnp.maximum(low, _unit_uniform(bits, dtype) * (1 - low) + low)
    return np.sqrt(2).astype(dtype) * jax.lax.erf_inv(u)


def candidates(key: PRNGKeyArray, d: Array, c: Array):
    """``CANDIDATES`` Marsaglia-Tsang trials per variate, in order: a tuple of
    ``(accepted, v - 1)`` pairs shaped like ``d``, and one more uniform for the
    shape-below-one boost.

    Each trial is computed on arrays shaped like ``d``, not stacked on a candidate axis:
    vmapped, that arithmetic vectorises across lanes, where a ``[lanes, candidates]``
    layout runs along a minor axis of 2, about three times slower per variate.

    **Arguments:**

    - `key`: a PRNG key; `d`, `c`: Marsaglia and Tsang's ``d = shape - 1/3`` (for shapes
      ``>= 1``) and ``c = 1 / sqrt(9 d)``, of the variates' shape.

    **Returns:**

    ``(trials, boost_uniform)``.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> d = jnp.full(3, 9.0)
    >>> trials, boost = candidates(jax.random.key(0), d, 1 / jnp.sqrt(9 * d))
    >>> len(trials), trials[0][1].shape
    (2, (3,))

    ```
    """
    dtype = d.dtype
    uint = {32: jnp.uint32, 64: jnp.uint64}[jnp.finfo(dtype).bits]
    bits = jax.random.bits(key, (2 * CANDIDATES + 1, *d.shape), uint)
    trials = []
    for i in range(CANDIDATES):
        z = _standard_normal(bits[i], dtype)
        log_u = jnp.log1p(-_unit_uniform(bits[CANDIDATES + i], dtype))  # log of (0, 1]
        cz = c * z
        v_minus_one = cz * (3 + cz * (3 + cz))
        trials.append(((cz > -1) & (log_u < z * z / 2 + d * log1pmx(v_minus_one)), v_minus_one))
    return tuple(trials), _unit_uniform(bits[-1], dtype)


def first_accepted(trials) -> tuple[Array, Array]:
    """Whether any trial was accepted, and the first accepted one's ``v - 1``.

    **Arguments:**

    - `trials`: ``(accepted, v - 1)`` pairs, in order (as :func:`candidates` returns them).

    **Returns:**

    ``(found, v - 1)``: where none was accepted, ``found`` is false.

    ```python
    >>> import jax.numpy as jnp
    >>> no, yes = jnp.array([False, True]), jnp.array([True, False])
    >>> first_accepted(((no, jnp.array([1.0, 1.0])), (yes, jnp.array([2.0, 2.0]))))
    (Array([ True,  True], dtype=bool), Array([2., 1.], dtype=float32))

    ```
    """
    found, value = trials[-1]
    for accepted, v_minus_one in reversed(trials[:-1]):
        value = jnp.where(accepted, v_minus_one, value)
        found = found | accepted
    return found, value


def gamma(key: PRNGKeyArray, shape: Float[Array, "..."]) -> Float[Array, "..."]:
    """Gamma(shape, 1) draws, exact in distribution (up to float rounding), for ``shape > 0``.

    Marsaglia & Tsang (2000), "A simple method for generating gamma variables", ACM TOMS
    26(3): with ``d = a - 1/3``, ``c = 1/sqrt(9 d)``, ``z ~ N(0, 1)``, ``u ~ U(0, 1)`` and
    ``v = (1 + c z)^3``, ``d v`` is accepted when ``v > 0`` and
    ``log u < z^2/2 + d - d v + d log v``. A shape ``alpha < 1`` draws ``a = alpha + 1``
    and multiplies by ``u'^(1/alpha)`` (their eq. in section 6), which underflows to 0
    for very small ``alpha``. See the module docstring for the blocked trials.

    **Arguments:**

    - `key`: a PRNG key.
    - `shape`: shape parameters ``> 0`` (any array shape, may be traced); the draws'
      dtype is ``shape``'s float dtype.

    **Returns:**

    Draws, same shape and dtype as ``shape``. A shape that is not a positive finite
    number gives NaN.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> gamma(jax.random.key(0), jnp.array([0.5, 49.5, 1e7])).shape
    (3,)

    ```
    """
    alpha = as_float(shape)
    valid = jnp.isfinite(alpha) & (alpha > 0)
    alpha = jnp.where(valid, alpha, 1)
    boost = alpha < 1
    d = jnp.where(boost, alpha + 1, alpha) - 1 / 3
    c = 1 / jnp.sqrt(9 * d)
    trials, boost_uniform = candidates(key, d, c)
    # u'^(1/alpha) with u' in (0, 1]: log1p(-u) for u in [0, 1).
    boost_factor = jnp.exp(jnp.log1p(-boost_uniform) / alpha)

    def draw_of(v_minus_one):
        draw = d + d * v_minus_one
        return jnp.where(boost, draw * boost_factor, draw)

    def retry(carry):
        attempt, done, draw = carry
        found, v_minus_one = first_accepted(candidates(jax.random.fold_in(key, attempt), d, c)[0])
        return attempt + 1, done | found, jnp.where(done, draw, draw_of(v_minus_one))

    # Every draw leaves through the loop's carry, a materialised buffer: when the last
    # arithmetic could fuse into its consumers (say a Wishart factor), XLA contracted it
    # into FMAs differently for different lane counts.
    done, v_minus_one = first_accepted(trials)
    init = (jnp.ones((), jnp.uint32), done, draw_of(v_minus_one))
    _, _, draw = jax.lax.while_loop(lambda carry: ~jnp.all(carry[1]), retry, init)
    return jnp.where(valid, draw, jnp.nan)


def chi_square(key: PRNGKeyArray, df: Float[Array, "..."], dtype) -> Float[Array, "..."]:
    """Chi-square draws with (traced, possibly zero) degrees of freedom ``df``: ``2 Gamma(df/2)``.

    ``df = 0`` gives exactly 0 (the point mass), as the sum of zero squared normals.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> chi_square(jax.random.key(0), jnp.array([0.0, 3.0]), jnp.float32)[0]
    Array(0., dtype=float32)

    ```
    """
    positive = df > 0
    shape = jnp.where(positive, df / 2, 1).astype(dtype)
    return jnp.where(positive, 2 * gamma(key, shape), 0)
