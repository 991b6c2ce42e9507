"""``jc.models.MarkovChain``: validation, the pure functions by hand, the long-run
distribution against float64 linear algebra, the exact-statistics sampler against the
chain's expected transition counts and against the raw sampler, and a loop at
``real_fraction = 1`` against an independent NumPy simulation.

Monte-Carlo checks use fixed keys (deterministic outcomes) and tolerances of 4 standard
errors fixed before looking; each test states how many comparisons it makes (at 4 SE a
two-sided normal comparison fails with probability 6.3e-5, so 16 comparisons stay below a
family-wise 1e-3).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jcollapse as jc
from jcollapse.models import MarkovChain, stationary

# A 3-state chain with a zero transition (1 -> 0), irreducible and aperiodic.
P3 = np.array([[0.5, 0.3, 0.2], [0.0, 0.6, 0.4], [0.3, 0.3, 0.4]])
INIT3 = np.array([0.2, 0.5, 0.3])

# ----------------------------------------------------------------------------------------
# Validation.


@pytest.mark.parametrize(
    "transition, initial, match",
    [
        ([[0.5, 0.5], [0.5, 0.6]], [1, 0], r"transition row 1 must sum to 1 \(within .*\); got sum 1\.1"),
        ([[0.2, 0.2], [0.5, 0.5]], [1, 0], "transition row 0 must sum to 1"),
        ([[1.2, -0.2], [0.5, 0.5]], [1, 0], r"transition must be >= 0 .*\[0, 1\].* row 0, column 1"),
        ([[0.5, np.nan], [0.5, 0.5]], [1, 0], "transition must be finite"),
        ([[0.5, 0.5], [np.inf, 0.5]], [1, 0], "transition must be finite"),
        ([0.5, 0.5], [1, 0], r"transition must have shape \(2, 2\)"),
        ([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], [1, 0], r"transition must have shape \(2, 2\)"),
        ([[0.5, 0.5], [0.5, 0.5]], [0.5, 0.6], r"initial must sum to 1 \(within .*\); got sum 1\.1"),
        ([[0.5, 0.5], [0.5, 0.5]], [1.5, -0.5], r"initial must be >= 0 .*\[0, 1\].* index 1"),
        ([[0.5, 0.5], [0.5, 0.5]], [np.nan, 1.0], "initial must be finite"),
        ([[0.5, 0.5], [0.5, 0.5]], [1.0], r"initial must have shape \(2,\)"),
        ("abc", [1, 0], "transition must be a numeric array"),
    ],
)
def test_bad_params(transition, initial, match):
    with pytest.raises(ValueError, match=match):
        MarkovChain(num_states=2, sequence_length=3).params(transition=transition, initial=initial)


@pytest.mark.parametrize("s", [0, -1, 2.5, True, "3"])
def test_bad_num_states(s):
    with pytest.raises(ValueError, match="num_states must be an integer >= 1"):
        MarkovChain(num_states=s, sequence_length=3)


@pytest.mark.parametrize("length", [1, 0, 2.0, False])
def test_bad_sequence_length(length):
    with pytest.raises(ValueError, match="sequence_length must be an integer >= 2"):
        MarkovChain(num_states=3, sequence_length=length)


def test_float32_rows_are_accepted_and_renormalised():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(200), size=200).astype(np.float32)
    truth = MarkovChain(num_states=200, sequence_length=2).params(transition=p, initial=p[0])
    rows = np.asarray(truth.transition, np.float64).sum(axis=1)
    assert truth.transition.dtype == jnp.float32 and np.max(np.abs(rows - 1)) < 1e-5
    MarkovChain(num_states=1, sequence_length=2).params(transition=[[1.0]], initial=[1.0])


def test_exact_path_is_refused_with_a_subsampled_pool_and_auto_picks_by_cost():
    model = MarkovChain(num_states=3, sequence_length=4)
    with pytest.raises(ValueError, match="path='exact' is not available"):
        jc.Loop(model, generations=2, pool="accumulate-subsample", path="exact")
    # auto: exact from 24 S^2 = 216 sequences on (at the largest n_t), raw below
    assert jc.Loop(model, generations=2, sample_size=215).path == "raw"
    assert jc.Loop(model, generations=2, sample_size=[10, 10, 216]).path == "exact"
    assert jc.Loop(model, generations=2, sample_size=1000, pool="accumulate-subsample").path == "raw"


# ----------------------------------------------------------------------------------------
# The pure functions, by hand.

MODEL3 = MarkovChain(num_states=3, sequence_length=4)
TRUTH3 = MODEL3.params(transition=P3, initial=INIT3)


def test_statistics_fit_and_metrics_by_hand():
    data = jnp.array([[0, 1, 1, 0], [1, 1, 0, 0], [2, 2, 2, 2]], jnp.int32)
    weights = jnp.array([1.0, 1.0, 0.0])  # the all-2 sequence is dropped
    stats_ = MODEL3.statistics(data, weights)
    # transitions: 0->1, 1->1, 1->0 | 1->1, 1->0, 0->0
    np.testing.assert_array_equal(np.asarray(stats_.counts).reshape(3, 3), [[1, 1, 0], [2, 2, 0], [0, 0, 0]])
    fit = MODEL3.fit(stats_, TRUTH3)
    expected = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])  # row 2 unvisited
    np.testing.assert_allclose(fit.transition, expected, rtol=1e-6)
    np.testing.assert_array_equal(fit.initial, TRUTH3.initial)  # not estimated
    diff = expected - P3
    m = {k: float(v) for k, v in MODEL3.metrics(fit, TRUTH3).items()}
    assert m["param_sq_error"] == pytest.approx(np.sum(diff**2), rel=1e-6)
    assert m["tv"] == pytest.approx(np.mean(0.5 * np.abs(diff).sum(axis=1)), rel=1e-6)
    # The fit: {0, 1} is closed (2 is transient and leaks into it), uniform on {0, 1}.
    pi_true = _stationary_eig(P3)
    assert m["stationary_tv"] == pytest.approx(0.5 * np.abs(np.array([0.5, 0.5, 0.0]) - pi_true).sum(), rel=1e-5)
    assert not bool(MODEL3.is_degenerate(fit))
    m = MODEL3.metrics(TRUTH3, TRUTH3)
    assert all(float(v) == 0.0 for v in m.values())


def test_weighted_statistics_merge():
    data = jnp.array([[0, 2, 1, 1]], jnp.int32)
    stats_ = MODEL3.statistics(data, jnp.array([0.5]))
    merged = stats_.merge(stats_.reweight(jnp.float32(2.0)))
    np.testing.assert_array_equal(np.asarray(merged.counts).reshape(3, 3), [[0, 0, 1.5], [0, 1.5, 0], [0, 1.5, 0]])


def _stationary_eig(p):
    """The unique stationary distribution of an irreducible ``p`` (float64 least squares)."""
    s = p.shape[0]
    a = np.vstack([p.T - np.eye(s), np.ones((1, s))])
    b = np.concatenate([np.zeros(s), [1.0]])
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _params(p, initial):
    return MarkovChain(num_states=p.shape[0], sequence_length=2).params(transition=p, initial=initial)


def test_stationary_of_an_irreducible_chain():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(8), size=8)
    p[p < 0.05] = 0.0  # some zero entries (still irreducible: checked below)
    p /= p.sum(axis=1, keepdims=True)
    assert np.all(np.linalg.matrix_power(p + np.eye(8), 8) > 0)
    expected = _stationary_eig(p)
    for initial in (np.eye(8)[3], np.full(8, 1 / 8)):
        got = np.asarray(stationary(_params(p, initial)), np.float64)
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_stationary_of_a_periodic_chain():
    # A 3-cycle: P^m does not converge, the lazy chain's powers do.
    p = np.roll(np.eye(3), 1, axis=1)
    got = np.asarray(stationary(_params(p, [1.0, 0.0, 0.0])))
    np.testing.assert_allclose(got, [1 / 3, 1 / 3, 1 / 3], atol=1e-6)


def test_stationary_of_a_reducible_chain_is_the_absorption_law():
    # States 0 and 3 absorbing, 1 and 2 transient. Absorption into 0 from the transient
    # states, h = (I - P_TT)^-1 P_T0, by hand:
    # h1 = 0.2 + 0.3 h1 + 0.4 h2, h2 = 0.1 + 0.3 h1 + 0.2 h2
    # => 0.7 h1 - 0.4 h2 = 0.2, -0.3 h1 + 0.8 h2 = 0.1 => h1 = 0.5 / 1.1, h2 = 0.13 / 0.44.
    p = np.array([[1, 0, 0, 0], [0.2, 0.3, 0.4, 0.1], [0.1, 0.3, 0.2, 0.4], [0, 0, 0, 1.0]])
    h1, h2 = 0.5 / 1.1, 0.13 / 0.44
    assert 0.7 * h1 - 0.4 * h2 == pytest.approx(0.2) and -0.3 * h1 + 0.8 * h2 == pytest.approx(0.1)
    initial = np.array([0.1, 0.5, 0.4, 0.0])
    to_zero = 0.1 + 0.5 * h1 + 0.4 * h2
    got = np.asarray(stationary(_params(p, initial)), np.float64)
    np.testing.assert_allclose(got, [to_zero, 0, 0, 1 - to_zero], atol=1e-6)
    assert got[1] == 0.0 or got[1] < 1e-30  # transient mass vanishes


@pytest.mark.parametrize("eps", [1e-4, 1e-7])
def test_stationary_of_a_slowly_mixing_chain(eps):
    # Successive squares of the lazy chain differ by ~ m eps / 2 before it mixes, below the
    # stopping tolerance (4 float32 eps = 4.8e-7) at m = 1 for eps = 1e-7: the floor on
    # the number of squarings must keep the loop going until it has mixed.
    p = np.array([[1 - eps, eps], [eps, 1 - eps]])
    got = np.asarray(stationary(_params(p, [1.0, 0.0])))
    np.testing.assert_allclose(got, [0.5, 0.5], atol=1e-5)


# ----------------------------------------------------------------------------------------
# Transition counts: the exact sampler against theory and against the raw sampler.

L5 = 5
MODEL5 = MarkovChain(num_states=3, sequence_length=L5)
TRUTH5 = MODEL5.params(transition=P3, initial=INIT3)


_exact_counts = jax.jit(jax.vmap(lambda k, t, c: MODEL5.sample_statistics(k, t, c).counts, in_axes=(0, None, None)))


def _expected_counts(p, initial, length, n):
    """``n sum_{l=0}^{L-2} (initial P^l)_i P_ij`` in float64."""
    occupancy, total = np.asarray(initial, np.float64), np.zeros_like(p)
    for _ in range(length - 1):
        total += occupancy[:, None] * p
        occupancy = occupancy @ p
    return n * total


def test_exact_counts_match_expected_counts_and_raw_variances():
    # 2000 draws of the counts of n = 50 sequences on each path. Per nonzero cell (8 of 9):
    # the exact path's mean against theory (8 comparisons) and the two paths' variances
    # against each other (8 comparisons), each within 4 SE: 16 comparisons, family-wise
    # < 1e-3. The zero cell (1 -> 0) must stay exactly 0 on both paths.
    n, reps = 50, 2000
    keys = jax.random.split(jax.random.key(5), reps)
    exact = _exact_counts(keys, TRUTH5, jnp.array(n))
    raw = jax.jit(
        jax.vmap(lambda k: MODEL5.statistics(MODEL5.sample(k, TRUTH5, n), jnp.ones(n)).counts)
    )(jax.random.split(jax.random.key(6), reps))
    exact, raw = np.asarray(exact, np.float64), np.asarray(raw, np.float64)
    np.testing.assert_array_equal(exact.sum(axis=1), n * (L5 - 1))
    np.testing.assert_array_equal(raw.sum(axis=1), n * (L5 - 1))
    zero = 1 * 3 + 0
    assert np.all(exact[:, zero] == 0) and np.all(raw[:, zero] == 0)
    live = np.arange(9) != zero
    p64, init64 = np.asarray(TRUTH5.transition, np.float64), np.asarray(TRUTH5.initial, np.float64)
    expected = _expected_counts(p64, init64, L5, n).reshape(-1)[live]
    z_mean = (exact.mean(0)[live] - expected) / (exact.std(0, ddof=1)[live] / np.sqrt(reps))

    def var_and_se(x):
        centred = x - x.mean(0)
        var = centred.var(0, ddof=1)
        return var, np.sqrt(np.maximum(np.mean(centred**4, axis=0) - var**2, 0) / reps)

    (v_exact, se_exact), (v_raw, se_raw) = var_and_se(exact[:, live]), var_and_se(raw[:, live])
    z_var = (v_exact - v_raw) / np.sqrt(se_exact**2 + se_raw**2)
    # jc.theory.expected_visits (the transitions out of each state, used by the row
    # heuristic) against the raw path's row sums: 3 more comparisons within 4 SE.
    rows = raw.reshape(reps, 3, 3).sum(axis=2)
    visits = n * jc.theory.expected_visits(TRUTH5, L5)
    z_visits = (rows.mean(0) - visits) / (rows.std(0, ddof=1) / np.sqrt(reps))
    print(f"max|z| mean {np.abs(z_mean).max():.2f}, variance {np.abs(z_var).max():.2f}, "
          f"visits {np.abs(z_visits).max():.2f}")
    assert np.abs(z_mean).max() < 4 and np.abs(z_var).max() < 4 and np.abs(z_visits).max() < 4


@pytest.mark.parametrize("count", [0, 1, 1_000_000])
def test_exact_counts_sum_exactly(count):
    counts = _exact_counts(jax.random.split(jax.random.key(count), 16), TRUTH5, jnp.array(count))
    counts = np.asarray(counts, np.float64)
    np.testing.assert_array_equal(counts.sum(axis=1), count * (L5 - 1))
    assert np.all(counts[:, 3] == 0) and np.all(counts >= 0)


def test_raw_sampler_follows_the_chain():
    # 0 -> 1, 1 -> {0, 2} with probability 1/2 each, 2 -> 1; started at 1.
    model = MarkovChain(num_states=3, sequence_length=6)
    chain = model.params(transition=[[0, 1, 0], [0.5, 0, 0.5], [0, 1, 0]], initial=[0, 1, 0])
    x = np.asarray(model.sample(jax.random.key(0), chain, 4000))
    assert x.shape == (4000, 6) and x.dtype == np.int32
    assert np.all(x[:, 0] == 1) and np.all(x[:, 2] == 1) and np.all(x[:, 4] == 1)
    assert set(np.unique(x[:, 1])) == {0, 2}
    assert abs(np.mean(x[:, 1] == 0) - 0.5) < 4 * np.sqrt(0.25 / 4000)


# ----------------------------------------------------------------------------------------
# The loop at real_fraction = 1 against an independent NumPy simulation.


def _limit(q):
    """``q^(2^60)`` for (a stack of) lazy stochastic matrices, rows renormalised each squaring."""
    for _ in range(60):
        q = q @ q
        q = q / q.sum(axis=-1, keepdims=True)
    return q


def _numpy_reference(p, initial, n, length, reps, rng):
    """``reps`` i.i.d. fits on ``n`` fresh sequences each, and their metrics, in float64."""
    s = p.shape[0]
    cdf = np.cumsum(p, axis=1)
    states = rng.choice(s, size=(reps, n), p=initial)
    counts = np.zeros((reps, s, s))
    rep_index = np.repeat(np.arange(reps), n)
    for _ in range(length - 1):
        u = rng.random((reps, n))
        nxt = np.minimum((u[..., None] >= cdf[states]).sum(-1), s - 1)
        np.add.at(counts, (rep_index, states.ravel(), nxt.ravel()), 1)
        states = nxt
    totals = counts.sum(axis=2, keepdims=True)
    fit = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 1 / s)
    diff = fit - p
    pi_fit = np.einsum("j,rjk->rk", initial, _limit(0.5 * (np.eye(s) + fit)))
    pi_true = initial @ _limit(0.5 * (np.eye(s) + p))
    return {
        "param_sq_error": (diff**2).sum(axis=(1, 2)),
        "tv": 0.5 * np.abs(diff).sum(axis=2).mean(axis=1),
        "stationary_tv": 0.5 * np.abs(pi_fit - pi_true).sum(axis=1),
    }


def test_real_fraction_one_matches_iid_estimation_error():
    # At real_fraction = 1 every generation is fitted on n fresh real sequences, so each
    # generation's metrics are i.i.d. fits' metrics. 3 metrics x 4 generations = 12
    # two-sample z comparisons at 4 combined SE (family-wise < 1e-3).
    s, length, n, generations, seeds = 4, 10, 30, 3, 2000
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.ones(s), size=s)
    p[0, 2] = 0.0  # one zero transition
    p /= p.sum(axis=1, keepdims=True)
    initial = np.array([0.7, 0.1, 0.1, 0.1])
    model = MarkovChain(num_states=s, sequence_length=length)
    truth = model.params(transition=p, initial=initial)
    loop = jc.Loop(model, generations=generations, real_fraction=1.0, sample_size=n, path="exact")
    run = jc.simulate(loop, truth, key=jax.random.key(8), seeds=seeds)
    assert not run.failed.any() and loop.path == "exact"
    p64, init64 = np.asarray(truth.transition, np.float64), np.asarray(truth.initial, np.float64)
    ref = _numpy_reference(p64, init64, n, length, 2000, rng)
    lines, worst = [], 0.0
    for name in model.metric_names:
        ours = np.asarray(run.metrics[name], np.float64)
        se = np.sqrt(ours.var(axis=0, ddof=1) / seeds + ref[name].var(ddof=1) / ref[name].size)
        z = (ours.mean(axis=0) - ref[name].mean()) / se
        lines.append(f"{name}: ref {ref[name].mean():.5f}, z {np.round(z, 2)}")
        worst = max(worst, np.abs(z).max())
    print("; ".join(lines))
    assert worst < 4, lines
