"""Every family's pure functions under chex variants (with and without ``jit``, and
``vmap``ped over seeds), and the law of the exact-statistics sampler against raw samples.

The two groups share this module so that they share programs: the ``with_jit`` variant's
vmapped samplers are the very programs the Monte-Carlo comparison runs (same function
objects, same shapes, see :mod:`.programs`).
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl.testing import parameterized
from hypothesis import given, settings
from hypothesis import strategies as st

import jcollapse as jc

from . import programs
from .programs import DRAWS
from .strategies import DIM, FAMILIES, NO_SHRINK, K, L, N, S, seeds, weights
from .test_sample_families import SAMPLE_FAMILIES

#: Examples per family: the jitted variant compiles once and then runs an example in
#: milliseconds; the un-jitted one runs XLA's loops (the samplers' while loops, scans)
#: one program per call, compiled anew (or read back from the persistent cache) each time.
EXAMPLES = {chex.ChexVariantType.WITH_JIT: 10, chex.ChexVariantType.WITHOUT_JIT: 1}
#: Largest count drawn for ``sample_statistics``.
MAX_COUNT = 1024
#: Lanes compared one by one between a vmapped call and the unbatched function.
LANES = 4


def data_shapes(name: str):
    """The documented shape and dtype of ``sample(key, truth, N)``."""
    if name == "Categorical":
        return [((N,), jnp.int32)]
    if name == "MarkovChain":
        return [((N, L), jnp.int32)]
    if name == "LinearRegression":
        return [((N, DIM), jnp.float32), ((N,), jnp.float32)]
    return [((N, DIM), jnp.float32)]


def statistics_shapes(name: str):
    """The documented leaf shapes of the family's statistics (all float32)."""
    mean, matrix = (DIM,), (DIM, DIM)
    return {
        "Bernoulli": [(), mean], "Poisson": [(), mean], "GaussianMean": [(), mean], "Gaussian": [(), mean, matrix],
        "Categorical": [(K,)], "MarkovChain": [(S * S,)], "LinearRegression": [(), (), matrix, mean],
    }[name]


