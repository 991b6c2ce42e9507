"""Properties of the families fitted to their whole weighted sample (the learned generators),
whose statistics are the sample itself (:class:`jcollapse.models.SampleStatistics`) and whose
truth is a :mod:`jcollapse.truths` law. The closed-form families' properties (exact
statistics, merges of fixed-size statistics) do not apply; these are their counterparts.

A fit is compared through what it means, not its arrays: merging concatenates and a
permutation reorders the stored points, so two fits of the same weighted sample are equal
when their log-densities at test points and their data variance agree (to float rounding:
the sums run in another order). The Gaussian mixture's fit is a function of the weighted
sample when EM starts from a given mixture (``init="warm"``); k-means++ seeding picks points
by their position in the pool, so the order-free properties start it from :data:`START`.
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
    "GaussianMixture": jc.models.GaussianMixture(2, DIM, em_steps=5, init="warm", tol=0.0, test_size=N),
}
#: The shapes of each family's fitted parameters, leaf by leaf.
FIT_SHAPES = {"KernelDensity": [(N, DIM), (N,), ()], "GaussianMixture": [(2,), (2, DIM), (2, DIM, DIM)]}
#: The truth the families' metrics are measured against.
TRUTH = jc.truths.GaussianMixture.isotropic([[-1.0, 0.0], [1.0, 0.0]], std=1.0)
#: The previous fit the mixture's warm start continues from.
START = SAMPLE_FAMILIES["GaussianMixture"].params(weights=[0.5, 0.5], means=[[-1.0, 0.0], [1.0, 0.0]],
                                                   covs=[4.0 * np.eye(DIM)] * 2)
#: Examples per property.
EXAMPLES = 25
#: Points at which two fits' log-densities are compared.
PROBES = jnp.asarray(np.linspace(-3.0, 3.0, 2 * DIM * 4, dtype=np.float32).reshape(-1, DIM))


def points() -> st.SearchStrategy[np.ndarray]:
    """``N`` float32 points with coordinates in ``[-5, 5]``."""
    return hnp.arrays(np.float32, (N, DIM), elements=floats32(-5.0, 5.0))


def sample_models() -> st.SearchStrategy:
    """A sample family in its fixed shape: the kernel density estimate with any fixed bandwidth
    in ``[0.05, 5]`` or a rule, or the warm-started mixture with either covariance."""
    fixed = floats32(0.05, 5.0).map(lambda h: jc.models.KernelDensity(dim=DIM, bandwidth=h, test_size=N))
    rules = st.sampled_from(("scott", "silverman")).map(
        lambda rule: jc.models.KernelDensity(dim=DIM, bandwidth=rule, test_size=N))
    mixtures = st.sampled_from(("full", "diag")).map(lambda covariance: jc.models.GaussianMixture(
        2, DIM, covariance=covariance, em_steps=5, init="warm", tol=0.0, test_size=N))
    return st.one_of(fixed, rules, mixtures)


@jax.jit
def _meaning(model, stats):
    """What a fit of `stats` means: its log-density at :data:`PROBES` and its data variance."""
    fit = model.fit_generation(jax.random.key(0), stats, START, None)
    return model.log_density(fit, PROBES), stats.variance()


def assert_same_fit(model, a, b):
    """Two statistics give the same fitted density, to float32 rounding of their sums (which
    EM's steps carry on: 1e-4 relative for the mixture)."""
    tolerance = 1e-4 if isinstance(model, jc.models.GaussianMixture) else 2e-5
    for x, y in zip(_meaning(model, a), _meaning(model, b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tolerance, atol=tolerance)


class SampleFamilyFunctionsTest(chex.TestCase):
    """chex variants (with and without ``jit``) over a sample family's pure functions."""

    @chex.variants(with_jit=True, without_jit=True)
    @parameterized.named_parameters(*((name, name) for name in SAMPLE_FAMILIES))
    def test_pure_functions(self, name):
        """Property: for any points, 0/1 weights with at least one 1 and key, ``statistics``
        keeps the sample; ``fit`` has the documented shapes; ``sample`` draws ``N`` finite points
        of ``dim`` coordinates; ``evaluate`` gives one finite float32 scalar per metric name and
        the truth's own metrics; a kernel density estimate draws within ten bandwidths of a
        stored point and is never degenerate with a fixed bandwidth > 0."""
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
            chex.assert_shape(jax.tree.leaves(params), FIT_SHAPES[name])
            chex.assert_tree_all_finite(params)
            drawn = sample(key, params)
            chex.assert_shape(drawn, (N, DIM))
            chex.assert_tree_all_finite(drawn)
            values = evaluate(key, params, TRUTH, jnp.asarray(data))
            assert set(values) == {*model.metric_names, *TRUTH.sample_metrics(drawn)} | (
                {"l2"} if name == "GaussianMixture" else set())
            for value in values.values():
                chex.assert_shape(value, ())
                chex.assert_type(value, jnp.float32)
                chex.assert_tree_all_finite(value)
            if name == "KernelDensity":
                chosen = np.asarray(drawn)[:, None, :] - data[mask > 0][None, :, :]
                assert np.all(np.min(np.abs(chosen).max(axis=2), axis=1) < 10 * float(params.bandwidth) + 1e-3)
                assert not bool(model.is_degenerate(params))

        check()


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(model=sample_models(), data=points(), mask=weights(minimum=2), order=st.permutations(range(N)))
def test_fit_is_invariant_to_the_order_of_the_sample(model, data, mask, order):
    """Property: permuting the points and their weights together leaves the fit unchanged."""
    stats = model.statistics(jnp.asarray(data), jnp.asarray(mask))
    order = np.asarray(order)
    assert_same_fit(model, stats, model.statistics(jnp.asarray(data[order]), jnp.asarray(mask[order])))


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(model=sample_models(), data=points(), mask=weights(minimum=2), cut=st.integers(1, N - 1))
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
