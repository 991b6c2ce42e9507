"""The kernel density estimate in the loop: its closed forms against simulation, its exact
log-density, the truths it is fitted to, the sample-based distances, and the engine's hooks
for families fitted to a law (scan against a Python loop, bitwise chunk invariance).

Monte-Carlo checks: fixed keys, |z| < 4 with the SE of the run, at every generation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import assert_runs_equal, python_loop
from scipy import stats as scipy_stats

import jcollapse as jc
from jcollapse.internal.samplers import weighted_indices

KEY = jax.random.key(7)
GAUSSIAN2 = jc.truths.GaussianMixture.gaussian(mean=[0.0, 1.0], cov=[[1.0, 0.3], [0.3, 2.0]])

#: (bandwidth, pool, n): a fixed bandwidth under both pools, and both rules.
SETTINGS = {
    "fixed-replace": (0.3, "replace", 10),
    "fixed-accumulate": (0.5, "accumulate", 20),
    "scott-replace": ("scott", "replace", 50),
    "silverman-accumulate": ("silverman", "accumulate", 30),
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_data_variance_follows_its_closed_form(name):
    bandwidth, pool, n = SETTINGS[name]
    model = jc.models.KernelDensity(dim=2, bandwidth=bandwidth, test_size=8)
    loop = jc.Loop(model, generations=8, real_fraction=0.0, sample_size=n, pool=pool)
    run = jc.simulate(loop, GAUSSIAN2, key=KEY, seeds=2000)
    assert not run.failed.any()
    theory = jc.theory.expected(loop, GAUSSIAN2, "data_variance")
    z = (run.mean("data_variance") - theory) / run.sem("data_variance")
    assert np.max(np.abs(z)) < 4, z


def test_closed_form_limits():
    """Replace with a fixed h converges to (n - 1) h^2; accumulate's increments are at most
    h^2 / (t + 2); Scott's rule at n = 100, dim = 1 grows by (1 - 1/n)(1 + n^-0.4) a generation."""
    truth = jc.truths.GaussianMixture.gaussian(mean=[0.0], cov=[[1.0]])
    fixed = jc.models.KernelDensity(dim=1, bandwidth=0.5)
    replace = jc.Loop(fixed, generations=3000, real_fraction=0.0, sample_size=10)
    np.testing.assert_allclose(jc.theory.expected(replace, truth, "data_variance")[-1], 9 * 0.25, rtol=1e-9)
    accumulate = replace.replace(pool="accumulate", generations=200)
    curve = jc.theory.expected(accumulate, truth, "data_variance")
    steps = np.diff(curve)
    assert np.all(steps > 0) and np.all(steps <= 0.25 / (np.arange(200) + 2))
    scott = jc.Loop(jc.models.KernelDensity(dim=1, bandwidth="scott"), generations=3, real_fraction=0.0,
                    sample_size=100)
    ratio = np.diff(np.log(jc.theory.expected(scott, truth, "data_variance")))
    np.testing.assert_allclose(ratio, np.log(0.99 * (1 + 100**-0.4)), rtol=1e-12)


def test_closed_forms_refuse_what_they_do_not_cover():
    model = jc.models.KernelDensity(dim=1)
    truth = jc.truths.GaussianMixture.gaussian(mean=[0.0], cov=[[1.0]])
    with pytest.raises(ValueError, match="fully synthetic"):
        jc.theory.expected(jc.Loop(model, generations=2, real_fraction=0.5), truth, "data_variance")
    with pytest.raises(ValueError, match="GaussianMixture truth"):
        jc.theory.expected(jc.Loop(model, generations=2, real_fraction=0.0), jc.truths.TwoMoons(), "data_variance")


