"""The Markov-chain family: :class:`MarkovChain`, a next-token model with context length 1
(our extension of Bakshi & Chakraborty's categorical model), estimated by transition
frequencies."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ..internal.reduce import matmul, pairwise_sum
from ..internal.samplers import multinomial
from ..internal.validation import as_finite_array, to_device
from ._base import AbstractExactModel
from ._categorical import probs_tolerance
from ._counts import CountStatistics
from ._registry import register_family

#: The most squarings :func:`stationary` performs (``Q^(2^64)``).
MAX_SQUARINGS = 64
#: ``path="auto"`` draws transition counts (L S^2 binomials) once ``n >= 24 S^2``
#: sequences; below, the ``n L`` tokens are cheaper: about the break-even point measured on
#: a 2-core CPU (docs/performance.md).
RAW_SEQUENCES_PER_CELL = 24


class MarkovChainParams(eqx.Module):
    """Parameters of a Markov chain on ``S`` states.

    **Fields:**

    - `transition`: shape ``[S, S]``, ``>= 0``, each row summing to 1; row ``i`` is the
      law of the next state given the current state ``i``.
    - `initial`: shape ``[S]``, ``>= 0``, summing to 1: the law of a sequence's first state.

    ```python
    >>> MarkovChain(num_states=2, sequence_length=3).params(
    ...     transition=[[0.5, 0.5], [0.0, 1.0]], initial=[1.0, 0.0]
    ... ).transition
    Array([[0.5, 0.5],
           [0. , 1. ]], dtype=float32)

    ```
    """

    transition: Float[Array, "S S"]
    initial: Float[Array, " S"]


def _row_cdfs(transition: Float[Array, "S S"]) -> Float[Array, "S S"]:
    """Each row's cumulative sums, accumulated sequentially (a scan over the columns)."""
    zero = jnp.zeros(transition.shape[0], transition.dtype)
    _, cdf = jax.lax.scan(lambda s, p: (s + p, s + p), zero, transition.T)
    return cdf.T


def _invert(cdf: Float[Array, " S"], last_positive: Int[Array, ""], u: Float[Array, ""]) -> Int[Array, ""]:
    """The state whose CDF interval holds ``u * cdf[-1]`` (``u`` uniform on ``[0, 1)``).

    The CDF is flat exactly across a zero probability, so a zero-probability state is
    never chosen; the clamp to the last positive state only guards ``u * total == total``.
    """
    index = jnp.searchsorted(cdf, u * cdf[-1], side="right")
    return jnp.minimum(index, last_positive).astype(jnp.int32)


def _last_positive(transition: Float[Array, "S S"]) -> Int[Array, " S"]:
    positions = jnp.arange(transition.shape[1])
    return jnp.max(jnp.where(transition > 0, positions, 0), axis=1)


def _row_sums(matrix: Float[Array, "S S"]) -> Float[Array, " S"]:
    return pairwise_sum(matrix.T)


