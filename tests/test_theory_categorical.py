"""Bakshi & Chakraborty's Theorem 3.1 (``jc.theory.expected`` for ``Categorical``) against
exact identities, independently computed reference values, and Monte-Carlo simulation.

Simulation checks: with a fixed key, ``|mean - expected| < 4 SE`` at every generation,
``SE = run.sem(...)``. The truth is ``theta* ~ Dirichlet(1)`` over K = 50 categories drawn
once with ``np.random.default_rng(0)``. Schedules are traced inputs, so the iid runs share
one compiled plan; ``a = 0`` (no real draws) and split mixing are one plan each.
"""

import jax
import numpy as np
import pytest

import jcollapse as jc
from jcollapse.models import Categorical

Z_MAX = 4.0
K = 50
SEEDS = 2000
GENERATIONS = 60
MODEL = Categorical(num_categories=K)
PROBS = np.random.default_rng(0).dirichlet(np.ones(K))
TRUTH = MODEL.params(probs=PROBS)
C = jc.theory.collapse_limit(TRUTH)  # 1 - ||theta*||^2


def loop(generations=GENERATIONS, **options):
    return jc.Loop(MODEL, generations=generations, **options)


def max_abs_z(run, lp):
    expected = jc.theory.expected(lp, TRUTH, "param_sq_error")
    sem = run.sem("param_sq_error")
    assert np.all(sem > 0)
    assert not run.failed.any(), f"{int(run.failed.sum())} seeds failed"
    z = np.abs(run.mean("param_sq_error") - expected) / sem
    print(f"mixing={lp.mixing} param_sq_error: max|z|={z.max():.2f} at t={z.argmax()}")
    return float(z.max())


def simulate(lp, key):
    return jc.simulate(lp, TRUTH, key=jax.random.key(key), seeds=SEEDS, chunk_size=SEEDS)


# ----------------------------------------------------------------------------------------
# Identities (float64, no simulation).

SCHEDULES = [
    dict(real_fraction=0.1, sample_size=100),
    dict(real_fraction=jc.schedules.power(1.0, -1.0), sample_size=100),
    dict(real_fraction=0.1, sample_size=jc.schedules.power(100, 1.0)),
    dict(real_fraction=0.0, sample_size=7),
    dict(
        real_fraction=jc.schedules.from_values(np.random.default_rng(1).uniform(0, 1, 201)),
        sample_size=jc.schedules.from_values(np.random.default_rng(2).integers(1, 500, 201)),
    ),
]


