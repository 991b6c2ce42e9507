"""Learners for the concept classes of :mod:`._concepts`: exact ERM and the disagreement
learner. Pure functions of fixed shapes (no data-dependent shapes, no while loops), so they
``vmap`` over seeds and run inside ``lax.scan``. Every reduction is exact (integer cumsums,
max/min, sort), so a lane's result never depends on the vmap batch size.
"""

from __future__ import annotations

from typing import Optional

import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Float, Int

from ._concepts import AbstractConcept, Interval, IntervalParams, Params, Threshold, ThresholdParams

_FAR = 2**30  # an integer score no real cut reaches (|score| <= number of points < 2**30)


def sorted_points(x: Float[Array, " N"], labels: Bool[Array, " N"], mask: Optional[Bool[Array, " N"]] = None):
    """Points sorted by position, as ``(keys, signs)``: ``signs`` is +1 for label 1, -1 for
    label 0 and 0 for masked slots, which get key 1.0 and so sort last."""
    if mask is None:
        mask = jnp.ones(x.shape, bool)
    keys = jnp.where(mask, x, jnp.ones((), x.dtype))
    signs = jnp.where(mask, jnp.where(labels, 1, -1), 0).astype(jnp.int32)
    return lax.sort((keys, signs), num_keys=1)


def merge_points(
    keys: Float[Array, " N"], signs: Int[Array, " N"], x: Float[Array, " n"], labels: Bool[Array, " n"]
):
    """Merge ``n`` new points into a sorted buffer whose empty slots (key 1.0, sign 0) are
    at the end, in ``O(N log n)``; the buffer must have at least ``n`` empty slots and the
    new points must be ``< 1``. The result is sorted the same way (ties: old points first).

    ```python
    >>> import jax.numpy as jnp
    >>> keys, signs = sorted_points(jnp.array([0.5, 0.0, 0.0]), jnp.array([True, False, False]),
    ...                             jnp.array([True, False, False]))
    >>> merge_points(keys, signs, jnp.array([0.7, 0.2]), jnp.array([False, True]))[1]
    Array([ 1,  1, -1], dtype=int32)

    ```
    """
    new_keys, new_signs = sorted_points(x, labels)
    old_at = jnp.arange(keys.shape[0]) + jnp.searchsorted(new_keys, keys, side="left")
    new_at = jnp.arange(x.shape[0]) + jnp.searchsorted(keys, new_keys, side="right")

    def place(old, new, empty):
        out = jnp.full(old.shape, empty, old.dtype)
        return out.at[old_at].set(old, mode="drop").at[new_at].set(new, mode="drop")

    return place(keys, new_keys, 1.0), place(signs, new_signs, 0)


def _cuts(keys: Float[Array, " N"], signs: Int[Array, " N"]):
    """Describe the ``N + 1`` cuts between neighbours of sorted points.

    Cut ``k`` separates sorted points ``k - 1`` and ``k``. Returns the prefix sums ``P``
    (``P[k]`` = sum of the signs of sorted points ``< k``), whether each cut lies strictly
    between two distinct values (so a classifier can realise it), and each cut's boundary:
    the midpoint of its neighbours, with 0 and 1 as the outer neighbours.
    """
    prefix = jnp.concatenate([jnp.zeros((1,), jnp.int32), jnp.cumsum(signs)])
    true = jnp.ones((1,), bool)
    allowed = jnp.concatenate([true, keys[1:] > keys[:-1], true])
    ext = jnp.concatenate([jnp.zeros((1,), keys.dtype), keys, jnp.ones((1,), keys.dtype)])
    boundary = (ext[:-1] + ext[1:]) / 2
    return prefix, allowed, boundary


def _erm_threshold(keys, signs) -> ThresholdParams:
    prefix, allowed, boundary = _cuts(keys, signs)
    suffix = prefix[-1] - prefix  # score of theta at cut k: sum of signs at or after k
    k = jnp.argmax(jnp.where(allowed, suffix, -_FAR))
    return ThresholdParams(boundary[k])