def close(a, b, rtol: float = 1e-5, scale: float = 1.0):
    """``a`` and ``b`` agree leaf by leaf to ``rtol`` of the leaf's largest magnitude (at
    least ``scale``), and exactly in their integer and boolean leaves: two compilations of
    one float32 function may fuse or reassociate differently, a few roundings apart."""
    chex.assert_trees_all_equal_structs(a, b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        x, y = np.asarray(x), np.asarray(y)
        chex.assert_equal_shape([x, y])
        if not np.issubdtype(x.dtype, np.floating):
            np.testing.assert_array_equal(x, y)
            continue
        magnitude = float(np.max(np.abs(x), initial=scale, where=np.isfinite(x)))
        chex.assert_trees_all_close(x, y, rtol=0.0, atol=rtol * magnitude)


def fit_rtol(name: str, model, stats) -> float:
    """The relative tolerance of two computations of ``fit`` (and of the metrics of the
    fit) from the same statistics: ``1e-5`` times the condition number of the matrix the
    fit factorises (the scatter matrix for Gaussian, ``X^T X + ridge n I`` for the
    regression), which bounds how much a rounding of the factorisation can grow."""
    if name == "Gaussian":
        matrix = np.asarray(stats.scatter, np.float64)
    elif name == "LinearRegression":
        matrix = np.asarray(stats.gram, np.float64) + float(model.ridge) * float(stats.count) * np.eye(DIM)
    else:
        return 1e-5
    eigenvalues = np.abs(np.linalg.eigvalsh(matrix))
    return 1e-5 * max(1.0, eigenvalues.max() / max(eigenvalues.min(), 1e-300))


def metric_scale(params, truth) -> float:
    """The scale of a metric's rounding errors: metrics are squared distances between the
    fit and the truth, so a relative error in the fit moves them by that much of
    ``(|fit| + |truth|)^2``, however small the distance itself."""
    size = lambda tree: max(float(np.max(np.abs(np.asarray(x)), initial=0.0)) for x in jax.tree.leaves(tree))
    return max(1.0, (size(params) + size(truth)) ** 2)


def check_fit(params, values, degenerate) -> None:
    """Non-finite fitted parameters only where ``is_degenerate`` says so (a singular
    Gaussian scatter: the documented NaN factor); the fit of every other lane, and its
    metrics, are finite (Categorical's ``kl`` aside, see :func:`check_metrics`).
    Arguments are batched: a leading axis of lanes."""
    degenerate = np.asarray(degenerate)
    finite = np.all(np.stack([np.isfinite(np.asarray(x)).reshape(len(degenerate), -1).all(axis=1)
                              for x in jax.tree.leaves(params)]), axis=0)
    np.testing.assert_array_equal(finite, ~degenerate)
    for name, value in values.items():
        if name != "kl":
            assert np.all(np.isfinite(np.asarray(value)[~degenerate])), name


def lane(tree, i: int):
    return jax.tree.map(lambda x: x[i], tree)


def check_support(name: str, data, truth) -> None:
    """Raw samples lie in the support of the law they were drawn from."""
    if name == "Bernoulli":
        assert np.all((data == 0) | (data == 1))
    elif name == "Poisson":
        assert np.all((data >= 0) & (data == np.round(data)))
    elif name == "Categorical":
        assert np.all((data >= 0) & (data < K)) and np.all(np.asarray(truth.probs)[data] > 0)
    elif name == "MarkovChain":
        transition, initial = np.asarray(truth.transition), np.asarray(truth.initial)
        assert np.all((data >= 0) & (data < S))
        assert np.all(initial[data[:, 0]] > 0) and np.all(transition[data[:, :-1], data[:, 1:]] > 0)


def check_exact_statistics(name: str, stats, count: int, truth) -> None:
    """Statistics drawn for ``count`` samples account for exactly ``count`` samples, and
    are the empty (all-zero) statistics for ``count = 0``."""
    if count == 0:
        for leaf in jax.tree.leaves(stats):
            np.testing.assert_array_equal(leaf, 0)
    if name == "Categorical":
        counts = np.asarray(stats.counts)
        assert counts.sum() == count and np.all(counts == np.round(counts)) and np.all(counts >= 0)
        assert np.all(counts[np.asarray(truth.probs) == 0] == 0)
    elif name == "MarkovChain":
        counts = np.asarray(stats.counts)
        assert counts.sum() == count * (L - 1) and np.all(counts == np.round(counts)) and np.all(counts >= 0)
        assert np.all(counts[np.asarray(truth.transition).reshape(-1) == 0] == 0)
    elif name == "LinearRegression":
        assert float(stats.count) == count and float(stats.rows) == count
    else:
        assert float(stats.count) == count


def check_metrics(name: str, model, values, params, truth) -> None:
    """One float32 scalar per documented metric name, finite; Categorical's ``kl`` is
    +inf exactly where the fit gives probability 0 to a category the truth has."""
    assert sorted(values) == sorted(model.metric_names)
    for metric, value in values.items():
        chex.assert_shape(value, ())
        chex.assert_type(value, jnp.float32)
        if name == "Categorical" and metric == "kl":
            lost = np.any((np.asarray(truth.probs) > 0) & (np.asarray(params.probs) == 0))
            assert not np.isnan(value) and bool(np.isinf(value)) == lost and value >= 0, (value, lost)
        else:
            chex.assert_tree_all_finite(value)


def test_every_family_of_the_library_is_covered():
    """Every family the library registers has its strategies here (a new family must add
    them to :data:`.strategies.FAMILIES` to join the properties; a family fitted to its whole
    sample, to :data:`.test_sample_families.SAMPLE_FAMILIES`)."""
    library = {name for name, cls in jc.models.families().items() if cls.__module__.startswith("jcollapse.")}
    assert library == set(FAMILIES) | set(SAMPLE_FAMILIES)
    assert not set(FAMILIES) & set(SAMPLE_FAMILIES)


class PureFunctionsTest(chex.TestCase):
    """chex variants over the contract's pure functions, family by family."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters(*((name, name) for name in FAMILIES))
    def test_pure_functions(self, name):
        """Property: for any valid parameters, key, 0/1 weights (at least
        ``min_sample_size`` ones) and count in ``[0, 1024]``:

        - ``sample`` has the documented shape and dtype and lies in the law's support;
        - ``statistics``, ``sample_statistics`` (any count, 0 included) and the statistics
          of raw samples have the family's statistics shapes, all float32 and finite;
          drawn statistics account for exactly ``count`` samples (empty for 0);
        - ``fit`` has the truth's structure, shapes and dtypes, and is finite unless
          ``is_degenerate`` (a numerically singular Gaussian scatter of a few samples);
        - ``metrics`` of a non-degenerate fit gives one finite float32 scalar per metric
          name (Categorical's ``kl`` is +inf exactly where a category of the truth is lost);
        - the variant (``jit`` or not) agrees with the jitted reference on the same inputs,
          and ``vmap`` over 2048 seeds (per-lane counts) agrees lane by lane with the
          unbatched function, to ``1e-5`` of each leaf's magnitude (times the condition
          number of the factorised matrix for ``fit`` and ``metrics``, :func:`fit_rtol`;
          metrics to that of the squared magnitudes of the fit and the truth,
          :func:`metric_scale`).
        """
        family = FAMILIES[name]
        fns = {f: self.variant(getattr(programs, f)) for f in programs.jitted}
        batched = self.variant(programs.batched_lanes)
        ref = programs.jitted
        minimum = family.model.min_sample_size

        @settings(max_examples=EXAMPLES[self.variant.type], **NO_SHRINK)
        @given(model=family.models, truth=family.truths, seed=seeds(), mask=weights(minimum),
               count=st.integers(0, MAX_COUNT))
        def check(model, truth, seed, mask, count):
            key_sample, key_exact, key_lanes = jax.random.split(jax.random.key(seed), 3)
            count_array = jnp.asarray(count, jnp.int32)

            data = fns["sample"](model, key_sample, truth)
            close(data, ref["sample"](model, key_sample, truth))
            for leaf, (shape, dtype) in zip(jax.tree.leaves(data), data_shapes(name)):
                chex.assert_shape(leaf, shape)
                chex.assert_type(leaf, dtype)
            chex.assert_tree_all_finite(data)
            check_support(name, jax.tree.map(np.asarray, data), truth)

            stats = fns["statistics"](model, data, mask)
            close(stats, ref["statistics"](model, data, mask))
            chex.assert_shape(jax.tree.leaves(stats), statistics_shapes(name))
            chex.assert_type(jax.tree.leaves(stats), jnp.float32)
            chex.assert_tree_all_finite(stats)

            rtol = fit_rtol(name, model, stats)
            params = fns["fit"](model, stats, truth)
            close(params, ref["fit"](model, stats, truth), rtol)
            chex.assert_trees_all_equal_shapes_and_dtypes(params, truth)
            values = fns["metrics"](model, params, truth)
            close(values, ref["metrics"](model, params, truth), rtol, metric_scale(params, truth))
            degenerate = bool(model.is_degenerate(params))
            check_fit(*jax.tree.map(lambda x: np.asarray(x)[None], (params, values, degenerate)))
            if not degenerate:
                check_metrics(name, model, values, params, truth)

            exact = fns["sample_statistics"](model, key_exact, truth, count_array)
            close(exact, ref["sample_statistics"](model, key_exact, truth, count_array))
            chex.assert_trees_all_equal_shapes_and_dtypes(exact, stats)
            chex.assert_tree_all_finite(exact)
            check_exact_statistics(name, exact, count, truth)

            if self.variant.type != chex.ChexVariantType.WITH_JIT:
                return  # vmap un-jitted would compile every batched loop at every call.
            # vmap over seeds: every lane as its own unbatched calls.
            keys = jax.random.split(key_lanes, DRAWS)
            counts = np.where(np.arange(DRAWS) % 2 == 0, count, np.arange(DRAWS) % (count + 1)).astype(np.int32)
            masks = np.broadcast_to(mask, (DRAWS, N))
            lanes = jax.device_get(batched(model, keys, truth, counts, masks))
            chex.assert_tree_shape_prefix(lanes, (DRAWS,))
            chex.assert_tree_all_finite((lanes["exact"], lanes["raw"]))
            check_fit(lanes["fit"], lanes["metrics"], lanes["degenerate"])
            chex.assert_trees_all_equal_shapes_and_dtypes(lane(lanes["exact"], 0), stats)
            for i in range(LANES):
                key_exact, key_raw = jax.random.split(keys[i])
                one = lane(lanes, i)
                close(one["exact"], ref["sample_statistics"](model, key_exact, truth, counts[i]))
                close(one["raw"], ref["statistics"](model, ref["sample"](model, key_raw, truth), mask))
                rtol = fit_rtol(name, model, one["raw"])
                close(one["fit"], ref["fit"](model, one["raw"], truth), rtol)
                close(one["metrics"], ref["metrics"](model, one["fit"], truth), rtol, metric_scale(one["fit"], truth))

        check()


def _moments(x: np.ndarray):
    """Per column of ``x [draws, k]``: mean, variance, and the standard errors of both
    (the variance's from the fourth central moment)."""
    draws = x.shape[0]
    mean = x.mean(axis=0)
    centred = x - mean
    var = (centred**2).sum(axis=0) / (draws - 1)
    m4 = (centred**4).mean(axis=0)
    return mean, var, np.sqrt(var / draws), np.sqrt(np.maximum(m4 - var**2, 0) / draws)


def assert_same_two_moments(a, b, z_max: float = 4.0) -> None:
    """Each leaf entry of two batches of statistics (``[draws, ...]``, independent) has
    the same mean and the same variance within ``z_max`` standard errors; entries that are
    constant in both batches are equal."""
    named = jax.tree_util.tree_flatten_with_path(a)[0]
    for (path, x), y in zip(named, jax.tree.leaves(b)):
        x = np.asarray(x, np.float64).reshape(DRAWS, -1)
        y = np.asarray(y, np.float64).reshape(DRAWS, -1)
        (mx, vx, sx, svx), (my, vy, sy, svy) = _moments(x), _moments(y)
        where = jax.tree_util.keystr(path)
        for what, u, v, su, sv in (("mean", mx, my, sx, sy), ("variance", vx, vy, svx, svy)):
            se = np.hypot(su, sv)
            constant = se == 0
            np.testing.assert_array_equal(u[constant], v[constant], err_msg=f"{where} {what} (constant)")
            z = (u - v)[~constant] / se[~constant]
            assert np.all(np.abs(z) < z_max), f"{where} {what}: exact {u}, raw {v}, z {z}"


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_exact_and_raw_statistics_have_the_same_first_two_moments(name):
    """Property: ``sample_statistics(key, truth, n)`` has the law of
    ``statistics(sample(key', truth, n), ones)``: over 2048 independent draws of each
    (``n = 8``), every statistic's mean and variance agree within 4 standard errors (the
    variance's SE from the fourth moment), for parameters away from the edges of their
    range (2 examples per family, fixed keys)."""
    family = FAMILIES[name]
    batched = jax.jit(programs.batched_lanes)  # the with_jit variant's program above
    keys = jax.random.split(jax.random.key(20240623), DRAWS)
    counts = np.full(DRAWS, N, np.int32)
    ones = np.ones((DRAWS, N), np.float32)

    @settings(max_examples=2, **NO_SHRINK)
    @given(truth=family.moderate)
    def check(truth):
        lanes = batched(family.model, keys, truth, counts, ones)  # exact and raw from independent keys
        assert_same_two_moments(lanes["exact"], lanes["raw"])

    check()
