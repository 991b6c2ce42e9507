"""Mean estimation on an accumulating pool (Amin et al.): Theorem 1 and its generalisation
against each other and against simulation, the phase-transition asymptotes, and the
variance-optimal pool weights.

Monte-Carlo checks: fixed keys, |z| < 4 with the SE of the run.
"""

import jax
import numpy as np
import pytest

import jcollapse as jc

N = 100  # per-round sample size: Theorem 1 is in units of Sigma / n
CONTAMINATIONS = (0.25, 0.5, 0.75, 1.0)


def _loop(alpha, generations, mixing="split", sample_size=N):
    return jc.Loop(jc.models.GaussianMean(dim=1), generations=generations, real_fraction=1 - alpha,
                   sample_size=sample_size, pool="accumulate", mixing=mixing)


TRUTH = jc.models.GaussianMean(dim=1).params(mean=0.3, cov=[[2.0]])


@pytest.mark.parametrize("alpha", (0.0,) + CONTAMINATIONS)
def test_theorem_1_is_the_uniform_weight_recursion(alpha):
    recursion = jc.theory.accumulate_mean_moments(_loop(alpha, 199)) * N
    np.testing.assert_allclose(jc.theory.amin_theorem_1(alpha, 200), recursion, rtol=1e-12)


def test_theorem_1_checked_value_and_limits():
    assert round(float(jc.theory.amin_theorem_1(0.75, 100)[-1]), 5) == 0.26556  # docs/theory.md, section 5.2
    np.testing.assert_allclose(jc.theory.amin_theorem_1(0.0, 50), 1 / np.arange(1, 51))  # clean averaging
    ones = jc.theory.amin_theorem_1(1.0, 100_000)
    np.testing.assert_allclose(ones, np.cumsum(1 / np.arange(1, 100_001) ** 2), rtol=1e-10)
    assert ones[-1] < np.pi**2 / 6 < ones[-1] + 1e-4


@pytest.mark.parametrize("alpha, rtol", [(0.25, 1e-3), (0.75, 1e-2), (0.9, 1e-2), (1.0, 1e-5)])
def test_asymptotes_are_the_leading_terms(alpha, rtol):
    t = 10**6
    exact = jc.theory.amin_theorem_1(alpha, t)[-1]
    np.testing.assert_allclose(jc.theory.amin_asymptote(alpha, t), exact, rtol=rtol)


def test_half_contamination_is_log_t_over_t_plus_a_constant():
    # at alpha = 1/2 the ratio to log(t) / t approaches 1 only like 1 / log t: t Var - log t -> const
    t = np.array([10**4, 10**5, 10**6])
    exact = jc.theory.amin_theorem_1(0.5, 10**6)[t - 1]
    offset = t * exact - t * jc.theory.amin_asymptote(0.5, t)
    np.testing.assert_allclose(offset, offset[-1], atol=1e-3)


def test_phase_transition_orders_the_rates():
    t = np.array([10**3, 10**4])
    slopes = {a: np.diff(np.log(jc.theory.amin_theorem_1(a, 10**4)[t - 1])) / np.log(10) for a in CONTAMINATIONS}
    assert slopes[0.25] == pytest.approx(-1, abs=0.01)
    assert -1 < slopes[0.5] < -0.85  # log t / t
    assert slopes[0.75] == pytest.approx(-0.5, abs=0.01)
    assert slopes[1.0] == pytest.approx(0, abs=1e-3)


def test_bad_contamination_is_refused():
    with pytest.raises(ValueError, match=r"contamination must be in \[0, 1\]; got 1.5"):
        jc.theory.amin_theorem_1(1.5, 10)
    with pytest.raises(ValueError, match="rounds must be an integer >= 1"):
        jc.theory.amin_theorem_1(0.5, 0)


@pytest.mark.parametrize("mixing", ["split", "iid"])
def test_optimal_weights_minimise_the_variance(mixing):
    loop = _loop(0.6, 30, mixing=mixing, sample_size=jc.schedules.power(20, 0.5))
    best = jc.theory.accumulate_mean_moments(loop.replace(pool_weights=jc.theory.optimal_pool_weights(loop)))
    rng = np.random.default_rng(0)
    for _ in range(200):  # no other weighting does better at any generation
        weights = np.concatenate([[1.0], rng.exponential(size=30) * rng.choice([0.1, 1, 10])])
        other = jc.theory.accumulate_mean_moments(loop.replace(pool_weights=weights))
        assert np.all(other >= best * (1 - 1e-12))
    if mixing == "split":  # generation t is worth b_t^2 n_t real samples
        b, n = jc.theory.split_real_fraction(loop), np.asarray(loop.sample_size, float)
        np.testing.assert_allclose(1 / best, np.cumsum(b**2 * n), rtol=1e-12)


def test_optimal_weights_equal_the_debiased_candidate():
    # The debiased estimator's Sigma / (1 + t (1 - alpha)^2) (rounds t + 1), reached by weights alone.
    for alpha in (0.25, 0.75, 1.0):
        loop = _loop(alpha, 50)
        best = jc.theory.accumulate_mean_moments(loop.replace(pool_weights=jc.theory.optimal_pool_weights(loop)))
        np.testing.assert_allclose(best * N, 1 / (1 + np.arange(51) * (1 - alpha) ** 2), rtol=1e-12)


GENERATIONS, SEEDS = 60, 4000
CHECKED = np.arange(0, GENERATIONS + 1, 5)


def _check(run, loop):
    expected = jc.theory.expected(loop, TRUTH, "mean_sq_error")
    mean, sem = run.mean("mean_sq_error"), run.sem("mean_sq_error")
    z = (mean - expected)[CHECKED] / sem[CHECKED]
    assert np.all(np.abs(z) < 4), z
    return mean, sem


@pytest.mark.parametrize("alpha", CONTAMINATIONS)
def test_theorem_1_matches_simulation(alpha):
    # below, at and above 1/2, and at 1 (-> pi^2/6); one compiled loop for all four
    loop = _loop(alpha, GENERATIONS)
    _check(jc.simulate(loop, TRUTH, key=jax.random.key(11), seeds=SEEDS), loop)


@pytest.mark.parametrize("mixing", ["split", "iid"])
def test_weighted_estimator_beats_erm(mixing):
    erm = _loop(0.75, GENERATIONS, mixing=mixing)
    weighted = erm.replace(pool_weights=jc.theory.optimal_pool_weights(erm))
    erm_mean, erm_sem = _check(jc.simulate(erm, TRUTH, key=jax.random.key(12), seeds=SEEDS), erm)
    mean, sem = _check(jc.simulate(weighted, TRUTH, key=jax.random.key(13), seeds=SEEDS), weighted)
    assert erm_mean[-1] - mean[-1] > 4 * np.hypot(erm_sem[-1], sem[-1])
