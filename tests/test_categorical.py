"""``jc.models.Categorical``: validation, the pure functions by hand, the binomial and
multinomial samplers against their exact laws, KL/support semantics in simulation, and the
exact path at n = 10^7.

Goodness-of-fit tests: chi-square against ``scipy.stats.binom`` over 100 equiprobable bins
(fewer where the law has fewer atoms), each at ``1e-3 / N_GOF`` (family-wise 1e-3,
Bonferroni, fixed before looking); fixed keys, so the outcome is deterministic.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import jcollapse as jc
from jcollapse.internal.samplers import MULTINOMIAL_TRIALS, binomial, multinomial
from jcollapse.models import Categorical

# ----------------------------------------------------------------------------------------
# Validation.


@pytest.mark.parametrize(
    "probs, match",
    [
        ([0.5, 0.6, 0.0], r"probs must sum to 1 \(within .*\); got sum 1\.1"),
        ([0.2, 0.2, 0.2], "probs must sum to 1"),
        ([1.2, -0.2, 0.0], r"probs must be >= 0 .*\[0, 1\].* index 1"),
        ([0.5, np.nan, 0.5], "probs must be finite"),
        ([0.5, np.inf, 0.5], "probs must be finite"),
        ([0.5, 0.5], r"probs must have shape \(3,\)"),
        ([[0.5, 0.25, 0.25]], r"probs must have shape \(3,\)"),
        ("abc", "probs must be a numeric array"),
    ],
)
def test_bad_probs(probs, match):
    with pytest.raises(ValueError, match=match):
        Categorical(num_categories=3).params(probs=probs)


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3"])
def test_bad_num_categories(k):
    with pytest.raises(ValueError, match="num_categories must be an integer >= 1"):
        Categorical(num_categories=k)


def test_float32_probs_are_accepted_and_renormalised():
    probs = np.random.default_rng(0).dirichlet(np.ones(1000)).astype(np.float32)
    truth = Categorical(num_categories=1000).params(probs=probs)
    assert truth.probs.dtype == jnp.float32
    assert abs(float(np.sum(np.asarray(truth.probs, np.float64))) - 1) < 1e-6
    Categorical(num_categories=1).params(probs=[1.0])  # K = 1 is a point mass


# ----------------------------------------------------------------------------------------
# The pure functions, by hand.

MODEL3 = Categorical(num_categories=3)
TRUTH3 = MODEL3.params(probs=[0.5, 0.3, 0.2])


def test_statistics_fit_and_metrics_by_hand():
    data = jnp.array([0, 2, 2, 1, 0, 0], jnp.int32)
    weights = jnp.array([1, 1, 1, 0, 1, 1], jnp.float32)  # the 1 is dropped
    stats_ = MODEL3.statistics(data, weights)
    np.testing.assert_array_equal(stats_.counts, [3, 0, 2])
    merged = stats_.merge(stats_.reweight(jnp.float32(0.5)))
    np.testing.assert_array_equal(merged.counts, [4.5, 0, 3])
    fit = MODEL3.fit(stats_, TRUTH3)
    np.testing.assert_allclose(fit.probs, [0.6, 0.0, 0.4], rtol=1e-6)
    m = {k: float(v) for k, v in MODEL3.metrics(fit, TRUTH3).items()}
    assert m["param_sq_error"] == pytest.approx(0.01 + 0.09 + 0.04, rel=1e-6)
    assert m["tv"] == pytest.approx(0.3, rel=1e-6)
    assert m["kl"] == np.inf  # category 1 is lost
    assert m["entropy"] == pytest.approx(-(0.6 * np.log(0.6) + 0.4 * np.log(0.4)), rel=1e-6)
    assert m["support"] == 2.0
    assert not bool(MODEL3.is_degenerate(fit))


def test_kl_is_accurate_near_zero():
    # KL of order K/n = 5e-6: the float32 value matches float64 to 1e-4 relative.
    truth = np.random.default_rng(3).dirichlet(np.ones(50))
    fit = truth * (1 + 1e-3 * np.random.default_rng(4).standard_normal(50))
    fit /= fit.sum()
    model = Categorical(num_categories=50)
    got = float(model.metrics(model.params(probs=fit), model.params(probs=truth))["kl"])
    exact = float(np.sum(truth * np.log(truth / fit)))
    assert got == pytest.approx(exact, rel=1e-3)


def test_zero_truth_category_is_skipped_in_kl():
    model = Categorical(num_categories=3)
    truth = model.params(probs=[0.5, 0.5, 0.0])
    m = model.metrics(model.params(probs=[0.25, 0.25, 0.5]), truth)
    assert float(m["kl"]) == pytest.approx(np.log(2), rel=1e-6)  # finite: nothing true is lost
    m = model.metrics(truth, truth)
    assert float(m["kl"]) == 0.0 and float(m["param_sq_error"]) == 0.0 and float(m["support"]) == 2.0


def test_raw_sampler_never_draws_a_zero_category():
    model = Categorical(num_categories=5)
    params = model.params(probs=[0.0, 0.5, 0.0, 0.5, 0.0])
    x = np.asarray(model.sample(jax.random.key(0), params, 100_000))
    assert set(np.unique(x)) == {1, 3}
    assert abs(np.mean(x == 1) - 0.5) < 4 * np.sqrt(0.25 / x.size)


# ----------------------------------------------------------------------------------------
# Samplers against their exact laws.

GOF_CASES = [(10_000_000, 0.3), (10_000_000, 0.02), (10_000_000, 0.9), (1_000_000, 0.3), (40, 0.3), (10_000_000, 1e-6)]
N_GOF = len(GOF_CASES)
DRAWS = 400_000


def _chi_square_pvalue(x, n, p):
    cuts = np.unique(stats.binom.ppf(np.linspace(0, 1, 101)[1:-1], n, p))
    edges = np.concatenate([[-1], cuts, [n]])
    observed = np.histogram(x, bins=edges + 0.5)[0]
    expected = np.diff(stats.binom.cdf(edges, n, p)) * x.size
    keep = expected > 0
    chi2 = np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep])
    return stats.chi2.sf(chi2, keep.sum() - 1)


_draw = jax.jit(
    lambda key, n, p, trials: binomial(key, jnp.full((DRAWS,), n, jnp.float32), jnp.full((DRAWS,), p, jnp.float32),
                                       trials=trials),
    static_argnums=3,
)


@pytest.mark.parametrize("case", range(N_GOF))
def test_binomial_matches_exact_law(case):
    # jax.random.binomial fails this at n >= 10^6 in float32 (chi-square p < 1e-60 with 2e6
    # draws); ours is exact up to the float32 rounding of p.
    n, p = GOF_CASES[case]
    trials = 1 if case % 2 else MULTINOMIAL_TRIALS  # the mixing counts' sampler, the multinomial's
    x = np.asarray(_draw(jax.random.key(100 + case), n, p, trials), np.float64)
    assert np.all(x == np.round(x)) and x.min() >= 0 and x.max() <= n
    pvalue = _chi_square_pvalue(x, n, p)
    assert pvalue > 1e-3 / N_GOF, pvalue


def test_binomial_edge_cases():
    key = jax.random.key(0)
    n = jnp.array([0.0, 7.0, 7.0, 2.0**24, 5.0, -1.0, 5.0])
    p = jnp.array([0.3, 0.0, 1.0, 0.5, jnp.nan, 0.5, 0.5])
    x = np.asarray(binomial(key, n, p))
    np.testing.assert_array_equal(x[:3], [0, 0, 7])
    assert abs(x[3] - 2**23) < 6 * 2**11  # sd 2^11
    assert np.isnan(x[4]) and np.isnan(x[5]) and 0 <= x[6] <= 5


@pytest.mark.parametrize("count", [0, 1, 97, 10_000_000, 2**24])
def test_multinomial_counts_sum_exactly(count):
    probs = jnp.asarray(np.random.default_rng(0).dirichlet(np.ones(50)), jnp.float32).at[7].set(0.0)
    draws = jax.vmap(lambda k: multinomial(k, jnp.array(count), probs))(jax.random.split(jax.random.key(count), 64))
    draws = np.asarray(draws, np.float64)
    np.testing.assert_array_equal(draws.sum(axis=1), count)
    assert np.all(draws[:, 7] == 0) and np.all(draws >= 0)


def test_multinomial_moments_at_ten_million():
    # Mean and variance of every category's count, within 4.5 SE (50 + 50 comparisons).
    n, seeds = 10_000_000, 4000
    probs = np.random.default_rng(5).dirichlet(np.ones(50))
    p32 = jnp.asarray(probs, jnp.float32)
    counts = np.asarray(
        jax.jit(jax.vmap(lambda k: multinomial(k, jnp.array(n), p32)))(jax.random.split(jax.random.key(9), seeds)),
        np.float64,
    )
    p = np.asarray(p32, np.float64) / np.asarray(p32, np.float64).sum()
    var = n * p * (1 - p)
    z_mean = (counts.mean(0) - n * p) / np.sqrt(var / seeds)
    z_var = (counts.var(0, ddof=1) - var) / (var * np.sqrt(2 / (seeds - 1)))
    print(f"max|z| mean {np.abs(z_mean).max():.2f}, variance {np.abs(z_var).max():.2f}")
    assert np.abs(z_mean).max() < 4.5 and np.abs(z_var).max() < 4.5


# ----------------------------------------------------------------------------------------
# In the loop.


def test_exact_path_at_ten_million_samples():
    model = Categorical(num_categories=50)
    truth = model.params(probs=np.random.default_rng(0).dirichlet(np.ones(50)))
    stats_ = jax.jit(model.sample_statistics)(jax.random.key(1), truth, jnp.array(10_000_000))
    assert float(np.sum(np.asarray(stats_.counts, np.float64))) == 1e7
    loop = jc.Loop(model, generations=2, real_fraction=0.1, sample_size=10_000_000)
    run = jc.simulate(loop, truth, key=jax.random.key(2), seeds=64)
    assert loop.path == "exact" and not run.failed.any()
    np.testing.assert_array_equal(run.metrics["support"], 50)
    assert np.all(np.isfinite(run.metrics["kl"]))
    z = (run.mean("param_sq_error") - jc.theory.expected(loop, truth, "param_sq_error")) / run.sem("param_sq_error")
    print(f"n = 1e7: max|z| = {np.abs(z).max():.2f}")
    assert np.abs(z).max() < 4
    # Generation 0: KL ~ chi-square_{K*-1} / (2n), mean (K* - 1) / (2n) to first order
    # (64 seeds: SE 2.5 %). Later generations scale with R_t / R_0 (here 2.47 at t = 2).
    kl = run.mean("kl")
    assert kl[0] == pytest.approx(49 / 2e7, rel=0.1)
    assert kl[2] == pytest.approx(49 / 2e7 * (1 + 0.81 + 0.81**2), rel=0.15)


@pytest.mark.parametrize("path", ["exact", "raw"])
def test_kl_infinite_exactly_when_a_category_is_lost(path):
    # theta* has two zero categories (K* = 4 of K = 6); small n loses categories often.
    model = Categorical(num_categories=6)
    truth = model.params(probs=[0.4, 0.0, 0.3, 0.2, 0.1, 0.0])
    loop = jc.Loop(model, generations=15, real_fraction=0.2, sample_size=8, path=path)
    run = jc.simulate(loop, truth, key=jax.random.key(3), seeds=512)
    kl, support = run.metrics["kl"], run.metrics["support"]
    lost = support < 4
    assert 0.2 < lost.mean() < 0.95  # both cases occur
    np.testing.assert_array_equal(kl == np.inf, lost)
    assert np.all(np.isfinite(kl[~lost])) and np.all(kl >= 0)
    assert np.all(support <= 4)  # a zero-probability category never appears
    assert np.all(run.status == 0)  # +inf KL is a value, not a failure
    assert np.all(run.metrics["entropy"] <= np.log(support) + 1e-6)


def test_auto_path_draws_counts_only_where_they_are_cheaper():
    model = Categorical(num_categories=10)
    assert jc.Loop(model, generations=1, sample_size=159).path == "raw"
    assert jc.Loop(model, generations=1, sample_size=[20, 160]).path == "exact"
    assert jc.Loop(model, generations=1, sample_size=20, path="exact").path == "exact"
