"""Control over what XLA fuses: a buffer that consumers read instead of recomputing.

XLA CPU fuses an element-wise producer into every consumer, duplicating its arithmetic.
The raw path's samples are such a producer: turning random bits into normals (a log and
an ``erf_inv`` polynomial per sample) was fused into both halves of each of two sums and
computed about three times over (W1's raw path: 0.27 s, of which 0.06 s is drawing the
normals once). ``jax.lax.optimization_barrier`` does not help: XLA CPU removes it before
fusion. A loop boundary does: a ``while_loop`` carry is a materialised buffer.

Only on the CPU. A GPU runs a ``while_loop`` by copying its condition to the host every
iteration, and the program is faster without any boundary there: on an H100
(jax 0.11.2, 2026-11-24) the raw path's chunk program without the loop took 0.087 ms a
generation for W1 (n = 100, 65,536 seeds) against 0.24 ms with it and 0.15 ms with an
``optimization_barrier``, and 0.107 against 0.37 ms for W2 (n = 2,000, 4,096 seeds). So
:func:`materialise` is ``jax.lax.platform_dependent``: the loop on the CPU, nothing elsewhere.
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
