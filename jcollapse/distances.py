"""Distances between a fitted generator and the truth, measured through samples.

Each function is pure, traceable and vmappable, and sums in a fixed order
(:func:`jcollapse.internal.reduce.pairwise_sum`), so a seed's value does not depend on how
many seeds run beside it. Their costs are ``O(m n dim)`` for ``m`` and ``n`` points: the
learned families call them on a few hundred points per generation.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .internal.reduce import pairwise_sum


def squared_distances(x: Float[Array, "m dim"], y: Float[Array, "n dim"]) -> Float[Array, "m n"]:
    """``||x_i - y_j||^2`` for every pair, from the differences (not ``|x|^2 + |y|^2 - 2 x.y``,
    which cancels in float32 for nearby points far from the origin).

    ```python
    >>> import jax.numpy as jnp
    >>> squared_distances(jnp.array([[0.0, 0.0]]), jnp.array([[3.0, 4.0], [0.0, 1.0]]))
    Array([[25.,  1.]], dtype=float32)

    ```
    """
    return pairwise_sum(jnp.moveaxis((x[:, None, :] - y[None, :, :]) ** 2, -1, 0))


def _mean_off_diagonal(kernel: Float[Array, "m m"]) -> Float[Array, ""]:
    m = kernel.shape[0]
    off = jnp.where(jnp.eye(m, dtype=bool), 0, kernel)
    return pairwise_sum(pairwise_sum(off)) / (m * (m - 1))


def mmd2(x: Float[Array, "m dim"], y: Float[Array, "n dim"], bandwidth: float) -> Float[Array, ""]:
    """The unbiased estimate of the squared maximum mean discrepancy between the laws of ``x``
    and ``y`` with the Gaussian kernel ``k(a, b) = exp(-||a - b||^2 / (2 bandwidth^2))``
    (Gretton et al. 2012, eq. 3): the mean of ``k`` over distinct pairs within ``x`` plus
    that within ``y``, minus twice the mean over pairs across. It can be slightly negative
    when the laws are equal.

    **Arguments:**

    - `x`, `y`: samples, ``m, n >= 2`` points each.
    - `bandwidth`: the kernel's length scale, ``> 0``.

    **Returns:**

    A scalar.

    ```python
    >>> import jax
    >>> x = jax.random.normal(jax.random.key(0), (200, 2))
    >>> y = jax.random.normal(jax.random.key(1), (200, 2)) + 3.0
    >>> float(mmd2(x, y, 1.0)) > 0.5
    True

    ```
    """
    scale = -0.5 / jnp.square(bandwidth)
    within_x = _mean_off_diagonal(jnp.exp(scale * squared_distances(x, x)))
    within_y = _mean_off_diagonal(jnp.exp(scale * squared_distances(y, y)))
    across = pairwise_sum(pairwise_sum(jnp.exp(scale * squared_distances(x, y)))) / (x.shape[0] * y.shape[0])
    return within_x + within_y - 2 * across


def sliced_w2(key: PRNGKeyArray, x: Float[Array, "n dim"], y: Float[Array, "n dim"],
              projections: int = 64) -> Float[Array, ""]:
    """The sliced squared 2-Wasserstein distance between two samples of equal size: the mean
    over ``projections`` random unit directions ``u`` of the squared W2 distance between the
    projected samples, which in one dimension pairs the sorted values:
    ``mean_u mean_i (sort(x u)_i - sort(y u)_i)^2`` (Bonneel et al. 2015).

    **Arguments:**

    - `key`: the directions' key (the same key gives the same directions).
    - `x`, `y`: samples of the same number of points.
    - `projections`: the number of directions (static).

    **Returns:**

    A scalar ``>= 0``; zero for two equal samples in any order.

    ```python
    >>> import jax
    >>> x = jax.random.normal(jax.random.key(0), (500, 2))
    >>> shifted = x + jax.numpy.array([[1.0, 0.0]])
    >>> abs(float(sliced_w2(jax.random.key(1), x, shifted, projections=4096)) - 0.5) < 0.03  # E u_1^2 = 1/2
    True

    ```
    """
    if x.shape != y.shape:
        raise ValueError(f"sliced_w2 needs samples of equal shape; got {x.shape} and {y.shape}")
    directions = jax.random.normal(key, (projections, x.shape[1]), x.dtype)
    directions = directions / jnp.sqrt(pairwise_sum(directions.T**2))[:, None]
    project = lambda points: jnp.sort(pairwise_sum(jnp.moveaxis(points[None, :, :] * directions[:, None, :], -1, 0)),
                                      axis=1)
    squared = (project(x) - project(y)) ** 2
    return pairwise_sum(pairwise_sum(squared.T)) / (projections * x.shape[0])


def _kth_neighbour_radius(points: Float[Array, "n dim"], k: int) -> Float[Array, " n"]:
    """The squared distance from each point to its ``k``-th nearest other point of the sample."""
    distances = squared_distances(points, points)
    rows = jnp.arange(points.shape[0])

    def drop_nearest(distances, _):  # k + 1 passes of a row minimum: a sort or top_k of every
        nearest = jnp.argmin(distances, axis=1)  # row costs tens of times more on the CPU
        return distances.at[rows, nearest].set(jnp.inf), distances[rows, nearest]

    _, smallest = jax.lax.scan(drop_nearest, distances, None, k + 1)
    return smallest[k]  # smallest[0] is the point itself


def knn_precision_recall(generated: Float[Array, "m dim"], real: Float[Array, "n dim"],
                         k: int = 5) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), as the "go MAD" paper uses them.

    Each sample's support is estimated by balls around its points whose radius is the distance
    to the point's ``k``-th nearest neighbour in the same sample. Precision is the share of
    generated points inside the real support; recall the share of real points inside the
    generated support.

    **Arguments:**

    - `generated`, `real`: samples of ``> k`` points each.
    - `k`: the neighbour defining a ball's radius (5 in the paper).

    **Returns:**

    ``(precision, recall)``, each in ``[0, 1]``.

    ```python
    >>> import jax
    >>> x = jax.random.normal(jax.random.key(0), (300, 2))
    >>> precision, recall = knn_precision_recall(0.1 * x, x)  # a collapsed generator
    >>> float(precision) > 0.9, float(recall) < 0.5
    (True, True)

    ```
    """
    inside = lambda points, centres, radii: jnp.any(squared_distances(points, centres) <= radii[None, :], axis=1)
    precision = jnp.mean(inside(generated, real, _kth_neighbour_radius(real, k)).astype(generated.dtype))
    recall = jnp.mean(inside(real, generated, _kth_neighbour_radius(generated, k)).astype(generated.dtype))
    return precision, recall


