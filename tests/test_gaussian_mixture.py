"""The Gaussian mixture fitted by EM: scikit-learn's EM step for step, the likelihood never
decreasing, empty components flagged instead of NaN, the two initialisations, and the loop on
every pool."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnMixture

import jcollapse as jc

TRUTH = jc.truths.GaussianMixture.isotropic([[-2.0, 0.0], [2.0, 1.0]], std=0.7)


def two_blobs(n, seed=0):
    return jc.models.SampleStatistics(TRUTH.sample(jax.random.key(seed), n), jnp.ones(n))


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_em_matches_scikit_learn_from_the_same_start(covariance):
    """From one initial mixture, ``em_steps`` steps give scikit-learn's fit with
    ``max_iter = em_steps`` (float32 against float64: 1e-4)."""
    model = jc.models.GaussianMixture(2, 2, covariance=covariance, em_steps=15, tol=0.0, reg_covar=1e-3)
    stats = two_blobs(300)
    start = model.params(weights=[0.3, 0.7], means=[[-1.0, 0.5], [1.0, -0.5]], covs=[np.eye(2)] * 2)
    fit = model.expectation_maximisation(stats, start)
    reference = SklearnMixture(2, covariance_type=covariance, max_iter=15, tol=0.0, reg_covar=1e-3,
                               weights_init=[0.3, 0.7], means_init=[[-1.0, 0.5], [1.0, -0.5]],
                               precisions_init=np.stack([np.eye(2)] * 2) if covariance == "full" else np.ones((2, 2)))
    with pytest.warns(UserWarning):  # scikit-learn's "did not converge" (tol = 0)
        reference.fit(np.asarray(stats.data, np.float64))
    covs = reference.covariances_ if covariance == "full" else np.stack([np.diag(c) for c in reference.covariances_])
    np.testing.assert_allclose(fit.weights, reference.weights_, atol=1e-4)
    np.testing.assert_allclose(fit.means, reference.means_, atol=1e-4)
    np.testing.assert_allclose(fit.covs, covs, atol=1e-4)


def test_one_component_is_the_weighted_maximum_likelihood_gaussian():
    """K = 1: the fit is the weighted mean and the weighted 1/N covariance plus ``reg_covar``."""
    model = jc.models.GaussianMixture(1, 2, em_steps=2)
    stats = jc.models.SampleStatistics(TRUTH.sample(jax.random.key(3), 50), jnp.arange(50.0) % 3)
    fit = model.fit(stats, None)
    x, w = np.asarray(stats.data, np.float64), np.asarray(stats.weights, np.float64)
    mean = w @ x / w.sum()
    cov = (w[:, None] * (x - mean)).T @ (x - mean) / w.sum() + 1e-6 * np.eye(2)
    np.testing.assert_allclose(fit.means[0], mean, atol=1e-5)
    np.testing.assert_allclose(fit.covs[0], cov, atol=1e-5)


def test_an_em_step_never_decreases_the_likelihood_on_any_lane():
    """Property (EM's monotonicity): on 512 lanes of random data, weights and starting
    mixtures, the weighted log-likelihood after a step is at least that before it (up to
    float32 rounding of the sums, 1e-5 relative)."""
    model = jc.models.GaussianMixture(3, 2, tol=0.0)
    lanes = 512

    def lane(key):
        key_data, key_weights, key_start = jax.random.split(key, 3)
        stats = jc.models.SampleStatistics(2.0 * jax.random.normal(key_data, (64, 2)),
                                           jax.random.uniform(key_weights, (64,)))
        start = model.kmeans_plus_plus(key_start, stats)
        stepped, before = model.em_step(stats, start)
        _, after = model.em_step(stats, stepped)
        return before, after

    before, after = jax.jit(jax.vmap(lane))(jax.random.split(jax.random.key(0), lanes))
    assert np.all(np.isfinite(after))
    assert np.all(after >= before - 1e-5 * np.abs(before)), np.min(after - before)


def test_a_component_that_loses_its_mass_is_flagged_and_finite():
    """A component far from every point ends with no mass: the fit is finite, its weight is
    below EMPTY_SHARE and the fit is degenerate; a fit with every component in use is not."""
    model = jc.models.GaussianMixture(2, 2, em_steps=5)
    stats = two_blobs(100)
    start = model.params(weights=[0.5, 0.5], means=[[0.0, 0.0], [1e3, 1e3]], covs=[np.eye(2)] * 2)
    fit = model.expectation_maximisation(stats, start)
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(fit))
    assert float(fit.weights[1]) < jc.models.EMPTY_SHARE and bool(model.is_degenerate(fit))
    assert not bool(model.is_degenerate(model.fit(stats, None)))


def test_kmeans_plus_plus_finds_separated_blobs_and_tol_freezes_converged_lanes():
    """On two well-separated blobs k-means++ starts one component in each; with a large `tol`
    a lane stops after its second step (its likelihood changes by less than `tol` from then
    on), so 50 steps give the same mixture as 2."""
    model = jc.models.GaussianMixture(2, 2, em_steps=50, tol=10.0)
    stats = two_blobs(200)
    start = model.kmeans_plus_plus(jax.random.key(1), stats)
    assert sorted(np.round(np.asarray(start.means[:, 0]))) == [-2.0, 2.0]
    two_steps = jc.models.GaussianMixture(2, 2, em_steps=2, tol=0.0)
    np.testing.assert_array_equal(model.expectation_maximisation(stats, start).means,
                                  two_steps.expectation_maximisation(stats, start).means)


def test_a_warm_start_continues_the_previous_fit_and_seeds_generation_zero():
    """``init="warm"`` starts EM from the previous fit; the all-zeros placeholder of
    generation 0 falls back to k-means++ (the same fit as ``init="kmeans++"``)."""
    warm = jc.models.GaussianMixture(2, 2, em_steps=1, init="warm", tol=0.0)
    seeded = jc.models.GaussianMixture(2, 2, em_steps=1, tol=0.0)
    stats, key = two_blobs(100), jax.random.key(2)
    placeholder = jax.tree.map(jnp.zeros_like, seeded.fit(stats, None))
    np.testing.assert_array_equal(warm.fit_generation(key, stats, placeholder, None).means,
                                  seeded.fit_generation(key, stats, None, None).means)
    previous = warm.params(weights=[0.5, 0.5], means=[[-2.0, 0.0], [2.0, 1.0]], covs=[0.5 * np.eye(2)] * 2)
    continued = warm.fit_generation(key, stats, previous, None)
    np.testing.assert_array_equal(continued.means, warm.em_step(stats, previous)[0].means)


@pytest.mark.parametrize("pool", ["replace", "accumulate", "accumulate-subsample"])
def test_the_loop_runs_on_every_pool_and_its_variance_follows_the_closed_form(pool):
    """Every pool: finite metrics of the documented names (plus ``l2`` and ``mode_coverage``
    for a mixture truth) and no status flag on 2,000 seeds; for replace and accumulate the
    mean fitted variance is within 4 SE of :func:`jcollapse.theory.mixture_variance` at
    every generation (EM keeps the pool's moments, plus ``reg_covar``)."""
    model = jc.models.GaussianMixture(2, 2, em_steps=5, reg_covar=0.05, test_size=16)
    loop = jc.Loop(model, generations=6, real_fraction=0.0, sample_size=20, pool=pool)
    run = jc.simulate(loop, TRUTH, key=jax.random.key(0), seeds=2000)
    assert set(run.metrics) == {*model.metric_names, "l2", "mode_coverage"}
    for name, values in run.metrics.items():
        assert values.shape == (2000, 7) and np.all(np.isfinite(values)), name
    assert not np.any(run.status)
    if pool != "accumulate-subsample":
        z = (run.mean("variance") - jc.theory.expected(loop, TRUTH, "variance")) / run.sem("variance")
        assert np.max(np.abs(z)) < 4, z


@pytest.mark.parametrize(("field", "value", "message"), [
    ("num_components", 0, "num_components must be an integer >= 1"),
    ("covariance", "spherical", "covariance must be one of"),
    ("em_steps", 0, "em_steps must be an integer >= 1"),
    ("init", "random", "init must be one of"),
    ("reg_covar", 0.0, "reg_covar must be"),
    ("tol", -1.0, "tol must be"),
])
def test_bad_settings_are_rejected_by_name(field, value, message):
    with pytest.raises(ValueError, match=message):
        jc.models.GaussianMixture(**{"num_components": 2, "dim": 2, field: value})
