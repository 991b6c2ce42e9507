r"""An approximation for :class:`~jcollapse.models.MarkovChain`: Theorem 3.1 applied row
by row [design heuristic, not a closed form].

No closed form is known to us for the Markov-chain loop. Row ``i`` of the
transition MLE is a categorical fit to the transitions out of state ``i``, and with iid
mixing per sequence a share ``a_t`` of those transitions come from the true row. If row
``i`` received a fixed number ``v_{t,i}`` of transitions, Theorem 3.1 would hold for it
exactly with ``n_t -> v_{t,i}``. The heuristic takes ``v_{t,i} = n_t sum_{l=0}^{L-2}
(pi_0 P^l)_i``, the expected number of visits to ``i`` as a source of a transition in
``n_t`` sequences of length ``L`` of the *true* chain, and sums the rows' ``R``. It ignores
that visit counts are random (``E[1/N] > 1/E[N]``: the heuristic is biased low when rows
get few visits), that the previous fit visits states at other rates than the truth, and
that an unvisited row is filled with the uniform row. Use it as a reference line when
every row expects many visits, not as a test oracle.
"""

from __future__ import annotations

import numpy as np

from ..loop import Loop
from ..models import MarkovChain


def expected_visits(truth, sequence_length: int) -> np.ndarray:
    """Expected number of transitions out of each state in one sequence of the chain:
    ``sum_{l=0}^{L-2} (pi_0 P^l)_i`` (float64).

    **Arguments:**

    - `truth`: ``MarkovChain(...).params(transition=..., initial=...)``.
    - `sequence_length`: ``L >= 2``.

    **Returns:**

    Shape ``[S]``, summing to ``L - 1``.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.MarkovChain(num_states=2, sequence_length=3)
    >>> truth = model.params(transition=[[0.0, 1.0], [1.0, 0.0]], initial=[1.0, 0.0])
    >>> expected_visits(truth, 3)
    array([1., 1.])

    ```
    """
    transition = np.asarray(truth.transition, dtype=np.float64)
    occupation = np.asarray(truth.initial, dtype=np.float64)
    visits = np.zeros_like(occupation)
    for _ in range(sequence_length - 1):
        visits += occupation
        occupation = occupation @ transition
    return visits


def markov_row_heuristic(loop: Loop, truth) -> np.ndarray:
    """Approximate ``E ||P_hat_t - P*||_F^2`` of a :class:`~jcollapse.models.MarkovChain`
    loop by Theorem 3.1 row by row with each row's expected visits (see the module
    docstring for what it ignores) [design heuristic].

    Row ``i``: ``R_{t,i} = (1 - a_t)^2 (1 - 1/v_{t,i}) R_{t-1,i} + c_i / v_{t,i}``, ``c_i =
    1 - ||P*_i||^2``, ``v_{t,i} = n_t * expected_visits_i``; a row the true chain never
    visits keeps the uniform fill, ``||1/S - P*_i||^2``, in every generation.

    **Arguments:**

    - `loop`: a ``MarkovChain`` loop with ``pool="replace"`` and ``mixing="iid"``.
    - `truth`: its true parameters.

    **Returns:**

    A float64 array ``[G + 1]``.

    **Raises:**

    `ValueError` for another model, pool or mixing.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.MarkovChain(num_states=2, sequence_length=11)
    >>> truth = model.params(transition=[[0.5, 0.5], [0.5, 0.5]], initial=[0.5, 0.5])
    >>> loop = jc.Loop(model, generations=1, real_fraction=1.0, sample_size=10)
    >>> markov_row_heuristic(loop, truth)  # each row: 50 visits, c = 1/2
    array([0.02, 0.02])

    ```
    """
    model = loop.model
    if not isinstance(model, MarkovChain) or loop.pool != "replace" or loop.mixing != "iid":
        raise ValueError(f"markov_row_heuristic needs a MarkovChain loop with pool='replace', mixing='iid'; got {loop}")
    transition = np.asarray(truth.transition, dtype=np.float64)
    c = 1.0 - np.sum(transition * transition, axis=1)
    visits = expected_visits(truth, model.sequence_length)
    unvisited = visits == 0
    fill = np.sum((1.0 / model.num_states - transition) ** 2, axis=1)
    n = np.asarray(loop.sample_size, dtype=np.float64)
    a = np.array(loop.real_fraction, dtype=np.float64)
    a[0] = 1.0
    out = np.empty_like(n)
    rows = np.zeros_like(c)
    for t in range(n.shape[0]):
        v = n[t] * np.where(unvisited, 1.0, visits)
        rows = np.where(unvisited, fill, (1 - a[t]) ** 2 * (1 - 1 / v) * rows + c / v)
        out[t] = rows.sum()
    return out
