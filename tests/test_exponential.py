"""Poisson and Bernoulli: parameter validation, raw vs exact paths, the closed forms of
:mod:`jcollapse.theory._exponential` against simulation, and the absorption probabilities.

Statistical checks compare a mean over seeds with its expectation within 4 standard errors
at every generation (fixed keys, so the outcome is deterministic). Compiles dominate the
cost, so every simulation below is one of a few loops (one per model, mixing, path and
real-data pattern), shared through module-level caches.
"""

import functools

import jax
import numpy as np
import pytest
from scipy import stats

import jcollapse as jc
from jcollapse.theory import (
    bernoulli_absorption_probability,
    poisson_absorption_probability,
    random_walk_error,
)

SEEDS = 2000
GENERATIONS = 10
Z = 4.0

# dim = 2 with unequal coordinates: the metric sums over coordinates. The two truths of a
# model share one compiled loop (the truth is data, not structure).
POISSON = jc.models.Poisson(dim=2)
BERNOULLI = jc.models.Bernoulli(dim=2)
TRUTHS = {
    "poisson": (POISSON, dict(rate=[1.0, 3.0])),
    "bernoulli-half": (BERNOULLI, dict(probs=[0.5, 0.45])),
    "bernoulli-small": (BERNOULLI, dict(probs=[0.1, 0.05])),
}


def _loop(model, mixing, path="exact"):
    return jc.Loop(model, generations=GENERATIONS, real_fraction=0.3, sample_size=20, mixing=mixing, path=path)


@functools.lru_cache(maxsize=None)
def _run(name, mixing, path="exact"):
    model, fields = TRUTHS[name]
    loop = _loop(model, mixing, path)
    truth = model.params(**fields)
    key = jax.random.key({"exact": 11, "raw": 12}[path])
    run = jc.simulate(loop, truth, key=key, seeds=SEEDS)
    assert not run.failed.any()
    return loop, truth, run


# ---------------------------------------------------------------------------------------
# Validation: ValueError naming the field and its range, before anything compiles.


@pytest.mark.parametrize("rate", [0.0, -1.0, [1.0, 0.0], np.nan, np.inf])
def test_poisson_rate_must_be_positive_and_finite(rate):
    with pytest.raises(ValueError, match="rate"):
        POISSON.params(rate=rate)


def test_poisson_rate_range_and_shape_in_message():
    with pytest.raises(ValueError, match=r"rate must be > 0 \(allowed range \(0, inf\)\)"):
        POISSON.params(rate=[1.0, -2.0])
    with pytest.raises(ValueError, match=r"rate must have shape \(2,\)"):
        POISSON.params(rate=[1.0, 2.0, 3.0])


@pytest.mark.parametrize("probs", [0.0, 1.0, [0.5, 1.5], [-0.1, 0.5], np.nan])
def test_bernoulli_probs_must_be_in_open_unit_interval(probs):
    with pytest.raises(ValueError, match="probs"):
        BERNOULLI.params(probs=probs)


def test_bernoulli_range_in_message_and_scalar_broadcasts():
    with pytest.raises(ValueError, match=r"probs must be in \(0, 1\) \(allowed range \(0, 1\)"):
        BERNOULLI.params(probs=[0.5, 1.0])
    np.testing.assert_array_equal(np.asarray(BERNOULLI.params(probs=0.25).probs), [0.25, 0.25])


@pytest.mark.parametrize("model_type", [jc.models.Poisson, jc.models.Bernoulli])
@pytest.mark.parametrize("dim", [0, 1.5, True])
def test_dim_must_be_a_positive_integer(model_type, dim):
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        model_type(dim=dim)


