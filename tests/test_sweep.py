"""jc.sweep: grids, streaming statistics against simulate and theory, checkpoints and resume
(killed with SIGKILL), 4 devices and 2 processes against one, memory, progress, errors."""

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import jax
import numpy as np
import pytest
import xarray as xr

import jcollapse as jc
from jcollapse.sweeps import BINS, MetricState, bin_index, checkpoints, summarise, summarise_chunk

sys.path.insert(0, str(Path(__file__).parent))
import sweep_job
from helpers import free_port, traced

JOB = Path(__file__).parent / "sweep_job.py"
MODEL = jc.models.GaussianMean(dim=1)
TRUTH = MODEL.params(mean=0.0, cov=[[1.0]])
LOOP = jc.Loop(MODEL, generations=8, sample_size=10)


def _quiet(**kwargs):
    return dict(key=jax.random.key(0), progress=False, **kwargs)


def on_cpu():
    """Run on a CPU device whatever accelerator the machine has: the tests that compare
    with :func:`reference` run their jobs on CPU devices (:func:`_python`), and results
    are bitwise the same only on one platform."""
    return jax.default_device(jax.devices("cpu")[0])


@pytest.fixture(scope="module")
def reference():
    """The job of tests/sweep_job.py, run here, plainly (on a CPU device, :func:`on_cpu`)."""
    with on_cpu():
        return jc.sweep(**sweep_job.job())


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "grid, match",
    [
        ({"nonsense": [1]}, "grid key 'nonsense' is not sweepable"),
        ({"model.rank": [1]}, "GaussianMean has no setting 'rank'"),
        ({"sample_size.exponent": [1.0]}, "must be a jc.schedules schedule"),
        ({"real_fraction": []}, "non-empty list"),
        ({"real_fraction": 0.5}, "non-empty list"),
        ({"real_fraction": [0.5, 0.5]}, "repeated values"),
        ({"real_fraction": [0.5, 1.5]}, r"grid point real_fraction=1\.5: real_fraction must lie in \[0, 1\]"),
        ({"pool": ["replace", "forget"]}, "pool must be one of"),
    ],
)
def test_bad_grids_name_the_key(grid, match, tmp_path):
    out = tmp_path / "never"
    with pytest.raises(ValueError, match=match):
        jc.sweep(LOOP, TRUTH, grid, seeds=4, out=out, **_quiet())
    assert not out.exists()


def test_bad_arguments_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="seeds must be"):
        jc.sweep(LOOP, TRUTH, seeds=0, **_quiet())
    with pytest.raises(ValueError, match="key is required"):
        jc.sweep(LOOP, TRUTH, seeds=4, progress=False)
    with pytest.raises(ValueError, match=r"quantiles must be distinct numbers in \[0, 1\]"):
        jc.sweep(LOOP, TRUTH, seeds=4, quantiles=(0.5, 2.0), **_quiet())
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="out must be a directory"):
        jc.sweep(LOOP, TRUTH, seeds=4, out=tmp_path / "file", **_quiet())
    loop = jc.Loop(MODEL, generations=2, sample_size=jc.schedules.power(10, 1.0))
    with pytest.raises(ValueError, match="a power schedule has no parameter 'slope'"):
        jc.sweep(loop, TRUTH, {"sample_size.slope": [1.0]}, seeds=4, **_quiet())
    with pytest.raises(ValueError, match="sweeps both 'sample_size' and its parameter"):
        jc.sweep(loop, TRUTH, {"sample_size": [10], "sample_size.exponent": [1.0]}, seeds=4, **_quiet())


# ----------------------------------------------------------------------------- statistics


