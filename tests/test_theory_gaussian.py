"""Closed forms for the Gaussian family (``jc.theory.expected``) against exact identities
and against Monte-Carlo simulation.

Simulation checks: with a fixed key, ``|mean - expected| < 4 SE`` at every generation,
``SE = std(ddof=1) / sqrt(seeds)`` (``run.sem``). Each simulated configuration is one
compiled plan; seeds are run in chunks of ``CHUNK`` so every plan compiles once.
"""

import jax
import numpy as np
import pytest
from scipy import integrate, special, stats

import jcollapse as jc
from jcollapse.mixing import split_real_counts
from jcollapse.models import Gaussian, GaussianMean

Z_MAX = 4.0
CHUNK = 4000
SEEDS = 20_000

COV2 = np.array([[2.0, 0.6], [0.6, 0.5]])  # non-isotropic, correlated
MEAN2 = np.array([1.0, -2.0])


def max_abs_z(run, loop, truth, metric):
    """max over generations of |empirical mean - closed form| / SE."""
    expected = jc.theory.expected(loop, truth, metric)
    sem = run.sem(metric)
    assert np.all(sem > 0), f"{metric}: zero standard error"
    assert not run.failed.any(), f"{int(run.failed.sum())} seeds failed"
    z = np.abs(run.mean(metric) - expected) / sem
    print(f"{loop.model} pool={loop.pool} mixing={loop.mixing} path={loop.path} {metric}: "
          f"max|z|={z.max():.2f} at t={z.argmax()}")
    return float(z.max())


def simulate(loop, truth, key, seeds=SEEDS):
    return jc.simulate(loop, truth, key=jax.random.key(key), seeds=seeds, chunk_size=min(seeds, CHUNK))


# ----------------------------------------------------------------------------------------
# Exact identities of the recursion (float64, no simulation).


@pytest.mark.parametrize("dim, n", [(1, 100), (3, 7)])
def test_mle_variance_decay_identity(dim, n):
    # MLE, a = 0, fixed n: E sigma_hat^2_t = sigma^2 ((n - 1)/n)^(t + 1).
    model = Gaussian(dim=dim, variance="mle")
    cov = np.diag(np.arange(1.0, dim + 1))
    truth = model.params(mean=np.ones(dim), cov=cov)
    loop = jc.Loop(model, generations=60, real_fraction=0.0, sample_size=n)
    t = np.arange(61)
    closed = np.trace(cov) / dim * ((n - 1) / n) ** (t + 1)
    got = jc.theory.expected(loop, truth, "variance")
    assert got.dtype == np.float64 and got.shape == (61,)
    np.testing.assert_allclose(got, closed, rtol=1e-12, atol=0)


@pytest.mark.parametrize("schedule", [jc.schedules.power(20, 1.0), jc.schedules.from_values(np.arange(3, 44) % 9 + 3)])
def test_unbiased_mean_error_identity(schedule):
    # Unbiased, a = 0, any n_t: E ||mu_hat_t - mu||^2 = tr Sigma sum_{k<=t} 1/n_k, E Sigma_hat = Sigma.
    model = Gaussian(dim=2, variance="unbiased")
    truth = model.params(mean=MEAN2, cov=COV2)
    for mixing in ("iid", "split"):
        loop = jc.Loop(model, generations=40, real_fraction=0.0, sample_size=schedule, mixing=mixing)
        n = loop.sample_size.astype(np.float64)
        np.testing.assert_allclose(
            jc.theory.expected(loop, truth, "mean_sq_error"), np.trace(COV2) * np.cumsum(1 / n), rtol=1e-12
        )
        np.testing.assert_allclose(jc.theory.expected(loop, truth, "variance"), np.trace(COV2) / 2, rtol=1e-12)
        # The known-covariance model has the same mean error when a = 0.
        mean_loop = jc.Loop(GaussianMean(dim=2), generations=40, real_fraction=0.0, sample_size=schedule, mixing=mixing)
        np.testing.assert_allclose(
            jc.theory.expected(mean_loop, truth, "mean_sq_error"), np.trace(COV2) * np.cumsum(1 / n), rtol=1e-12
        )


