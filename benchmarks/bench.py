"""``make bench``: every benchmark of issue 7 in one run, as JSON and a markdown table.

Usage: ``python benchmarks/bench.py [--out DIR] [--quick] [--cpu-devices N]``. Writes
``DIR/results.json`` and ``DIR/results.md`` (default ``out/bench``) and prints the table.
``--quick`` shrinks every workload (a smoke run, seconds); the numbers in the README come
from a full run. jcollapse runs on one CPU device per core (its default at import; see
:func:`jcollapse.use_cpu_cores`) unless ``--cpu-devices`` says otherwise; W1's exact path is
also timed on one CPU device, and as a new user runs it (a fresh process with every
default), each in a child process.

Every timing is the best of several calls after a warm-up call, synchronised with
``jax.device_get`` (which blocks until the results are ready); every ratio compares two
timings of the same run. Workloads:

- **W1**: 1-D Gaussian MLE replace loop, n = 100, 100 generations, 2,000 seeds: jcollapse
  (default, raw and exact-statistics paths) against a per-seed NumPy loop (as published
  code does it; timed on a sample of seeds and scaled) and NumPy vectorised over seeds.
- **W2**: the same at n = 2,000, 50 generations, 1,000 seeds.
- **Random-number floor**: ``jax.random.normal`` drawing exactly as many normals as the
  raw path's W1 run, in the same lanes and on the same devices; the raw path's
  throughput as a fraction of it, the two timed in turn (four times the rounds of the
  other timings: twelve in a full run, four with ``--quick``). The fraction is reported
  best time against best time, and per round (median and range): on this shared VM the
  rounds of one run spread by several points.
- **On a GPU or TPU** only: the device's limits (``jax.random.normal`` drawing 2^28 normals
  in one call, and the copy bandwidth of a 1 GiB array), W1's raw path against its floor at
  65,536 seeds (through ``jc.simulate``, and the chunk program alone with its trajectories
  left on the device), and W1 at 262,144 seeds (no NumPy baselines).
- **Categorical K = 50**: the exact path's time per generation for n = 10^2 ... 10^6,
  the sizes timed in turn.
- **LinearRegression d = 100**: exact and raw paths, n = 200.
- **Sweep scaling**: seed-generations per second and peak resident memory (a fresh
  process per size, its ``VmHWM``; on an accelerator also its peak device memory) for
  10^2 ... 10^6 seeds.
- **Compilation**: compile time of W1's programs, and the number of XLA compilations of
  a sweep over 100 real fractions (``jax.monitoring``).
- **Learned generators** (:mod:`learned_generators`): the EM mixture and KDE loops, 100 seeds
  x 100 generations at n = 1,000, against per-seed scikit-learn loops (timed on three seeds
  and scaled).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

import jcollapse as jc
from jcollapse.executor import chunk_program, round_chunk_size
from jcollapse.internal.devices import run_sharded
from jcollapse.simulate import Rollout, default_chunk_size, loop_setting

sys.path.insert(0, str(Path(__file__).parent))
import learned_generators
from gaussian_loop import best_of, interleaved_best, interleaved_times, measure

GAUSSIAN = jc.models.Gaussian(dim=1)


def unit_gaussian():
    """``N(0, 1)``, made after :func:`jcollapse.use_cpu_cores` has set the device count."""
    return GAUSSIAN.params(mean=0.0, cov=[[1.0]])


def _simulate(loop, truth, seeds):
    return lambda: jax.device_get(jc.simulate(loop, truth, key=jax.random.key(0), seeds=seeds, progress=False).metrics)


def gaussian_workload(name: str, seeds: int, generations: int, n: int, repeats: int, baselines: bool = True) -> dict:
    """W1/W2: jcollapse's three paths against (unless ``baselines`` is false) the two NumPy baselines."""
    return dict(workload=name, seeds=seeds, generations=generations, n=n,
                seconds=measure(seeds, generations, n, repeats, baselines), seed_generations=seeds * (generations + 1))


def floor_program(generations: int, n: int):
    """The random-number floor's program: ``(key, lane indices) -> one sum per lane`` of
    (G + 1) x n normals, each generation's drawn from ``fold_in(fold_in(key, lane), t)``."""

    @jax.jit
    def draw(key, indices):
        def lane(i):
            k = jax.random.fold_in(key, i)
            step = lambda total, t: (total + jax.random.normal(jax.random.fold_in(k, t), (n,)).sum(), None)
            return jax.lax.scan(step, 0.0, np.arange(generations + 1))[0]
        return jax.vmap(lane)(indices)

    return draw