@pytest.mark.parametrize("schedule", range(len(SCHEDULES)))
def test_paper_form_equals_derived_form(schedule):
    lp = loop(generations=200, **SCHEDULES[schedule])
    paper = jc.theory.theorem_3_1(lp, TRUTH, form="paper")
    derived = jc.theory.theorem_3_1(lp, TRUTH, form="derived")
    assert paper.dtype == np.float64 and paper.shape == (201,)
    np.testing.assert_allclose(paper, derived, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(jc.theory.expected(lp, TRUTH, "param_sq_error"), derived)
    assert paper[0] == C / lp.sample_size[0]


@pytest.mark.parametrize("mixing", ["iid", "split"])
@pytest.mark.parametrize("a, n", [(0.1, 100), (0.5, 7), (0.03, 1000)])
def test_fixed_point_is_reached(mixing, a, n):
    lp = loop(generations=2000, real_fraction=a, sample_size=n, mixing=mixing)
    r = jc.theory.expected(lp, TRUTH, "param_sq_error")
    r_inf = jc.theory.fixed_point(TRUTH, a, n, mixing=mixing)
    np.testing.assert_allclose(r[-1], r_inf, rtol=1e-12)
    assert r[0] <= r_inf  # never better than R_0
    if mixing == "iid":  # the fixed point written from Theorem 3.1 (docs/theory.md, section 2.3)
        np.testing.assert_allclose(r_inf, (C / n) * n / (n - (n - 1) * (1 - a) ** 2), rtol=1e-14)


@pytest.mark.parametrize("mixing", ["iid", "split"])
def test_collapse_limit(mixing):
    # a = 0: R_t = c (1 - (1 - 1/n)^(t + 1)) -> c = 1 - ||theta*||^2, for both mixings.
    n = 20
    lp = loop(generations=2000, real_fraction=0.0, sample_size=n, mixing=mixing)
    t = np.arange(2001)
    r = jc.theory.expected(lp, TRUTH, "param_sq_error")
    np.testing.assert_allclose(r, C * (1 - (1 - 1 / n) ** (t + 1)), rtol=1e-12)
    np.testing.assert_allclose(r[-1], C, rtol=1e-12)
    assert jc.theory.fixed_point(TRUTH, 0.0, n, mixing=mixing) == pytest.approx(C, rel=1e-14)
    np.testing.assert_allclose(C, 1 - PROBS @ PROBS, rtol=1e-6)  # truth stored in float32


def test_split_by_hand():
    # n = 7, a = 0.5: round(3.5) = 4 real (half to even), s = 3: R_1 = (9 - 3)/49 R_0 + c/7.
    lp = loop(generations=1, real_fraction=0.5, sample_size=7, mixing="split")
    r = jc.theory.expected(lp, TRUTH, "param_sq_error")
    np.testing.assert_allclose(r, [C / 7, 6 / 49 * C / 7 + C / 7], rtol=1e-14)
    # iid at the same a: (1 - a)^2 (1 - 1/n) R_0 + c/n.
    iid = jc.theory.expected(lp.replace(mixing="iid"), TRUTH, "param_sq_error")
    np.testing.assert_allclose(iid, [C / 7, 0.25 * 6 / 7 * C / 7 + C / 7], rtol=1e-14)


def test_split_equals_iid_at_the_ends():
    for a in (0.0, 1.0):
        lp = loop(generations=50, real_fraction=a, sample_size=jc.schedules.power(5, 1.0))
        np.testing.assert_allclose(
            jc.theory.expected(lp, TRUTH, "param_sq_error"),
            jc.theory.expected(lp.replace(mixing="split"), TRUTH, "param_sq_error"),
            rtol=1e-14,
        )


# Reference values at t = 200 from an independent Monte-Carlo computation (docs/theory.md,
# section 2.1), quoted to 3, 3, 2 and 2 significant figures. R_t is proportional to
# c = 1 - ||theta*||^2, which varies between Dirichlet(1) draws (mean 1 - 2/51, sd 0.0053 at
# K = 50), so R_t is rescaled to the mean c before the comparison, which then allows half a
# unit in the last quoted digit. Unscaled, our draw (c = 0.96041) is within 0.04 % + that.
CHECKED = [
    (0.1, 100, 4.85e-2, 3),
    (0.1, jc.schedules.power(100, 1.0), 2.57e-4, 3),
    (jc.schedules.power(1.0, -1.0), 100, 0.42, 2),
    (jc.schedules.power(1.0, -0.5), jc.schedules.power(100, 1.5), 2.6e-5, 2),
]


@pytest.mark.parametrize("a, n, value, digits", CHECKED)
def test_reference_checked_values(a, n, value, digits):
    r = jc.theory.expected(loop(generations=200, real_fraction=a, sample_size=n), TRUTH, "param_sq_error")[200]
    half_unit = 0.5 * 10 ** (np.floor(np.log10(value)) - digits + 1)
    mean_c = 1 - 2 / (K + 1)
    assert abs(r * mean_c / C - value) <= half_unit, (r * mean_c / C, value)
    assert abs(r - value) <= half_unit + value * abs(1 - C / mean_c) + 1e-15


# ----------------------------------------------------------------------------------------
# Against simulation (exact-statistics path, K = 50, 2000 seeds, 61 generations).


@pytest.mark.parametrize(
    "name, key, options",
    [
        ("constant a = 0.1, n = 100", 1, dict(real_fraction=0.1, sample_size=100)),
        ("a_t = 1/(t+1), n = 100", 2, dict(real_fraction=jc.schedules.power(1.0, -1.0), sample_size=100)),
        ("a = 0.1, n_t = 100 (t+1)", 3, dict(real_fraction=0.1, sample_size=jc.schedules.power(100, 1.0))),
    ],
)
def test_theorem_3_1_iid_simulation(name, key, options):
    lp = loop(**options)
    assert max_abs_z(simulate(lp, key), lp) < Z_MAX, name


def test_collapse_simulation():
    # a = 0, n = 10: R_60 = c (1 - 0.9^61), within 0.2 % of the collapse limit.
    lp = loop(real_fraction=0.0, sample_size=10)
    run = simulate(lp, 4)
    assert max_abs_z(run, lp) < Z_MAX
    expected = jc.theory.expected(lp, TRUTH, "param_sq_error")
    assert abs(expected[-1] / C - 1) < 2e-3
    # Most seeds have collapsed to a point mass; KL is +inf for every seed, no failures.
    assert np.mean(run.metrics["support"][:, -1] == 1) > 0.5
    assert np.all(run.metrics["kl"][:, -1] == np.inf)


def test_theorem_3_1_split_simulation():
    # a = 0.25, n = 90: round(22.5) = 22 real samples (half to even), 68 synthetic.
    lp = loop(real_fraction=0.25, sample_size=90, mixing="split")
    assert max_abs_z(simulate(lp, 5), lp) < Z_MAX


@pytest.mark.parametrize(
    "name, key, options",
    [
        ("accumulate, a = 0, n = 20", 6, dict(real_fraction=0.0, sample_size=20)),
        ("accumulate, a = 0.1, n = 100", 7, dict(real_fraction=0.1, sample_size=100)),
        (
            "accumulate, split a = 0.25, n_t = 30 (t+1)^0.5, weights 0.9^t",
            8,
            dict(real_fraction=0.25, sample_size=jc.schedules.power(30, 0.5), mixing="split",
                 pool_weights=jc.schedules.geometric(1.0, 0.9)),
        ),
    ],
)
def test_accumulating_pool_simulation(name, key, options):
    lp = loop(pool="accumulate", **options)
    assert max_abs_z(simulate(lp, key), lp) < Z_MAX, name


def test_accumulating_pool_by_hand():
    # K = 2, theta* = (1/2, 1/2), n = 2, a = 0, by enumeration: R_0 = 1/4 and
    # R_1 = 1/2 * 1/2 (point mass kept) + 1/2 * 1/2 * 1/8 (balanced start, then
    # counts (1, 1) + Multinomial(2, (1/2, 1/2)) over 4 tokens) = 9/32.
    model = Categorical(num_categories=2)
    lp = jc.Loop(model, generations=1, real_fraction=0.0, sample_size=2, pool="accumulate")
    r = jc.theory.expected(lp, model.params(probs=[0.5, 0.5]), "param_sq_error")
    np.testing.assert_allclose(r, [0.25, 9 / 32], rtol=1e-15)


def test_accumulating_pool_equals_replace_when_old_data_weighs_nothing():
    # w_t = 10^(10 t): each generation outweighs all earlier ones by ~1e10, so the pool is
    # (up to 1e-10 relative) the newest generation's data alone, i.e. the replacing pool.
    for mixing in ("iid", "split"):
        options = dict(generations=20, real_fraction=0.3, sample_size=jc.schedules.power(20, 0.5), mixing=mixing)
        replace = jc.theory.expected(loop(**options), TRUTH, "param_sq_error")
        heavy = loop(pool="accumulate", pool_weights=jc.schedules.geometric(1.0, 1e10), **options)
        np.testing.assert_allclose(jc.theory.expected(heavy, TRUTH, "param_sq_error"), replace, rtol=1e-8)


# ----------------------------------------------------------------------------------------
# What is not known, and bad input.


@pytest.mark.parametrize("metric", ["tv", "kl", "entropy", "support"])
def test_other_metrics_have_no_closed_form(metric):
    with pytest.raises(NotImplementedError, match=rf"'{metric}'.*Categorical.*param_sq_error"):
        jc.theory.expected(loop(generations=3), TRUTH, metric)


def test_subsampling_pool_has_no_closed_form():
    with pytest.raises(NotImplementedError, match="pool='accumulate-subsample'"):
        jc.theory.expected(loop(generations=3, pool="accumulate-subsample"), TRUTH, "param_sq_error")


def test_bad_arguments():
    with pytest.raises(ValueError, match="form='paper'.*iid"):
        jc.theory.theorem_3_1(loop(generations=3, mixing="split"), TRUTH, form="paper")
    with pytest.raises(ValueError, match="form must be"):
        jc.theory.theorem_3_1(loop(generations=3), TRUTH, form="exact")
    with pytest.raises(ValueError, match="probs of shape"):
        jc.theory.expected(loop(generations=3), Categorical(3).params(probs=[0.2, 0.3, 0.5]), "param_sq_error")
    with pytest.raises(ValueError, match="real_fraction"):
        jc.theory.fixed_point(TRUTH, 1.5, 10)
    with pytest.raises(ValueError, match="sample_size"):
        jc.theory.fixed_point(TRUTH, 0.5, 0)
    with pytest.raises(ValueError, match="mixing"):
        jc.theory.fixed_point(TRUTH, 0.5, 10, mixing="mixture")
