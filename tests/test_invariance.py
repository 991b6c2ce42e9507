"""A seed's trajectory is bitwise independent of the seed count, the chunk size and G.

The contract (docs/architecture.md, "Bitwise reproducibility"): seed ``i`` gets
``fold_in(key, i)`` and its trajectory never depends on how many seeds ran, the chunk size
or the number of generations. XLA CPU's reductions and dots are known to give different
bits for different vmap batch sizes, so this is checked bitwise, on both paths.
"""

import functools

import jax
import numpy as np
import pytest
from helpers import COV2, assert_runs_equal, regression_truth

import jcollapse as jc

KEY = jax.random.key(11)
SEEDS = 256


def _truth(model, dim):
    if isinstance(model, jc.models.LinearRegression):
        return regression_truth(model)
    if isinstance(model, jc.models.Categorical):
        # A zero category (it must never be drawn) and a small one (often lost: KL = +inf).
        return model.params(probs=np.array([0.35, 0.0, 0.3, 0.2, 0.1, 0.05]))
    if isinstance(model, jc.models.MarkovChain):
        # A zero transition (1 -> 0): it must never be drawn.
        return model.params(transition=[[0.5, 0.3, 0.2], [0.0, 0.6, 0.4], [0.3, 0.3, 0.4]], initial=[0.2, 0.5, 0.3])
    if dim == 1:
        return model.params(mean=0.5, cov=[[1.5]])
    cov = np.eye(3) + 0.3 * np.ones((3, 3)) if dim == 3 else COV2
    return model.params(mean=np.linspace(-1, 1, dim), cov=cov)


CASES = {
    # Exact path, dim 1: chi-square scatter, binomial mixing counts, accumulate merge.
    "gaussian1-exact-accumulate-iid": (jc.models.Gaussian(dim=1), 1, "exact", "accumulate", "iid"),
    # Exact path, dim 3: Bartlett/Wishart draws, dots with a size-3 contraction.
    "gaussian3-exact-replace-split": (jc.models.Gaussian(dim=3), 3, "exact", "replace", "split"),
    # Raw path, dim 1: size-1 contraction in the sampler's dot, pairwise sums over slots.
    "gaussian1-raw-replace-iid": (jc.models.Gaussian(dim=1), 1, "raw", "replace", "iid"),
    # Raw path, dim 3, subsampled pool: sort, buffer writes, masked sums.
    "gaussian3-raw-subsample-split": (jc.models.Gaussian(dim=3), 3, "raw", "accumulate-subsample", "split"),
    # Exact path, dim 2, iid mixing: metrics were once fused with the fit, and FMA
    # contraction then differed between chunks of < 64 and >= 64 lanes.
    "gaussian2-exact-replace-iid": (jc.models.Gaussian(dim=2), 2, "exact", "replace", "iid"),
    # (GaussianMean's raw path is the Gaussian's sampler without the scatter: covered above.)
    # Categorical, exact path: conditional-binomial multinomial (while loops), iid counts.
    "categorical6-exact-replace-iid": (jc.models.Categorical(num_categories=6), 6, "exact", "replace", "iid"),
    # Categorical, raw path: inverse-CDF sampling, scatter-add counts, weighted merges.
    "categorical6-raw-accumulate-split": (jc.models.Categorical(num_categories=6), 6, "raw", "accumulate", "split"),
    # Markov chain, exact path: per-row multinomials in a scan, the stationary
    # distribution's while loop of pairwise matmuls (lanes stop at different squarings).
    "markov3-exact-accumulate-iid": (
        jc.models.MarkovChain(num_states=3, sequence_length=4), 3, "exact", "accumulate", "iid"
    ),
    # Regression, exact path: Wishart normal equations, eigh solve, accumulate merges.
    "regression4-exact-accumulate-split": (
        jc.models.LinearRegression(dim=4, noise=0.5), 4, "exact", "accumulate", "split"
    ),
    # Regression, raw path with n < dim in some generations: the minimum-norm solution.
    "regression8-raw-replace-iid": (jc.models.LinearRegression(dim=8, noise=0.5), 8, "raw", "replace", "iid"),
}
#: Metrics that may legitimately be +inf (KL once a true category is lost).
MAY_BE_INFINITE = {"kl"}


@functools.lru_cache(maxsize=None)
def _setup(name):
    model, dim, path, pool, mixing = CASES[name]
    loop = jc.Loop(
        model,
        generations=5,
        real_fraction=jc.schedules.from_values([1.0, 0.3, 0.0, 0.5, 0.2, 0.3]),
        sample_size=jc.schedules.from_values([12, 6, 9, 12, 7, 10]),
        pool=pool,
        mixing=mixing,
        path=path,
    )
    truth = _truth(model, dim)
    # Four chunks of 64 lanes. The other lane count checked is 4 (chunk_size=1 and seeds=1
    # run padded to simulate.MIN_LANES): XLA emitted FMAs differently below and above 64
    # lanes, which is the split this must catch. 64-lane runs share the reference's compile.
    reference = jc.simulate(loop, truth, key=KEY, seeds=SEEDS, chunk_size=64)
    return loop, truth, reference


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    return _setup(request.param)


def test_reference_is_healthy(case):
    _, _, reference = case
    assert not reference.failed.any()
    for name, values in reference.metrics.items():
        allowed = np.isfinite(values) | ((values == np.inf) & (name in MAY_BE_INFINITE))
        assert np.all(allowed), name


def test_chunk_size_invariance(case):
    """256 seeds in chunks of 1 (each padded to 4 lanes) against chunks of 64."""
    loop, truth, reference = case
    run = jc.simulate(loop, truth, key=KEY, seeds=SEEDS, chunk_size=1)
    assert_runs_equal(run.metrics, run.status, reference.metrics, reference.status)


@pytest.mark.parametrize("seeds", [1, 64])
def test_seed_count_invariance(case, seeds):
    """The first ``seeds`` seeds of a 256-seed run, with the default chunk size."""
    loop, truth, reference = case
    run = jc.simulate(loop, truth, key=KEY, seeds=seeds)
    head = {k: v[:seeds] for k, v in reference.metrics.items()}
    assert_runs_equal(run.metrics, run.status, head, reference.status[:seeds])


@pytest.mark.parametrize(
    # one case per path: rollout folds the generation into the key, and pools size their
    # buffers from G, the same way for every model (the chunk-size checks above cover each
    # model's arithmetic), so other models would only repeat these compiles
    "name", ["gaussian1-exact-accumulate-iid", "gaussian3-raw-subsample-split"],
)
def test_generations_invariance(name):
    """Generations 0..5 of a G=5 run equal those of a G=10 run with the same schedules."""
    loop, truth, reference = _setup(name)
    longer = loop.replace(
        generations=10,
        real_fraction=np.concatenate([loop.real_fraction, [0.3, 0.1, 0.0, 0.4, 0.2]]),
        sample_size=np.concatenate([loop.sample_size, [6, 8, 12, 9, 11]]),
        pool_weights=None,
    )
    run = jc.simulate(longer, truth, key=KEY, seeds=64, chunk_size=64)
    assert run.metrics[next(iter(run.metrics))].shape == (64, 11)
    head = {k: v[:, :6] for k, v in run.metrics.items()}
    reference_head = {k: v[:64] for k, v in reference.metrics.items()}
    assert_runs_equal(head, run.status[:, :6], reference_head, reference.status[:64])