def test_log_density_is_exact_across_blocks():
    """600 weighted points (three blocks, the last padded) against the mixture's density in float64."""
    rng = np.random.default_rng(0)
    points, weights, x = rng.normal(size=(600, 2)), rng.uniform(0, 1, 600), rng.normal(size=(5, 2)) * 2
    weights[::7] = 0.0
    model = jc.models.KernelDensity(dim=2)
    fit = model.params(points=points, weights=weights, bandwidth=0.4)
    density = sum(w * scipy_stats.multivariate_normal(p, 0.16 * np.eye(2)).pdf(x) for p, w in zip(points, weights))
    np.testing.assert_allclose(model.log_density(fit, jnp.asarray(x, jnp.float32)),
                               np.log(density / weights.sum()), rtol=2e-5)


def test_sampler_has_the_fit_s_mean_and_variance():
    """Draws from a fit: mean the weighted mean of its points, per-coordinate variance
    V + h^2 (within 4 SE of 200,000 draws)."""
    model = jc.models.KernelDensity(dim=1)
    points, weights = np.array([[-1.0], [0.0], [3.0]]), np.array([1.0, 0.0, 3.0])
    fit = model.params(points=points, weights=weights, bandwidth=0.5)
    draws = np.asarray(model.sample(KEY, fit, 200_000))[:, 0]
    mean = (weights @ points[:, 0]) / weights.sum()
    variance = (weights @ (points[:, 0] - mean) ** 2) / weights.sum() + 0.25
    se_mean = np.sqrt(variance / draws.size)
    se_var = np.sqrt(np.var((draws - mean) ** 2) / draws.size)
    assert abs(draws.mean() - mean) < 4 * se_mean
    assert abs(draws.var() - variance) < 4 * se_var


def test_weighted_indices_frequencies():
    weights = jnp.array([0.0, 1.0, 2.0, 0.0, 5.0])
    index = np.asarray(weighted_indices(KEY, weights, 80_000))
    counts = np.bincount(index, minlength=5)
    assert counts[0] == counts[3] == 0
    p = np.asarray(weights) / 8
    se = np.sqrt(80_000 * p * (1 - p))
    assert np.all(np.abs(counts - 80_000 * p) < 4 * np.maximum(se, 1e-9))


def test_truth_laws_have_their_shapes_and_moments():
    mixture = jc.truths.GaussianMixture(weights=[0.25, 0.75], means=[[0.0, 0.0], [2.0, -1.0]],
                                        covs=[np.eye(2), [[0.5, 0.1], [0.1, 0.3]]])
    draws = np.asarray(mixture.sample(KEY, 100_000), np.float64)
    cov, se = np.cov(draws.T), np.sqrt(np.var(draws[:, 0] ** 2) / draws.shape[0])
    assert abs(cov[0, 0] - mixture.covariance()[0, 0]) < 4 * se
    density = 0.25 * scipy_stats.multivariate_normal([0, 0], np.eye(2)).pdf(draws[:3]) + 0.75 * \
        scipy_stats.multivariate_normal([2, -1], [[0.5, 0.1], [0.1, 0.3]]).pdf(draws[:3])
    np.testing.assert_allclose(mixture.log_density(jnp.asarray(draws[:3], jnp.float32)), np.log(density), rtol=1e-5)
    circles = np.asarray(jc.truths.Circles(noise=0.0, factor=0.5).sample(KEY, 1000))
    radius = np.linalg.norm(circles, axis=1)
    assert np.allclose(np.minimum(abs(radius - 0.5), abs(radius - 1.0)), 0, atol=1e-5)
    moons = np.asarray(jc.truths.TwoMoons(noise=0.0).sample(KEY, 1000))
    upper = np.linalg.norm(moons, axis=1)
    lower = np.linalg.norm(moons - np.array([1.0, 0.5]), axis=1)
    assert np.allclose(np.minimum(abs(upper - 1), abs(lower - 1)), 0, atol=1e-5)
    roll = np.asarray(jc.truths.SwissRoll(noise=0.0).sample(KEY, 1000))
    s = np.hypot(roll[:, 0], roll[:, 2])
    assert np.all((s > 1.5 * np.pi - 1e-4) & (s < 4.5 * np.pi + 1e-4))
    assert np.all((roll[:, 1] >= 0) & (roll[:, 1] <= 21))
    assert jc.truths.GaussianMixture.grid(5).num_components == 25


