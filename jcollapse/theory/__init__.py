"""Closed-form expected error curves; see :func:`expected`.

Closed forms live in one private module per model family, registered with :func:`register`
under ``(model class, pool, mixing)`` next to their definition; the family names its theory
modules (:func:`jcollapse.models.register_family`), and :func:`expected` and
:func:`available` load them on demand. Every formula, its source and its test are listed in
``docs/theory.md``.
"""

from ._categorical import collapse_limit, fixed_point, power_schedule_regime, theorem_3_1
from ._exponential import (
    bernoulli_absorption_probability,
    bernoulli_moments,
    bernoulli_replace,
    poisson_absorption_probability,
    poisson_replace,
    random_walk_error,
)
from ._gaussian import gaussian_expected_log_variance, gaussian_moments, split_real_fraction
from ._kernel_density import kde_variance, kde_variance_moments, mixture_variance
from ._markov import expected_visits, markov_row_heuristic
from ._mean_accumulate import accumulate_mean_moments, amin_asymptote, amin_theorem_1, optimal_pool_weights
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
    "accumulate_mean_moments",
    "amin_asymptote",
    "amin_theorem_1",
    "available",
    "bernoulli_absorption_probability",
    "bernoulli_moments",
    "bernoulli_replace",
    "collapse_limit",
    "expected",
    "expected_visits",
    "fixed_point",
    "gaussian_expected_log_variance",
    "gaussian_moments",
    "kde_variance",
    "kde_variance_moments",
    "mixture_variance",
    "markov_row_heuristic",
    "optimal_pool_weights",
    "ols_chain_error",
    "ols_pipeline_error",
    "overparametrized_collapse",
    "poisson_absorption_probability",
    "poisson_replace",
    "power_law_rates",
    "power_law_spectrum",
    "replace_vs_accumulate",
    "ridge_deterministic_equivalent",
    "power_schedule_regime",
    "random_walk_error",
    "register",
    "split_real_fraction",
    "theorem_3_1",
]