def test_each_point_summarises_simulate_exactly():
    """Two plans (a = 0 draws no real data) and two mixings; every point's mean, sem, min, max
    and failure count equal those of jc.simulate of the same loop."""
    grid = {"real_fraction": [0.0, 0.5], "mixing": ["iid", "split"]}
    ds = jc.sweep(LOOP, TRUTH, grid, seeds=100, chunk_size=32, **_quiet())
    assert ds["mean_sq_error"].dims == ("real_fraction", "mixing", "generation", "stat")
    for a in grid["real_fraction"]:
        for mixing in grid["mixing"]:
            run = jc.simulate(LOOP.replace(real_fraction=a, mixing=mixing), TRUTH, key=jax.random.key(0), seeds=100,
                              chunk_size=32)  # the sweep's program, compiled once
            values = run.metrics["mean_sq_error"].astype(np.float64)
            got = ds["mean_sq_error"].sel(real_fraction=a, mixing=mixing)
            np.testing.assert_allclose(got.sel(stat="mean"), values.mean(0), rtol=1e-12)
            np.testing.assert_allclose(got.sel(stat="sem"), values.std(0, ddof=1) / 10, rtol=1e-9)
            np.testing.assert_array_equal(got.sel(stat="min"), values.min(0))
            np.testing.assert_array_equal(got.sel(stat="max"), values.max(0))
            np.testing.assert_array_equal(ds["failed"].sel(real_fraction=a, mixing=mixing), (run.status != 0).sum(0))


def test_quantiles_fall_in_the_histogram_bin_of_the_exact_quantile():
    ds = jc.sweep(LOOP, TRUTH, {"real_fraction": [0.3]}, seeds=2000, **_quiet())
    run = jc.simulate(LOOP.replace(real_fraction=0.3), TRUTH, key=jax.random.key(0), seeds=2000)
    exact = np.quantile(run.metrics["mean_sq_error"].astype(np.float64), jc.sweeps.QUANTILES, axis=0)
    for q, row in zip(jc.sweeps.QUANTILES, exact):
        sketch = ds["mean_sq_error"].sel(real_fraction=0.3, stat=f"q{q:g}").values
        bins = jc.sweeps._stats.bin_index(sketch) - jc.sweeps._stats.bin_index(row)
        assert np.all(np.abs(bins) <= 1), (q, sketch, row)


def test_a_metric_with_two_values_has_exact_quantiles():
    state = MetricState.empty((1, 1))
    state.add(0, summarise(np.array([[[0.0], [0.0], [1.0], [1.0], [1.0]]])))
    summary = state.summary((0.1, 0.5, 0.9))[0, 0]
    np.testing.assert_array_equal(summary[[2, 3, 4, 5, 6]], [0.0, 0.0, 1.0, 1.0, 1.0])


