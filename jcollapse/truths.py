"""Truths that are laws, not parameter sets: the data of the learned-generator experiments.

A closed-form family (a Gaussian, a categorical) is fitted to its own kind of truth. A learned
generator (a kernel density estimate, a Gaussian mixture, a diffusion model) is fitted to
data from a law it cannot represent exactly: two moons, a swiss roll, a grid of modes. A truth
here is an ``eqx.Module`` whose arrays are data to the compiled program, with

- ``sample(key, n) -> [n, dim]``: ``n`` i.i.d. points (``n`` static, traceable, vmappable);
- ``dim``: the dimension of a point.

:class:`GaussianMixture` also has its exact ``log_density``, and its constructors give the
usual shapes (one Gaussian, a ring of modes, a grid of modes, blobs). :class:`TwoMoons`,
:class:`Circles` and :class:`SwissRoll` are the scikit-learn data sets as random laws: where
scikit-learn spaces the curve parameter evenly and splits the points evenly between the
parts, these draw both at random, so ``n`` points are i.i.d.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .distances import mixture_joint_log_densities, mixture_l2, mode_coverage
from .internal.validation import as_finite_array, check_count, check_number, mixture_arrays, to_device


class AbstractTruth(eqx.Module):
    """A law to draw real data from (see the module docstring)."""

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """The dimension of one point."""

    @abc.abstractmethod
    def sample(self, key: PRNGKeyArray, n: int) -> Float[Array, "n dim"]:
        """``n`` i.i.d. points."""

    def sample_metrics(self, generated: Float[Array, "n dim"]) -> dict[str, Array]:
        """Metrics of points drawn from a fit that only this law defines (a mixture's modes);
        none by default. The learned families add them to every generation's metrics."""
        return {}


#: A mode counts as covered when it holds at least this share of its fair share ``1/K`` of
#: the points (nearest-mode assignment): ``mode_coverage`` with ``min_share = 0.25 / K``.
COVERED_SHARE = 0.25


class GaussianMixture(AbstractTruth):
    """A mixture of ``K`` Gaussians in ``dim`` dimensions.

    **Arguments:**

    - `weights`: ``[K]``, non-negative, summing to 1 (within ``1e-6``).
    - `means`: ``[K, dim]``.
    - `covs`: ``[K, dim, dim]``, each symmetric positive semi-definite.

    **Raises:**

    `ValueError` naming the field for a wrong shape, a non-finite entry, negative weights or
    weights that do not sum to 1, or a covariance that is not PSD.

    ```python
    >>> import jax
    >>> truth = GaussianMixture(weights=[0.5, 0.5], means=[[-2.0], [2.0]], covs=[[[1.0]], [[1.0]]])
    >>> truth.sample(jax.random.key(0), 5).shape
    (5, 1)

    ```
    """

    weights: Float[Array, " K"]
    means: Float[Array, "K dim"]
    covs: Float[Array, "K dim dim"]
    factors: Float[Array, "K dim dim"]

    def __init__(self, weights, means, covs):
        arrays = mixture_arrays(weights, means, covs)
        self.weights, self.means, self.covs, self.factors = map(to_device, arrays)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def num_components(self) -> int:
        """``K``."""
        return self.means.shape[0]

    @classmethod
    def gaussian(cls, mean, cov) -> "GaussianMixture":
        """One Gaussian ``N(mean, cov)`` as a one-component mixture.

        ```python
        >>> GaussianMixture.gaussian(mean=[0.0, 0.0], cov=[[1.0, 0.0], [0.0, 1.0]]).dim
        2

        ```
        """
        mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        return cls(weights=[1.0], means=mean[None], covs=np.asarray(cov, dtype=np.float64)[None])

    @classmethod
    def ring(cls, num_modes: int, radius: float = 1.0, std: float = 0.05) -> "GaussianMixture":
        """``num_modes`` equally weighted isotropic modes evenly spaced on a circle of ``radius``.

        ```python
        >>> GaussianMixture.ring(8, radius=2.0, std=0.02).means.shape
        (8, 2)

        ```
        """
        num_modes = check_count("num_modes", num_modes, 1)
        radius, std = check_number("radius", radius), check_number("std", std)
        angles = 2 * np.pi * np.arange(num_modes) / num_modes
        means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return cls.isotropic(means, std)

    @classmethod
    def grid(cls, side: int, spacing: float = 1.0, std: float = 0.05) -> "GaussianMixture":
        """``side x side`` equally weighted isotropic modes on a square grid centred at 0
        (``side = 5`` is the 25-mode grid of the "go MAD" experiments).

        ```python
        >>> GaussianMixture.grid(5, spacing=2.0).num_components
        25

        ```
        """
        side = check_count("side", side, 1)
        spacing, std = check_number("spacing", spacing), check_number("std", std)
        axis = spacing * (np.arange(side) - (side - 1) / 2)
        means = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
        return cls.isotropic(means, std)

    @classmethod
    def isotropic(cls, means, std: float = 1.0) -> "GaussianMixture":
        """Equally weighted modes ``N(means[k], std^2 I)`` (scikit-learn's blobs, as a law).

        ```python
        >>> GaussianMixture.isotropic([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]], std=1.0).num_components
        3

        ```
        """
        means = np.asarray(means, dtype=np.float64)
        if means.ndim != 2:
            raise ValueError(f"means must have shape [K, dim]; got shape {means.shape}")
        k, dim = means.shape
        std = check_number("std", std)
        return cls(weights=np.full(k, 1 / k), means=means, covs=np.broadcast_to(std**2 * np.eye(dim), (k, dim, dim)))

    def covariance(self) -> np.ndarray:
        """The mixture's covariance (float64, on the host): ``sum_k w_k (C_k + m_k m_k^T) - m m^T``
        with ``m = sum_k w_k m_k`` (the law of total covariance).

        ```python
        >>> GaussianMixture.isotropic([[-1.0], [1.0]], std=0.5).covariance()
        array([[1.25]])

        ```
        """
        weights, means, covs = (np.asarray(x, np.float64) for x in (self.weights, self.means, self.covs))
        mean = weights @ means
        second = np.einsum("k,kij->ij", weights, covs + means[:, :, None] * means[:, None, :])
        return second - np.outer(mean, mean)

    def sample(self, key, n: int) -> Float[Array, "n dim"]:
        key_component, key_noise = jax.random.split(key)
        component = jax.random.choice(key_component, self.num_components, (n,), p=self.weights)
        z = jax.random.normal(key_noise, (n, self.dim), dtype=self.means.dtype)
        return self.means[component] + jnp.einsum("nij,nj->ni", self.factors[component], z)

    def log_density(self, x: Float[Array, "m dim"]) -> Float[Array, " m"]:
        """The exact log density at each row of ``x`` (every covariance must be non-singular).

        ```python
        >>> import jax.numpy as jnp
        >>> truth = GaussianMixture.gaussian(mean=[0.0], cov=[[1.0]])
        >>> round(float(truth.log_density(jnp.zeros((1, 1)))[0]), 4)  # -log(2 pi) / 2
        -0.9189

        ```
        """
        joint = mixture_joint_log_densities(x, self.weights, self.means, self.covs)
        return jax.scipy.special.logsumexp(joint, axis=1)

    def l2_distance(self, weights, means, covs) -> Float[Array, ""]:
        """``int (p - q)^2`` between this law ``p`` and the mixture ``q`` of `weights`, `means`,
        `covs` (:func:`jcollapse.distances.mixture_l2`; every covariance non-singular).

        ```python
        >>> truth = GaussianMixture.gaussian(mean=[0.0], cov=[[1.0]])
        >>> float(truth.l2_distance(truth.weights, truth.means, truth.covs))
        0.0

        ```
        """
        return mixture_l2(self.weights, self.means, self.covs, weights, means, covs)

    def sample_metrics(self, generated: Float[Array, "n dim"]) -> dict[str, Array]:
        """With two modes or more, ``mode_coverage``: the share of modes holding at least
        :data:`COVERED_SHARE` ``/ K`` of the generated points (:func:`jcollapse.distances.mode_coverage`).

        ```python
        >>> import jax
        >>> truth = GaussianMixture.ring(4, radius=2.0, std=0.05)
        >>> float(truth.sample_metrics(truth.sample(jax.random.key(0), 400))["mode_coverage"])
        1.0

        ```
        """
        if self.num_components < 2:
            return {}
        return {"mode_coverage": mode_coverage(generated, self.means, COVERED_SHARE / self.num_components)}


class AbstractNoisyShape(AbstractTruth):
    """Points on a shape plus ``N(0, noise^2 I)``: ``sample = points(key, n) + noise * Z``."""

    noise: Float[Array, ""]
    dimension: ClassVar[int]

    def __init__(self, noise: float = 0.0):
        self.noise = to_device(np.asarray(check_number("noise", noise)))

    @property
    def dim(self) -> int:
        return self.dimension

    @abc.abstractmethod
    def points(self, key: PRNGKeyArray, n: int) -> Float[Array, "n dim"]:
        """``n`` i.i.d. points on the shape, before the noise."""

    def sample(self, key, n: int) -> Float[Array, "n dim"]:
        key_points, key_noise = jax.random.split(key)
        noise = jax.random.normal(key_noise, (n, self.dimension), self.noise.dtype)
        return self.points(key_points, n) + self.noise * noise


class TwoMoons(AbstractNoisyShape):
    """scikit-learn's two interleaving half circles, as a law: a moon chosen with probability
    1/2, the angle ``s ~ U(0, pi)``; the upper moon is ``(cos s, sin s)``, the lower
    ``(1 - cos s, 1/2 - sin s)``; plus ``N(0, noise^2 I)``.

    ```python
    >>> import jax
    >>> TwoMoons(noise=0.1).sample(jax.random.key(0), 4).shape
    (4, 2)

    ```
    """

    dimension: ClassVar[int] = 2

    def points(self, key, n: int) -> Float[Array, "n 2"]:
        key_moon, key_angle = jax.random.split(key)
        lower = jax.random.bernoulli(key_moon, 0.5, (n,))
        s = jnp.pi * jax.random.uniform(key_angle, (n,), dtype=self.noise.dtype)
        x = jnp.where(lower, 1 - jnp.cos(s), jnp.cos(s))
        y = jnp.where(lower, 0.5 - jnp.sin(s), jnp.sin(s))
        return jnp.stack([x, y], axis=1)


class Circles(AbstractNoisyShape):
    """scikit-learn's concentric circles, as a law: the outer circle (radius 1) or the inner
    (radius ``factor``) with probability 1/2, the angle ``U(0, 2 pi)``, plus ``N(0, noise^2 I)``.

    ```python
    >>> import jax
    >>> Circles(noise=0.05, factor=0.5).sample(jax.random.key(0), 3).shape
    (3, 2)

    ```
    """

    factor: Float[Array, ""]
    dimension: ClassVar[int] = 2

    def __init__(self, noise: float = 0.0, factor: float = 0.8):
        factor = float(as_finite_array("factor", factor, ()))
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1); got {factor!r}")
        super().__init__(noise)
        self.factor = to_device(np.asarray(factor))

    def points(self, key, n: int) -> Float[Array, "n 2"]:
        key_circle, key_angle = jax.random.split(key)
        radius = jnp.where(jax.random.bernoulli(key_circle, 0.5, (n,)), self.factor, 1.0)
        s = 2 * jnp.pi * jax.random.uniform(key_angle, (n,), dtype=self.noise.dtype)
        return radius[:, None] * jnp.stack([jnp.cos(s), jnp.sin(s)], axis=1)