def test_models_are_mean_families_with_exact_default_path():
    for model in (POISSON, BERNOULLI):
        assert isinstance(model, jc.models.AbstractMeanFamily)
        assert model.min_sample_size == 1
        assert _loop(model, "iid", path="auto").path == "exact"
    truth = POISSON.params(rate=[4.0, 9.0])
    np.testing.assert_allclose(np.asarray(POISSON.sample_std(truth)), [2.0, 3.0])
    truth = BERNOULLI.params(probs=[0.5, 0.1])
    np.testing.assert_allclose(np.asarray(BERNOULLI.sample_std(truth)), [0.5, 0.3], rtol=1e-6)


# ---------------------------------------------------------------------------------------
# Engine: the pool that needs the raw path.


def test_accumulate_subsample_runs():
    # "replace" runs below on both paths; the subsampling pool needs the raw samples.
    truth = POISSON.params(rate=[1.0, 3.0])
    loop = jc.Loop(POISSON, generations=3, real_fraction=0.2, sample_size=8, pool="accumulate-subsample",
                   mixing="split")
    run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=16)
    assert loop.path == "raw" and run.metrics["param_sq_error"].shape == (16, 4)
    assert not run.failed.any()


# ---------------------------------------------------------------------------------------
# Raw and exact paths agree in distribution.


@pytest.mark.parametrize("name", ["poisson", "bernoulli-half"])
def test_raw_and_exact_paths_agree(name):
    _, _, exact = _run(name, "iid", "exact")
    _, _, raw = _run(name, "iid", "raw")
    for metric in ("param_sq_error", "variance"):
        diff = exact.mean(metric) - raw.mean(metric)
        se = np.hypot(exact.sem(metric), raw.sem(metric))
        assert np.all(np.abs(diff) <= Z * se), (metric, diff / se)
    # The whole law at the last generation (alpha 1e-4 per comparison, fixed keys).
    for metric in ("param_sq_error", "variance"):
        result = stats.ks_2samp(exact.metrics[metric][:, -1], raw.metrics[metric][:, -1])
        assert result.pvalue > 1e-4, (metric, result)


# ---------------------------------------------------------------------------------------
# Closed forms against simulation.


@pytest.mark.parametrize("mixing", ["iid", "split"])
@pytest.mark.parametrize("name", sorted(TRUTHS))
def test_closed_form_matches_simulation(name, mixing):
    loop, truth, run = _run(name, mixing)
    for metric in ("param_sq_error", "variance"):
        expected = jc.theory.expected(loop, truth, metric)
        z = (run.mean(metric) - expected) / run.sem(metric)
        assert np.all(np.abs(z) <= Z), (metric, z.round(2))


def test_no_closed_form_for_absorbed_or_bernoulli_accumulate():
    loop = _loop(POISSON, "iid")
    truth = POISSON.params(rate=1.0)
    with pytest.raises(NotImplementedError, match="absorbed"):
        jc.theory.expected(loop, truth, "absorbed")
    with pytest.raises(NotImplementedError):
        jc.theory.expected(_loop(BERNOULLI, "iid").replace(pool="accumulate"), BERNOULLI.params(probs=[0.5, 0.5]),
                           "param_sq_error")


def test_poisson_accumulate_matches_simulation():
    # the GaussianMean recursion with Sigma = diag(rate): E rate_hat = rate* at every t. iid
    # mixing, the case with the extra a (1 - a) term (split is GaussianMean's, tested there)
    loop = _loop(POISSON, "iid").replace(pool="accumulate", pool_weights=jc.schedules.geometric(1.0, 1.2))
    truth = POISSON.params(rate=[1.0, 3.0])
    run = jc.simulate(loop, truth, key=jax.random.key(13), seeds=SEEDS)
    for metric in ("param_sq_error", "variance"):
        z = (run.mean(metric) - jc.theory.expected(loop, truth, metric)) / run.sem(metric)
        assert np.all(np.abs(z) <= Z), (metric, z.round(2))