def test_chunk_summary_matches_numpy_on_padding_nan_and_infinities():
    """The device's float64 reduction of a chunk against NumPy on its valid lanes: two
    configurations (configuration-major lanes), NaN, infinities, zero, values beyond the
    histogram's range, and padding lanes holding garbage that must not count."""
    rng = np.random.default_rng(1)
    values = (rng.lognormal(sigma=3.0, size=(2, 12, 3)) * rng.choice([-1.0, 1.0], size=(2, 12, 3))).astype(np.float32)
    values[0, 1, 0], values[1, 2, 1], values[0, 3, 2], values[1, 0, 0] = np.nan, np.inf, -np.inf, 0.0
    values[0, 0, 1], values[1, 4, 2] = 1e-12, 3e12
    values[:, 10:] = [np.nan, 1e30, -7.0]  # padding lanes
    status = rng.integers(0, 3, size=(2, 12, 3)).astype(np.uint8)
    summaries, failed = summarise_chunk({"x": values.reshape(24, 3)}, status.reshape(24, 3), configs=2, valid=10)
    got, x = summaries["x"], values[:, :10].astype(np.float64)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(got.mean, x.mean(axis=1), rtol=1e-12)
        np.testing.assert_allclose(got.m2, ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(got.minimum, np.nanmin(x, axis=1))
    np.testing.assert_array_equal(got.maximum, np.nanmax(x, axis=1))
    index = bin_index(x)
    histogram = np.zeros((2, 3, BINS), np.int64)
    for config, lane, generation in zip(*np.nonzero(index >= 0)):
        histogram[config, generation, index[config, lane, generation]] += 1
    np.testing.assert_array_equal(got.histogram, histogram)
    assert got.count == 10 and histogram.sum() == x.size - 1  # the NaN is not counted
    np.testing.assert_array_equal(failed, (status[:, :10] != 0).sum(axis=1))


def test_merging_chunk_states_in_any_split_is_bitwise_the_same():
    values = np.random.default_rng(0).lognormal(size=(9, 2, 64, 5))  # chunks, configs, lanes, generations
    whole, odd, even = (MetricState.empty((2, 5)) for _ in range(3))
    for c, chunk in enumerate(values):
        summary = summarise(chunk)
        whole.add(c, summary)
        (odd if c % 2 else even).add(c, summary)
    even.merge(odd)
    np.testing.assert_array_equal(even.summary((0.5,)), whole.summary((0.5,)))
    with pytest.raises(ValueError, match="computed twice"):
        even.merge(odd)


def test_sweep_agrees_with_the_closed_form():
    """2,000 seeds of three real fractions against theory.expected, within 4 SE."""
    loop = jc.Loop(MODEL, generations=30, sample_size=20, mixing="split")
    grid = {"real_fraction": [0.1, 0.5, 0.9]}
    ds = jc.sweep(loop, TRUTH, grid, seeds=2000, **_quiet())
    for a in grid["real_fraction"]:
        theory = jc.theory.expected(loop.replace(real_fraction=a), TRUTH, "mean_sq_error")
        got = ds["mean_sq_error"].sel(real_fraction=a)
        z = (got.sel(stat="mean") - theory) / got.sel(stat="sem")
        assert float(np.abs(z).max()) < 4, (a, z.values)


def test_schedule_parameters_and_model_settings_are_sweepable():
    model = jc.models.Gaussian(dim=1)
    loop = jc.Loop(model, generations=4, sample_size=jc.schedules.power(10, 1.0))
    grid = {"sample_size.exponent": [0.0, 1.0], "model.variance": ["mle", "unbiased"]}
    ds = jc.sweep(loop, model.params(mean=0.0, cov=[[1.0]]), grid, seeds=16, **_quiet())
    assert ds["variance"].sizes == {"sample_size.exponent": 2, "model.variance": 2, "generation": 5, "stat": 9}
    # Same keys, same samples: at t = 0 (n = 10 for both exponents) the unbiased fit is the MLE times 10/9.
    first = ds["variance"].sel(generation=0, stat="mean")
    np.testing.assert_allclose(first.sel({"model.variance": "unbiased"}) / first.sel({"model.variance": "mle"}),
                               10 / 9, rtol=1e-6)
    # The exponent reaches the loop: equal n at t = 0 gives equal fits, n = 10 vs 20 at t = 1 does not.
    by_exponent = ds["variance"].sel(stat="mean").transpose("sample_size.exponent", ...).values
    np.testing.assert_array_equal(by_exponent[0][:, 0], by_exponent[1][:, 0])
    assert np.all(by_exponent[0][:, 1] != by_exponent[1][:, 1])


def test_a_grid_over_model_settings_compiles_once():
    """LinearRegression's noise and ridge are traced settings: their grid points share one
    program (one chunk trace), and each point equals its own simulate run."""
    model = jc.models.LinearRegression(dim=2, noise=0.5)
    truth = model.params(weights=[1.0, -1.0], cov=[[1.0, 0.2], [0.2, 0.5]])
    loop = jc.Loop(model, generations=3, sample_size=6, real_fraction=0.0)
    grid = {"model.noise": [0.1, 0.5, 2.0], "model.ridge": [0.0, 1.0]}
    with traced("chunk") as traces:
        ds = jc.sweep(loop, truth, grid, seeds=16, **_quiet())
    assert len(traces) == 1
    means = ds["test_error"].sel(stat="mean")
    for noise, ridge in ((0.1, 0.0), (2.0, 1.0)):
        point = loop.replace(model=jc.models.LinearRegression(dim=2, noise=noise, ridge=ridge))
        run = jc.simulate(point, truth, key=_quiet()["key"], seeds=16)
        np.testing.assert_allclose(means.sel({"model.noise": noise, "model.ridge": ridge}), run.mean("test_error"),
                                   rtol=1e-6)
    assert float(means.sel({"model.noise": 2.0, "model.ridge": 0.0})[-1]) > float(
        means.sel({"model.noise": 0.1, "model.ridge": 0.0})[-1])  # the setting reaches the program


def test_memory_does_not_grow_with_seeds():
    """Host memory traced by tracemalloc: 64 chunks of seeds cost no more than 4 chunks."""
    loop = jc.Loop(MODEL, generations=50, sample_size=10, real_fraction=0.5)
    jc.sweep(loop, TRUTH, {"mixing": ["iid", "split"]}, seeds=64, chunk_size=64, **_quiet())  # compile first
    peaks = []
    for seeds in (256, 4096):
        tracemalloc.start()
        jc.sweep(loop, TRUTH, {"mixing": ["iid", "split"]}, seeds=seeds, chunk_size=64, **_quiet())
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    keeping_every_seed = 4096 * 2 * 51 * 8  # what a float64 [seeds, configs, T] array would add
    assert peaks[1] - peaks[0] < 0.1 * keeping_every_seed, peaks


def test_progress_bar_reports_seeds_per_second(capsys):
    jc.sweep(LOOP, TRUTH, {"real_fraction": [0.5]}, seeds=8, key=jax.random.key(0), progress=True)
    assert "seed/s" in capsys.readouterr().err
    jc.sweep(LOOP, TRUTH, {"real_fraction": [0.5]}, seeds=8, **_quiet())
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- out, resume, devices, processes


def test_out_is_written_read_back_and_guarded(reference, tmp_path):
    job = sweep_job.job()
    with on_cpu():
        ds = jc.sweep(**job, out=tmp_path)
    xr.testing.assert_identical(ds, reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.nc"]
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "sweep.nc"), reference)
    xr.testing.assert_identical(jc.sweep(**job, out=tmp_path), reference)  # read back, not rerun
    with pytest.raises(ValueError, match="already holds the result of a different sweep"):
        jc.sweep(**{**job, "seeds": 100}, out=tmp_path)