@pytest.mark.parametrize("variance", ["mle", "unbiased"])
def test_all_real_identity(variance):
    # a = 1: every generation is an independent real fit: E||.||^2 = tr Sigma / n_t and
    # E Sigma_hat = Sigma (n - 1)/d; iid and split agree.
    model = Gaussian(dim=2, variance=variance)
    truth = model.params(mean=MEAN2, cov=COV2)
    n = np.arange(3, 24)
    for mixing in ("iid", "split"):
        loop = jc.Loop(model, generations=20, real_fraction=1.0, sample_size=n, mixing=mixing)
        d = n if variance == "mle" else n - 1
        np.testing.assert_allclose(jc.theory.expected(loop, truth, "mean_sq_error"), np.trace(COV2) / n, rtol=1e-12)
        np.testing.assert_allclose(jc.theory.expected(loop, truth, "variance"), np.trace(COV2) / 2 * (n - 1) / d,
                                   rtol=1e-12)


def test_one_step_by_hand():
    # Generation 1 of iid mixing, a = 0.5, n = 4, MLE, Sigma = 1, written out by hand:
    # M_0 = 1/4, V_0 = 3/4; C_1 = 0.5 + 0.5 * 0.75 + 0.25 * 0.25 = 0.9375;
    # M_1 = 0.25 * 0.25 + 0.9375 / 4; V_1 = 3 * 0.9375 / 4.
    model = Gaussian(dim=1)
    truth = model.params(mean=3.0, cov=[[1.0]])
    loop = jc.Loop(model, generations=1, real_fraction=0.5, sample_size=4)
    np.testing.assert_allclose(jc.theory.expected(loop, truth, "mean_sq_error"), [0.25, 0.0625 + 0.9375 / 4])
    np.testing.assert_allclose(jc.theory.expected(loop, truth, "variance"), [0.75, 3 * 0.9375 / 4])
    # Split, same numbers: r = 2, s = 2, b = 1/2; E scatter = 3 (0.5 + 0.5 * 0.75) + 4 * 0.25 * 0.25.
    loop = loop.replace(mixing="split")
    np.testing.assert_allclose(jc.theory.expected(loop, truth, "mean_sq_error"), [0.25, 0.0625 + 0.875 / 4])
    np.testing.assert_allclose(jc.theory.expected(loop, truth, "variance"), [0.75, (3 * 0.875 + 0.25) / 4])


def test_split_uses_engine_rounding():
    # round(a n) half to even: 0.5 * 7 = 3.5 -> 4 real; 0.25 * 10 = 2.5 -> 2 real.
    loop = jc.Loop(GaussianMean(dim=1), generations=2, real_fraction=[0.0, 0.5, 0.25], sample_size=[5, 7, 10],
                   mixing="split")
    np.testing.assert_allclose(jc.theory.split_real_fraction(loop), [1.0, 4 / 7, 0.2])


# ----------------------------------------------------------------------------------------
# Against simulation (exact-statistics path unless said otherwise).


def test_mle_variance_decay_simulation():
    model = Gaussian(dim=1, variance="mle")
    truth = model.params(mean=0.5, cov=[[2.0]])
    loop = jc.Loop(model, generations=80, real_fraction=0.0, sample_size=100)
    run = simulate(loop, truth, key=11)
    assert max_abs_z(run, loop, truth, "variance") < Z_MAX
    assert max_abs_z(run, loop, truth, "mean_sq_error") < Z_MAX


def test_unbiased_growing_schedule_simulation():
    model = Gaussian(dim=1, variance="unbiased")
    truth = model.params(mean=-1.0, cov=[[1.5]])
    loop = jc.Loop(model, generations=60, real_fraction=0.0, sample_size=jc.schedules.power(20, 1.0))
    run = simulate(loop, truth, key=12)
    assert max_abs_z(run, loop, truth, "mean_sq_error") < Z_MAX
    assert max_abs_z(run, loop, truth, "variance") < Z_MAX


# E log sigma_hat^2_t with a = 0 (jc.theory.gaussian_expected_log_variance): the same two
# loops as the two tests above, so their compiled programs are reused; other keys.
LOG_VARIANCE_LOOPS = {
    "mle, n = 100": (Gaussian(dim=1, variance="mle"), 2.0, 100, 80),
    "unbiased, n_t = 20 (t + 1)": (Gaussian(dim=1, variance="unbiased"), 1.5, jc.schedules.power(20, 1.0), 60),
}


