"""CPU devices: the default of one per core, jc.use_cpu_cores, and the chunking rules (the
runs on several devices are in test_sweep.py and test_executor.py)."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import jcollapse as jc
from jcollapse.internal.devices import calls_host_kernels, usable_cores
from jcollapse.simulate import Rollout, default_chunk_size, loop_setting


@pytest.mark.parametrize("count", [0, -1, True, 2.5, "2"])
def test_bad_counts_are_rejected(count):
    with pytest.raises(ValueError, match="count must be an integer >= 1"):
        jc.use_cpu_cores(count)


def test_the_running_count_is_accepted_and_another_is_refused():
    running = jax.device_count("cpu")
    assert jc.use_cpu_cores(running) == running
    with pytest.raises(RuntimeError, match=r"must run before JAX starts .* already running with \d+ CPU device"):
        jc.use_cpu_cores(running + 1)


def _chunk_signature(model, truth):
    loop = jc.Loop(model, generations=2, sample_size=10)
    plan = loop.plan()
    function = jax.jit(jax.vmap(Rollout(plan), in_axes=(0, None, None, None)))
    return function, (jax.random.split(jax.random.key(0), 4), truth, None, loop_setting(loop, plan))


def test_programs_with_lapack_kernels_are_run_one_device_at_a_time():
    # With 2 CPU devices on 2 cores, LinearRegression(dim=100) (64 seeds, 5 generations)
    # hung in jaxlib's batched eigh when both devices ran at once; run_sharded runs such
    # programs (any custom call) one device at a time. Here: the detection itself.
    gaussian2 = jc.models.Gaussian(dim=2)
    with_lapack = _chunk_signature(gaussian2, gaussian2.params(mean=np.zeros(2), cov=np.eye(2)))
    gaussian1 = jc.models.Gaussian(dim=1)  # 1x1 factorizations in closed form: no kernel
    without = _chunk_signature(gaussian1, gaussian1.params(mean=0.0, cov=[[1.0]]))
    assert calls_host_kernels(*with_lapack)
    assert not calls_host_kernels(*without)


@pytest.mark.parametrize(
    "backend, path, n, seeds, lanes",
    [
        ("cpu", "exact", 100, 10**6, 4096),
        ("cpu", "raw", 100, 10**6, 4096),
        ("cpu", "exact", 100, 10, 16),  # a power of two at least as large as the run
        ("gpu", "exact", 100, 10**6, 65536),  # an accelerator's chunks fill it
        ("gpu", "raw", 100, 10**6, 65536),  # 256 MiB of raw samples allow 83,886 lanes
        ("gpu", "raw", 2000, 10**6, 4096),  # ... and 4,194 at n = 2,000 (kept for the GPU's cache)
    ],
)
def test_default_chunks_are_larger_on_an_accelerator(monkeypatch, backend, path, n, seeds, lanes):
    model = jc.models.Gaussian(dim=1)
    loop = jc.Loop(model, generations=10, sample_size=n, path=path)
    truth = model.params(mean=0.0, cov=[[1.0]])
    monkeypatch.setattr(jax, "default_backend", lambda: backend)
    assert default_chunk_size(loop, truth, seeds) == lanes


def _device_count_in_a_fresh_process(**env) -> int:
    script = "import jcollapse, jax; print(jax.local_device_count())"
    environment = {k: v for k, v in os.environ.items() if k != "JAX_NUM_CPU_DEVICES"} | env
    done = subprocess.run([sys.executable, "-c", script], env={**environment, "JAX_PLATFORMS": "cpu"},
                          capture_output=True, text=True, timeout=120, check=True)
    return int(done.stdout.strip())


@pytest.mark.subprocess
def test_import_gives_jax_one_cpu_device_per_core_unless_told_otherwise():
    assert _device_count_in_a_fresh_process() == usable_cores()
    assert _device_count_in_a_fresh_process(JAX_NUM_CPU_DEVICES="1") == 1