def mode_counts(points: Float[Array, "n dim"], means: Float[Array, "K dim"]) -> Float[Array, " K"]:
    """How many points lie nearest to each mode (``means`` of a mixture truth).

    ```python
    >>> import jax.numpy as jnp
    >>> mode_counts(jnp.array([[0.1], [0.2], [2.9]]), jnp.array([[0.0], [3.0], [9.0]]))
    Array([2., 1., 0.], dtype=float32)

    ```
    """
    nearest = jnp.argmin(squared_distances(points, means), axis=1)
    return pairwise_sum((nearest[:, None] == jnp.arange(means.shape[0])[None, :]).astype(points.dtype))


def mode_coverage(points: Float[Array, "n dim"], means: Float[Array, "K dim"],
                  min_share: float) -> Float[Array, ""]:
    """The share of modes holding at least ``min_share`` of the points (nearest-mode assignment);
    ``1 -`` it is the share of modes lost.

    ```python
    >>> import jax.numpy as jnp
    >>> float(mode_coverage(jnp.array([[0.1], [0.2], [2.9]]), jnp.array([[0.0], [3.0], [9.0]]), 0.2))
    0.6666666865348816

    ```
    """
    counts = mode_counts(points, means)
    return jnp.mean((counts >= min_share * points.shape[0]).astype(points.dtype))


def tail_mass(points: Float[Array, "n dim"], centre: Float[Array, " dim"], radius: float) -> Float[Array, ""]:
    """The share of points farther than ``radius`` from ``centre``.

    ```python
    >>> import jax.numpy as jnp
    >>> float(tail_mass(jnp.array([[0.0], [1.0], [4.0], [-5.0]]), jnp.zeros(1), 3.0))
    0.5

    ```
    """
    far = squared_distances(points, centre[None, :])[:, 0] > radius**2
    return jnp.mean(far.astype(points.dtype))