def raw_program_against_floor(seeds: int, generations: int, n: int, repeats: int) -> dict:
    """W1's raw chunk program alone, its per-seed trajectories left on the device, against
    the floor's program, both over one chunk of ``seeds`` lanes on the default device and
    timed in turn: how close the raw path's kernels come to the random-number limit, without
    the copy of the trajectories to the host that ``jc.simulate`` adds."""
    loop = jc.Loop(GAUSSIAN, generations=generations, sample_size=n, path="raw")
    plan, key = loop.plan(), jax.random.key(0)
    setting = jax.tree.map(lambda x: x[None], loop_setting(loop, plan))
    program, shared = chunk_program(Rollout(plan), unit_gaussian(), None, settings=setting)
    lanes = np.arange(seeds, dtype=np.uint32)
    arguments = jax.device_put((*shared, key, lanes, np.zeros(seeds, np.int32)))
    draw, lanes = floor_program(generations, n), jax.device_put(lanes)
    times = interleaved_times({"floor": lambda: draw(key, lanes).block_until_ready(),
                               "raw": lambda: jax.block_until_ready(program(*arguments))}, repeats)
    return dict(seeds=seeds, **_fraction_readings(times))


def raw_against_floor(seeds: int, generations: int, n: int, repeats: int) -> dict:
    """W1's raw path and its random-number floor, timed in turn (:func:`interleaved_best`):
    the floor is ``jax.random.normal`` drawing seeds x (G + 1) x n normals, lane by lane
    and device by device as the raw path does."""
    loop = jc.Loop(GAUSSIAN, generations=generations, sample_size=n, path="raw")
    lanes = round_chunk_size(min(default_chunk_size(loop, unit_gaussian(), seeds), seeds))
    draw = floor_program(generations, n)
    chunks = [np.arange(s, s + lanes, dtype=np.uint32) for s in range(0, seeds, lanes)]
    key = jax.random.key(0)
    floor = lambda: [jax.device_get(run_sharded(draw, (key,), c)) for c in chunks]
    times = interleaved_times({"floor": floor, "raw": _simulate(loop, unit_gaussian(), seeds)}, repeats)
    return dict(seeds=seeds, normals=seeds * (generations + 1) * n, **_fraction_readings(times))


def _fraction_readings(times: dict) -> dict:
    """The raw path's fraction of the floor's throughput from :func:`interleaved_times`'s
    ``{"floor": [...], "raw": [...]}``: best time against best time, and per round."""
    rounds = np.array(times["floor"]) / np.array(times["raw"])
    best_floor, best_raw = min(times["floor"]), min(times["raw"])
    return dict(seconds=best_floor, raw_seconds=best_raw, raw_fraction=best_floor / best_raw, rounds=len(rounds),
                raw_fraction_median=float(np.median(rounds)), raw_fraction_low=float(rounds.min()),
                raw_fraction_high=float(rounds.max()))


def _rounds(floor: dict) -> str:
    """The per-round readings of :func:`raw_against_floor`'s fraction, in words."""
    return (f"per round, median {floor['raw_fraction_median']:.2f}, range {floor['raw_fraction_low']:.2f}"
            f"-{floor['raw_fraction_high']:.2f} over {floor['rounds']} rounds")


def accelerator_limits(repeats: int) -> dict:
    """The device's two ceilings, for the raw path to be read against: ``jax.random.normal``
    drawing (and summing) 2^28 normals in one call, and a copy of a 1 GiB float32 array
    (bytes read plus bytes written)."""
    size = 2**28
    x = jax.random.normal(jax.random.key(1), (size,))
    copy = jax.jit(lambda a: a * 1.0001)
    draw = jax.jit(lambda key: jax.random.normal(key, (size,)).sum())
    times = interleaved_best({"copy": lambda: copy(x).block_until_ready(),
                              "draw": lambda: draw(jax.random.key(2)).block_until_ready()}, repeats)
    return dict(copy_bytes_per_second=2 * x.nbytes / times["copy"], normals_per_second=size / times["draw"])


