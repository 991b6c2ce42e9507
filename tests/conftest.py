"""Test-wide JAX settings: cheaper compilation, strict rank promotion (no silent broadcasting
between ranks), and a persistent compilation cache shared with the processes the tests start
(notebook kernels, the CLI)."""

import os
from pathlib import Path

# Compile faster: the suite compiles ~200 small programs and runs each for seconds, so
# LLVM's expensive passes, and XLA's backend optimisation level 2 (the default; 1 here),
# cost more compile time than they save run time (the readings are in docs/performance.md).
# Tests check results, not speed; benchmarks and `make demo` use XLA's defaults. Set before
# JAX starts its backend; kernels inherit it.
for flag in ("--xla_llvm_disable_expensive_passes=true", "--xla_backend_optimization_level=1"):
    if flag.split("=")[0] not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()

# One CPU device per test process, as before jcollapse chose one per core at import: the
# suite is compile-bound, and every extra device compiles each program again. The processes
# the tests start (notebook kernels, the CLI) inherit it; tests of several devices ask for them.
os.environ.setdefault("JAX_NUM_CPU_DEVICES", "1")

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")

# The notebooks and the command line run in their own processes and would compile the
# same loops again; they inherit these variables and read the executables from disk.
# The cache is keyed on the program, the compile options and the jax version, so a stale
# entry is never used; it lives in the (git-ignored) checkout, so a clean clone starts empty.
# Every program is cached, however quick to compile: the suite's many small programs recur
# across the two workers, the notebook kernels and the CLI's processes, so a minimum compile
# time makes the suite slower (docs/performance.md).
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs",
                  float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))


# The slowest test files (tens of seconds to two minutes each, mostly compilation),
# scheduled first: pytest-xdist hands out whole files (--dist loadfile) in collection order,
# and a long file collected last (the notebooks sort late) leaves one worker running it
# alone at the end. Longest first keeps both cores busy to the end.
SLOW_FIRST = ("test_notebooks.py", "test_invariance.py", "test_paths.py", "test_dohmatob.py",
              "test_bakshi_chakraborty.py", "test_exponential.py", "test_sweep.py", "test_filters.py",
              "test_probes.py", "test_readme.py", "test_engine.py", "test_han.py")


#: Test tiers by file (see pyproject.toml's markers): `make test-fast` leaves these out.
TIERS = {
    "notebook": ("test_notebooks.py", "test_readme.py"),
    "reproduction": ("test_demo.py", "test_xu.py", "test_amin.py", "test_han.py", "test_dohmatob.py",
                     "test_bakshi_chakraborty.py", "test_reproductions.py", "test_shumailov.py"),
    # Monte-Carlo checks against theory and between paths, and bitwise invariance over
    # many programs: most of their tests compile a loop and run thousands of seeds.
    "slow": ("test_theory_categorical.py", "test_theory_gaussian.py", "test_theory_regression.py", "test_paths.py",
             "test_invariance.py", "test_exponential.py", "test_categorical.py", "test_markov.py",
             "test_regression.py", "test_probes.py", "test_mean_accumulate.py", "test_kernel_density.py",
             "test_gaussian_mixture.py"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker, files in TIERS.items():
            if item.path.name in files or (marker == "reproduction" and "experiments" in item.path.parts):
                item.add_marker(marker)
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))  # stable: the rest keep their order
