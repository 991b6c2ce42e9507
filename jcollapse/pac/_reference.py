"""The paper's rate for the disagreement learner, as a reference curve."""

from __future__ import annotations

import numpy as np

from ..internal.validation import as_finite_array, check_count


def rate_bound(vc_dim: int, contamination, sample_size: int, rounds: int) -> np.ndarray:
    """The reference rate ``sqrt(d / ((1 - alpha) n t))`` of Amin et al.'s Theorem 3.

    A reference curve to plot beside simulated errors, not a claim about them: constants
    and log factors are dropped. ``t`` counts the rounds seen so far, round 0 included,
    so entry ``r`` (round ``r``) uses ``t = r + 1`` and the array lines up with the columns
    of :attr:`PACRun.error`. For ``alpha = 1`` every entry is ``inf``.

    **Arguments:**

    - `vc_dim`: VC dimension ``d >= 1`` (e.g. ``Threshold.vc_dim``).
    - `contamination`: ``alpha`` in ``[0, 1]``.
    - `sample_size`: ``n >= 1`` points per round.
    - `rounds`: ``R >= 0``.

    **Returns:**

    NumPy float64 array ``[rounds + 1]``.

    ```python
    >>> rate_bound(1, 0.5, 2, 3)
    array([1.        , 0.70710678, 0.57735027, 0.5       ])

    ```
    """
    d = check_count("vc_dim", vc_dim, 1)
    alpha = float(as_finite_array("contamination", contamination, ()))
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"contamination must be in [0, 1]; got {alpha!r}")
    n = check_count("sample_size", sample_size, 1)
    rounds = check_count("rounds", rounds, 0)
    t = np.arange(1, rounds + 2, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.sqrt(d / ((1.0 - alpha) * n * t))