def _erm_interval(keys, signs) -> IntervalParams:
    prefix, allowed, boundary = _cuts(keys, signs)
    lowest = lax.cummin(jnp.where(allowed, prefix, _FAR))  # min over allowed left cuts i <= j
    gain = jnp.where(allowed, prefix, -_FAR) - lowest
    j = jnp.argmax(gain)  # the first maximiser: the smallest right cut
    index = jnp.arange(prefix.shape[0])
    i = jnp.max(jnp.where(allowed & (index <= j) & (prefix == lowest[j]), index, -1))
    return IntervalParams(boundary[i], boundary[j])


def erm_sorted(concept: AbstractConcept, keys: Float[Array, " N"], signs: Int[Array, " N"]) -> Params:
    """:func:`erm` on points already sorted by :func:`sorted_points` or :func:`merge_points`."""
    if isinstance(concept, Threshold):
        return _erm_threshold(keys, signs)
    if isinstance(concept, Interval):
        return _erm_interval(keys, signs)
    raise TypeError(f"erm: unknown concept class {type(concept).__name__}")


def erm(
    concept: AbstractConcept,
    x: Float[Array, " N"],
    labels: Bool[Array, " N"],
    mask: Optional[Bool[Array, " N"]] = None,
) -> Params:
    """Exact empirical risk minimiser over the valid points, in ``O(N log N)``.

    The points are sorted; with ``s = +1`` for label 1 and ``-1`` for label 0, a threshold
    maximises the suffix sum of ``s`` (it labels 1 the points at or after its cut) and an
    interval maximises a contiguous block sum (``max_j P_j - min_{i <= j} P_i`` over the
    prefix sums ``P``, by ``cumsum`` and ``cummin``). Both maximise the number of correctly
    labelled points, so they minimise the empirical 0-1 risk.

    Decision boundaries lie at the midpoint between the two sorted neighbours of a cut
    (``0`` and ``1`` stand in before the first and after the last point); cuts between
    equal values are not candidates. **Ties:** a threshold takes the smallest minimising
    ``theta``; an interval takes the smallest minimising right end, then the largest left
    end (the shortest such interval). With all labels 0 the interval is empty
    (``left == right``, between points), with all labels 1 it covers every point.

    **Arguments:**

    - `concept`: :class:`Threshold` or :class:`Interval`.
    - `x`: points in ``[0, 1]``, shape ``[N]``.
    - `labels`: boolean labels, shape ``[N]`` (noisy labels are fine).
    - `mask`: optional boolean ``[N]``; ``False`` slots are ignored (they count for neither
      label).

    **Returns:**

    The minimiser's parameters (:class:`ThresholdParams` or :class:`IntervalParams`).

    ```python
    >>> import jax.numpy as jnp
    >>> x = jnp.array([0.1, 0.3, 0.6, 0.8])
    >>> round(float(erm(Threshold(), x, jnp.array([False, False, True, True])).theta), 4)
    0.45
    >>> p = erm(Interval(), x, jnp.array([False, True, True, False]))
    >>> round(float(p.left), 4), round(float(p.right), 4)
    (0.2, 0.7)

    ```
    """
    return erm_sorted(concept, *sorted_points(x, labels, mask))


def _disagree_threshold(previous: ThresholdParams, x, labels) -> ThresholdParams:
    said = x >= previous.theta
    wrong = labels != said
    above = wrong & said  # f_{t-1} said 1, truth said 0: theta* > x
    below = wrong & ~said  # f_{t-1} said 0, truth said 1: theta* <= x
    up = jnp.max(jnp.where(above, x, -jnp.inf))
    down = jnp.min(jnp.where(below, x, jnp.inf))
    theta = jnp.where(jnp.any(above), up, jnp.where(jnp.any(below), down, previous.theta))
    return ThresholdParams(theta.astype(previous.theta.dtype))


