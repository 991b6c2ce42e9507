"""jc.distances against brute-force NumPy on small samples, and their invariances.

Each function is jitted once here (eager calls would compile one program per operation).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats as scipy_stats

import jcollapse as jc

RNG = np.random.default_rng(3)
X = RNG.normal(size=(40, 2)).astype(np.float32)
Y = (RNG.normal(size=(40, 2)) * [1.5, 0.5] + [0.5, 0.0]).astype(np.float32)


def test_sliced_w2_matches_sorted_projections_and_ignores_order():
    key = jax.random.key(2)
    value = jax.jit(jc.distances.sliced_w2, static_argnames="projections")(key, X, Y, projections=16)
    directions = np.asarray(jax.random.normal(key, (16, 2)), np.float64)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    expected = np.mean([np.mean((np.sort(X @ u) - np.sort(Y @ u)) ** 2) for u in directions])
    np.testing.assert_allclose(value, expected, rtol=1e-4)
    shuffled = jax.jit(jc.distances.sliced_w2, static_argnames="projections")(key, X, Y[::-1], projections=16)
    np.testing.assert_allclose(shuffled, value, rtol=1e-5)
    with pytest.raises(ValueError, match="equal shape"):
        jc.distances.sliced_w2(key, X, Y[:10])


def test_knn_precision_recall_matches_brute_force():
    precision, recall = jax.jit(jc.distances.knn_precision_recall, static_argnames="k")(X, Y, k=5)
    d = lambda a, b: ((a[:, None].astype(np.float64) - b[None]) ** 2).sum(-1)
    radius_real = np.sort(d(Y, Y), axis=1)[:, 5]
    radius_generated = np.sort(d(X, X), axis=1)[:, 5]
    np.testing.assert_allclose(precision, np.mean(np.any(d(X, Y) <= radius_real[None], axis=1)))
    np.testing.assert_allclose(recall, np.mean(np.any(d(Y, X) <= radius_generated[None], axis=1)))


def test_modes_and_tails():
    means = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]], np.float32)
    points = np.concatenate([np.zeros((6, 2)), np.full((3, 2), [4.0, 0.1]), [[0.1, 3.9]]]).astype(np.float32)
    np.testing.assert_array_equal(jax.jit(jc.distances.mode_counts)(points, means), [6, 3, 1])
    coverage = jax.jit(jc.distances.mode_coverage, static_argnames="min_share")
    assert float(coverage(points, means, min_share=0.2)) == pytest.approx(2 / 3)
    assert float(jax.jit(jc.distances.tail_mass)(points, jnp.zeros(2), 3.0)) == pytest.approx(0.4)


def test_mixture_l2_matches_numerical_integration():
    p = (np.array([0.3, 0.7]), np.array([[-1.0], [1.5]]), np.array([[[0.5]], [[1.0]]]))
    q = (np.array([1.0]), np.array([[0.2]]), np.array([[[2.0]]]))
    grid = np.linspace(-12, 12, 20001)
    def density(w, m, c):
        return sum(wi * scipy_stats.norm(mi[0], np.sqrt(ci[0, 0])).pdf(grid) for wi, mi, ci in zip(w, m, c))

    expected = np.trapezoid((density(*p) - density(*q)) ** 2, grid)
    as32 = lambda parts: [jnp.asarray(a, jnp.float32) for a in parts]
    np.testing.assert_allclose(jax.jit(jc.distances.mixture_l2)(*as32(p), *as32(q)), expected, rtol=1e-4)
