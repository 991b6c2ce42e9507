"""Seed-parallel entry points at fixed keys: jc.pac.simulate (both learners) and the filter
chains (with and without a filter; jc.simulate's per-seed function runs on several devices and
processes in tests/test_sweep.py). Run by tests/test_executor.py in the test process and in
subprocesses (as 2 jax.distributed processes of 2 CPU devices each).

Usage: python seeds_job.py OUT.npz [--cpu-devices D] [--process P --processes N --port PORT]
"""

import argparse

import jax
import numpy as np

import jcollapse as jc

SEEDS, CHUNK_SIZE = 40, 8


def results() -> dict[str, np.ndarray]:
    """Every entry point's output in 5 chunks of 8 seeds."""
    key = jax.random.key(3)
    out = {}
    concept = jc.pac.Interval()
    for learner in jc.pac.LEARNERS:
        pac = jc.pac.simulate(concept, concept.params(left=0.2, right=0.6), contamination=0.6, sample_size=7,
                              rounds=5, learner=learner, seeds=SEEDS, key=key, chunk_size=CHUNK_SIZE)
        out[f"pac/{learner}"] = pac.error
    mean = jc.models.GaussianMean(dim=2)
    mean_truth = mean.params(mean=[1.0, -0.5], cov=[[2.0, 0.6], [0.6, 0.5]])
    for name, filt in (("none", None), ("filter", jc.filters.ContractionFilter(jax.random.key(0)))):
        out[f"filters/{name}"] = jc.filters.filtered_errors(filt, mean, mean_truth, real_fraction=0.3, sample_size=9,
                                                            generations=5, seeds=SEEDS, key=key, chunk_size=CHUNK_SIZE)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--cpu-devices", type=int, help="jc.use_cpu_cores(D) before anything else")
    parser.add_argument("--process", type=int)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.cpu_devices:
        jc.use_cpu_cores(args.cpu_devices)
    if args.processes:
        jax.distributed.initialize(f"127.0.0.1:{args.port}", num_processes=args.processes, process_id=args.process)
    found = results()
    print(f"devices {jax.local_device_count()} processes {jax.process_count()}", flush=True)
    if jax.process_index() == 0:
        np.savez(args.out, **found)


if __name__ == "__main__":
    main()
