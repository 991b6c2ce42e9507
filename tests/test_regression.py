"""LinearRegression: validation, the estimators against NumPy, the exact statistics'
law, and the generator chain against its closed forms (Dohmatob et al.'s pipeline)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import regression_truth

import jcollapse as jc
from jcollapse.models import LinearRegression


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dim=0), "dim must be an integer >= 1"),
        (dict(dim=2, ridge=-1.0), "ridge must be a finite number >= 0"),
        (dict(dim=2, noise=float("nan")), "noise must be a finite number >= 0"),
        (dict(dim=2, noise=True), "noise must be a finite number >= 0"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearRegression(**kwargs)


@pytest.mark.parametrize(
    "fields, match",
    [
        (dict(weights=[1.0, 2.0, 3.0], cov=np.eye(2)), "weights must have shape"),
        (dict(weights=[1.0, np.nan], cov=np.eye(2)), "weights must be finite"),
        (dict(weights=[1.0, 1.0], cov=[[1.0, 2.0], [2.0, 1.0]]), "cov must be positive semi-definite"),
    ],
)
def test_bad_truth(fields, match):
    with pytest.raises(ValueError, match=match):
        LinearRegression(dim=2).params(**fields)


def _data(rng, n, d, noise=0.3):
    x = rng.normal(size=(n, d))
    y = x @ np.linspace(1, -1, d) + noise * rng.normal(size=n)
    return x, y


@pytest.mark.parametrize("n, ridge", [(12, 0.0), (12, 0.5), (3, 0.0), (3, 0.2)])
def test_fit_matches_numpy_least_squares(n, ridge):
    # OLS (n > d), ridge, and the minimum-norm solution X^+ y (n < d), against float64
    # NumPy on the same data; weights 0 must drop rows (two extra rows of junk).
    d = 5
    rng = np.random.default_rng(n)
    x, y = _data(rng, n, d)
    model = LinearRegression(dim=d, ridge=ridge)
    truth = model.params(weights=np.zeros(d), cov=np.eye(d))
    junk_x, junk_y = rng.normal(size=(2, d)) * 10, np.array([50.0, -50.0])
    data = (jnp.asarray(np.vstack([x, junk_x]), jnp.float32), jnp.asarray(np.concatenate([y, junk_y]), jnp.float32))
    weights = jnp.concatenate([jnp.ones(n), jnp.zeros(2)])
    fitted = model.fit(model.statistics(data, weights), truth).weights
    if ridge > 0:
        expected = np.linalg.solve(x.T @ x / n + ridge * np.eye(d), x.T @ y / n)
    else:
        expected = np.linalg.pinv(x) @ y
    np.testing.assert_allclose(np.asarray(fitted), expected, rtol=2e-4, atol=2e-5)


def test_minimum_norm_fit_interpolates_and_lies_in_the_row_space():
    d, n = 8, 3
    rng = np.random.default_rng(1)
    x, y = _data(rng, n, d)
    model = LinearRegression(dim=d)
    stats = model.statistics((jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)), jnp.ones(n))
    w = np.asarray(model.fit(stats, model.params(weights=np.zeros(d), cov=np.eye(d))).weights, np.float64)
    np.testing.assert_allclose(x @ w, y, atol=1e-4)  # interpolates
    residual = w - x.T @ np.linalg.lstsq(x.T, w, rcond=None)[0]
    assert np.linalg.norm(residual) < 1e-5 * np.linalg.norm(w)  # no component outside span(x_i)


def test_exact_statistics_have_the_normal_equations_law():
    # E[X^T X] = n Sigma; given X^T X, X^T y - X^T X w ~ N(0, sigma^2 X^T X), so the
    # whitened residual r = (L A)^-1 (X^T y - X^T X w) / sigma is N(0, I): check its
    # mean and covariance, and E[X^T X], each entry within 4 SE over 4000 draws.
    d, n, draws, sigma = 3, 7, 4000, 0.5
    model = LinearRegression(dim=d, noise=sigma)
    truth = regression_truth(model)
    stats = jax.vmap(lambda k: model.sample_statistics(k, truth, jnp.array(n)))(
        jax.random.split(jax.random.key(0), draws)
    )
    gram = np.asarray(stats.gram, np.float64)
    resid = np.asarray(stats.moment, np.float64) - np.einsum("sij,j->si", gram, np.asarray(truth.weights, np.float64))
    cov = np.asarray(truth.cov, np.float64)
    z_gram = (gram.mean(0) - n * cov) / (gram.std(0, ddof=1) / np.sqrt(draws))
    chol = np.linalg.cholesky(gram)
    white = np.linalg.solve(chol, resid[..., None])[..., 0] / sigma
    z_mean = white.mean(0) / (white.std(0, ddof=1) / np.sqrt(draws))
    second = np.einsum("si,sj->sij", white, white)
    z_cov = (second.mean(0) - np.eye(d)) / (second.std(0, ddof=1) / np.sqrt(draws))
    worst = max(np.abs(z_gram).max(), np.abs(z_mean).max(), np.abs(z_cov).max())
    print(f"max |z|: gram {np.abs(z_gram).max():.2f}, residual mean {np.abs(z_mean).max():.2f}, "
          f"cov {np.abs(z_cov).max():.2f}")
    assert worst < 4
    np.testing.assert_array_equal(np.asarray(stats.rows), n)


def test_auto_path_is_exact_from_dim_samples():
    model = LinearRegression(dim=10)
    assert jc.Loop(model, generations=1, sample_size=9).path == "raw"
    assert jc.Loop(model, generations=1, sample_size=10).path == "exact"


def test_ols_chain_matches_the_closed_form_with_a_real_restart():
    # Dohmatob et al.'s collapse: each synthetic generation adds sigma^2 d / (n - d - 1)
    # to the test error, for a non-isotropic Sigma; a fully real generation (t = 4)
    # starts afresh. Every generation and both metrics within 4 SE (4000 seeds).
    d, seeds = 5, 4000
    model = LinearRegression(dim=d, noise=0.7)
    truth = regression_truth(model)
    loop = jc.Loop(
        model,
        generations=6,
        real_fraction=jc.schedules.from_values([1, 0, 0, 0, 1, 0, 0]),
        sample_size=jc.schedules.from_values([20, 20, 12, 30, 20, 20, 9]),
        path="exact",
    )
    run = jc.simulate(loop, truth, key=jax.random.key(3), seeds=seeds)
    assert not run.failed.any()
    for metric in model.metric_names:
        expected = jc.theory.expected(loop, truth, metric)
        z = (run.mean(metric) - expected) / run.sem(metric)
        print(metric, np.round(expected, 4), "z", np.round(z, 2))
        assert np.abs(z).max() < 4, (metric, z)
    assert np.argmax(jc.theory.expected(loop, truth, "test_error")) == 6


@pytest.mark.parametrize("path", ["exact", "raw"])
def test_noise_free_overparametrised_chain_collapses_exponentially(path):
    # T0 < d, sigma0 = 0, Sigma = I: the minimum-norm refit projects onto a random
    # T0-dimensional subspace, E||w_t - w0||^2 = ||w0||^2 (1 - (T0/d)^(t+1)).
    d, t0, seeds = 12, 5, 3000
    model = LinearRegression(dim=d, noise=0.0)
    w0 = np.linspace(1.0, -1.0, d)
    truth = model.params(weights=w0, cov=np.eye(d))
    loop = jc.Loop(model, generations=5, sample_size=t0, path=path)
    run = jc.simulate(loop, truth, key=jax.random.key(4), seeds=seeds)
    expected = jc.theory.overparametrized_collapse(w0 @ w0, d, t0, np.arange(1, 7))
    for metric in model.metric_names:  # Sigma = I: both metrics are ||w_t - w0||^2
        z = (run.mean(metric) - expected) / run.sem(metric)
        assert np.abs(z).max() < 4, (metric, z)


def test_expected_refuses_settings_without_a_closed_form():
    model = LinearRegression(dim=3, noise=1.0)
    truth = regression_truth(model)
    with pytest.raises(NotImplementedError, match="strictly between 0 and 1"):
        jc.theory.expected(jc.Loop(model, generations=2, real_fraction=0.5, sample_size=10), truth, "test_error")
    with pytest.raises(NotImplementedError, match="below dim \\+ 2"):
        jc.theory.expected(jc.Loop(model, generations=2, sample_size=4), truth, "test_error")
    with pytest.raises(NotImplementedError, match="ridge"):
        jc.theory.expected(jc.Loop(LinearRegression(dim=3, ridge=0.1), generations=2), truth, "test_error")
