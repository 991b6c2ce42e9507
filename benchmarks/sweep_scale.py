"""A sweep at scale: seeds x real fractions x generations, its time, its peak memory, and
its agreement with the closed form.

Usage: ``python benchmarks/sweep_scale.py [--config examples/gaussian_real_fractions.toml]
[--seeds N] [--out FILE.json]``. Runs the configuration's sweep (default: 100,000 seeds of a
1-D Gaussian at three real fractions over 500 generations), then compares every grid
point's mean with ``jc.theory.expected`` (z = (mean - theory) / sem) and reports the peak
resident memory of the whole process (``VmHWM``, which includes JAX and XLA).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import jcollapse as jc
from jcollapse.sweeps import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_config = Path(__file__).parent.parent / "examples" / "gaussian_real_fractions.toml"
    parser.add_argument("--config", default=str(default_config))
    parser.add_argument("--seeds", type=int, help="override the configuration's seeds")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--cpu-devices", type=int, help="CPU devices (default: one per core)")
    args = parser.parse_args()
    jc.use_cpu_cores(args.cpu_devices)
    config = load_config(args.config)
    arguments = config.sweep_arguments()
    if args.seeds:
        arguments["seeds"] = args.seeds
    started = time.perf_counter()
    dataset = jc.sweep(**arguments, progress=False)
    seconds = time.perf_counter() - started
    # VmHWM, not getrusage: ru_maxrss survives fork and exec, so a child would report its parent's peak
    peak_mib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
    (key, values), = config.grid.items()
    rows = []
    for value in values:
        loop = config.loop.replace(**{key: value})
        for metric in loop.model.metric_names:
            try:
                theory = jc.theory.expected(loop, config.truth, metric)
            except NotImplementedError:
                continue  # no closed form for this metric (e.g. w2_sq)
            got = dataset[metric].sel({key: value})
            z = (got.sel(stat="mean").values - theory) / got.sel(stat="sem").values
            rows.append(dict(point=f"{key}={value}", metric=metric, max_abs_z=float(np.nanmax(np.abs(z))),
                             final_mean=float(got.sel(stat="mean")[-1]), final_theory=float(theory[-1])))
    seed_generations = arguments["seeds"] * len(values) * (config.loop.generations + 1)
    result = dict(seeds=arguments["seeds"], points=len(values), generations=config.loop.generations,
                  seconds=seconds, seed_generations_per_second=seed_generations / seconds, peak_rss_mib=peak_mib,
                  chunk_size=dataset.attrs["chunk_size"], machine=platform.processor() or platform.machine(),
                  cpus=__import__("os").cpu_count(), jax=dataset.attrs["jax_version"], rows=rows)
    print(f"{result['seeds']} seeds x {len(values)} points x {config.loop.generations} generations: "
          f"{seconds:.1f} s ({result['seed_generations_per_second']:.3g} seed-generations/s), "
          f"peak RSS {peak_mib:.0f} MiB, chunk {result['chunk_size']}")
    print("| point | metric | final mean | closed form | max abs z |\n| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['point']} | {row['metric']} | {row['final_mean']:.6g} | {row['final_theory']:.6g} | "
              f"{row['max_abs_z']:.2f} |")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
