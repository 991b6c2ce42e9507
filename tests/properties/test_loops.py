"""Laws of whole loops run by ``jc.simulate``: with only real data (``real_fraction = 1``)
nothing collapses, and runs have the documented shapes and dtypes.

Every distinct loop plan (model structure, pool, mixing, path, generations) compiles a
program, so the plans are few and fixed; hypothesis varies the truths, which are data.
"""

import jax
import numpy as np
import pytest
from hypothesis import given, settings

import jcollapse as jc

from .strategies import FAMILIES, NO_SHRINK, loop_configs

G = 3
SEEDS = 2000
Z_MAX = 4.0
#: The pool some families are also run with besides "replace" (one more program each, so
#: the cheapest to compile): "accumulate" (with a closed form to check against for
#: GaussianMean) and the raw path's "accumulate-subsample".
SECOND_POOL = {"Gaussian": "accumulate-subsample", "GaussianMean": "accumulate", "LinearRegression": "accumulate"}


def _loop(name: str, pool: str, sample_size, mixing: str = "iid") -> jc.Loop:
    """An all-real loop of ``G`` generations; the exact path except for
    "accumulate-subsample", which needs raw samples."""
    path = "raw" if pool == "accumulate-subsample" else "exact"
    return jc.Loop(FAMILIES[name].model, generations=G, real_fraction=1.0, sample_size=sample_size, pool=pool,
                   mixing=mixing, path=path)


def _run(loop: jc.Loop, truth, seed: int) -> jc.Run:
    """``SEEDS`` seeds of ``loop``, checked as :func:`assert_run_shapes_and_dtypes` says;
    with real data only, nothing fails and every metric is finite."""
    run = jc.simulate(loop, truth, key=jax.random.key(seed), seeds=SEEDS)
    assert_run_shapes_and_dtypes(run, SEEDS)
    assert not run.failed.any(), "a fit on real data only failed"
    for name, values in run.metrics.items():
        assert np.all(np.isfinite(values)), f"{name} is not finite"
    return run


def assert_run_shapes_and_dtypes(run: jc.Run, seeds: int) -> None:
    """One float32 NumPy array ``[seeds, G + 1]`` per metric name of the model, a uint8
    status of that shape, per-generation means of shape ``[G + 1]``."""
    loop = run.loop
    shape = (seeds, loop.generations + 1)
    assert set(run.metrics) == set(loop.model.metric_names)
    for name, values in run.metrics.items():
        assert isinstance(values, np.ndarray), name
        assert values.shape == shape and values.dtype == np.float32, name
    assert isinstance(run.status, np.ndarray) and run.status.shape == shape
    assert run.status.dtype == np.uint8
    assert run.seeds == seeds and run.failed.shape == (seeds,)
    assert run.mean(next(iter(run.metrics))).shape == (loop.generations + 1,)


def _z(difference: np.ndarray, se: np.ndarray, what: str) -> None:
    """``|difference| < Z_MAX se`` entry by entry; where ``se = 0`` (a constant metric),
    ``difference = 0`` up to float32 rounding."""
    constant = se == 0
    assert np.all(np.abs(difference[constant]) <= 1e-6), f"{what}: {difference}"
    z = difference[~constant] / se[~constant]
    assert np.all(np.abs(z) < Z_MAX), f"{what}: z = {z}"


def assert_every_generation_like_generation_0(run: jc.Run) -> None:
    """Each metric's first two moments at every generation ``t`` equal generation 0's:
    paired differences ``x_t - x_0`` and ``x_t^2 - x_0^2`` over seeds have mean 0 within
    ``Z_MAX`` standard errors (paired, so valid whether or not generations are independent)."""
    for name, values in run.metrics.items():
        for power in (1, 2):
            d = values[:, 1:] ** power - values[:, :1] ** power
            _z(d.mean(axis=0), d.std(axis=0, ddof=1) / np.sqrt(SEEDS), f"{name}^{power} vs generation 0")


