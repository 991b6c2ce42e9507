"""Probes: the downstream ridge model of Dohmatob et al. measured inside the scan, against
the ridge deterministic equivalents (the exact OLS formula: test_dohmatob.py)."""

import jax
import numpy as np
import pytest
from helpers import regression_truth, traced

import jcollapse as jc
from jcollapse.models import LinearRegression
from jcollapse.probes import DownstreamRidge


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sample_size=0, noise=1.0, ridges=(0.0,)), "sample_size must be an integer >= 1"),
        (dict(sample_size=2.5, noise=1.0, ridges=(0.0,)), "sample_size must be an integer >= 1"),
        (dict(sample_size=5, noise=-1.0, ridges=(0.0,)), "noise must be a finite number >= 0"),
        (dict(sample_size=5, noise=1.0, ridges=()), "ridges must be a non-empty list"),
        (dict(sample_size=5, noise=1.0, ridges=(0.1, -1.0)), "ridges must be a non-empty list"),
    ],
)
def test_bad_probe_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DownstreamRidge(**kwargs)


def test_probe_refused_before_compiling():
    gaussian = jc.models.GaussianMean(dim=2)
    loop = jc.Loop(gaussian, generations=1)
    truth = gaussian.params(mean=np.zeros(2), cov=np.eye(2))
    with pytest.raises(ValueError, match="DownstreamRidge probes a jc.models.LinearRegression"):
        jc.simulate(loop, truth, key=jax.random.key(0), seeds=2, probe=DownstreamRidge(5, 1.0, (0.0,)))
    with pytest.raises(ValueError, match="probe must be a jcollapse probe"):
        jc.simulate(loop, truth, key=jax.random.key(0), seeds=2, probe=lambda key, params, truth: {})


def test_probe_leaves_the_trajectory_alone_and_is_chunk_invariant():
    model = LinearRegression(dim=3, noise=0.5)
    truth = regression_truth(model)
    loop = jc.Loop(model, generations=3, sample_size=4, real_fraction=0.2)
    probe = DownstreamRidge(sample_size=6, noise=0.3, ridges=(0.0, 0.5))
    plain = jc.simulate(loop, truth, key=jax.random.key(3), seeds=8)
    whole = jc.simulate(loop, truth, key=jax.random.key(3), seeds=8, probe=probe)
    halves = jc.simulate(loop, truth, key=jax.random.key(3), seeds=8, chunk_size=4, probe=probe)
    np.testing.assert_array_equal(plain.metrics["test_error"], whole.metrics["test_error"])
    assert whole.metrics["downstream_test_error"].shape == (8, 4, 2)
    np.testing.assert_array_equal(whole.metrics["downstream_test_error"], halves.metrics["downstream_test_error"])


def test_probe_settings_are_traced():
    """Other penalties and another noise of the same count reuse the compiled program, and
    they reach it: ridge 0 is OLS either way, a larger ridge shrinks towards zero."""
    model = LinearRegression(dim=3, noise=0.5)
    truth = regression_truth(model)
    loop = jc.Loop(model, generations=2, sample_size=5, real_fraction=0.2)
    run = lambda noise, ridges: jc.simulate(loop, truth, key=jax.random.key(4), seeds=8,
                                            probe=DownstreamRidge(sample_size=6, noise=noise, ridges=ridges))
    first = run(0.3, (0.0, 0.5))
    with traced("chunk") as traces:
        second = run(0.3, (0.0, 50.0))
    assert traces == []
    errors = lambda r: r.metrics["downstream_test_error"]
    np.testing.assert_array_equal(errors(first)[..., 0], errors(second)[..., 0])
    assert not np.array_equal(errors(first)[..., 1], errors(second)[..., 1])


def _downstream(loop, truth, probe, seeds, key):
    run = jc.simulate(loop, truth, key=jax.random.key(key), seeds=seeds, probe=probe)
    assert not run.failed.any()
    errors = run.metrics["downstream_test_error"]
    return errors.mean(axis=0), errors.std(axis=0, ddof=1) / np.sqrt(seeds)


def test_downstream_ridge_tracks_the_deterministic_equivalents():
    # d = 50, Sigma = diag(1/j): where the equivalents' finite-d deviations were measured
    # (theory.ridge_deterministic_equivalent: at most 1.9 % bias, 0.9 % variance, 0.5 %
    # rho). The allowance is 4 SE plus 2.5 % of the bias and 1 % of the other two terms.
    # 500 seeds (512 lanes) x d = 50: batched eigh of fit and probe, the LAPACK deadlock's setting.
    # (The exact OLS pipeline formula is checked in test_dohmatob.py, at every n.)
    dim = 50
    eig = 1.0 / np.arange(1, dim + 1)
    weights = np.random.default_rng(0).normal(size=dim) / np.sqrt(dim)
    model = LinearRegression(dim=dim, noise=0.6)
    truth = model.params(weights=weights, cov=np.diag(eig))
    loop = jc.Loop(model, generations=2, sample_size=100, real_fraction=0.0)
    ridges = (0.01, 0.1, 1.0)
    probe = DownstreamRidge(sample_size=50, noise=0.4, ridges=ridges)
    mean, sem = _downstream(loop, truth, probe, seeds=500, key=12)
    for t in range(3):
        de = jc.theory.ridge_deterministic_equivalent(eig, weights, np.array(ridges), 50, 0.4,
                                                      generator_sample_size=100, generator_noise=0.6,
                                                      generations=t + 1)
        allowance = 4 * sem[t] + 0.025 * de["bias"] + 0.01 * (de["variance"] + de["generator"])
        assert np.all(np.abs(mean[t] - de["total"]) < allowance), (t, mean[t], de["total"], sem[t])
