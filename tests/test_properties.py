"""Hypothesis properties of the engine. Every example compiles a loop, so the example
counts are small and the search is derandomized (the same examples on every run)."""

import jax
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jcollapse as jc

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def configs(draw):
    dim = draw(st.integers(1, 3))
    model = draw(st.sampled_from([jc.models.Gaussian(dim=dim), jc.models.GaussianMean(dim=dim)]))
    generations = draw(st.integers(0, 4))
    length = generations + 1
    pool = draw(st.sampled_from(["replace", "accumulate", "accumulate-subsample"]))
    paths = ["auto", "raw"] if pool == "accumulate-subsample" else ["auto", "exact", "raw"]
    path = draw(st.sampled_from(paths))
    low = model.min_sample_size
    sample_size = draw(
        st.one_of(
            st.integers(low, 12),
            st.lists(st.integers(low, 12), min_size=length, max_size=length).map(np.array),
        )
    )
    real_fraction = draw(
        st.one_of(
            st.sampled_from([0.0, 0.5, 1.0]),
            st.lists(st.floats(0, 1), min_size=length, max_size=length).map(jc.schedules.from_values),
        )
    )
    mixing = draw(st.sampled_from(["iid", "split"]))
    truth = model.params(mean=np.linspace(-1.0, 1.0, dim), cov=np.eye(dim) + 0.25)
    loop = jc.Loop(
        model, generations=generations, real_fraction=real_fraction,
        sample_size=sample_size, pool=pool, mixing=mixing, path=path,
    )
    return loop, truth, draw(st.integers(1, 5))


@settings(max_examples=6, **SETTINGS)
@given(configs())
def test_run_shapes_and_dtypes(config):
    loop, truth, seeds = config
    run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=seeds)
    shape = (seeds, loop.generations + 1)
    assert set(run.metrics) == set(loop.model.metric_names)
    for name, values in run.metrics.items():
        assert isinstance(values, np.ndarray), name
        assert values.shape == shape and values.dtype == np.float32, name
    assert isinstance(run.status, np.ndarray) and run.status.shape == shape
    assert run.status.dtype == np.uint8
    assert run.seeds == seeds and run.failed.shape == (seeds,)
    assert run.mean(next(iter(run.metrics))).shape == (loop.generations + 1,)


@settings(max_examples=4, **SETTINGS)
@given(
    dim=st.integers(1, 3),
    mean_only=st.booleans(),
    path=st.sampled_from(["exact", "raw"]),
    mixing=st.sampled_from(["iid", "split"]),
    sizes=st.lists(st.integers(4, 40), min_size=2, max_size=5),
)
def test_all_real_stays_at_iid_error(dim, mean_only, path, mixing, sizes):
    """With a_t = 1 (and pool="replace") every generation is fitted on n_t fresh real
    samples: E||mu_hat - mu||^2 = tr(Sigma) / n_t at every t, checked within 4 SE."""
    model = jc.models.GaussianMean(dim=dim) if mean_only else jc.models.Gaussian(dim=dim)
    cov = np.diag(np.linspace(0.5, 2.0, dim))
    truth = model.params(mean=np.ones(dim), cov=cov)
    loop = jc.Loop(
        model, generations=len(sizes) - 1, real_fraction=1.0, sample_size=np.array(sizes),
        mixing=mixing, path=path,
    )
    run = jc.simulate(loop, truth, key=jax.random.key(5), seeds=2000)
    expected = np.trace(cov) / np.array(sizes)
    z = (run.mean("mean_sq_error") - expected) / run.sem("mean_sq_error")
    assert np.all(np.abs(z) < 4), z
