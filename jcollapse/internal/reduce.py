"""Reductions over the sample axis whose result does not depend on the vmap batch size.

XLA's CPU backend picks a different summation order for ``jnp.sum`` depending on how many
lanes a vmapped reduction has (batches of 1-33 lanes and larger ones give different bits).
A seed's trajectory must not depend on how many seeds run beside it, so
every sum over samples goes through :func:`pairwise_sum`: a fixed binary tree of
element-wise additions, which XLA evaluates identically in every lane. Sums of 0/1 sample
weights are exact in any order and use XLA's own reduction (:func:`count_ones`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array


def pairwise_sum(x: Array) -> Array:
    """Sum over the leading axis in a fixed pairwise order.

    ``n`` is split into its binary digits (100 = 64 + 32 + 4); each piece is summed by a
    binary tree of element-wise additions and the piece sums are added smallest first.
    The rounding error grows like ``log2 n``, as for a single tree. Padding to a power of
    two instead (a concatenate with zeros) keeps XLA CPU from fusing the tree with its
    producer, which makes the sum several times slower.

    **Arguments:**

    - `x`: array of shape `[n, ...]`.

    **Returns:**

    The sum over axis 0, shape `x.shape[1:]`, bitwise identical under any `vmap` batch size.

    ```python
    >>> import jax.numpy as jnp
    >>> float(pairwise_sum(jnp.arange(5.0)))
    10.0

    ```
    """
    n = x.shape[0]
    total = None
    end = n
    for bit in range(n.bit_length()):  # the smallest piece first, from the end
        size = 1 << bit
        if n & size:
            piece = _tree_sum(x[end - size:end])
            end -= size
            total = piece if total is None else total + piece
    return jnp.zeros(x.shape[1:], x.dtype) if total is None else total


def count_ones(mask: Array) -> Array:
    """Sum over the leading axis of a 0/1 float array, such as the engine's sample weights.

    Every partial sum of 0/1 values is an integer no larger than ``n``; below ``2**24``
    in float32 (``2**53`` in float64) each addition is exact, so every summation order
    gives the same bits. XLA's own reduction is then as independent of the vmap batch size
    as :func:`pairwise_sum`, and cheaper: it fuses with the mask's producer instead of
    reading it back through a tree (the Gaussian's raw path saves a few tree fusions per
    generation).

    For other values the result is still their sum, but its last bits may depend on the
    batch size; longer axes fall back to :func:`pairwise_sum`.

    **Arguments:**

    - `mask`: array of shape `[n, ...]` holding zeros and ones.

    **Returns:**

    The number of ones along axis 0, shape `mask.shape[1:]`, in `mask`'s dtype.

    ```python
    >>> import jax.numpy as jnp
    >>> float(count_ones(jnp.array([1.0, 0.0, 1.0, 1.0])))
    3.0

    ```
    """
    if mask.shape[0] > 2 ** (jnp.finfo(mask.dtype).nmant + 1):
        return pairwise_sum(mask)
    return jnp.sum(mask, axis=0)


def _tree_sum(x: Array) -> Array:
    """The sum over the leading axis, of power-of-two length, by halving."""
    while x.shape[0] > 1:
        half = x.shape[0] // 2
        x = x[:half] + x[half:]
    return x[0]


#: Products summed by one tree in :func:`matmul`'s blocked form; the blocks' sums are then
#: added in order.
MATMUL_BLOCK = 8
#: Output entries (rows x columns) from which :func:`matmul` sums in blocks on the CPU.
MATMUL_BLOCKED_FROM = 256


def matmul(a: Array, b: Array) -> Array:
    """``a @ b`` for 1-D or 2-D operands, summed over the contraction axis in a fixed order.

    XLA CPU emits a vmapped ``dot`` differently for different batch sizes (chunks of 2, 8,
    32 and 64 lanes give different bits), so the engine forms the products element-wise and
    sums them in a fixed tree (:func:`_padded_tree_sum`).

    A tree over the whole contraction reads a product tensor of ``rows x k x columns``
    entries, which on the CPU costs more than the arithmetic once the output is large. There,
    from :data:`MATMUL_BLOCKED_FROM` output entries on and for contractions longer than one
    block, the contraction is cut into blocks of :data:`MATMUL_BLOCK`, each summed by a
    tree, and the block sums are added in order by a ``lax.scan`` (:func:`_blocked_sum`).
    A contraction of one block or less gains nothing from it (a Gaussian's samples
    ``z @ factor.T``, ``k`` = the dimension, would be padded to a block and sent through a
    one-step scan, several times slower than one tree), and below the threshold one tree is
    faster. Blocks make a large Gram matrix about ten times faster on the CPU and roughly
    double the rounding error against float64 (about 2e-7 of the largest entry in float32).
    On a GPU or TPU one tree stays. Timings: docs/performance.md.

    ```python
    >>> import jax.numpy as jnp
    >>> matmul(jnp.array([[1.0, 2.0], [3.0, 4.0]]), jnp.array([1.0, 1.0]))
    Array([3., 7.], dtype=float32)

    ```
    """
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    if a2.shape[1] != b2.shape[0]:
        raise ValueError(f"matmul: contraction sizes differ: {a.shape} @ {b.shape}")
    if (jax.default_backend() == "cpu" and a2.shape[1] > MATMUL_BLOCK
            and a2.shape[0] * b2.shape[1] >= MATMUL_BLOCKED_FROM):
        out = _blocked_sum(a2, b2)
    else:
        out = _padded_tree_sum(a2.T[:, :, None] * b2[:, None, :])
    if a.ndim == 1:
        out = out[0]
    if b.ndim == 1:
        out = out[..., 0]
    return out


def trace(x: Array) -> Array:
    """The trace of a square matrix, summed with :func:`pairwise_sum`.

    ```python
    >>> import jax.numpy as jnp
    >>> float(trace(jnp.eye(3)))
    3.0

    ```
    """
    return pairwise_sum(jnp.diagonal(x))


def _blocked_sum(a: Array, b: Array) -> Array:
    """``a @ b`` (2-D) as blocks of :data:`MATMUL_BLOCK` products, each block summed by a
    tree and the block sums added in order; the contraction is zero-padded to whole blocks."""
    k = a.shape[1]
    blocks = -(-k // MATMUL_BLOCK)
    pad = blocks * MATMUL_BLOCK - k
    if pad:
        a = jnp.concatenate([a, jnp.zeros((a.shape[0], pad), a.dtype)], axis=1)
        b = jnp.concatenate([b, jnp.zeros((pad, b.shape[1]), b.dtype)], axis=0)
    a_blocks = a.T.reshape(blocks, MATMUL_BLOCK, a.shape[0])
    b_blocks = b.reshape(blocks, MATMUL_BLOCK, b.shape[1])
    add_block = lambda total, ab: (total + _tree_sum(ab[0][:, :, None] * ab[1][:, None, :]), None)
    return jax.lax.scan(add_block, jnp.zeros((a.shape[0], b.shape[1]), a.dtype), (a_blocks, b_blocks))[0]


def _padded_tree_sum(x: Array) -> Array:
    """The sum over the leading axis by one binary tree over ``x`` zero-padded to a power
    of two.

    For :func:`matmul`'s product tensor, unlike samples drawn once, the padding is what
    keeps XLA CPU from fusing the products into each of the tree's fusions and computing
    them again there (with :func:`pairwise_sum`'s unpadded pieces LinearRegression's exact
    path is much slower).
    """
    n = x.shape[0]
    width = 1 << (n - 1).bit_length()
    if width > n:
        x = jnp.concatenate([x, jnp.zeros((width - n, *x.shape[1:]), x.dtype)])
    return _tree_sum(x)


def squared_distance(a: Array, b: Array) -> Array:
    """``||a - b||^2`` over the leading axis, summed in :func:`pairwise_sum`'s fixed order.

    ```python
    >>> import jax.numpy as jnp
    >>> float(squared_distance(jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0])))
    5.0

    ```
    """
    return pairwise_sum((a - b) ** 2)
