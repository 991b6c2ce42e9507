"""jc.run_seeds, the one seed-parallel executor: a user's per-seed function, keys, chunks,
settings, errors, and bitwise invariance of the entry points built on it (PAC rounds, filter
chains; jc.simulate's in test_sweep.py and test_invariance.py) to the chunk size, the device
count and the process count."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import seeds_job
from helpers import free_port, traced

import jcollapse as jc
from jcollapse.internal.reduce import pairwise_sum

JOB = Path(__file__).with_name("seeds_job.py")


def sample_mean(key, mean):
    """A user's estimator: the mean of 100 draws from N(mean, 1), summed in a fixed order
    (``jnp.mean``'s order depends on the vmap batch size on XLA CPU, and then so would the
    result)."""
    return pairwise_sum(mean + jax.random.normal(key, (100,))) / 100


def test_a_user_estimator_over_ten_thousand_seeds_matches_its_law():
    means = jc.run_seeds(sample_mean, np.float32(2.0), key=jax.random.key(0), seeds=10_000)
    assert means.shape == (10_000,) and means.dtype == np.float32
    # The sample mean is N(2, 1/100): its mean within 4 SE, its variance within 4 SE of 1/100
    # (the variance's SE is sqrt(2 / (seeds - 1)) of it, for normal data).
    assert abs(means.mean() - 2.0) < 4 * np.sqrt(0.01 / 10_000)
    assert abs(means.var(ddof=1) - 0.01) < 4 * 0.01 * np.sqrt(2 / 9_999)


def test_seed_i_gets_fold_in_key_i():
    key = jax.random.key(4)
    draws = jc.run_seeds(lambda k: jax.random.normal(k), key=key, seeds=5)
    expected = [jax.random.normal(jax.random.fold_in(key, i)) for i in range(5)]
    np.testing.assert_array_equal(draws, np.array(expected))


def test_results_do_not_depend_on_chunk_size_or_seed_count():
    run = lambda seeds, chunk_size=None: jc.run_seeds(sample_mean, np.float32(0.5), key=jax.random.key(1),
                                                       seeds=seeds, chunk_size=chunk_size)
    whole = run(37)
    for seeds, chunk_size in ((37, 4), (37, 16), (5, None), (37, 64)):
        np.testing.assert_array_equal(run(seeds, chunk_size), whole[:seeds])


def test_settings_run_every_seed_once_per_setting_in_one_program():
    means = np.array([0.0, 1.0, -3.0], np.float32)
    key = jax.random.key(2)
    with traced("chunk") as traces:
        grid = jc.run_seeds(lambda k, scale, mean: scale * sample_mean(k, mean), np.float32(2.0), key=key, seeds=9,
                            settings=means)
    assert grid.shape == (3, 9) and len(traces) == 1  # one program for the three settings
    for row, mean in zip(grid, means):
        np.testing.assert_allclose(row, 2.0 * jc.run_seeds(sample_mean, mean, key=key, seeds=9), rtol=1e-6)


def test_traced_arguments_do_not_recompile():
    jc.run_seeds(sample_mean, np.float32(0.0), key=jax.random.key(0), seeds=8)
    with traced("chunk") as traces:
        jc.run_seeds(sample_mean, np.float32(7.0), key=jax.random.key(9), seeds=8)
    assert traces == []


def test_outputs_are_pytrees_with_a_seed_axis():
    out = jc.run_seeds(lambda k: {"x": jax.random.normal(k, (3,)), "n": jnp.int32(1)}, key=jax.random.key(0),
                       seeds=6)
    assert out["x"].shape == (6, 3) and out["n"].tolist() == [1] * 6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(seeds=0), "seeds must be an integer >= 1"),
        (dict(seeds=4, chunk_size=0), "chunk_size must be an integer >= 1"),
        (dict(seeds=4, key=3), "key must be jax.random.key"),
        (dict(seeds=4, settings={"a": np.zeros(2), "b": np.zeros(3)}), "leading axis"),
    ],
)
def test_bad_arguments_are_named_before_compiling(kwargs, match):
    arguments = dict(key=jax.random.key(0)) | kwargs
    with traced("chunk") as traces, pytest.raises(ValueError, match=match):
        jc.run_seeds(lambda k, *rest: jax.random.normal(k), **arguments)
    assert traces == []


def test_unhashable_static_arguments_are_refused():
    with pytest.raises(TypeError, match="must be hashable"):
        jc.run_seeds(lambda k, table: jax.random.normal(k), bytearray(b"table"), key=jax.random.key(0), seeds=4)


# ----------------------------------------------------------------------------- devices and processes


@pytest.fixture(scope="module")
def reference():
    """The entry points in this process: one CPU device, 5 chunks."""
    with jax.default_device(jax.devices("cpu")[0]):
        return seeds_job.results()


def _job(*args, **kwargs):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, str(JOB), *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _assert_bitwise_equal(found: Path, reference: dict):
    with np.load(found) as loaded:
        assert sorted(loaded) == sorted(reference)
        for name, values in reference.items():
            assert np.array_equal(loaded[name].view(np.uint8), values.view(np.uint8)), name


@pytest.mark.subprocess
def test_two_processes_of_two_devices_give_the_single_device_result(reference, tmp_path):
    """Lanes split over 2 devices and chunks over 2 processes (chunks 0, 2, 4 and 1, 3)
    gather into the single-device result, bit for bit."""
    port = free_port()
    jobs = [_job(tmp_path / "out.npz", "--cpu-devices", 2, "--process", p, "--processes", 2, "--port", port)
            for p in (0, 1)]
    outputs = [job.communicate(timeout=300) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], [err for _, err in outputs]
    assert outputs[0][0].splitlines()[-1] == "devices 2 processes 2"
    _assert_bitwise_equal(tmp_path / "out.npz", reference)