def _disagree_interval(previous: IntervalParams, x, labels) -> IntervalParams:
    left, right = previous.left, previous.right
    inside = (left <= x) & (x <= right)
    wrong = labels != inside
    middle = (left + right) / 2
    in_left = wrong & inside & (x < middle)  # outside I*, left of it: l* > x
    in_right = wrong & inside & (x >= middle)  # outside I*, right of it: r* < x
    out_left = wrong & ~inside & (x < left)  # inside I*: l* <= x
    out_right = wrong & ~inside & (x > right)  # inside I*: r* >= x

    def most(mask, reduce, fill):
        return reduce(jnp.where(mask, x, fill))

    new_left = jnp.where(
        jnp.any(out_left),
        most(out_left, jnp.min, jnp.inf),
        jnp.where(jnp.any(in_left), most(in_left, jnp.max, -jnp.inf), left),
    )
    new_right = jnp.where(
        jnp.any(out_right),
        most(out_right, jnp.max, -jnp.inf),
        jnp.where(jnp.any(in_right), most(in_right, jnp.min, jnp.inf), right),
    )
    return IntervalParams(new_left.astype(left.dtype), new_right.astype(right.dtype))


def disagreement(
    concept: AbstractConcept,
    previous: Params,
    x: Float[Array, " n"],
    labels: Bool[Array, " n"],
) -> Params:
    """One round of the disagreement learner (Amin et al., Theorem 3, as we read it).

    A label that disagrees with the previous classifier ``f_{t-1}`` cannot have come from
    ``f_{t-1}``, so it came from the truth ``f*``: it is a certain positive example of the
    disagreement region ``f* xor f_{t-1}``. The learner takes the smallest region of the
    form ``f xor f_{t-1}`` containing this round's disagreeing points and flips
    ``f_{t-1}`` on it; with no disagreement ``f_{t-1}`` is kept. Agreeing labels are not
    used (they may be synthetic).

    - Threshold: a disagreeing point with ``x >= theta_{t-1}`` (label 0) shows
      ``theta* > x``, so ``theta_t`` = the largest such ``x``; one with ``x < theta_{t-1}``
      (label 1) shows ``theta* <= x``, so ``theta_t`` = the smallest such ``x``. Both kinds
      cannot occur together with labels from ``f*`` or ``f_{t-1}``. ``theta_t`` always lies
      between ``theta_{t-1}`` and ``theta*``: the error never grows.
    - Interval ``[l, r]``: a disagreeing point inside it (label 0) lies outside ``I*`` and
      moves the nearer endpoint inward to it (``l`` if ``x < (l + r) / 2``, else ``r``; the
      largest such ``x`` for ``l``, the smallest for ``r``); one outside it (label 1) lies in
      ``I*`` and extends the endpoint on its side out to it. An outward move of an endpoint
      wins over an inward one (both cannot occur when the assumption below holds).

    **Assumption (intervals):** the midpoint of ``f_{t-1}`` lies in ``I*``. It holds
    whenever ``err(f_{t-1}) < len(I*)``; then every endpoint moves towards its true value
    and never past it, so the error does not grow and the assumption holds in every later
    round (induction). Round 0's ERM meets it with high probability when ``n len(I*)`` is
    large. If it fails (e.g. ``f_{t-1}`` much longer than ``I*``), an inward point may move
    the wrong endpoint, possibly past the truth; the learner still returns a valid interval
    (``l <= r``) and its error is still computed exactly, but nothing is guaranteed.

    Endpoints move onto the extreme disagreeing point itself (which the new classifier
    then labels wrongly); under a continuous ``D`` that is a null set.

    **Arguments:**

    - `concept`: :class:`Threshold` or :class:`Interval`.
    - `previous`: ``f_{t-1}``'s parameters.
    - `x`: this round's points, shape ``[n]``.
    - `labels`: this round's labels, shape ``[n]``.

    **Returns:**

    ``f_t``'s parameters.

    ```python
    >>> import jax.numpy as jnp
    >>> c = Threshold()
    >>> x = jnp.array([0.35, 0.45, 0.6])
    >>> round(float(disagreement(c, c.params(theta=0.3), x, jnp.array([False, False, True])).theta), 4)
    0.45

    ```
    """
    if isinstance(concept, Threshold):
        return _disagree_threshold(previous, x, labels)
    if isinstance(concept, Interval):
        return _disagree_interval(previous, x, labels)
    raise TypeError(f"disagreement: unknown concept class {type(concept).__name__}")
