"""W1: the 1-D Gaussian replace loop against the NumPy code users would write instead.

Usage: ``python benchmarks/gaussian_loop.py [--seeds 2000] [--generations 100] [--n 100]
[--cpu-devices N] [--jcollapse-only] [--out FILE.json]``. Prints a markdown table and
optionally writes JSON. jcollapse runs on one CPU device per core unless ``--cpu-devices``
says otherwise (:func:`jcollapse.use_cpu_cores`).
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


def interleaved_times(functions: dict, repeats: int) -> dict[str, list[float]]:
    """Wall times of each function in ``repeats`` rounds, every round timing each function
    once in turn (after one warm-up call each, not counted).

    On a shared VM the machine's speed drifts by tens of percent within a minute; timing
    the functions of a ratio in turn, not one after the other, keeps the drift out of it,
    and round ``i``'s times of two functions give one reading of their ratio.
    """
    for function in functions.values():
        function()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return times


def interleaved_best(functions: dict, repeats: int) -> dict:
    """Best wall time of each function over the rounds of :func:`interleaved_times`."""
    return {name: min(times) for name, times in interleaved_times(functions, repeats).items()}


def best_of(function, repeats: int) -> float:
    """Best wall time of ``repeats`` calls (the first call is a warm-up and not counted)."""
    return interleaved_best({"only": function}, repeats)["only"]


def measure(seeds: int, generations: int, n: int, repeats: int, baselines: bool = True) -> dict[str, float]:
    """Seconds per implementation (best of ``3 * repeats`` rounds in turn for jcollapse's
    default, raw and exact paths, of ``repeats`` for NumPy vectorised over seeds, one run of the
    per-seed NumPy loop on a twentieth of the seeds, scaled linearly; the NumPy baselines only
    when ``baselines`` is true)."""
    model = jc.models.Gaussian(dim=1)
    truth = model.params(mean=0.0, cov=[[1.0]])
    rng = np.random.default_rng(0)
    runs = {}
    for path in ("auto", "raw", "exact"):
        loop = jc.Loop(model, generations=generations, sample_size=n, path=path)
        run = lambda loop=loop: jax.device_get(
            jc.simulate(loop, truth, key=jax.random.key(0), seeds=seeds, progress=False).metrics)
        runs[f"jcollapse {path}" + (f" ({loop.path})" if path == "auto" else "")] = run
    # In turn, and three times the rounds (they take tens of milliseconds): single rounds of
    # W1's exact path spread over 18-27 ms on the 2-core VM, and the best of three rounds of
    # the default path and of the path it picks (the same program) once read 0.0225 and 0.0185 s.
    timings = interleaved_best(runs, 3 * repeats)
    if not baselines:
        return timings
    timings["NumPy vectorised"] = best_of(lambda: numpy_vectorised(seeds, generations, n, rng), repeats)
    sample = max(1, seeds // 20)
    timings["NumPy per-seed loop"] = best_of(lambda: numpy_per_seed(sample, generations, n, rng), 1) * seeds / sample
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cpu-devices", type=int, help="CPU devices (default: one per core)")
    parser.add_argument("--jcollapse-only", action="store_true", help="skip the NumPy baselines")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    jc.use_cpu_cores(args.cpu_devices)
    timings = measure(args.seeds, args.generations, args.n, args.repeats, baselines=not args.jcollapse_only)
    baseline = timings.get("NumPy per-seed loop", float("nan"))
    seed_generations = args.seeds * (args.generations + 1)
    print(f"W1: seeds={args.seeds} generations={args.generations} n={args.n} "
          f"({platform.processor() or platform.machine()}, jax {jax.__version__}, "
          f"{jax.device_count()} {jax.devices()[0].platform} device(s))")
    print("| implementation | seconds | seed-generations/s | speed-up vs per-seed NumPy |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.4f} | {seed_generations / seconds:,.0f} | {baseline / seconds:,.1f}x |")
    print(f"(per-seed NumPy timed on {max(1, args.seeds // 20)} seeds and scaled linearly)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {"workload": "W1", **vars(args), "out": str(args.out), "seconds": timings,
                  "jax": jax.__version__, "platform": jax.devices()[0].platform, "devices": jax.device_count()}
        args.out.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
