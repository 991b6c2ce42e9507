"""The reductions over samples give bits that do not depend on the vmap batch size.

A seed's trajectory must be the same whatever the number of seeds beside it. The sums over
samples (pairwise_sum, count_ones) and matmul's blocked form (outputs too large for the
models in test_invariance) are checked here lane by lane against the full batch, at the
batch sizes where XLA CPU's own reductions are known to change their order; matmul's tree
is checked through the engine, in test_invariance.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jcollapse.internal import reduce
from jcollapse.internal.reduce import count_ones, matmul, pairwise_sum

LANES = 128
BATCHES = (1, 4, 16, 33, 64)


def _lane_by_lane(fn, x):
    """``fn`` vmapped over all lanes of ``x`` (an array or a tuple of arrays), and over the
    first two chunks of each batch size in ``BATCHES`` (one jitted function: each shape
    compiles once)."""
    batched = jax.jit(jax.vmap(fn))
    full = np.asarray(batched(x))
    chunk = lambda s, b: jax.tree.map(lambda v: v[s:s + b], x)
    parts = {b: np.concatenate([np.asarray(batched(chunk(s, b))) for s in range(0, b * 2, b)]) for b in BATCHES}
    return full, parts


@pytest.mark.parametrize("n", [1, 7, 100, 1000])
def test_pairwise_sum_is_batch_invariant(n):
    # Magnitudes spread over many binades, so that any change of order shows in the bits.
    key_value, key_scale = jax.random.split(jax.random.key(n))
    x = jax.random.normal(key_value, (LANES, n)) * jnp.exp(4 * jax.random.normal(key_scale, (LANES, n)))
    full, parts = _lane_by_lane(pairwise_sum, x)
    for b, part in parts.items():
        np.testing.assert_array_equal(part, full[: 2 * b], err_msg=f"batch {b}")


@pytest.mark.parametrize("n", [1, 100, 1000, 4099])
def test_count_ones_is_exact_and_batch_invariant(n):
    # Masks of every density, including all zeros and all ones.
    mask = (jax.random.uniform(jax.random.key(n), (LANES, n)) < jnp.linspace(0, 1, LANES)[:, None]).astype(jnp.float32)
    full, parts = _lane_by_lane(count_ones, mask)
    np.testing.assert_array_equal(full, np.asarray(mask).astype(np.int64).sum(axis=1))
    for b, part in parts.items():
        np.testing.assert_array_equal(part, full[: 2 * b], err_msg=f"batch {b}")


def test_count_ones_beyond_exact_integers_sums_by_the_tree():
    # float16 holds integers exactly only up to 2**11: a longer mask takes pairwise_sum's order.
    mask = jnp.ones((LANES, 2 ** 11 + 3), jnp.float16)
    np.testing.assert_array_equal(np.asarray(jax.vmap(count_ones)(mask)), np.asarray(jax.vmap(pairwise_sum)(mask)))


@pytest.mark.parametrize("rows, k, columns", [(16, 16, 16), (20, 37, 30), (100, 200, 100)])
def test_blocked_matmul_is_batch_invariant_and_accurate(rows, k, columns):
    assert rows * columns >= reduce.MATMUL_BLOCKED_FROM  # the blocked form, on the CPU
    key_a, key_b = jax.random.split(jax.random.key(k))
    a = jax.random.normal(key_a, (LANES, rows, k))
    b = jax.random.normal(key_b, (LANES, k, columns))
    full, parts = _lane_by_lane(lambda ab: matmul(*ab), (a, b))
    for size, part in parts.items():
        np.testing.assert_array_equal(part, full[: 2 * size], err_msg=f"batch {size}")
    exact = np.einsum("lik,lkj->lij", np.asarray(a, np.float64), np.asarray(b, np.float64))
    # Blocks of 8 summed by a tree, then k / 8 block sums in order: a few float32 roundings
    # of the largest partial sums (measured: 2e-7 of the largest entry at k = 200).
    bound = (np.log2(reduce.MATMUL_BLOCK) + k / reduce.MATMUL_BLOCK) * np.finfo(np.float32).eps
    assert np.max(np.abs(full - exact)) <= bound * np.max(np.abs(exact))
