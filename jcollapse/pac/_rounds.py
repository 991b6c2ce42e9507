"""Rounds of PAC learning with labels partly from the previous classifier: one seed's
``lax.scan`` over rounds, vmapped over seeds in chunks.

Round ``t = 0, ..., R`` draws ``n`` fresh ``x ~ U[0, 1]``. Round 0's labels come from the
truth ``f*``; in round ``t >= 1`` each label independently comes from ``f_{t-1}`` with
probability ``alpha`` (the contamination), else from ``f*``. The learner does not see
which labels are synthetic.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..executor import run_seeds
from ..internal.validation import as_finite_array, check_count, float_dtype
from ._concepts import AbstractConcept, Params
from ._learners import disagreement, erm, erm_sorted, merge_points

LEARNERS = ("erm", "disagreement")


@dataclasses.dataclass(frozen=True)
class PACRun:
    """The result of :func:`simulate`.

    **Fields:**

    - `concept`, `truth`, `learner`, `contamination`, `sample_size`, `rounds`: the
      configuration.
    - `error`: NumPy array ``[seeds, rounds + 1]``; column ``t`` is the exact error of the
      classifier fitted in round ``t``.

    ```python
    >>> import jax
    >>> from jcollapse import pac
    >>> c = pac.Threshold()
    >>> run = pac.simulate(c, c.params(theta=0.3), contamination=0.5, sample_size=4,
    ...                    rounds=2, learner="erm", seeds=4, key=jax.random.key(0))
    >>> run.error.shape, run.seeds
    ((4, 3), 4)

    ```
    """

    concept: AbstractConcept
    truth: Params
    learner: str
    contamination: float
    sample_size: int
    rounds: int
    error: np.ndarray

    @property
    def seeds(self) -> int:
        """Number of seeds (see the class example)."""
        return self.error.shape[0]

    def mean(self) -> np.ndarray:
        """Mean error over seeds.

        **Returns:**

        NumPy array ``[rounds + 1]``.

        ```python
        >>> import jax
        >>> from jcollapse import pac
        >>> c = pac.Threshold()
        >>> run = pac.simulate(c, c.params(theta=0.3), contamination=0.5, sample_size=4,
        ...                    rounds=2, learner="erm", seeds=4, key=jax.random.key(0))
        >>> run.mean().shape
        (3,)

        ```
        """
        return self.error.mean(axis=0)

    def sem(self) -> np.ndarray:
        """Standard error of :meth:`mean` (``std(ddof=1) / sqrt(seeds)``; NaN for one seed).

        **Returns:**

        NumPy array ``[rounds + 1]``.

        ```python
        >>> import jax
        >>> from jcollapse import pac
        >>> c = pac.Threshold()
        >>> run = pac.simulate(c, c.params(theta=0.3), contamination=0.5, sample_size=4,
        ...                    rounds=2, learner="erm", seeds=4, key=jax.random.key(0))
        >>> bool((run.sem() >= 0).all())
        True

        ```
        """
        if self.seeds < 2:
            return np.full(self.error.shape[1], np.nan)
        return self.error.std(axis=0, ddof=1) / np.sqrt(self.seeds)


def _round_data(concept, truth, previous, alpha, key, t, n):
    """Round ``t``'s points and labels (``previous`` is ignored in round 0)."""
    kx, ku = jax.random.split(jax.random.fold_in(key, t))
    dtype = float_dtype()
    x = jax.random.uniform(kx, (n,), dtype=dtype)
    synthetic = jax.random.uniform(ku, (n,), dtype=dtype) < alpha
    clean = concept.label(truth, x)
    labels = jnp.where(synthetic & (t > 0), concept.label(previous, x), clean)
    return x, labels


def _one_seed(
    concept: AbstractConcept, learner: str, n: int, rounds: int,
    truth: Params, alpha: Float[Array, ""], key: PRNGKeyArray,
) -> Float[Array, " rounds_plus_1"]:
    x0, y0 = _round_data(concept, truth, truth, alpha, key, 0, n)
    steps = jnp.arange(1, rounds + 1)
    if learner == "erm":
        # The pool of rounds 0..t, kept sorted: each round merges n points in, so ERM
        # needs no sort of the whole buffer. Empty slots (key 1.0, sign 0) sit at the end.
        slots = (rounds + 1) * n
        keys, signs = merge_points(jnp.ones((slots,), x0.dtype), jnp.zeros((slots,), jnp.int32), x0, y0)
        first = erm_sorted(concept, keys, signs)

        def step(carry, t):
            keys, signs, previous = carry
            x, y = _round_data(concept, truth, previous, alpha, key, t, n)
            keys, signs = merge_points(keys, signs, x, y)
            fitted = erm_sorted(concept, keys, signs)
            return (keys, signs, fitted), concept.error(fitted, truth)

        _, errors = jax.lax.scan(step, (keys, signs, first), steps)
    else:
        first = erm(concept, x0, y0)

        def step(previous, t):
            x, y = _round_data(concept, truth, previous, alpha, key, t, n)
            fitted = disagreement(concept, previous, x, y)
            return fitted, concept.error(fitted, truth)

        _, errors = jax.lax.scan(step, first, steps)
    return jnp.concatenate([concept.error(first, truth)[None], errors])