def stationary(params: MarkovChainParams) -> Float[Array, " S"]:
    """The long-run distribution of the chain started from ``params.initial``.

    ``pi = initial Q^inf`` with ``Q = (I + P) / 2``, the lazy chain: it has the same
    stationary distributions as ``P`` and is aperiodic, so ``Q^m`` converges. ``Q^(2^k)``
    is formed by repeated squaring (:func:`jcollapse.internal.reduce.matmul`, so the result does not
    depend on the vmap batch size), each square's rows renormalised to sum to 1. For an
    irreducible ``P`` this is its unique stationary distribution; for a reducible one
    (collapse can create absorbing classes) it is the mixture of the closed classes'
    stationary distributions weighted by the probabilities of reaching them from
    ``initial`` (the mass of transient states tends to 0). Squaring maps zero entries to
    exact zeros, so closed classes stay exactly closed in floating point.

    Stopping: a ``lax.while_loop`` stops after ``k`` squarings once
    ``k >= k_min = ceil(log2(1 / tol))`` and ``max |Q^(2^k) - Q^(2^(k-1))| <= tol``, with
    ``tol = 4 eps`` of the dtype (``4.8e-7`` in float32, ``8.9e-16`` in float64), or after
    :data:`MAX_SQUARINGS` = 64 squarings. The floor ``k_min`` (22 in float32, 51 in
    float64) matters for slowly mixing chains: before ``Q^m`` mixes, successive squares
    differ by about ``m delta`` (``delta`` the spectral gap), which could pass the ``tol``
    test at small ``m`` although nothing has mixed yet; with ``m >= 1 / tol`` that can
    only happen for ``delta <~ tol^2``. A chain with a spectral gap below ``2^-60`` is not
    mixed by 64 squarings either. Under vmap the loop runs until the slowest lane stops;
    stopped lanes keep their value, so a lane's result does not depend on its batch.

    **Arguments:**

    - `params`: :class:`MarkovChainParams` (rows of ``transition`` summing to 1, up to
      rounding).

    **Returns:**

    The distribution, shape ``[S]``.

    ```python
    >>> model = MarkovChain(num_states=2, sequence_length=2)
    >>> chain = model.params(transition=[[0.9, 0.1], [0.3, 0.7]], initial=[1.0, 0.0])
    >>> [round(float(p), 5) for p in stationary(chain)]
    [0.75, 0.25]

    ```
    """
    p = params.transition
    dtype = p.dtype
    eps = float(jnp.finfo(dtype).eps)
    tol = 4 * eps
    k_min = int(np.ceil(np.log2(1 / tol)))
    lazy = 0.5 * (jnp.eye(p.shape[0], dtype=dtype) + p)

    def cond(carry):
        k, _, change = carry
        return (k < MAX_SQUARINGS) & ((k < k_min) | (change > tol))

    def body(carry):
        k, q, _ = carry
        q2 = matmul(q, q)
        q2 = q2 / _row_sums(q2)[:, None]
        return k + 1, q2, jnp.max(jnp.abs(q2 - q))

    init = (jnp.zeros((), jnp.int32), lazy, jnp.asarray(jnp.inf, dtype))
    _, limit, _ = jax.lax.while_loop(cond, body, init)
    return matmul(params.initial, limit)


