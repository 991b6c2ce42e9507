"""One small sweep, run by tests/test_sweep.py in the test process and in subprocesses
(killed and resumed; as 2 jax.distributed processes of 2 CPU devices each).

Usage: python sweep_job.py OUT [--slow] [--cpu-devices D] [--process P --processes N --port PORT]
"""

import argparse
import time

import jax

import jcollapse as jc
from jcollapse.sweeps import checkpoints

SEEDS, CHUNK_SIZE = 200, 16


def job():
    """The sweep's arguments: a Gaussian at two real fractions and two sample sizes, 13 chunks."""
    model = jc.models.Gaussian(dim=1)
    loop = jc.Loop(model, generations=20, sample_size=20, mixing="split")
    grid = {"real_fraction": [0.1, 0.5], "sample_size": [20, 40]}
    return dict(loop=loop, truth=model.params(mean=0.0, cov=[[1.0]]), grid=grid, seeds=SEEDS,
                key=jax.random.key(7), chunk_size=CHUNK_SIZE, progress=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--slow", action="store_true", help="pause after each checkpoint, to be killed mid-run")
    parser.add_argument("--process", type=int)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--port", type=int)
    parser.add_argument("--cpu-devices", type=int, help="jc.use_cpu_cores(D) before anything else")
    args = parser.parse_args()
    if args.cpu_devices:
        jc.use_cpu_cores(args.cpu_devices)
    if args.processes:
        jax.distributed.initialize(f"127.0.0.1:{args.port}", num_processes=args.processes, process_id=args.process)
    if args.cpu_devices:
        print(f"devices {jax.local_device_count()}", flush=True)  # starts the backend: after initialize
    if args.slow:
        save = checkpoints.save_checkpoint

        def slow_save(*a, **k):
            save(*a, **k)
            print("checkpoint", flush=True)
            time.sleep(0.5)

        checkpoints.save_checkpoint = slow_save
    jc.sweep(**job(), out=args.out)


if __name__ == "__main__":
    main()