class SwissRoll(AbstractNoisyShape):
    """scikit-learn's swiss roll (3-D): ``s = 3 pi / 2 (1 + 2u)``, ``u ~ U(0, 1)``, the point
    ``(s cos s, 21 v, s sin s)`` with ``v ~ U(0, 1)``, plus ``N(0, noise^2 I)``.

    ```python
    >>> import jax
    >>> SwissRoll(noise=0.1).sample(jax.random.key(0), 3).shape
    (3, 3)

    ```
    """

    dimension: ClassVar[int] = 3

    def points(self, key, n: int) -> Float[Array, "n 3"]:
        key_roll, key_height = jax.random.split(key)
        s = 1.5 * jnp.pi * (1 + 2 * jax.random.uniform(key_roll, (n,), dtype=self.noise.dtype))
        height = 21 * jax.random.uniform(key_height, (n,), dtype=self.noise.dtype)
        return jnp.stack([s * jnp.cos(s), height, s * jnp.sin(s)], axis=1)


#: Every truth by the name a configuration file gives it (``[truth] law = "..."``).
LAWS = {
    "GaussianMixture": GaussianMixture,
    "gaussian": GaussianMixture.gaussian,
    "ring": GaussianMixture.ring,
    "grid": GaussianMixture.grid,
    "isotropic": GaussianMixture.isotropic,
    "TwoMoons": TwoMoons,
    "Circles": Circles,
    "SwissRoll": SwissRoll,
}


def law(name: str, **arguments) -> AbstractTruth:
    """The truth called `name` in :data:`LAWS`, made from `arguments`.

    **Raises:**

    `ValueError` naming the known laws, or the law's own `ValueError` for its arguments.

    ```python
    >>> law("ring", num_modes=8, radius=2.0).num_components
    8
    >>> law("moons")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: law must be one of GaussianMixture, gaussian, ring, ..., SwissRoll; got 'moons'

    ```
    """
    if name not in LAWS:
        raise ValueError(f"law must be one of {', '.join(LAWS)}; got {name!r}")
    try:
        return LAWS[name](**arguments)
    except TypeError as error:
        raise ValueError(f"{name}: {error}") from None