def _python(*args, env=None, **kwargs):
    """The job in a fresh process on CPU devices (see :func:`on_cpu`)."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", **(env or {})}
    return subprocess.Popen([sys.executable, str(JOB), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.subprocess
def test_a_sweep_killed_and_resumed_equals_an_uninterrupted_one(reference, tmp_path):
    job = _python(tmp_path, "--slow")
    assert job.stdout.readline() == "checkpoint\n", job.stderr.read()  # the first chunk is saved
    time.sleep(0.6)  # one or two more, then kill it mid-run (each save is followed by a 0.5 s pause)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert job.returncode == -signal.SIGKILL
    state = checkpoints.load_checkpoint(tmp_path, 0, reference.attrs["fingerprint"], 1)
    chunks = -(-sweep_job.SEEDS // sweep_job.CHUNK_SIZE)
    assert 1 <= len(state["groups"][0].done) < chunks, "the kill must land mid-run"
    assert not (tmp_path / "sweep.nc").exists()
    assert not list(tmp_path.glob("**/*.partial"))
    with on_cpu():
        resumed = jc.sweep(**sweep_job.job(), out=tmp_path)
    xr.testing.assert_identical(resumed, reference)
    assert not (tmp_path / ".checkpoint").exists()


@pytest.mark.subprocess
def test_two_processes_of_two_devices_give_the_single_device_result(reference, tmp_path):
    """Each chunk's lanes split over 2 devices (jc.use_cpu_cores(2)), the chunks over 2
    jax.distributed processes whose statistics are merged in chunk order: the Dataset is
    identical to one device's in one process."""
    port = free_port()
    jobs = [_python(tmp_path, "--cpu-devices", 2, "--process", p, "--processes", 2, "--port", port) for p in (0, 1)]
    outputs = [job.communicate(timeout=300) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], [err for _, err in outputs]
    assert outputs[0][0].splitlines()[0] == "devices 2"
    xr.testing.assert_identical(xr.load_dataset(tmp_path / "sweep.nc"), reference)
