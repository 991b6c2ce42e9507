"""The exact-statistics path and the raw-sample path agree in distribution.

The two paths use different random streams, so for one configuration the per-seed metrics
of the two are independent samples; a two-sample Kolmogorov-Smirnov test on each metric at
generations 0, 1, 5 and 20 compares their distributions.

Significance, fixed before looking at any result: family-wise 0.001 over all comparisons
of this file, Bonferroni-split, i.e. each test rejects at ``0.001 / N_COMPARISONS``. The
keys are fixed, so the outcome is deterministic.
"""

import jax
import numpy as np
import pytest
from helpers import COV2, MEAN2, regression_truth
from scipy import stats

import jcollapse as jc

SEEDS = 2000
GENERATIONS = 20
CHECKED = (0, 1, 5, 20)

# Split mixing is checked on the categorical and ridge pools below; the Gaussian's and the
# mean's split counts are the same code (mixing.py) as theirs.
CONFIGS = {
    "gaussian-iid": (jc.models.Gaussian(dim=2), dict(mixing="iid")),
    "gaussian-unbiased-accumulate-iid": (
        jc.models.Gaussian(dim=2, variance="unbiased"),
        dict(mixing="iid", pool="accumulate", pool_weights=jc.schedules.geometric(1.0, 0.8)),
    ),
    "mean-iid": (jc.models.GaussianMean(dim=2), dict(mixing="iid")),
    "categorical-iid": (jc.models.Categorical(num_categories=6), dict(mixing="iid")),
    "categorical-split-accumulate": (
        jc.models.Categorical(num_categories=6),
        dict(mixing="split", pool="accumulate", pool_weights=jc.schedules.geometric(1.0, 0.8)),
    ),
    "markov-iid-accumulate": (
        jc.models.MarkovChain(num_states=3, sequence_length=5),
        dict(mixing="iid", pool="accumulate", pool_weights=jc.schedules.geometric(1.0, 0.8)),
    ),
    "regression-iid": (jc.models.LinearRegression(dim=3, noise=0.5), dict(mixing="iid")),
    "ridge-split-accumulate": (
        jc.models.LinearRegression(dim=3, ridge=0.3, noise=0.5),
        dict(mixing="split", pool="accumulate", pool_weights=jc.schedules.geometric(1.0, 0.8)),
    ),
}
N_COMPARISONS = sum(len(m.metric_names) * len(CHECKED) for m, _ in CONFIGS.values())
FAMILY_ALPHA = 1e-3
ALPHA = FAMILY_ALPHA / N_COMPARISONS


def _truth(model):
    if isinstance(model, jc.models.Categorical):
        # One zero category; with n ~ 10, the 0.05 category is often lost (KL = +inf).
        return model.params(probs=[0.35, 0.0, 0.3, 0.2, 0.1, 0.05])
    if isinstance(model, jc.models.MarkovChain):
        # One zero transition (1 -> 0); the initial law starts most sequences in state 1.
        return model.params(
            transition=[[0.5, 0.3, 0.2], [0.0, 0.6, 0.4], [0.3, 0.3, 0.4]], initial=[0.2, 0.5, 0.3]
        )
    if isinstance(model, jc.models.LinearRegression):
        return regression_truth(model)
    return model.params(mean=MEAN2, cov=COV2)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_exact_and_raw_paths_agree_in_distribution(name):
    model, options = CONFIGS[name]
    truth = _truth(model)
    # a_t = 0.3 with n_t = 10 makes round(a n) = 3 real samples under split mixing;
    # n_t varies so that mixing counts and merges see several sizes.
    loop = jc.Loop(
        model,
        generations=GENERATIONS,
        real_fraction=0.3,
        sample_size=jc.schedules.from_values(10 + np.arange(GENERATIONS + 1) % 4),
        **options,
    )
    exact = jc.simulate(loop.replace(path="exact"), truth, key=jax.random.key(1), seeds=SEEDS)
    raw = jc.simulate(loop.replace(path="raw"), truth, key=jax.random.key(2), seeds=SEEDS)
    assert exact.loop.path == "exact" and raw.loop.path == "raw"
    assert not exact.failed.any() and not raw.failed.any()
    failures = []
    for metric in model.metric_names:
        for t in CHECKED:
            result = stats.ks_2samp(exact.metrics[metric][:, t], raw.metrics[metric][:, t])
            if result.pvalue < ALPHA:
                failures.append(f"{metric}[t={t}]: KS D={result.statistic:.4f} p={result.pvalue:.2e}")
    assert not failures, f"alpha={ALPHA:.1e}: " + "; ".join(failures)