def test_mmd2_matches_its_definition_and_is_unbiased():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(40, 2)) + 0.5
    k = lambda a, b: np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / 2)
    kxx, kyy = k(x, x), k(y, y)
    expected = ((kxx.sum() - np.trace(kxx)) / (30 * 29) + (kyy.sum() - np.trace(kyy)) / (40 * 39)
                - 2 * k(x, y).mean())
    mmd2 = jax.jit(jc.distances.mmd2)  # one program, not one per operation
    np.testing.assert_allclose(mmd2(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), 1.0), expected, rtol=1e-4)
    keys = jax.random.split(KEY, 400)
    same = jax.jit(jax.vmap(lambda k: mmd2(*jax.random.normal(k, (2, 20, 2)), 1.0)))(keys)
    assert abs(float(same.mean())) < 4 * float(same.std()) / np.sqrt(400)


def test_the_subsampled_pool_runs_clean():
    """The third pool (the closed-form checks run the other two) on a law with no closed form."""
    model = jc.models.KernelDensity(dim=2, bandwidth=0.2, test_size=16)
    loop = jc.Loop(model, generations=3, real_fraction=0.0, sample_size=12, pool="accumulate-subsample")
    run = jc.simulate(loop, jc.truths.TwoMoons(noise=0.05), key=KEY, seeds=4)
    assert not run.failed.any()
    assert run.metrics["nll"].shape == (4, 4) and np.all(np.isfinite(run.metrics["nll"]))
    np.testing.assert_array_equal(run.metrics["bandwidth"], np.float32(0.2))


def _mixed_loop():
    model = jc.models.KernelDensity(dim=2, bandwidth="silverman", test_size=16)
    return jc.Loop(model, generations=4, real_fraction=jc.schedules.from_values([1.0, 0.3, 0.0, 0.5, 0.2]),
                   sample_size=jc.schedules.from_values([12, 6, 9, 12, 7]), pool="accumulate")


def test_scan_matches_python_loop_and_is_chunk_invariant():
    """The hooks' key streams (fit, measurement, test set) are the same in the scan as in a
    host loop over generations, and a seed's trajectory does not depend on the chunk size."""
    loop, truth = _mixed_loop(), jc.truths.TwoMoons(noise=0.1)
    run = jc.simulate(loop, truth, key=KEY, seeds=8, chunk_size=8)
    metrics, status = python_loop(loop, truth, KEY, 8)
    for name in metrics:
        np.testing.assert_allclose(run.metrics[name], metrics[name], rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_array_equal(run.status, status)
    small = jc.simulate(loop, truth, key=KEY, seeds=8, chunk_size=1)
    assert_runs_equal(small.metrics, small.status, run.metrics, run.status)


def test_bad_settings_are_refused_before_compiling():
    with pytest.raises(ValueError, match="bandwidth must be a number > 0 or one of"):
        jc.models.KernelDensity(dim=1, bandwidth="normal")
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0"):
        jc.models.KernelDensity(dim=1, bandwidth=0.0)
    with pytest.raises(ValueError, match="test_size must be an integer >= 2"):
        jc.models.KernelDensity(dim=1, test_size=1)
    with pytest.raises(ValueError, match="points must have shape"):
        jc.models.KernelDensity(dim=2).params(points=[[0.0]], bandwidth=1.0)
    with pytest.raises(ValueError, match="weights must be >= 0"):
        jc.models.KernelDensity(dim=1).params(points=[[0.0]], weights=[0.0], bandwidth=1.0)
    with pytest.raises(ValueError, match="weights must be >= 0 and sum to 1"):
        jc.truths.GaussianMixture(weights=[0.5, 0.6], means=[[0.0], [1.0]], covs=[[[1.0]], [[1.0]]])
    with pytest.raises(ValueError, match="factor must be in"):
        jc.truths.Circles(factor=1.5)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        jc.truths.TwoMoons(noise=-1.0)