def test_known_identities_without_real_data():
    n = np.array([5, 7, 20, 3, 11, 50, 9])
    bernoulli = jc.models.Bernoulli(dim=1)
    loop = jc.Loop(bernoulli, generations=n.size - 1, real_fraction=0.0, sample_size=n)
    truth = bernoulli.params(probs=0.3)
    p = float(truth.probs[0])  # the truth as stored (float32), which the closed form reads
    for mixing in ("iid", "split"):
        out = jc.theory.expected(loop.replace(mixing=mixing), truth, "param_sq_error")
        np.testing.assert_allclose(out, p * (1 - p) * (1 - np.cumprod(1 - 1 / n)), rtol=1e-12)
    poisson = jc.models.Poisson(dim=1)
    loop = jc.Loop(poisson, generations=n.size - 1, real_fraction=0.0, sample_size=n)
    for mixing in ("iid", "split"):
        out = jc.theory.expected(loop.replace(mixing=mixing), poisson.params(rate=2.5), "param_sq_error")
        np.testing.assert_allclose(out, 2.5 * random_walk_error(n), rtol=1e-12)
    np.testing.assert_allclose(random_walk_error(n), np.cumsum(1 / n))


def test_all_real_data_is_plain_sampling_error():
    # a_t = 1 everywhere: every generation is a fresh real sample, m_t = v* / n_t.
    loop = jc.Loop(BERNOULLI, generations=3, real_fraction=1.0, sample_size=[4, 8, 16, 32])
    truth = BERNOULLI.params(probs=[0.5, 0.1])
    p = np.asarray(truth.probs, dtype=np.float64)  # as stored (float32)
    for mixing in ("iid", "split"):
        out = jc.theory.expected(loop.replace(mixing=mixing), truth, "param_sq_error")
        np.testing.assert_allclose(out, np.sum(p * (1 - p)) / np.array([4, 8, 16, 32]), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Absorption: the fraction of seeds collapsed, and the growth dichotomy.

ABSORPTION_GENERATIONS = 30


@pytest.mark.parametrize(
    "model, fields, n, theory",
    [
        (jc.models.Poisson(dim=1), dict(rate=1.0), 5, poisson_absorption_probability),
        (jc.models.Bernoulli(dim=1), dict(probs=0.5), 10, bernoulli_absorption_probability),
    ],
    ids=["poisson", "bernoulli"],
)
def test_fraction_absorbed_matches_absorption_probability(model, fields, n, theory):
    loop = jc.Loop(model, generations=ABSORPTION_GENERATIONS, real_fraction=0.0, sample_size=n)
    truth = model.params(**fields)
    run = jc.simulate(loop, truth, key=jax.random.key(3), seeds=SEEDS)
    p = theory(loop, truth)
    assert np.all(np.diff(p) >= -1e-15) and p[-1] > 0.5
    observed = run.mean("absorbed")
    se = np.sqrt(np.clip(p * (1 - p), 0, None) / SEEDS)
    degenerate = se == 0
    assert np.all(observed[degenerate] == p[degenerate])
    z = (observed[~degenerate] - p[~degenerate]) / se[~degenerate]
    assert np.all(np.abs(z) <= Z), z.round(2)
    # An absorbed seed stays absorbed.
    absorbed = run.metrics["absorbed"]
    assert np.all(np.diff(absorbed, axis=1) >= 0)


def test_absorption_small_cases_by_hand():
    # Poisson, n = 1: S_0 ~ Poisson(r); P(S_1 = 0) = exp(-r (1 - e^-1)).
    np.testing.assert_allclose(poisson_absorption_probability([1, 1], 2.0), np.exp([-2.0, -2.0 * (1 - np.exp(-1))]))
    # Bernoulli, n = 2, p = 1/2: K_0 in {0, 2} w.p. 1/2; K_0 = 1 absorbs next w.p. 1/2.
    np.testing.assert_allclose(bernoulli_absorption_probability([2, 2, 2], 0.5), [0.5, 0.75, 0.875])
    # n = 1 is absorbed at once.
    np.testing.assert_allclose(bernoulli_absorption_probability([1, 3], 0.3), [1.0, 1.0])


def test_poisson_absorption_growth_dichotomy():
    # Xu et al.: collapse a.s. iff sum 1/n_t diverges. Near-critical branching gives
    # P(absorbed by t) ~ exp(-rate / (sum_{k<t} 1/n_k / 2)): constant n -> 1 fast, linear
    # n -> 1 only like exp(-c / log t), superlinear n stays at a limit below 1.
    long, short = 4000, 1000
    t = np.arange(long + 1)
    constant = poisson_absorption_probability(np.full(long + 1, 5), 1.0)
    linear = poisson_absorption_probability(5 * (t + 1), 1.0)
    quadratic = poisson_absorption_probability(5 * (t + 1) ** 2, 1.0)
    for p in (constant, linear, quadratic):
        assert np.all(np.diff(p) >= 0)
    assert constant[-1] > 0.99
    assert linear[short] < constant[short] and linear[-1] - linear[short] > 0.03
    assert quadratic[-1] < 0.1 and quadratic[-1] - quadratic[short] < 1e-4


def test_bernoulli_absorption_growth_dichotomy():
    constant = bernoulli_absorption_probability(np.full(201, 20), 0.5)
    assert constant[-1] > 0.99
    t = np.arange(101)
    linear = bernoulli_absorption_probability(5 * (t + 1), 0.5)
    assert np.all(np.diff(linear) >= -1e-12) and linear[-1] - linear[50] > 0.03
    assert linear[-1] < constant[100]
    quadratic = bernoulli_absorption_probability(2 * (t[:26] + 1) ** 2, 0.5)
    assert quadratic[-1] < 0.55 and quadratic[-1] - quadratic[12] < 0.01


@pytest.mark.parametrize(
    "function, model, fields",
    [
        (poisson_absorption_probability, jc.models.Poisson, dict(rate=1.0)),
        (bernoulli_absorption_probability, jc.models.Bernoulli, dict(probs=0.5)),
    ],
)
def test_absorption_rejects_real_data_and_dim(function, model, fields):
    one = model(dim=1)
    with pytest.raises(ValueError, match="real_fraction 0 at every t >= 1"):
        function(jc.Loop(one, generations=3, real_fraction=0.1, sample_size=5), one.params(**fields))
    two = model(dim=2)
    with pytest.raises(ValueError, match="dim"):
        function(jc.Loop(two, generations=3, real_fraction=0.0, sample_size=5), two.params(**fields))
    with pytest.raises(ValueError, match="dim = 1"):
        function([5, 5], two.params(**fields))
    with pytest.raises(ValueError, match="integers >= 1"):
        function([5, 0], 0.5)


def test_bernoulli_absorption_rejects_large_n():
    with pytest.raises(ValueError, match="transition matrix"):
        bernoulli_absorption_probability([10, 6000], 0.5)


@pytest.mark.parametrize("path", ["exact", "raw"])
def test_a_fit_of_all_ones_is_exactly_absorbed(path):
    # XLA turns n_ones / n into n_ones * (1 / n): at n = 110 that is one ulp below 1 in
    # float32, and the fit was missed as absorbed (jcollapse.internal.special.safe_divide keeps n/n = 1).
    # Starting at p = 0.97, a generation draws all ones with probability 0.97^110 = 3.5 %
    # or more, so most of the 64 seeds are absorbed within 30 generations whatever the key
    # (from p = 0.5 hardly any are: the check then rested on the luck of one stream).
    loop = jc.Loop(jc.models.Bernoulli(dim=1), generations=30, real_fraction=0.0, sample_size=110, path=path)
    run = jc.simulate(loop, jc.models.Bernoulli(dim=1).params(probs=[0.97]), key=jax.random.key(0), seeds=64)
    fixed = run.metrics["variance"] == 0
    assert fixed.any()
    np.testing.assert_array_equal(run.metrics["absorbed"] == 1, fixed)
