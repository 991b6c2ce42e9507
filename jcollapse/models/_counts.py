"""Count statistics shared by the discrete families (categorical, later Markov chains)."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ._base import AbstractStatistics


class CountStatistics(AbstractStatistics):
    """Weighted counts per cell (category, or transition when flattened).

    Merging adds the counts and reweighting multiplies them, exactly what a weighted
    union of samples does. Counts of 0/1-weighted samples are integers, exact in float32
    up to ``2^24`` whatever the order of the additions.

    **Fields:**

    - `counts`: shape ``[cells]`` (the empty sample is all zeros).

    ```python
    >>> import jax.numpy as jnp
    >>> CountStatistics(jnp.array([1.0, 2.0])).merge(CountStatistics(jnp.array([0.0, 3.0]))).counts
    Array([1., 5.], dtype=float32)

    ```
    """

    counts: Float[Array, " cells"]

    @classmethod
    def of(cls, indices: Int[Array, " n"], weights: Float[Array, " n"], cells: int) -> "CountStatistics":
        """The weighted counts of integer ``indices`` in ``range(cells)``.

        **Arguments:**

        - `indices`: integer samples, shape ``[n]``, each in ``[0, cells)``.
        - `weights`: shape ``[n]``; zero drops a sample.
        - `cells`: the number of cells (static).

        **Returns:**

        :class:`CountStatistics` with ``counts[j] = sum of weights[i] where indices[i] == j``
        (a scatter-add: exact for 0/1 weights, in any order).

        ```python
        >>> import jax.numpy as jnp
        >>> CountStatistics.of(jnp.array([0, 2, 2, 1]), jnp.array([1.0, 1.0, 1.0, 0.0]), 3).counts
        Array([1., 0., 2.], dtype=float32)

        ```
        """
        return cls(jnp.zeros(cells, weights.dtype).at[indices].add(weights))

    def merge(self, other: "CountStatistics") -> "CountStatistics":
        """The counts of the union: ``self.counts + other.counts`` (see the class example)."""
        return CountStatistics(self.counts + other.counts)

    def reweight(self, weight: Float[Array, ""]) -> "CountStatistics":
        """Every sample's weight multiplied by ``weight``.

        ```python
        >>> import jax.numpy as jnp
        >>> CountStatistics(jnp.array([2.0, 4.0])).reweight(jnp.float32(0.5)).counts
        Array([1., 2.], dtype=float32)

        ```
        """
        return CountStatistics(weight * self.counts)