@pytest.mark.parametrize("name", LOG_VARIANCE_LOOPS)
def test_expected_log_variance_simulation(name):
    # log sigma_hat^2_t is a sum of independent log chi^2 terms: light-tailed, so the
    # sample mean over seeds and its SE are trustworthy at every generation.
    model, variance, sample_size, generations = LOG_VARIANCE_LOOPS[name]
    truth = model.params(mean=0.5, cov=[[variance]])
    loop = jc.Loop(model, generations=generations, real_fraction=0.0, sample_size=sample_size)
    run = simulate(loop, truth, key=13)
    assert not run.failed.any()
    logs = np.log(np.asarray(run.metrics["variance"], np.float64))
    mean, sem = logs.mean(axis=0), logs.std(axis=0, ddof=1) / np.sqrt(logs.shape[0])
    expected = jc.theory.gaussian_expected_log_variance(loop, truth)
    z = (mean - expected) / sem
    assert np.max(np.abs(z)) < Z_MAX, z
    # the drift is resolved: the last generation sits many SE below log sigma^2
    assert np.log(variance) - mean[-1] > 20 * sem[-1]


def test_expected_log_variance_identity():
    # fixed n, MLE: (t + 1) equal terms psi((n - 1)/2) + log(2/n); Var from the same
    # digamma terms matches the chi-square's log by quadrature.
    model = Gaussian(dim=1, variance="mle")
    truth = model.params(mean=0.0, cov=[[3.0]])
    loop = jc.Loop(model, generations=4, real_fraction=0.0, sample_size=7)
    t = np.arange(5)
    closed = np.log(3.0) + (t + 1) * (special.digamma(3.0) + np.log(2 / 7))
    np.testing.assert_allclose(jc.theory.gaussian_expected_log_variance(loop, truth), closed, rtol=1e-13)
    log_chi2 = integrate.quad(lambda x: np.log(x) * stats.chi2.pdf(x, 6), 0, np.inf)[0]
    assert abs(log_chi2 - (special.digamma(3.0) + np.log(2))) < 1e-9


def test_expected_log_variance_rejects_other_loops():
    model = Gaussian(dim=1)
    truth = model.params(mean=0.0, cov=[[1.0]])
    for loop, match in [
        (jc.Loop(model, generations=3, real_fraction=0.1, sample_size=10), "real_fraction 0"),
        (jc.Loop(model, generations=3, real_fraction=0.0, sample_size=10, pool="accumulate"), "pool='replace'"),
        (jc.Loop(Gaussian(dim=2), generations=3, real_fraction=0.0, sample_size=10), "dim=1"),
    ]:
        with pytest.raises(ValueError, match=match):
            jc.theory.gaussian_expected_log_variance(loop, truth)


@pytest.mark.parametrize("mixing, n", [("iid", 10), ("split", 7)])
def test_gaussian_mean_simulation(mixing, n):
    # split with n = 7: 0.1 * 7 -> 1 real, 0.5 * 7 = 3.5 -> 4 real (half to even).
    model = GaussianMean(dim=2)
    truth = model.params(mean=MEAN2, cov=COV2)
    for key, a in [(21, 0.1), (22, 0.5)]:
        loop = jc.Loop(model, generations=40, real_fraction=a, sample_size=n, mixing=mixing)
        run = simulate(loop, truth, key=key)
        assert max_abs_z(run, loop, truth, "mean_sq_error") < Z_MAX


# a_t = 0.8 (t + 1)^(-1/4) (0.8 down to 0.34), n_t cycling through 10, 11, 12, 13.
#
# The 4-SE check needs the metrics' sample means to be near-normal with a trustworthy SE.
# The fitted variance is a multiplicative random walk, damped by each generation's real
# data, so its tails grow with n_t small and a_t small. At n_t = 5-8 with a_t falling to
# 0.11, `mean_sq_error` had a sample kurtosis of 10^3 to 3 10^4 at t = 21-30 (100,000
# seeds), the SE was unreliable, and 6 of 64 (key, metric, configuration) maxima
# exceeded 3.5 SE (keys 31-38). Here the kurtosis stays at 4-40 (one outlying seed
# aside), and 5 of 192 maxima exceed 3.5 (keys 0-23), near the 2.8 that 31 independent
# normal z per run would give (P(>= 5) = 0.15). A formula with the other variance
# estimator, the other mixing rule, a fixed n or a fixed a puts `mean_sq_error` 8 to 28
# SE off on the exact path (measured at key 31).
REAL_FRACTION = jc.schedules.power(0.8, -0.25)
SAMPLE_SIZE = jc.schedules.from_values(10 + np.arange(31) % 4)