def exact_on_one_device(seeds: int, generations: int, n: int, repeats: int) -> float:
    """W1's exact path on a single CPU device (XLA's intra-op threads), in a child process."""
    script = Path(__file__).parent / "gaussian_loop.py"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "one.json"
        subprocess.run([sys.executable, str(script), "--seeds", str(seeds), "--generations", str(generations),
                        "--n", str(n), "--repeats", str(repeats), "--cpu-devices", "1", "--jcollapse-only",
                        "--out", str(out)], check=True, capture_output=True)
        return json.loads(out.read_text())["seconds"]["jcollapse exact"]


NEW_USER_CHILD = """
import json, sys, time
import jax, jcollapse as jc   # nothing else: what a notebook user's fresh process does
seeds, generations, n, repeats = map(int, sys.argv[1:5])
model = jc.models.Gaussian(dim=1)
loop = jc.Loop(model, generations=generations, sample_size=n)
truth = model.params(mean=0.0, cov=[[1.0]])
run = lambda: jax.device_get(jc.simulate(loop, truth, key=jax.random.key(0), seeds=seeds).metrics)
run()
times = []
for _ in range(repeats):
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
print(json.dumps(dict(seconds=min(times), devices=jax.local_device_count())))
"""


def as_a_new_user(seeds: int, generations: int, n: int, repeats: int) -> dict:
    """W1 exactly as a new user runs it: a fresh process, ``import jcollapse``, ``jc.simulate``
    with every default (no device settings: the child's environment has no
    ``JAX_NUM_CPU_DEVICES``), best of ``repeats`` calls after one warm-up."""
    env = {k: v for k, v in os.environ.items() if k != "JAX_NUM_CPU_DEVICES"}
    done = subprocess.run([sys.executable, "-c", NEW_USER_CHILD, str(seeds), str(generations), str(n), str(repeats)],
                          capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def categorical_scaling(sizes, seeds: int, generations: int, repeats: int) -> list[dict]:
    model = jc.models.Categorical(num_categories=50)
    truth = model.params(probs=np.full(50, 1 / 50))
    runs = {n: _simulate(jc.Loop(model, generations=generations, sample_size=n, real_fraction=0.1, path="exact"),
                         truth, seeds) for n in sizes}
    best = interleaved_best(runs, repeats)
    return [dict(n=n, seconds=best[n], per_generation=best[n] / (generations + 1)) for n in sizes]


def regression(seeds: int, generations: int, repeats: int) -> dict:
    model = jc.models.LinearRegression(dim=100, noise=0.5)
    truth = model.params(weights=np.full(100, 0.1), cov=np.eye(100))
    out = {}
    for path in ("exact", "raw"):
        loop = jc.Loop(model, generations=generations, sample_size=200, real_fraction=0.1, path=path)
        out[path] = best_of(_simulate(loop, truth, seeds), repeats)
    return dict(dim=100, n=200, seeds=seeds, generations=generations, seconds=out)


SWEEP_CHILD = """
import json, sys, time, jax, jcollapse as jc
from jcollapse.executor import largest_default_chunk
seeds, generations = int(sys.argv[1]), int(sys.argv[2])
jc.use_cpu_cores(int(sys.argv[3]))
model = jc.models.Gaussian(dim=1)
loop = jc.Loop(model, generations=generations, sample_size=100)
truth = model.params(mean=0.0, cov=[[1.0]])
args = dict(grid={"real_fraction": [0.1, 0.5]}, key=jax.random.key(0), progress=False)
# Compile: from the largest chunk on, every chunk runs the same program.
jc.sweep(loop, truth, seeds=min(seeds, largest_default_chunk()), **args)
start = time.perf_counter()
jc.sweep(loop, truth, seeds=seeds, **args)
seconds = time.perf_counter() - start
# VmHWM, not getrusage: ru_maxrss survives fork and exec, so a child reports its parent's peak.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
device = jax.devices()[0].memory_stats() or {}  # None on the CPU
device_peak_mib = device.get("peak_bytes_in_use", 0) / 2**20
print(json.dumps(dict(seconds=seconds, peak_mib=peak_kib / 1024, device_peak_mib=device_peak_mib)))
"""


def sweep_scaling(sizes, generations: int) -> list[dict]:
    rows = []
    for seeds in sizes:
        arguments = [str(seeds), str(generations), str(jax.device_count())]
        done = subprocess.run([sys.executable, "-c", SWEEP_CHILD, *arguments],
                              capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        seed_generations = 2 * seeds * (generations + 1)
        rows.append(dict(seeds=seeds, **result, seed_generations_per_second=seed_generations / result["seconds"]))
    return rows


def compilation(generations: int) -> dict:
    compiles = []  # (function name, seconds)
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, duration, fun_name=None, **_: compiles.append((fun_name, duration))
        if event == "/jax/core/compile/backend_compile_duration" else None)
    loop = jc.Loop(GAUSSIAN, generations=generations, sample_size=100, real_fraction=0.5, mixing="split")
    before = len(compiles)
    start = time.perf_counter()
    jc.sweep(loop, unit_gaussian(), {"real_fraction": list(np.linspace(0.005, 0.995, 100))}, seeds=64,
             key=jax.random.key(0), progress=False)
    first = time.perf_counter() - start
    loop_compiles = [d for name, d in compiles[before:] if name == "jit(chunk)"]  # the executor's chunk program
    other = [d for name, d in compiles[before:] if name != "jit(chunk)"]  # the chunk statistics, tiny host-side ops
    return dict(real_fractions=100, loop_compiles=len(loop_compiles), devices=jax.local_device_count(),
                compile_seconds=sum(loop_compiles), other_compiles=len(other), other_compile_seconds=sum(other),
                first_call_seconds=first)


def markdown(results: dict) -> str:
    lines = [f"Machine: {results['machine']}; jax {results['jax']} on {results['devices']} "
             f"{results['platform']} device(s).", ""]
    for w in results["gaussian"]:
        base = w["seconds"]["NumPy per-seed loop"]
        vec = w["seconds"]["NumPy vectorised"]
        lines += [f"**{w['workload']}**: n = {w['n']}, {w['generations']} generations, {w['seeds']} seeds", "",
                  "| implementation | seconds | seed-generations/s | vs per-seed NumPy | vs vectorised NumPy |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for name, s in w["seconds"].items():
            rate = w["seed_generations"] / s
            lines.append(f"| {name} | {s:.4f} | {rate:,.0f} | {base / s:,.1f}x | {vec / s:,.2f}x |")
        lines.append("")
    user = results["new_user"]
    ratio = results["gaussian"][0]["seconds"]["NumPy per-seed loop"] / user["seconds"]
    lines += [f"**W1 as a new user runs it** (a fresh process, `import jcollapse`, `jc.simulate`, every default; "
              f"{user['devices']} CPU device(s)): {user['seconds']:.4f} s, {ratio:,.0f}x the per-seed NumPy loop "
              f"(target >= 100x: {'met' if ratio >= 100 else 'not met'}).", ""]
    floor = results["random_floor"]
    lines += [f"**Random-number floor** (W1's {floor['normals']:,} normals): {floor['seconds']:.4f} s; the raw path, "
              f"timed in turn with it, {floor['raw_seconds']:.4f} s: {floor['raw_fraction']:.2f} of its throughput "
              f"(best against best; {_rounds(floor)}).", ""]
    if "accelerator" in results:
        acc = results["accelerator"]
        lim, fl, big, alone = acc["limits"], acc["floor"], acc["w1"], acc["program"]
        lines += [f"**Accelerator limits**: `jax.random.normal` {lim['normals_per_second']:.3g} normals/s in one call; "
                  f"a device copy {lim['copy_bytes_per_second'] / 1e9:,.0f} GB/s (read + write).", "",
                  f"**W1 at {fl['seeds']:,} seeds**: floor {fl['seconds']:.4f} s "
                  f"({fl['normals'] / fl['seconds']:.3g} normals/s), raw path {fl['raw_seconds']:.4f} s: "
                  f"{fl['raw_fraction']:.2f} of the floor's throughput ({_rounds(fl)}).", "",
                  f"**The raw chunk program alone** ({alone['seeds']:,} seeds, trajectories left on the device): "
                  f"{alone['raw_seconds']:.4f} s against the floor's {alone['seconds']:.4f} s: "
                  f"{alone['raw_fraction']:.2f} of its throughput ({_rounds(alone)}).", "",
                  f"**W1 at {big['seeds']:,} seeds** (n = {big['n']}, {big['generations']} generations):", "",
                  "| implementation | seconds | seed-generations/s |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {sec:.4f} | {big['seed_generations'] / sec:,.0f} |"
                  for name, sec in big["seconds"].items()]
        lines.append("")
    lines += ["**Categorical K = 50**, exact path, time per generation:", "",
              "| n | seconds | per generation (ms) |", "| ---: | ---: | ---: |"]
    lines += [f"| {r['n']:,} | {r['seconds']:.4f} | {1e3 * r['per_generation']:.3f} |" for r in results["categorical"]]
    rows = results["categorical"]
    lines += ["", f"10^6 / 10^2 time ratio: {rows[-1]['seconds'] / rows[0]['seconds']:.2f}", ""]
    reg = results["regression"]
    lines += [f"**LinearRegression d = 100**, n = 200, {reg['seeds']} seeds x {reg['generations']} generations: "
              f"exact {reg['seconds']['exact']:.3f} s, raw {reg['seconds']['raw']:.3f} s.", ""]
    device_memory = results["platform"] != "cpu"
    lines += ["**Sweep scaling** (2 real fractions, Gaussian, fresh process per size):", "",
              "| seeds | seconds | seed-generations/s | peak RSS (MiB) |"
              + (" peak device memory (MiB) |" if device_memory else ""),
              "| ---: | ---: | ---: | ---: |" + (" ---: |" if device_memory else "")]
    lines += [f"| {r['seeds']:,} | {r['seconds']:.3f} | {r['seed_generations_per_second']:,.0f} | {r['peak_mib']:.0f} |"
              + (f" {r['device_peak_mib']:.0f} |" if device_memory else "") for r in results["sweep"]]
    c = results["compilation"]
    lines += ["", f"**Compilation**: a sweep over {c['real_fractions']} real fractions compiled the loop's program "
              f"{c['loop_compiles']} time(s) on {c['devices']} device(s) "
              f"(once per device; {c['compile_seconds']:.2f} s) "
              f"and {c['other_compiles']} other program(s) ({c['other_compile_seconds']:.2f} s: its chunk statistics "
              f"and small host-side operations); first call {c['first_call_seconds']:.2f} s.", ""]
    lines += learned_generators.markdown(results["learned_generators"])
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench"))
    parser.add_argument("--quick", action="store_true", help="tiny workloads: checks that everything runs")
    parser.add_argument("--cpu-devices", type=int, help="CPU devices (default: one per core)")
    args = parser.parse_args()
    jc.use_cpu_cores(args.cpu_devices)
    q = args.quick
    repeats = 1 if q else 3
    results = dict(machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
                   jax=jax.__version__, platform=jax.devices()[0].platform, devices=jax.device_count(), quick=q)
    w1 = (200, 10, 100) if q else (2000, 100, 100)
    stage = lambda name: print(f"[bench] {time.strftime('%H:%M:%S')} {name}", file=sys.stderr, flush=True)
    stage("W1, W2")
    results["gaussian"] = [gaussian_workload("W1", *w1, repeats),
                           gaussian_workload("W2", *((100, 5, 2000) if q else (1000, 50, 2000)), repeats)]
    if jax.device_count() > 1 and results["platform"] == "cpu":
        one = exact_on_one_device(*w1, repeats)
        results["gaussian"][0]["seconds"]["jcollapse exact, 1 CPU device"] = one
    stage("W1 as a new user runs it")
    results["new_user"] = as_a_new_user(*w1, 3 * repeats)
    stage("random-number floor")
    results["random_floor"] = raw_against_floor(*w1, 4 * repeats)
    if results["platform"] != "cpu":
        stage("accelerator: limits, 65,536 and 262,144 seeds")
        seeds = 2**12 if q else 2**16
        results["accelerator"] = dict(
            limits=accelerator_limits(2 * repeats),
            floor=raw_against_floor(seeds, w1[1], w1[2], 4 * repeats),
            program=raw_program_against_floor(seeds, w1[1], w1[2], 4 * repeats),
            w1=gaussian_workload("W1", 4 * seeds, w1[1], w1[2], repeats, baselines=False))
    stage("categorical")
    results["categorical"] = categorical_scaling((100, 10**4) if q else (100, 10**3, 10**4, 10**5, 10**6),
                                                 64 if q else 256, 5 if q else 20, repeats)
    stage("regression")
    results["regression"] = regression(16 if q else 64, 2 if q else 5, repeats)
    stage("sweep scaling")
    results["sweep"] = sweep_scaling((100, 1000) if q else (100, 10**3, 10**4, 10**5, 10**6), 5 if q else 20)
    stage("compilation")
    results["compilation"] = compilation(5 if q else 100)
    stage("learned generators against scikit-learn")
    results["learned_generators"] = learned_generators.measure(
        *((16, 5, 200, 100, 20, 1) if q else (100, 100, 1000, 500, 20, 3)), repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (args.out / "results.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
