"""The algebra of sufficient statistics: ``merge`` is a commutative monoid with the empty
(all-zero) statistics as identity, ``reweight`` scales the sample weights, and ``fit``
sees a sample only through its statistics, so it does not depend on the samples' order.

Where the property holds exactly in float32 it is tested with equality: counts of 0/1
weights are integers below ``2^24``, and sums of integer-valued data in any order are
exact. Elsewhere the tolerance is a bound on float32 rounding of the sums involved,
derived in each test's docstring (``EPS = 2^-24`` is float32's unit roundoff).
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import jcollapse as jc

from .programs import EPS, jit_merge_laws, jit_permuted_fits
from .strategies import FAMILIES, SETTINGS, N, weights

#: Examples per family (one compilation each; an example runs in microseconds).
EXAMPLES = 30
#: Slack on the rounding bounds: a handful of roundings per quantity, each at most EPS
#: relative to the scale; 64 EPS leaves room for the pairwise sums' log2(N) depth.
SLACK = 64 * EPS


def _scales(name: str, samples) -> tuple[float, float]:
    """The largest magnitudes (at least 1) of the data of several samples: of ``x`` and of
    ``y`` for the regression, of the data (twice) for the others."""
    if name == "LinearRegression":
        xs = [np.asarray(d[0], np.float64) for d in samples]
        ys = [np.asarray(d[1], np.float64) for d in samples]
    else:
        xs = ys = [np.asarray(d, np.float64) for d in samples]
    return max([1.0] + [np.abs(x).max() for x in xs]), max([1.0] + [np.abs(y).max() for y in ys])


def _samples(family, integer=None):
    """``(data, weights, integer_valued)`` of one sample of ``N``."""
    return st.tuples(family.data(integer), weights()).map(lambda dw: (dw[0][0], dw[1], dw[0][1]))


def statistics_tolerances(name: str, x_scale: float, y_scale: float, total: int) -> dict:
    """Absolute tolerances of two float32 computations of the same statistics, field by
    field, for data bounded by ``x_scale`` (``y_scale`` for regression labels) and
    ``total`` samples: counts of 0/1 weights are exact; a mean is at most ``x_scale`` and
    each rounding in its sums and in Chan's update errs by ``EPS`` of that; a scatter is a
    sum of ``total`` terms ``(x - m)^2`` of at most ``(2 x_scale)^2``; ``X^T X`` and
    ``X^T y`` are sums of ``total`` products."""
    if name == "LinearRegression":
        gram, moment = SLACK * total * x_scale**2, SLACK * total * x_scale * y_scale
        return {"count": 0.0, "rows": 0.0, "gram": gram, "moment": moment}
    return {"count": 0.0, "mean": SLACK * x_scale, "scatter": SLACK * total * (2 * x_scale) ** 2}


def assert_statistics_close(name: str, a, b, samples, exact: bool) -> None:
    """``a == b`` where exactness is expected, else field by field within
    :func:`statistics_tolerances` for the data of ``samples``."""
    if exact:
        chex.assert_trees_all_equal(a, b)
        return
    tolerances = statistics_tolerances(name, *_scales(name, samples), total=N * len(samples))
    for field, atol in tolerances.items():
        u, v = getattr(a, field), getattr(b, field)
        if u is None:
            assert v is None
            continue
        chex.assert_trees_all_close(u, v, rtol=0.0, atol=atol, custom_message=field)


def _merge_exact(family, integer: bool) -> bool:
    """Whether merges of this family's statistics are exact in float32: counts, and
    regression sums of integer-valued data (``merge`` adds them)."""
    return family.counts or (family.name == "LinearRegression" and integer)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_merge_is_a_commutative_monoid_with_the_empty_statistics_as_identity(name):
    """Property: for statistics ``a, b, c`` of three weighted samples (0/1 weights),
    ``(a.merge(b)).merge(c) == a.merge(b.merge(c))`` and ``a.merge(b) == b.merge(a)``;
    the all-zero statistics ``e`` are the identity, ``a.merge(e) == e.merge(a) == a``
    exactly, and are the statistics of a sample whose weights are all 0.

    Exact for counts (Categorical, Markov: integer sums below ``2^24``) and for the
    regression's sums of integer-valued data. Otherwise, e.g. the Gaussian families'
    means merged by Chan et al.'s update ``m_a + n_b / n (m_b - m_a)``, up to float32
    rounding: a few roundings of EPS relative to the largest value ``X`` for the mean, and
    to ``n (2 X)^2`` for a scatter of ``n`` terms (``SLACK = 64 EPS`` per unit of scale).
    The counts of 0/1 weights are always exact, and so is the commutativity of the
    scatter: ``S_a + S_b + (n_a n_b / n) d d^T`` is the same sum of the same terms
    whichever is ``a`` (``d`` only changes sign)."""
    family = FAMILIES[name]
    # Three samples alike: all integer-valued, or all general floats.
    samples = st.booleans().flatmap(lambda integer: st.tuples(*[_samples(family, integer)] * 3))

    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(abc=samples)
    def check(abc):
        a, b, c = abc
        out = jit_merge_laws(family.model, a[:2], b[:2], c[:2], jnp.float32(1))
        exact = _merge_exact(family, a[2] and b[2] and c[2])
        samples = (a[0], b[0], c[0])
        assert_statistics_close(name, out["ab_c"], out["a_bc"], samples, exact)
        assert_statistics_close(name, out["ab"], out["ba"], samples, exact)
        if isinstance(out["ab"], jc.models.MomentStatistics):  # Chan's update: count and scatter commute exactly
            chex.assert_trees_all_equal((out["ab"].count, out["ab"].scatter), (out["ba"].count, out["ba"].scatter))
        chex.assert_trees_all_equal(out["a_empty"], out["a"])
        chex.assert_trees_all_equal(out["empty_a"], out["a"])
        chex.assert_trees_all_equal(out["zero_weights"], out["empty"])

    check()


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_reweight_by_one_is_the_identity_and_reweight_scales_the_weights(name):
    """Property: ``s.reweight(1) == s`` exactly; for ``w`` in ``[2^-6, 4]``, ``s.reweight(w)``
    equals the statistics of the same sample with every weight multiplied by ``w``, up to
    a few roundings of each sum (``SLACK`` of the leaf's magnitude); and ``s.reweight(0)``
    is an empty sample: count 0 (and no rows), and ``a.merge(s.reweight(0)) == a`` exactly.
    (Weights far below 1 are left out: products that underflow to float32 subnormals are
    flushed to zero by XLA on the CPU, so a weight of ``1e-40`` is a weight of 0.)

    (``MomentStatistics.reweight(0)`` keeps the mean, as documented, so it is not the
    all-zero pytree that ``statistics`` gives a sample of zero weights; merged on the left,
    ``s.reweight(0).merge(a)``, it gives ``m_s + (m_a - m_s)``, ``a``'s mean up to rounding.)"""
    family = FAMILIES[name]
    sample = _samples(family)

    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(a=sample, b=sample, scale=st.one_of(st.just(0.0), st.floats(2.0**-6, 4, width=32)))
    def check(a, b, scale):
        out = jit_merge_laws(family.model, a[:2], b[:2], b[:2], jnp.float32(scale))
        chex.assert_trees_all_equal(out["reweight_one"], out["a"])
        if scale == 0:
            assert float(getattr(out["reweight"], "count", 0.0)) == 0.0
            assert float(getattr(out["reweight"], "rows", 0.0)) == 0.0
            np.testing.assert_array_equal(getattr(out["reweight"], "counts", 0.0), 0.0)
            chex.assert_trees_all_equal(out["a_merge_reweighted_b"], out["a"])
            return
        named = jax.tree_util.tree_flatten_with_path(out["reweight"])[0]
        for (path, u), v in zip(named, jax.tree.leaves(out["scaled"])):
            magnitude = max(1.0, float(np.max(np.abs(np.asarray(u, np.float64)), initial=0.0)))
            chex.assert_trees_all_close(u, v, rtol=0.0, atol=SLACK * magnitude,
                                        custom_message=jax.tree_util.keystr(path))

    check()


def _fit_exact(family, integer: bool) -> bool:
    """Whether ``fit`` of the statistics of a permuted sample is bitwise the same: counts;
    the means of integer-valued data (Bernoulli, Poisson, GaussianMean), whose sums are
    exact in any order; the regression's integer-valued ``X^T X`` and ``X^T y``."""
    return family.counts or (integer and family.name != "Gaussian")


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_fit_does_not_depend_on_the_order_of_the_sample(name):
    """Property: ``fit(statistics(x, w)) == fit(statistics(x[p], w[p]))`` for every
    permutation ``p`` of a sample of ``N = 8`` (0/1 weights, at least
    ``min_sample_size`` of them 1).

    Exact for counts and for integer-valued data whose statistics are plain sums
    (:func:`_fit_exact`); the Gaussian mean of integer data is exact too (its scatter,
    about a fractional mean, is not). Otherwise the statistics differ by float32 rounding
    of sums in another order (:func:`statistics_tolerances`) and the fit propagates that:
    the Gaussian covariance is the scatter over ``n``; its Cholesky factor ``L`` moves by at
    most ``2 sqrt(lambda_max) |dSigma| / lambda_min`` (first-order perturbation of
    ``L L^T``); the regression's weights ``(X^T X + ridge n I)^-1 X^T y`` by at most
    ``2 (|d X^T y| + |d X^T X| |w|) / lambda_min``. Samples whose matrix is numerically
    singular (condition number above ``1e4``: a degenerate fit, or the rank-deficient
    minimum-norm one) are left out."""
    family = FAMILIES[name]
    minimum = family.model.min_sample_size

    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(data=family.data(), mask=weights(minimum), order=st.permutations(range(N)), truth=family.truths,
           model=family.models)
    def check(data, mask, order, truth, model):
        data, integer = data
        eigenvalues = _fitted_matrix_eigenvalues(name, model, data, mask)
        assume(eigenvalues.min() > 1e-4 * eigenvalues.max())
        stats, fits = jit_permuted_fits(model, data, mask, np.asarray(order), truth)
        if _fit_exact(family, integer):
            chex.assert_trees_all_equal(*fits)
            return
        assert_statistics_close(name, *stats, [data], exact=False)
        tol = statistics_tolerances(name, *_scales(name, [data]), total=N)
        if name == "Gaussian":
            count = float(mask.sum())
            cov = tol["scatter"] / count
            factor = 2 * np.sqrt(eigenvalues.max() / count) * cov / (eigenvalues.min() / count)
            if integer:
                chex.assert_trees_all_equal(fits[0].mean, fits[1].mean)
            chex.assert_trees_all_close(fits[0].mean, fits[1].mean, rtol=0.0, atol=tol["mean"])
            chex.assert_trees_all_close(fits[0].cov, fits[1].cov, rtol=0.0, atol=cov)
            chex.assert_trees_all_close(fits[0].factor, fits[1].factor, rtol=0.0, atol=factor)
        elif name == "LinearRegression":
            norm = float(np.linalg.norm(np.asarray(fits[0].weights, np.float64)))
            atol = 2 * (tol["moment"] + tol["gram"] * norm) / eigenvalues.min()
            chex.assert_trees_all_close(fits[0].weights, fits[1].weights, rtol=0.0, atol=atol)
            chex.assert_trees_all_equal((fits[0].cov, fits[0].factor), (fits[1].cov, fits[1].factor))
        else:  # the means of Bernoulli, Poisson, GaussianMean (general float data)
            chex.assert_trees_all_close(fits[0], fits[1], rtol=0.0, atol=tol["mean"])

    check()


def _fitted_matrix_eigenvalues(name: str, model, data, mask) -> np.ndarray:
    """The eigenvalues (float64) of the matrix ``fit`` factorises: the weighted scatter of
    Gaussian data, ``X^T X + ridge n I`` for the regression; ``[1]`` for the others."""
    w = np.asarray(mask, np.float64)
    if name == "Gaussian":
        x = np.asarray(data, np.float64)[w > 0]
        centred = x - x.mean(axis=0)
        return np.linalg.eigvalsh(centred.T @ centred)
    if name == "LinearRegression":
        x = np.asarray(data[0], np.float64)
        return np.linalg.eigvalsh((x * w[:, None]).T @ x + float(model.ridge) * w.sum() * np.eye(x.shape[1]))
    return np.ones(1)
