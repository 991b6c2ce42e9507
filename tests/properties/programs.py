"""The pure functions under test as module-level callables, and tolerance helpers.

JAX caches a compilation per *function object*: ``jax.jit(f)`` twice with the same ``f``
compiles once, but two ``jax.vmap(f)`` are two functions. Every test wraps these objects
(with ``jax.jit`` or a chex variant), never a fresh lambda, so that tests and examples
share compilations. The model is an argument (a pytree: its static structure is part of
the program, ``LinearRegression``'s ``ridge`` and ``noise`` are traced).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .strategies import N

#: Draws per Monte-Carlo comparison and lanes per vmapped call.
DRAWS = 2048
#: float32 unit roundoff.
EPS = 2.0**-24


def sample(model, key, truth):
    """``model.sample(key, truth, N)``."""
    return model.sample(key, truth, N)


def statistics(model, data, weights):
    """``model.statistics(data, weights)``."""
    return model.statistics(data, weights)


def fit(model, stats, truth):
    """``model.fit(stats, truth)``."""
    return model.fit(stats, truth)


def metrics(model, params, truth):
    """``model.metrics(params, truth)``."""
    return model.metrics(params, truth)


def sample_statistics(model, key, truth, count):
    """``model.sample_statistics(key, truth, count)``."""
    return model.sample_statistics(key, truth, count)


def lane(model, key, truth, count, weights):
    """What one seed of a batch computes: the exact statistics of ``count`` samples, the
    statistics of ``N`` raw samples with ``weights`` (from an independent key), the fit of
    the raw statistics, its metrics, and whether it is degenerate."""
    key_exact, key_raw = jax.random.split(key)
    exact = model.sample_statistics(key_exact, truth, count)
    raw = model.statistics(model.sample(key_raw, truth, N), weights)
    params = model.fit(raw, truth)
    return dict(exact=exact, raw=raw, fit=params, metrics=model.metrics(params, truth),
                degenerate=model.is_degenerate(params))


#: Seed-batched: one lane per key, count and weights (the model and the truth are shared).
#: One program per family serves the vmap checks and the Monte-Carlo comparison.
batched_lanes = jax.vmap(lane, in_axes=(None, 0, None, 0, 0))

#: Jitted references (the chex ``with_jit`` variant of the same function shares their programs).
jitted = {f.__name__: jax.jit(f) for f in (sample, statistics, fit, metrics, sample_statistics)}


def merge_laws(model, a, b, c, scale):
    """The statistics of three weighted samples ``a, b, c`` (``(data, weights)`` pairs)
    and the merges the algebra's laws compare; ``scale`` is the weight of ``reweight``."""
    sa, sb, sc = (model.statistics(data, w) for data, w in (a, b, c))
    empty = jax.tree.map(jnp.zeros_like, sa)
    zero_weights = model.statistics(a[0], jnp.zeros_like(a[1]))
    scaled = model.statistics(a[0], scale * a[1])
    return dict(
        a=sa, ab_c=sa.merge(sb).merge(sc), a_bc=sa.merge(sb.merge(sc)), ab=sa.merge(sb), ba=sb.merge(sa),
        a_empty=sa.merge(empty), empty_a=empty.merge(sa), empty=empty, zero_weights=zero_weights,
        reweight_one=sa.reweight(jnp.ones((), a[1].dtype)), reweight=sa.reweight(scale), scaled=scaled,
        a_merge_reweighted_b=sa.merge(sb.reweight(scale)),
    )


def permuted_fits(model, data, weights, order, truth):
    """``fit(statistics(data))`` and ``fit(statistics(data[order]))`` (weights permuted too)."""
    permuted = jax.tree.map(lambda x: x[order], data)
    stats = model.statistics(data, weights), model.statistics(permuted, weights[order])
    return stats, tuple(model.fit(s, truth) for s in stats)


jit_merge_laws = jax.jit(merge_laws)
jit_permuted_fits = jax.jit(permuted_fits)


def leaves(tree) -> list[np.ndarray]:
    """The leaves of ``tree`` as float64 host arrays."""
    return [np.asarray(x, np.float64) for x in jax.tree.leaves(tree)]
