"""How a generation's samples are split between the truth and the previous model.

Each mixing rule answers one question in two forms: which samples are real (raw path, a
mask over the sample slots) and how many are real (exact-statistics path, a count).

- ``"iid"``: every sample comes from the mixture ``a_t P* + (1 - a_t) P_hat_{t-1}``, so the
  number of real samples is ``Binomial(n_t, a_t)``.
- ``"split"``: exactly ``round(a_t n_t)`` samples are real (round half to even; see
  :func:`split_real_counts`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int, PRNGKeyArray

from .internal.samplers import binomial


class Mixing(NamedTuple):
    """A mixing rule as a pair of pure functions of one generation's inputs.

    - ``real_mask(key, inputs, slots) -> bool[slots]``: which of the first
      ``inputs.sample_size`` slots hold real samples (later slots are unused).
    - ``real_count(key, inputs) -> int``: the number of real samples.

    ``inputs`` is one generation's :class:`jcollapse.rollout.GenerationInputs`.

    ```python
    >>> import jax, jax.numpy as jnp
    >>> from jcollapse.rollout import GenerationInputs
    >>> inputs = GenerationInputs(t=0, real_fraction=jnp.float32(0.25), sample_size=jnp.int32(10),
    ...                           split_real_count=jnp.int32(2), pool_weight=jnp.float32(1))
    >>> int(MIXINGS["split"].real_count(jax.random.key(0), inputs))
    2

    ```
    """

    real_mask: Callable[[PRNGKeyArray, Any, int], Bool[Array, " slots"]]
    real_count: Callable[[PRNGKeyArray, Any], Int[Array, ""]]


def split_real_counts(real_fraction: np.ndarray, sample_size: np.ndarray) -> np.ndarray:
    """``round(a_t n_t)`` for every generation, half to even, computed on the host.

    The product is taken exactly from the shortest decimal that represents ``a_t``
    (``repr``), so ``0.59 * 50`` is the tie ``29.5`` and rounds to 30. Floating-point
    multiplication would give ``29.499999999999996`` and round to 29 instead.

    **Arguments:**

    - `real_fraction`: ``a_t``, shape ``[G + 1]``.
    - `sample_size`: integer ``n_t``, shape ``[G + 1]``.

    **Returns:**

    An int64 array ``[G + 1]``: the number of real samples per generation under split
    mixing.

    ```python
    >>> split_real_counts(np.array([0.59, 0.5]), np.array([50, 7]))
    array([30,  4])

    ```
    """
    return np.array(
        [round(Fraction(repr(float(a))) * int(n)) for a, n in zip(real_fraction, sample_size)],
        dtype=np.int64,
    )


def _iid_count(key, inputs):
    # Not jax.random.binomial: in float32 its BTRS acceptance test loses the law at
    # n >~ 10^6 (see jcollapse.internal.samplers.binomial).
    count = binomial(key, inputs.sample_size, inputs.real_fraction)
    return jnp.round(count).astype(inputs.sample_size.dtype)


def _iid_mask(key, inputs, slots):
    a = inputs.real_fraction
    return jax.random.uniform(key, (slots,), dtype=a.dtype) < a


MIXINGS: dict[str, Mixing] = {
    "iid": Mixing(real_mask=_iid_mask, real_count=_iid_count),
    "split": Mixing(
        real_mask=lambda key, inputs, slots: jnp.arange(slots) < inputs.split_real_count,
        real_count=lambda key, inputs: inputs.split_real_count,
    ),
}
