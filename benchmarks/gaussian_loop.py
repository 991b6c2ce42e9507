"""W1: the 1-D Gaussian replace loop against the NumPy code users would write instead.

Usage: ``python benchmarks/gaussian_loop.py [--seeds 2000] [--generations 100] [--n 100]
[--out FILE.json]``. Prints a markdown table and optionally writes JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import jax
import numpy as np

import jcollapse as jc


def numpy_per_seed(seeds: int, generations: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """One Python loop per seed and per generation, as published model-collapse code does."""
    variances = np.empty((seeds, generations + 1))
    for seed in range(seeds):
        mean, std = 0.0, 1.0
        for t in range(generations + 1):
            x = rng.normal(mean, std, size=n)
            mean, std = x.mean(), x.std()
            variances[seed, t] = std**2
    return variances


def numpy_vectorised(seeds: int, generations: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """The same loop with NumPy vectorised over seeds."""
    variances = np.empty((seeds, generations + 1))
    mean, std = np.zeros((seeds, 1)), np.ones((seeds, 1))
    for t in range(generations + 1):
        x = mean + std * rng.standard_normal((seeds, n))
        mean, std = x.mean(axis=1, keepdims=True), x.std(axis=1, keepdims=True)
        variances[:, t] = std[:, 0] ** 2
    return variances


def best_of(function, repeats: int) -> float:
    """Best wall time of ``repeats`` calls (the first call is a warm-up and not counted)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    model = jc.models.Gaussian(dim=1)
    truth = model.params(mean=0.0, cov=[[1.0]])
    rng = np.random.default_rng(0)
    timings = {}
    for path in ("exact", "raw"):
        loop = jc.Loop(model, generations=args.generations, sample_size=args.n, path=path)
        run = lambda: jax.device_get(jc.simulate(loop, truth, key=jax.random.key(0), seeds=args.seeds).metrics)
        timings[f"jcollapse ({path} path)"] = best_of(run, args.repeats)
    timings["NumPy, vectorised over seeds"] = best_of(
        lambda: numpy_vectorised(args.seeds, args.generations, args.n, rng), args.repeats
    )
    per_seed_sample = max(1, args.seeds // 20)
    per_seed = best_of(lambda: numpy_per_seed(per_seed_sample, args.generations, args.n, rng), 1)
    timings["NumPy, per-seed loop"] = per_seed * args.seeds / per_seed_sample

    baseline = timings["NumPy, per-seed loop"]
    seed_generations = args.seeds * (args.generations + 1)
    print(f"W1: seeds={args.seeds} generations={args.generations} n={args.n} "
          f"({platform.processor() or platform.machine()}, jax {jax.__version__}, {jax.devices()[0].platform})")
    print("| implementation | seconds | seed-generations/s | speed-up vs per-seed NumPy |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.4f} | {seed_generations / seconds:,.0f} | {baseline / seconds:,.1f}x |")
    print(f"(per-seed NumPy timed on {per_seed_sample} seeds and scaled linearly)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {"workload": "W1", **vars(args), "out": str(args.out), "seconds": timings,
                  "jax": jax.__version__, "platform": jax.devices()[0].platform}
        args.out.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
