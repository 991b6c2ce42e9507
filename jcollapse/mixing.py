"""How a generation's samples are split between the truth and the previous model.

Each mixing rule answers one question in two forms: which samples are real (raw path, a
mask over the sample slots) and how many are real (exact-statistics path, a count).

- ``"iid"``: every sample comes from the mixture ``a_t P* + (1 - a_t) P_hat_{t-1}``, so the
  number of real samples is ``Binomial(n_t, a_t)``.
- ``"split"``: exactly ``round(a_t n_t)`` samples are real (round half to even).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray


class Mixing(NamedTuple):
    """A mixing rule as a pair of pure functions.

    - ``real_mask(key, a, n, slots) -> bool[slots]``: which of the first ``n`` slots hold
      real samples (slots ``>= n`` are unused, their value does not matter).
    - ``real_count(key, a, n) -> int``: the number of real samples among ``n``.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> int(MIXINGS["split"].real_count(jax.random.key(0), jnp.float32(0.25), jnp.int32(10)))
    2

    ```
    """

    real_mask: Callable[[PRNGKeyArray, Float[Array, ""], Int[Array, ""], int], Bool[Array, " slots"]]
    real_count: Callable[[PRNGKeyArray, Float[Array, ""], Int[Array, ""]], Int[Array, ""]]


def _split_count(key, a, n):
    del key
    return jnp.round(a * n).astype(n.dtype)


def _iid_count(key, a, n):
    count = jax.random.binomial(key, n.astype(a.dtype), a, dtype=a.dtype)
    return jnp.round(count).astype(n.dtype)


MIXINGS: dict[str, Mixing] = {
    "iid": Mixing(
        real_mask=lambda key, a, n, slots: jax.random.uniform(key, (slots,), dtype=a.dtype) < a,
        real_count=_iid_count,
    ),
    "split": Mixing(
        real_mask=lambda key, a, n, slots: jnp.arange(slots) < _split_count(key, a, n),
        real_count=_split_count,
    ),
}