@dataclasses.dataclass(frozen=True)
class _Rounds:
    """One seed's rounds for :func:`jcollapse.run_seeds`: ``(key, truth, alpha) -> error [rounds + 1]``.
    The truth and the contamination are traced; the rest is the compiled program's structure."""

    concept: AbstractConcept
    learner: str
    n: int
    rounds: int

    def __call__(self, key, truth, alpha):
        return _one_seed(self.concept, self.learner, self.n, self.rounds, truth, alpha, key)


def simulate(
    concept: AbstractConcept,
    truth: Params,
    *,
    contamination,
    sample_size: int,
    rounds: int,
    learner: str,
    seeds: int,
    key,
    chunk_size: Optional[int] = None,
    progress: Optional[bool] = None,
) -> PACRun:
    """Simulate rounds of learning ``concept`` from labels partly made by the previous
    classifier, for ``seeds`` independent seeds.

    Seed ``i`` uses ``fold_in(key, i)``; its trajectory does not depend on the number of
    seeds or the chunk size (bitwise). Both learners see the same data for the same key
    and seed, so their errors can be compared seed by seed.

    **Arguments:**

    - `concept`: :class:`Threshold` or :class:`Interval`.
    - `truth`: the true concept, from ``concept.params(...)``.
    - `contamination`: ``alpha`` in ``[0, 1]``, the probability that a label of round
      ``t >= 1`` comes from ``f_{t-1}``. Traced: sweeping it does not recompile.
    - `sample_size`: ``n >= 1`` fresh points per round.
    - `rounds`: ``R >= 1``; rounds ``0, ..., R`` are run.
    - `learner`: ``"erm"`` (ERM on all data of rounds ``0..t``, see :func:`erm`) or
      ``"disagreement"`` (round 0: ERM; then :func:`disagreement`).
    - `seeds`: number of independent runs, ``>= 1``.
    - `key`: ``jax.random.key(seed)``.
    - `chunk_size`: seeds per compiled batch (default: as
      :func:`jcollapse.executor.default_chunk_size` sizes it); the last chunk is padded.
      Chunks are split over the local devices.
    - `progress`: a progress bar, as in :func:`jcollapse.run_seeds`.

    **Returns:**

    A :class:`PACRun` with ``error`` of shape ``[seeds, rounds + 1]``.

    **Raises:**

    `ValueError`, before any compilation, for an unknown learner, a contamination
    outside ``[0, 1]`` or NaN, a count below 1, or a truth that is not ``concept``'s.

    ```python
    >>> import jax
    >>> from jcollapse import pac
    >>> c = pac.Interval()
    >>> run = pac.simulate(c, c.params(left=0.2, right=0.7), contamination=0.5,
    ...                    sample_size=8, rounds=3, learner="disagreement", seeds=4,
    ...                    key=jax.random.key(0))
    >>> run.error.shape
    (4, 4)

    ```
    """
    if not isinstance(concept, AbstractConcept):
        raise ValueError(
            f"concept must be a jcollapse.pac concept class (Threshold, Interval); got {concept!r}"
        )
    if not isinstance(truth, concept.params_type):
        raise ValueError(
            f"truth must be {type(concept).__name__}().params(...) ({concept.params_type.__name__}); "
            f"got {type(truth).__name__}"
        )
    alpha = float(as_finite_array("contamination", contamination, ()))
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"contamination must be in [0, 1]; got {alpha!r}")
    n = check_count("sample_size", sample_size, 1)
    rounds = check_count("rounds", rounds, 1)
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {LEARNERS}; got {learner!r}")
    seeds = check_count("seeds", seeds, 1)
    # ERM keeps every round's points, sorted, with merge temporaries: about 16 bytes a point.
    lane_bytes = 16 * (rounds + 1) * n if learner == "erm" else 16 * n
    error = run_seeds(_Rounds(concept, learner, n, rounds), truth, np.asarray(alpha, float_dtype()), key=key,
                      seeds=seeds, chunk_size=chunk_size, lane_bytes=lane_bytes, progress=progress)
    return PACRun(concept, truth, learner, alpha, n, rounds, error)
