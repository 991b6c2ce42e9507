"""Control over what XLA fuses: a buffer that consumers read instead of recomputing.

XLA CPU fuses an element-wise producer into every consumer, duplicating its arithmetic.
The raw path's samples are such a producer: without a boundary, turning random bits into
normals (a log and an ``erf_inv`` polynomial per sample) is fused into every statistic that
reads the samples and computed about three times over. ``jax.lax.optimization_barrier``
does not help: XLA CPU removes it before fusion. A loop boundary does: a ``while_loop``
carry is a materialised buffer.

Only on the CPU. A GPU runs a ``while_loop`` by copying its condition to the host every
iteration, and the program is faster there without any boundary (an
``optimization_barrier`` included). So :func:`materialise` is
``jax.lax.platform_dependent``: the loop on the CPU, nothing elsewhere. The timings behind
both choices are in docs/performance.md.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Int


def _through_loop(tree, index):
    start = jnp.where(index < 0, 1, 0)
    # The body must change the carry as far as jax can tell: an untouched carry is
    # forwarded around the loop, and the boundary disappears with it.
    body = lambda carry: (carry[0] + 1, jax.tree.map(lambda x: jnp.where(carry[0] < 0, 0, x), carry[1]))
    return jax.lax.while_loop(lambda carry: carry[0] < 1, body, (start, tree))[1]


def materialise(tree, index: Int[Array, ""]):
    """``tree`` unchanged, computed once into memory so that XLA CPU does not fuse (and so
    recompute) its producers into each of its consumers.

    On the CPU the values leave through a ``while_loop`` that runs once. Its trip count
    depends on `index` at run time, so XLA can neither unroll nor remove the loop. On
    other platforms `tree` passes straight through (see the module's notes).

    **Arguments:**

    - `tree`: a pytree of arrays.
    - `index`: a traced non-negative integer scalar (e.g. the generation index). A
      negative one runs the loop zero times, with the same result.

    **Returns:**

    `tree`, bitwise unchanged.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> jax.jit(materialise)(jnp.arange(3.0), jnp.int32(5))
    Array([0., 1., 2.], dtype=float32)

    ```
    """
    return jax.lax.platform_dependent(tree, index, cpu=_through_loop, default=lambda tree, index: tree)