def gaussian_log_density(x: Float[Array, "... dim"], mean: Float[Array, "... dim"],
                         cov: Float[Array, "... dim dim"]) -> Float[Array, "..."]:
    """``log N(x; mean, cov)``, broadcast over the leading axes of the three (of equal rank),
    through a Cholesky factor of each covariance (which must be non-singular).

    ```python
    >>> import jax.numpy as jnp
    >>> round(float(gaussian_log_density(jnp.zeros(1), jnp.zeros(1), jnp.ones((1, 1)))), 4)  # -log(2 pi) / 2
    -0.9189

    ```
    """
    chol = jnp.linalg.cholesky(cov)
    # Invert each factor once (a triangular solve against the identity, in the covariances'
    # own batch shape) and multiply: a solve broadcast against every point would run one
    # small LAPACK call per point and component, several times slower on the CPU.
    eye = jnp.broadcast_to(jnp.eye(cov.shape[-1], dtype=cov.dtype), cov.shape)
    inverse = jax.scipy.linalg.solve_triangular(chol, eye, lower=True)
    solved = jnp.einsum("...ij,...j->...i", inverse, x - mean)
    log_det = 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * (jnp.sum(solved**2, axis=-1) + log_det + x.shape[-1] * math.log(2 * math.pi))


def mixture_joint_log_densities(x: Float[Array, "n dim"], weights: Float[Array, " K"], means: Float[Array, "K dim"],
                                covs: Float[Array, "K dim dim"]) -> Float[Array, "n K"]:
    """``log weights[k] + log N(x_i; means[k], covs[k])`` for every point and component of a
    Gaussian mixture: its log-density is their ``logsumexp`` over ``k``, and EM's
    responsibilities are their softmax.

    ```python
    >>> import jax.numpy as jnp
    >>> mixture_joint_log_densities(jnp.zeros((3, 1)), jnp.ones(2) / 2, jnp.zeros((2, 1)), jnp.ones((2, 1, 1))).shape
    (3, 2)

    ```
    """
    return gaussian_log_density(x[:, None, :], means[None], covs[None]) + jnp.log(weights)[None]


def _gaussian_overlaps(means_a, covs_a, means_b, covs_b) -> Float[Array, "K L"]:
    """``N(a_i; b_j, A_i + B_j)`` for every pair: the integral of the product of two Gaussians."""
    return jnp.exp(gaussian_log_density(means_a[:, None], means_b[None], covs_a[:, None] + covs_b[None]))


def mixture_l2(weights_p, means_p, covs_p, weights_q, means_q, covs_q) -> Float[Array, ""]:
    """The squared L2 distance ``int (p - q)^2`` between two Gaussian mixtures, exactly: with
    ``int N(x; a, A) N(x; b, B) dx = N(a; b, A + B)``, it is
    ``w^T O_pp w + v^T O_qq v - 2 w^T O_pq v`` for the overlap matrices ``O`` (Shumailov et
    al.'s metric for the GMM recursion).

    **Arguments:**

    - `weights_p`, `means_p`, `covs_p`: ``[K]``, ``[K, dim]``, ``[K, dim, dim]``.
    - `weights_q`, `means_q`, `covs_q`: the same for ``q``, with ``L`` components.

    **Returns:**

    A scalar ``>= 0`` (up to rounding).

    ```python
    >>> import jax.numpy as jnp
    >>> one = (jnp.ones(1), jnp.zeros((1, 1)), jnp.ones((1, 1, 1)))
    >>> float(mixture_l2(*one, *one))
    0.0

    ```
    """
    o_pp = _gaussian_overlaps(means_p, covs_p, means_p, covs_p)
    o_qq = _gaussian_overlaps(means_q, covs_q, means_q, covs_q)
    o_pq = _gaussian_overlaps(means_p, covs_p, means_q, covs_q)
    return weights_p @ o_pp @ weights_p + weights_q @ o_qq @ weights_q - 2 * weights_p @ o_pq @ weights_q