def assert_same_law(a: jc.Run, b: jc.Run) -> None:
    """Two independent runs: each metric's first two moments agree at every generation."""
    for name in a.metrics:
        for power in (1, 2):
            x, y = a.metrics[name] ** power, b.metrics[name] ** power
            se = np.hypot(x.std(axis=0, ddof=1), y.std(axis=0, ddof=1)) / np.sqrt(SEEDS)
            _z(x.mean(axis=0) - y.mean(axis=0), se, f"{name}^{power}")


def assert_theory(run: jc.Run, truth) -> None:
    """Every metric with a closed form (``jc.theory.expected``) matches its mean over seeds
    within ``Z_MAX`` standard errors."""
    loop = run.loop
    for _, pool, mixing, metrics in jc.theory.available(loop.model):
        if (pool, mixing) != (loop.pool, loop.mixing):
            continue
        for name in metrics:
            expected = jc.theory.expected(loop, truth, name)
            _z(run.mean(name) - expected, run.sem(name), f"{name} against jc.theory.expected")


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_all_real_data_gives_every_generation_the_law_of_generation_0(name):
    """Property: with ``real_fraction = 1`` and a constant sample size, every generation is
    fitted on fresh real samples (``pool="replace"``) or on ``n`` of the real samples
    pooled so far, drawn uniformly (``"accumulate-subsample"``): either way ``n`` i.i.d.
    draws from the truth, so every generation's metrics have the law of generation 0's.
    Checked on each metric's first two moments, over 2000 seeds within 4 SE (paired),
    and against ``jc.theory.expected`` where it has a closed form; nothing fails and every
    value is finite. Every family with ``"replace"``, Gaussian with
    ``"accumulate-subsample"`` too (the raw path); moderate truths, 2 examples."""
    family = FAMILIES[name]
    loops = [_loop(name, "replace", family.loop_size)]
    if SECOND_POOL.get(name) == "accumulate-subsample":
        loops.append(_loop(name, "accumulate-subsample", family.loop_size, mixing="split"))

    @settings(max_examples=2, **NO_SHRINK)
    @given(truth=family.moderate)
    def check(truth):
        for i, loop in enumerate(loops):
            run = _run(loop, truth, seed=i)
            assert_every_generation_like_generation_0(run)
            assert_theory(run, truth)

    check()


@pytest.mark.parametrize("name", sorted(n for n, pool in SECOND_POOL.items() if pool == "accumulate"))
def test_all_real_data_accumulated_has_the_law_of_the_pooled_sample(name):
    """Property: with ``real_fraction = 1`` and ``pool="accumulate"`` (unit weights),
    generation ``t`` is fitted on all ``(t + 1) n`` real samples so far, so it has the law
    of a fit on ``(t + 1) n`` fresh samples: a ``"replace"`` loop with
    ``n_t = (t + 1) n`` (an independent run, the same program as the test above). Checked on
    each metric's first two moments within 4 SE, and both runs against
    ``jc.theory.expected`` where it has a closed form (GaussianMean; LinearRegression's
    varying-``n_t`` "replace" run). Moderate truths, 2 examples."""
    family = FAMILIES[name]
    n = family.loop_size
    accumulate = _loop(name, "accumulate", n, mixing="split")
    pooled = _loop(name, "replace", n * np.arange(1, G + 2))

    @settings(max_examples=2, **NO_SHRINK)
    @given(truth=family.moderate)
    def check(truth):
        a, b = _run(accumulate, truth, seed=2), _run(pooled, truth, seed=3)
        assert_same_law(a, b)
        assert_theory(a, truth)
        assert_theory(b, truth)

    check()


@settings(max_examples=4, **NO_SHRINK)
@given(loop_configs())
def test_run_shapes_and_dtypes(config):
    """Property: any valid loop (Gaussian or GaussianMean, any pool, path, mixing,
    schedules of ``a_t`` and ``n_t``, 0 to 4 generations) simulated over 1 to 5 seeds gives
    one float32 ``[seeds, G + 1]`` array per metric name, a uint8 status of that shape, and
    per-generation means of shape ``[G + 1]`` (:func:`assert_run_shapes_and_dtypes`, also
    checked on every run above, all families). Every example compiles a loop: 4 of them."""
    loop, truth, seeds = config
    assert_run_shapes_and_dtypes(jc.simulate(loop, truth, key=jax.random.key(0), seeds=seeds), seeds)
