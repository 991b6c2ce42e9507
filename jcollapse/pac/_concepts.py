"""Concept classes on the domain ``[0, 1]`` with ``D`` uniform: :class:`Threshold` and
:class:`Interval`.

A concept class is an ``eqx.Module`` of static structure (it has no fields); a concept in
it is a separate parameter pytree of scalar arrays. Errors are exact: ``err(f) =
P_{x ~ U[0, 1]}(f(x) != f*(x))`` in closed form, never by sampling.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ..internal.validation import as_finite_array, to_device

Params = Any


def _unit_scalar(name: str, value, low: float = 0.0, high: float = 1.0) -> float:
    """``value`` as a float after checking it is finite and in ``[low, high]``."""
    number = float(as_finite_array(name, value, ()))
    if not low <= number <= high:
        raise ValueError(f"{name} must be in [{low:g}, {high:g}]; got {number!r}")
    return number


class ThresholdParams(eqx.Module):
    """A threshold concept ``f(x) = 1[x >= theta]``.

    **Fields:**

    - `theta`: scalar in ``[0, 1]``.

    ```python
    >>> Threshold().params(theta=0.25).theta
    Array(0.25, dtype=float32)

    ```
    """

    theta: Float[Array, ""]


class IntervalParams(eqx.Module):
    """An interval concept ``f(x) = 1[left <= x <= right]``.

    **Fields:**

    - `left`, `right`: scalars with ``0 <= left <= right <= 1``.

    ```python
    >>> p = Interval().params(left=0.2, right=0.7)
    >>> float(p.right - p.left)
    0.5

    ```
    """

    left: Float[Array, ""]
    right: Float[Array, ""]


class AbstractConcept(eqx.Module):
    """A concept class on ``[0, 1]``: static structure plus pure functions of its params.

    Subclasses provide `vc_dim`, `params_type` and the three methods below; the learners
    in :mod:`jcollapse.pac` dispatch on the concrete class.
    """

    vc_dim: ClassVar[int]
    params_type: ClassVar[type]

    @abc.abstractmethod
    def params(self, **fields) -> Params:
        """Validate ``fields`` on the host and return the parameter pytree."""

    @abc.abstractmethod
    def label(self, params: Params, x: Float[Array, "*shape"]) -> Bool[Array, "*shape"]:
        """The concept's labels ``f(x)``."""

    @abc.abstractmethod
    def error(self, params: Params, truth: Params) -> Float[Array, ""]:
        """The exact error ``P_{x ~ U[0, 1]}(f(x) != f*(x))``."""


class Threshold(AbstractConcept):
    """Thresholds ``f_theta(x) = 1[x >= theta]``, ``theta in [0, 1]`` (VC dimension 1).

    ```python
    >>> import jax.numpy as jnp
    >>> concept = Threshold()
    >>> truth = concept.params(theta=0.3)
    >>> concept.label(truth, jnp.array([0.1, 0.3, 0.9]))
    Array([False,  True,  True], dtype=bool)
    >>> round(float(concept.error(concept.params(theta=0.5), truth)), 6)
    0.2

    ```
    """

    vc_dim: ClassVar[int] = 1
    params_type: ClassVar[type] = ThresholdParams

    def params(self, *, theta) -> ThresholdParams:
        """Validated threshold concept.

        **Arguments:**

        - `theta`: a finite number in ``[0, 1]``.

        **Returns:**

        :class:`ThresholdParams`.

        **Raises:**

        `ValueError` naming `theta` when it is NaN, infinite or outside ``[0, 1]``.

        ```python
        >>> Threshold().params(theta=1.5)
        Traceback (most recent call last):
        ...
        ValueError: theta must be in [0, 1]; got 1.5

        ```
        """
        return ThresholdParams(to_device(_unit_scalar("theta", theta)))

    def label(self, params: ThresholdParams, x: Float[Array, "*shape"]) -> Bool[Array, "*shape"]:
        """Labels ``1[x >= theta]``.

        **Arguments:**

        - `params`: :class:`ThresholdParams`.
        - `x`: points, any shape.

        **Returns:**

        Boolean array of the shape of `x`.

        ```python
        >>> import jax.numpy as jnp
        >>> Threshold().label(Threshold().params(theta=0.5), jnp.array([0.4, 0.6]))
        Array([False,  True], dtype=bool)

        ```
        """
        return x >= params.theta

    def error(self, params: ThresholdParams, truth: ThresholdParams) -> Float[Array, ""]:
        """Exact error ``|theta - theta*|``.

        **Arguments:**

        - `params`: the classifier.
        - `truth`: the true concept.

        **Returns:**

        Scalar error in ``[0, 1]``.

        ```python
        >>> c = Threshold()
        >>> round(float(c.error(c.params(theta=0.1), c.params(theta=0.4))), 6)
        0.3

        ```
        """
        return jnp.abs(params.theta - truth.theta)


class Interval(AbstractConcept):
    """Intervals ``f_{l,r}(x) = 1[l <= x <= r]``, ``0 <= l <= r <= 1`` (VC dimension 2).

    ```python
    >>> import jax.numpy as jnp
    >>> concept = Interval()
    >>> truth = concept.params(left=0.2, right=0.7)
    >>> concept.label(truth, jnp.array([0.1, 0.5, 0.9]))
    Array([False,  True, False], dtype=bool)

    ```
    """

    vc_dim: ClassVar[int] = 2
    params_type: ClassVar[type] = IntervalParams

    def params(self, *, left, right) -> IntervalParams:
        """Validated interval concept ``[left, right]``.

        **Arguments:**

        - `left`: a finite number in ``[0, 1]``.
        - `right`: a finite number in ``[left, 1]``.

        **Returns:**

        :class:`IntervalParams`.

        **Raises:**

        `ValueError` naming the field when it is NaN, infinite or out of range.

        ```python
        >>> Interval().params(left=0.6, right=0.5)
        Traceback (most recent call last):
        ...
        ValueError: right must be in [0.6, 1]; got 0.5

        ```
        """
        low = _unit_scalar("left", left)
        high = _unit_scalar("right", right, low, 1.0)
        return IntervalParams(to_device(low), to_device(high))

    def label(self, params: IntervalParams, x: Float[Array, "*shape"]) -> Bool[Array, "*shape"]:
        """Labels ``1[left <= x <= right]``.

        **Arguments:**

        - `params`: :class:`IntervalParams`.
        - `x`: points, any shape.

        **Returns:**

        Boolean array of the shape of `x`.

        ```python
        >>> import jax.numpy as jnp
        >>> Interval().label(Interval().params(left=0.2, right=0.4), jnp.array([0.3, 0.5]))
        Array([ True, False], dtype=bool)

        ```
        """
        return (params.left <= x) & (x <= params.right)

    def error(self, params: IntervalParams, truth: IntervalParams) -> Float[Array, ""]:
        """Exact error ``|I xor I*| = len(I) + len(I*) - 2 len(I ∩ I*)`` (also when disjoint).

        **Arguments:**

        - `params`: the classifier.
        - `truth`: the true concept.

        **Returns:**

        Scalar error in ``[0, 1]``.

        ```python
        >>> c = Interval()
        >>> round(float(c.error(c.params(left=0.0, right=0.1), c.params(left=0.5, right=0.7))), 6)
        0.3

        ```
        """
        overlap = jnp.maximum(
            jnp.minimum(params.right, truth.right) - jnp.maximum(params.left, truth.left), 0
        )
        return (params.right - params.left) + (truth.right - truth.left) - 2 * overlap
