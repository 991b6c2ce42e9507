"""Closed-form expected error curves; see :func:`expected`.

Closed forms live in one private module per model family and register themselves with
:func:`register` under ``(model class, pool, mixing)``; :func:`available` lists them.
"""

from . import _categorical, _gaussian, _regression  # noqa: F401  (register the closed forms)
from ._markov import expected_visits, markov_row_heuristic
from ._categorical import collapse_limit, fixed_point, power_schedule_regime, theorem_3_1
from ._gaussian import gaussian_moments, split_real_fraction
from ._registry import Entry, available, expected, register
from ._regression import (
    ols_chain_error,
    ols_pipeline_error,
    overparametrized_collapse,
    power_law_rates,
    power_law_spectrum,
    replace_vs_accumulate,
    ridge_deterministic_equivalent,
)

__all__ = [
    "Entry",
    "available",
    "collapse_limit",
    "expected",
    "expected_visits",
    "fixed_point",
    "gaussian_moments",
    "markov_row_heuristic",
    "ols_chain_error",
    "ols_pipeline_error",
    "overparametrized_collapse",
    "power_law_rates",
    "power_law_spectrum",
    "replace_vs_accumulate",
    "ridge_deterministic_equivalent",
    "power_schedule_regime",
    "register",
    "split_real_fraction",
    "theorem_3_1",
]
