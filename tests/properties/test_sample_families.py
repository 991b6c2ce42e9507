"""Properties of the families fitted to their whole weighted sample (the learned generators),
whose statistics are the sample itself (:class:`jcollapse.models.SampleStatistics`) and whose
truth is a :mod:`jcollapse.truths` law. The closed-form families' properties (exact
statistics, merges of fixed-size statistics) do not apply; these are their counterparts.

A fit is compared through what it means, not its arrays: merging concatenates and a
permutation reorders the stored points, so two fits of the same weighted sample are equal
when their log-densities at test points and their data variance agree (to float rounding:
the sums run in another order).
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import parameterized
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jcollapse as jc

from .strategies import DIM, SETTINGS, N, floats32, seeds, weights

#: The sample families, in their fixed shapes (``dim = 2``, batches of ``N`` points).
SAMPLE_FAMILIES = {
    "KernelDensity": jc.models.KernelDensity(dim=DIM, bandwidth=0.5, test_size=N),
}
#: Examples per property.
EXAMPLES = 25
#: Points at which two fits' log-densities are compared.
PROBES = jnp.asarray(np.linspace(-3.0, 3.0, 2 * DIM * 4, dtype=np.float32).reshape(-1, DIM))


def points() -> st.SearchStrategy[np.ndarray]:
    """``N`` float32 points with coordinates in ``[-5, 5]``."""
    return hnp.arrays(np.float32, (N, DIM), elements=floats32(-5.0, 5.0))


def bandwidths() -> st.SearchStrategy:
    """The model in its fixed shape with any fixed bandwidth in ``[0.05, 5]``, or a rule."""
    fixed = floats32(0.05, 5.0).map(lambda h: jc.models.KernelDensity(dim=DIM, bandwidth=h, test_size=N))
    rules = st.sampled_from(("scott", "silverman")).map(
        lambda rule: jc.models.KernelDensity(dim=DIM, bandwidth=rule, test_size=N))
    return st.one_of(fixed, rules)


@jax.jit
def _meaning(model, stats):
    """What a fit of `stats` means: its log-density at :data:`PROBES` and its data variance."""
    fit = model.fit(stats, None)
    return model.log_density(fit, PROBES), stats.variance(), fit.bandwidth


def assert_same_fit(model, a, b):
    """Two statistics give the same fitted density, to float32 rounding of their sums."""
    for x, y in zip(_meaning(model, a), _meaning(model, b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2e-5, atol=2e-5)


class SampleFamilyFunctionsTest(chex.TestCase):
    """chex variants (with and without ``jit``) over a sample family's pure functions."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters(*((name, name) for name in SAMPLE_FAMILIES))
    def test_pure_functions(self, name):
        """Property: for any points, 0/1 weights with at least one 1 and key, ``statistics``
        keeps the sample; ``fit`` has the documented shapes; ``sample`` draws ``N`` finite points
        of ``dim`` coordinates; ``evaluate`` gives one finite float32 scalar per metric name; a
        fit is never degenerate with a fixed bandwidth > 0."""
        model = SAMPLE_FAMILIES[name]
        statistics, fit = self.variant(model.statistics), self.variant(lambda s: model.fit(s, None))
        sample = self.variant(lambda k, p: model.sample(k, p, N))
        evaluate = self.variant(model.evaluate)

        @settings(max_examples=EXAMPLES if self.variant.type == chex.ChexVariantType.WITH_JIT else 2, **SETTINGS)
        @given(data=points(), mask=weights(minimum=1), seed=seeds())
        def check(data, mask, seed):
            key = jax.random.key(seed)
            stats = statistics(jnp.asarray(data), jnp.asarray(mask))
            chex.assert_trees_all_equal(stats.data, data)
            params = fit(stats)
            chex.assert_shape([params.points, params.weights, params.bandwidth], [(N, DIM), (N,), ()])
            drawn = sample(key, params)
            chex.assert_shape(drawn, (N, DIM))
            chex.assert_tree_all_finite(drawn)
            chosen = np.asarray(drawn)[:, None, :] - data[mask > 0][None, :, :]
            assert np.all(np.min(np.abs(chosen).max(axis=2), axis=1) < 10 * float(params.bandwidth) + 1e-3)
            values = evaluate(key, params, None, jnp.asarray(data))
            assert sorted(values) == sorted(model.metric_names)
            for value in values.values():
                chex.assert_shape(value, ())
                chex.assert_type(value, jnp.float32)
                chex.assert_tree_all_finite(value)
            assert not bool(model.is_degenerate(params))

        check()


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(model=bandwidths(), data=points(), mask=weights(minimum=2), order=st.permutations(range(N)))
def test_fit_is_invariant_to_the_order_of_the_sample(model, data, mask, order):
    """Property: permuting the points and their weights together leaves the fit unchanged."""
    stats = model.statistics(jnp.asarray(data), jnp.asarray(mask))
    order = np.asarray(order)
    assert_same_fit(model, stats, model.statistics(jnp.asarray(data[order]), jnp.asarray(mask[order])))


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(model=bandwidths(), data=points(), mask=weights(minimum=2), cut=st.integers(1, N - 1))
def test_merge_is_the_union_in_any_order_with_the_empty_sample_as_identity(model, data, mask, cut):
    """Property: the statistics of two halves merged, in either order, fit as the whole;
    merging with the empty sample (zero weights) changes nothing; ``reweight(1)`` is the identity."""
    whole = model.statistics(jnp.asarray(data), jnp.asarray(mask))
    first = model.statistics(jnp.asarray(data[:cut]), jnp.asarray(mask[:cut]))
    second = model.statistics(jnp.asarray(data[cut:]), jnp.asarray(mask[cut:]))
    empty = jax.tree.map(jnp.zeros_like, whole)
    assert_same_fit(model, whole, first.merge(second))
    assert_same_fit(model, whole, second.merge(first))
    assert_same_fit(model, whole, whole.merge(empty))
    chex.assert_trees_all_equal(whole.reweight(jnp.float32(1.0)), whole)
