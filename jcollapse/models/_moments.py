"""Moment statistics shared by the Gaussian family: count, mean and scatter matrix.

Merging uses Chan, Golub & LeVeque's parallel update, which never forms raw second
moments: after collapse the variance is many orders of magnitude below the squared mean,
and ``E[xx^T] - mm^T`` would cancel catastrophically in float32.
"""

from __future__ import annotations

from typing import Optional

import jax.numpy as jnp
from jaxtyping import Array, Float

from ..internal.reduce import count_ones, pairwise_sum
from ..internal.special import safe_divide
from ._base import AbstractStatistics


class MomentStatistics(AbstractStatistics):
    """Weighted count, mean and (optionally) scatter matrix ``sum w (x - m)(x - m)^T``.

    **Fields:**

    - `count`: total weight (the sample size for unit weights).
    - `mean`: weighted mean, shape ``[dim]`` (zero for an empty sample).
    - `scatter`: ``[dim, dim]`` scatter about the mean, or ``None`` when only the mean
      is needed.
    """

    count: Float[Array, ""]
    mean: Float[Array, " dim"]
    scatter: Optional[Float[Array, "dim dim"]] = None

    @classmethod
    def of(cls, x: Float[Array, "n dim"], weights: Float[Array, " n"], scatter: bool) -> "MomentStatistics":
        """Statistics of the rows of ``x`` with the given weights.

        ```python
        >>> import jax.numpy as jnp
        >>> s = MomentStatistics.of(jnp.array([[1.0], [3.0]]), jnp.ones(2), scatter=True)
        >>> float(s.mean[0]), float(s.scatter[0, 0])
        (2.0, 2.0)

        ```
        """
        count = count_ones(weights)
        mean = safe_divide(pairwise_sum(weights[:, None] * x), count)
        if not scatter:
            return cls(count, mean)
        centred = x - mean[None, :]
        outer = weights[:, None, None] * centred[:, :, None] * centred[:, None, :]
        return cls(count, mean, pairwise_sum(outer))

    def merge(self, other: "MomentStatistics") -> "MomentStatistics":
        """The statistics of the union (Chan et al.'s parallel update).

        ```python
        >>> import jax.numpy as jnp
        >>> a = MomentStatistics.of(jnp.array([[1.0]]), jnp.ones(1), scatter=True)
        >>> b = MomentStatistics.of(jnp.array([[3.0]]), jnp.ones(1), scatter=True)
        >>> m = a.merge(b)
        >>> float(m.count), float(m.mean[0]), float(m.scatter[0, 0])
        (2.0, 2.0, 2.0)

        ```
        """
        count = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + safe_divide(other.count, count) * delta
        if self.scatter is None:
            return MomentStatistics(count, mean)
        cross = safe_divide(self.count * other.count, count)
        scatter = self.scatter + other.scatter + cross * jnp.outer(delta, delta)
        return MomentStatistics(count, mean, scatter)

    def reweight(self, weight: Float[Array, ""]) -> "MomentStatistics":
        """Every sample's weight multiplied by ``weight`` (the mean is unchanged).

        ```python
        >>> import jax.numpy as jnp
        >>> s = MomentStatistics.of(jnp.array([[1.0], [3.0]]), jnp.ones(2), scatter=False)
        >>> float(s.reweight(jnp.float32(0.5)).count)
        1.0

        ```
        """
        scatter = None if self.scatter is None else weight * self.scatter
        return MomentStatistics(weight * self.count, self.mean, scatter)
