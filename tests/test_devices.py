"""jc.use_cpu_cores and run_sharded on several CPU devices: checks that need no second device (the four-device run is in test_sweep.py)."""

import jax
import numpy as np
import pytest

import jcollapse as jc


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
    from jcollapse.rollout import loop_inputs
    from jcollapse.simulate import compiled_chunk

    loop = jc.Loop(model, generations=2, sample_size=10)
    plan = loop.plan()
    inputs = jax.tree.map(lambda x: x[None], loop_inputs(loop, plan))
    lanes = (np.arange(4, dtype=np.uint32), np.zeros(4, np.int32))
    return compiled_chunk(plan), (truth, inputs, jax.random.key(0), *lanes)


def test_programs_with_lapack_kernels_are_run_one_device_at_a_time():
    # With 2 CPU devices on 2 cores, LinearRegression(dim=100) (64 seeds, 5 generations)
    # hung in jaxlib's batched eigh when both devices ran at once; run_sharded runs such
    # programs (any custom call) one device at a time. Here: the detection itself.
    from jcollapse._devices import _calls_host_kernels

    gaussian2 = jc.models.Gaussian(dim=2)
    with_lapack = _chunk_signature(gaussian2, gaussian2.params(mean=np.zeros(2), cov=np.eye(2)))
    gaussian1 = jc.models.Gaussian(dim=1)  # 1x1 factorizations in closed form: no kernel
    without = _chunk_signature(gaussian1, gaussian1.params(mean=0.0, cov=[[1.0]]))
    assert _calls_host_kernels(*with_lapack)
    assert not _calls_host_kernels(*without)


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
    from jcollapse.simulate import default_chunk_size

    model = jc.models.Gaussian(dim=1)
    plan = jc.Loop(model, generations=10, sample_size=n, path=path).plan()
    truth = model.params(mean=0.0, cov=[[1.0]])
    monkeypatch.setattr(jax, "default_backend", lambda: backend)
    assert default_chunk_size(plan, truth, seeds) == lanes