@register_family
class MarkovChain(AbstractExactModel):
    """A Markov chain on ``num_states`` tokens, fitted by transition frequencies.

    One sample is one sequence of ``sequence_length`` states: its first state is drawn
    from ``initial`` and each next state from the current state's row of ``transition``.
    The estimator is the maximum-likelihood transition matrix, row ``i`` = the counts of
    transitions out of ``i`` divided by their total. The ``initial`` distribution is part
    of the truth and is **not** estimated: it plays the role of the prompt distribution
    (like :class:`GaussianMean`'s known covariance), so every fit carries the truth's
    ``initial``. Mixing is per sequence: a whole sequence comes from the true chain or
    from the previous model (a per-token mixture of two chains is not a Markov chain of
    either, nor what a model trained on whole documents sees).

    **Arguments:**

    - `num_states`: ``S >= 1``.
    - `sequence_length`: ``L >= 2`` (each sequence has ``L - 1`` transitions).

    Truth: ``model.params(transition=..., initial=...)``.

    Unvisited states: a state that no sequence leaves (its row total is 0) does not enter
    the likelihood, so any stochastic row is a maximum-likelihood estimate for it. The fit
    sets that row to uniform ``1/S``, the maximum-entropy choice: the fit stays a valid
    chain that can be sampled, it uses no knowledge of the truth, and the missing
    information is charged to the error metrics honestly (a uniform row is as far from
    the truth's row as ignorance warrants). A fitted chain can become reducible (rows with
    zero entries: collapse can make states absorbing or unreachable); such rows stay as
    estimated.

    Metrics, for a fit ``P_hat`` and truth ``P*``:

    - ``param_sq_error``: ``||P_hat - P*||_F^2``, summed over all ``S^2`` entries.
    - ``tv``: the mean over rows ``i`` of ``(1/2) sum_j |P_hat_ij - P*_ij|``.
    - ``stationary_tv``: ``(1/2) ||pi_hat - pi*||_1`` between the long-run distributions
      of the two chains started from the truth's ``initial`` (:func:`stationary`).

    Collapse: without real data a state that is never left loses its row to the uniform
    fallback, and transitions that draw no count are gone for good, so the fit drifts
    toward a reducible chain. That is the phenomenon being measured, not a failed fit:
    :meth:`is_degenerate` is always False.

    Paths: the exact-statistics path (``path="auto"``'s choice from ``24 S^2`` sequences
    per generation on, see :meth:`exact_is_cheaper`) draws a generation's ``S^2``
    transition counts directly and exactly in distribution in ``O(L S^2)`` work
    whatever the number of sequences (see :meth:`sample_statistics`); the raw path draws
    the sequences token by token (``O(n L log S)``) and counts their transitions. Counts
    are float32 in the default precision: exact while each cell and the total
    ``count (L - 1)`` stay below ``2^24``.

    Cost: the exact path makes ``L S`` sequential calls of the binomial sampler (a scan
    over steps, and :func:`jcollapse.internal.samplers.multinomial`'s scan over a row's
    states), each a while loop that runs until the slowest lane of the batch accepts, and
    whose length grows slowly with the counts. It is therefore slower than the raw path for
    few sequences, and ``path="auto"`` picks the raw path for small ``n`` (the two agree in
    distribution; timings in docs/performance.md).

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.MarkovChain(num_states=2, sequence_length=5)
    >>> truth = model.params(transition=[[0.9, 0.1], [0.2, 0.8]], initial=[0.5, 0.5])
    >>> loop = jc.Loop(model, generations=4, real_fraction=0.1, sample_size=20)
    >>> run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=8)
    >>> run.metrics["stationary_tv"].shape, loop.path
    ((8, 5), 'raw')

    ```
    """

    num_states: int = eqx.field(static=True)
    sequence_length: int = eqx.field(static=True)

    metric_names: ClassVar[tuple[str, ...]] = ("param_sq_error", "tv", "stationary_tv")

    def __check_init__(self):
        s, length = self.num_states, self.sequence_length
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1:
            raise ValueError(f"num_states must be an integer >= 1; got {s!r}")
        if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 2:
            raise ValueError(f"sequence_length must be an integer >= 2; got {length!r}")

    def params(self, *, transition, initial) -> MarkovChainParams:
        """Validated truth: a transition matrix and an initial distribution.

        **Arguments:**

        - `transition`: shape ``[S, S]``, finite, ``>= 0``, each row summing to 1 within
          :func:`probs_tolerance` ``(S)``; each row is renormalised in float64.
        - `initial`: shape ``[S]``, finite, ``>= 0``, summing to 1 within the same
          tolerance; renormalised in float64.

        **Returns:**

        :class:`MarkovChainParams`.

        **Raises:**

        `ValueError` naming `transition` (and the row) or `initial` for a wrong shape, a
        NaN or infinite entry, a negative entry, or a sum outside ``1 +- tolerance``.

        ```python
        >>> model = MarkovChain(num_states=2, sequence_length=2)
        >>> model.params(transition=[[0.5, 0.5], [0.5, 0.6]], initial=[1.0, 0.0])
        Traceback (most recent call last):
        ...
        ValueError: transition row 1 must sum to 1 (within 1.12e-06); got sum 1.1

        ```
        """
        s = self.num_states
        tolerance = probs_tolerance(s)
        transition = as_finite_array("transition", transition, (s, s))
        initial = as_finite_array("initial", initial, (s,))
        if np.any(transition < 0):
            i, j = (int(v) for v in np.argwhere(transition < 0)[0])
            raise ValueError(
                f"transition must be >= 0 (allowed range [0, 1]); got {transition[i, j]} at row {i}, column {j}"
            )
        totals = transition.sum(axis=1)
        bad = ~(np.abs(totals - 1.0) <= tolerance)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"transition row {i} must sum to 1 (within {tolerance:.3g}); got sum {totals[i]:.6g}")
        if np.any(initial < 0):
            j = int(np.flatnonzero(initial < 0)[0])
            raise ValueError(f"initial must be >= 0 (allowed range [0, 1]); got {initial[j]} at index {j}")
        total = float(initial.sum())
        if not abs(total - 1.0) <= tolerance:
            raise ValueError(f"initial must sum to 1 (within {tolerance:.3g}); got sum {total:.6g}")
        return MarkovChainParams(to_device(transition / totals[:, None]), to_device(initial / total))

    @property
    def min_sample_size(self) -> int:
        return 1

    def sample(self, key, params: MarkovChainParams, n: int) -> Int[Array, "n L"]:
        """``n`` i.i.d. sequences of ``sequence_length`` states (int32, shape ``[n, L]``).

        The first state by inverting the CDF of ``initial``, each next one by inverting the
        CDF of the current state's row (one uniform per token); a zero-probability
        transition is never drawn.

        ```python
        >>> import jax
        >>> model = MarkovChain(num_states=3, sequence_length=4)
        >>> chain = model.params(transition=[[0, 1, 0], [0, 0, 1], [1, 0, 0]], initial=[1, 0, 0])
        >>> model.sample(jax.random.key(0), chain, 2)
        Array([[0, 1, 2, 0],
               [0, 1, 2, 0]], dtype=int32)

        ```
        """
        transition, initial = params.transition, params.initial
        key_first, key_steps = jax.random.split(key)
        first_cdf = _row_cdfs(initial[None, :])[0]
        first_last = _last_positive(initial[None, :])[0]
        u0 = jax.random.uniform(key_first, (n,), dtype=initial.dtype)
        first = jax.vmap(_invert, in_axes=(None, None, 0))(first_cdf, first_last, u0)
        cdfs = _row_cdfs(transition)
        last = _last_positive(transition)
        keys = jax.random.split(key_steps, self.sequence_length - 1)

        def step(state, k):
            u = jax.random.uniform(k, (n,), dtype=transition.dtype)
            nxt = jax.vmap(_invert)(cdfs[state], last[state], u)
            return nxt, nxt

        _, rest = jax.lax.scan(step, first, keys)
        return jnp.concatenate([first[:, None], rest.T], axis=1)

    def statistics(self, data, weights) -> CountStatistics:
        """Weighted transition counts, cell ``i * S + j`` for a step ``i -> j``.

        Each sequence's weight counts once per transition it contains.

        ```python
        >>> import jax.numpy as jnp
        >>> model = MarkovChain(num_states=2, sequence_length=3)
        >>> model.statistics(jnp.array([[0, 1, 1], [1, 0, 0]]), jnp.ones(2)).counts
        Array([1., 1., 1., 1.], dtype=float32)

        ```
        """
        s = self.num_states
        cells = (data[:, :-1] * s + data[:, 1:]).reshape(-1)
        per_transition = jnp.broadcast_to(weights[:, None], (data.shape[0], data.shape[1] - 1)).reshape(-1)
        return CountStatistics.of(cells, per_transition, s * s)

    def sample_statistics(self, key, params: MarkovChainParams, count) -> CountStatistics:
        """The transition counts of ``count`` sequences, exactly in distribution.

        ``N_0 = Multinomial(count, initial)`` are the numbers of sequences in each state at
        step 0; at each step ``l`` the ``N_l[i]`` sequences in state ``i`` move to
        ``M_l[i, :] = Multinomial(N_l[i], transition[i])`` (independent over ``i``), and
        ``N_{l+1}`` is the column sums of ``M_l``. The counts are ``sum_l M_l``. Exact
        because the sequences are i.i.d. and, given the states at step ``l``, their next
        states are independent draws from their rows. ``O(L S^2)`` binomial draws
        whatever ``count`` is (``count <= 2^24``).

        ```python
        >>> import jax, jax.numpy as jnp
        >>> model = MarkovChain(num_states=2, sequence_length=4)
        >>> chain = model.params(transition=[[0.5, 0.5], [0.1, 0.9]], initial=[1.0, 0.0])
        >>> float(model.sample_statistics(jax.random.key(0), chain, jnp.array(10**6)).counts.sum())
        3000000.0

        ```
        """
        transition = params.transition
        s, dtype = self.num_states, transition.dtype
        rows = jax.vmap(multinomial)
        first_rows = jnp.broadcast_to(params.initial[None, :], (s, s))

        # Step 0 draws N_0 with the same (vmapped) multinomial, from a virtual occupancy
        # with all `count` sequences in row 0 and `initial` as every row's law, and adds
        # nothing to the counts: one multinomial sampler is compiled instead of two.
        def step(carry, xs):
            occupancy, counts = carry
            k, first = xs
            moves = rows(jax.random.split(k, s), occupancy, jnp.where(first, first_rows, transition))
            return (pairwise_sum(moves), counts + jnp.where(first, 0, moves)), None

        occupancy = jnp.zeros(s, dtype).at[0].set(jnp.asarray(count).astype(dtype))
        init = (occupancy, jnp.zeros((s, s), dtype))
        keys = jax.random.split(key, self.sequence_length)
        first = jnp.arange(self.sequence_length) == 0
        (_, counts), _ = jax.lax.scan(step, init, (keys, first))
        return CountStatistics(counts.reshape(s * s))

    def fit(self, stats: CountStatistics, truth: MarkovChainParams) -> MarkovChainParams:
        """Transition frequencies row by row; an unvisited row is uniform (see the class).

        ```python
        >>> import jax.numpy as jnp
        >>> model = MarkovChain(num_states=2, sequence_length=2)
        >>> truth = model.params(transition=[[0.5, 0.5], [0.5, 0.5]], initial=[1.0, 0.0])
        >>> model.fit(CountStatistics(jnp.array([1.0, 3.0, 0.0, 0.0])), truth).transition
        Array([[0.25, 0.75],
               [0.5 , 0.5 ]], dtype=float32)

        ```
        """
        s = self.num_states
        counts = stats.counts.reshape(s, s)
        totals = _row_sums(counts)[:, None]
        visited = totals > 0
        estimate = jnp.where(visited, counts / jnp.where(visited, totals, 1), 1 / s)
        return MarkovChainParams(estimate, truth.initial)

    def metrics(self, params: MarkovChainParams, truth: MarkovChainParams) -> dict[str, Array]:
        """``param_sq_error``, ``tv`` and ``stationary_tv`` (see the class).

        ```python
        >>> model = MarkovChain(num_states=2, sequence_length=2)
        >>> truth = model.params(transition=[[0.5, 0.5], [0.5, 0.5]], initial=[1.0, 0.0])
        >>> fit = model.params(transition=[[1.0, 0.0], [0.5, 0.5]], initial=[1.0, 0.0])
        >>> {k: float(v) for k, v in model.metrics(fit, truth).items()}
        {'param_sq_error': 0.5, 'tv': 0.25, 'stationary_tv': 0.5}

        ```
        """
        diff = params.transition - truth.transition
        s = self.num_states
        row_tv = 0.5 * _row_sums(jnp.abs(diff))
        pi_diff = stationary(params) - stationary(truth)
        return {
            "param_sq_error": pairwise_sum((diff * diff).reshape(s * s)),
            "tv": pairwise_sum(row_tv) / s,
            "stationary_tv": 0.5 * pairwise_sum(jnp.abs(pi_diff)),
        }

    def is_degenerate(self, params: MarkovChainParams) -> Bool[Array, ""]:
        """Always False: a reducible fitted chain is collapse, not a failed fit (see the class).

        ```python
        >>> model = MarkovChain(num_states=2, sequence_length=2)
        >>> bool(model.is_degenerate(model.params(transition=[[1, 0], [0, 1]], initial=[1, 0])))
        False

        ```
        """
        return jnp.asarray(False)

    def exact_is_cheaper(self, sample_size: int) -> bool:
        """True once ``sample_size >= 24 S^2`` sequences (see :data:`RAW_SEQUENCES_PER_CELL`).

        ```python
        >>> MarkovChain(num_states=5, sequence_length=20).exact_is_cheaper(50)
        False

        ```
        """
        return sample_size >= RAW_SEQUENCES_PER_CELL * self.num_states**2