# Every (mixing, variance) pair is checked once on the exact path (here) and its twin on
# the raw path (below), to keep the number of compiled plans down.
@pytest.mark.parametrize("mixing, variance", [("iid", "mle"), ("split", "unbiased")])
def test_gaussian_simulation(mixing, variance):
    model = Gaussian(dim=2, variance=variance)
    truth = model.params(mean=MEAN2, cov=COV2)
    loop = jc.Loop(model, generations=30, real_fraction=REAL_FRACTION, sample_size=SAMPLE_SIZE, mixing=mixing)
    run = simulate(loop, truth, key=31)
    assert max_abs_z(run, loop, truth, "mean_sq_error") < Z_MAX
    assert max_abs_z(run, loop, truth, "variance") < Z_MAX


@pytest.mark.parametrize("mixing, variance", [("iid", "unbiased"), ("split", "mle")])
def test_gaussian_raw_path_simulation(mixing, variance):
    model = Gaussian(dim=2, variance=variance)
    truth = model.params(mean=MEAN2, cov=COV2)
    loop = jc.Loop(
        model, generations=30, real_fraction=REAL_FRACTION, sample_size=SAMPLE_SIZE, mixing=mixing, path="raw"
    )
    run = simulate(loop, truth, key=41, seeds=4000)
    assert max_abs_z(run, loop, truth, "mean_sq_error") < Z_MAX
    assert max_abs_z(run, loop, truth, "variance") < Z_MAX


# ----------------------------------------------------------------------------------------
# Errors.


def _gaussian_loop(**changes):
    model = Gaussian(dim=2)
    loop = jc.Loop(model, generations=5, real_fraction=0.5, sample_size=10, **changes)
    return loop, model.params(mean=MEAN2, cov=COV2)


@pytest.mark.parametrize("pool", ["accumulate", "accumulate-subsample"])
def test_no_closed_form_for_accumulating_pools(pool):
    loop, truth = _gaussian_loop(pool=pool, mixing="split")
    with pytest.raises(NotImplementedError) as info:
        jc.theory.expected(loop, truth, "mean_sq_error")
    message = str(info.value)
    for part in ["Gaussian", repr(pool), "'split'", "'mean_sq_error'", "pool='replace'", "variance"]:
        assert part in message, (part, message)


def test_no_closed_form_for_w2():
    loop, truth = _gaussian_loop()
    with pytest.raises(NotImplementedError, match=r"'w2_sq'.*available.*mean_sq_error, variance"):
        jc.theory.expected(loop, truth, "w2_sq")


def test_unknown_metric():
    loop, truth = _gaussian_loop()
    with pytest.raises(ValueError, match="metric must be one of"):
        jc.theory.expected(loop, truth, "kl")
    mean_loop = jc.Loop(GaussianMean(dim=2), generations=3)
    with pytest.raises(ValueError, match="'variance'"):
        jc.theory.expected(mean_loop, truth, "variance")  # a Gaussian metric, not GaussianMean's


def test_registry_rejects_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        jc.theory.register(Gaussian, pool="replace", mixing="iid", metrics=("variance",))(lambda loop, truth: {})
    assert ("Gaussian", "replace", "iid", ("mean_sq_error", "variance")) in jc.theory.available()


def test_split_tie_rounds_half_to_even_in_simulation_and_theory():
    """0.59 * 50 is the tie 29.5: both the engine and the closed form use 30 real samples.

    Before counts were computed on the host, float32 ``jnp.round(0.59 * 50)`` gave 29 and
    a 200,000-seed run sat 30 SE away from the round-half-even closed form.
    """
    model = jc.models.GaussianMean(dim=1)
    truth = model.params(mean=0.0, cov=[[1.0]])
    loop = jc.Loop(model, generations=20, real_fraction=0.59, sample_size=50, mixing="split")
    np.testing.assert_array_equal(split_real_counts(loop.real_fraction, loop.sample_size)[1:], 30)
    run = jc.simulate(loop, truth, key=jax.random.key(59), seeds=20000)
    theory = jc.theory.expected(loop, truth, "mean_sq_error")
    z = (run.mean("mean_sq_error") - theory) / run.sem("mean_sq_error")
    assert np.max(np.abs(z)) < 4, z
