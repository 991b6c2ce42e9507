"""jcollapse.pac: exact ERM, exact errors, validation, seed/chunk invariance, and the
behaviour Amin et al. claim (arXiv 2601.15468; docs/theory.md, section 5): ERM on
accumulated data stalls for contamination > 1/2, the disagreement learner keeps improving
for any contamination < 1.

Simulations share one configuration per (concept, learner) so each compiles once.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import traced

from jcollapse import pac
from jcollapse.internal import devices

N_POINTS, ROUNDS, SEEDS = 20, 30, 512
ALPHAS = (0.0, 0.25, 0.5, 0.75, 0.9)
CONCEPTS = {
    "threshold": (pac.Threshold(), pac.Threshold().params(theta=0.3)),
    "interval": (pac.Interval(), pac.Interval().params(left=0.2, right=0.7)),
}


@functools.lru_cache(maxsize=None)
def _run(name: str, learner: str, alpha: float) -> pac.PACRun:
    concept, truth = CONCEPTS[name]
    return pac.simulate(concept, truth, contamination=alpha, sample_size=N_POINTS, rounds=ROUNDS,
                        learner=learner, seeds=SEEDS, key=jax.random.key(0))


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.shape[0]))


# ----------------------------------------------------------------------------- exact ERM


def _brute_force_correct(kind: str, x: np.ndarray, y: np.ndarray) -> int:
    """The most correctly labelled points over every labelling the class can produce."""
    values = np.unique(x)
    if kind == "threshold":
        cuts = np.append(values, np.inf)
        return max(int(np.sum((x >= c) == y)) for c in cuts)
    best = int(np.sum(~y))  # the empty interval
    for a in values:
        for b in values[values >= a]:
            best = max(best, int(np.sum(((x >= a) & (x <= b)) == y)))
    return best


@pytest.mark.parametrize("kind", ["threshold", "interval"])
def test_erm_is_exact_against_brute_force(kind):
    concept = CONCEPTS[kind][0]
    rng = np.random.default_rng(1)
    cases, slots = 200, 14
    x = rng.uniform(size=(cases, slots)).astype(np.float32)
    x[: cases // 2] = np.round(x[: cases // 2], 1)  # duplicated positions in half the cases
    truth = (x >= 0.4) if kind == "threshold" else (x >= 0.3) & (x <= 0.6)
    flip = rng.uniform(size=x.shape) < rng.uniform(0, 0.5, size=(cases, 1))  # noisy labels
    y = truth ^ flip
    mask = rng.uniform(size=x.shape) < 0.8  # masked slots must count for neither label
    mask[:, 0] = True
    fit = jax.vmap(lambda a, b, m: pac.erm(concept, a, b, m))
    fitted = fit(jnp.asarray(x), jnp.asarray(y), jnp.asarray(mask))
    labels = np.asarray(jax.vmap(concept.label)(fitted, jnp.asarray(x)))
    for c in range(cases):
        m = mask[c]
        got = int(np.sum(labels[c][m] == y[c][m]))
        assert got == _brute_force_correct(kind, x[c][m], y[c][m]), c


def test_erm_tie_rules_and_empty_cases():
    x = jnp.array([0.1, 0.3, 0.6, 0.8])
    # Realizable: the boundary is the midpoint between the neighbouring points.
    assert float(pac.erm(pac.Threshold(), x, jnp.array([0, 0, 1, 1], bool)).theta) == pytest.approx(0.45)
    # All labels 1: theta below every point; all 0: theta above every point.
    assert float(pac.erm(pac.Threshold(), x, jnp.ones(4, bool)).theta) == pytest.approx(0.05)
    assert float(pac.erm(pac.Threshold(), x, jnp.zeros(4, bool)).theta) == pytest.approx(0.9)
    # A masked point does not count: without the mask the 0.6 label would move theta.
    masked = pac.erm(pac.Threshold(), x, jnp.array([0, 0, 0, 1], bool), jnp.array([1, 1, 0, 1], bool))
    assert float(masked.theta) == pytest.approx(0.55)
    # Interval with all labels 0 is empty and labels no point 1.
    empty = pac.erm(pac.Interval(), x, jnp.zeros(4, bool))
    assert float(empty.left) == float(empty.right)
    assert not bool(pac.Interval().label(empty, x).any())


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "interval, expected",
    [
        ((0.1, 0.3), 0.5),  # overlapping: [0.1, 0.2) and (0.3, 0.7]
        ((0.0, 0.1), 0.6),  # disjoint: both lengths
        ((0.3, 0.4), 0.4),  # nested
        ((0.2, 0.7), 0.0),  # identical
        ((0.5, 0.5), 0.5),  # empty
    ],
)
def test_interval_error_is_exact(interval, expected):
    concept = pac.Interval()
    truth = concept.params(left=0.2, right=0.7)
    params = concept.params(left=interval[0], right=interval[1])
    assert float(concept.error(params, truth)) == pytest.approx(expected, abs=1e-6)
    grid = (np.arange(1_000_000) + 0.5) / 1_000_000  # midpoint rule: exact up to 1e-6
    inside = lambda a, b: (grid >= a) & (grid <= b)
    assert np.mean(inside(*interval) != inside(0.2, 0.7)) == pytest.approx(expected, abs=2e-6)


def test_threshold_error_is_exact():
    c = pac.Threshold()
    assert float(c.error(c.params(theta=0.75), c.params(theta=0.3))) == pytest.approx(0.45)


# ----------------------------------------------------------------------------- disagreement


@pytest.mark.parametrize("kind", ["threshold", "interval"])
def test_disagreement_never_moves_away_from_the_truth(kind):
    """Labels from f* or f_{t-1}: each parameter moves towards its true value, never past it
    (for intervals under the documented assumption err(f_{t-1}) < len(I*))."""
    concept, truth = CONCEPTS[kind]
    rng = np.random.default_rng(2)
    cases, n = 400, 30
    if kind == "threshold":
        prev = pac.ThresholdParams(jnp.asarray(rng.uniform(size=cases), jnp.float32))
    else:  # endpoints within 0.12 of the truth: error < 0.24 < len(I*) = 0.5
        prev = pac.IntervalParams(jnp.asarray(0.2 + rng.uniform(-0.12, 0.12, cases), jnp.float32),
                                  jnp.asarray(0.7 + rng.uniform(-0.12, 0.12, cases), jnp.float32))
    x = jnp.asarray(rng.uniform(size=(cases, n)), jnp.float32)
    synthetic = jnp.asarray(rng.uniform(size=(cases, n)) < 0.6)
    labels = jnp.where(synthetic, jax.vmap(concept.label)(prev, x), concept.label(truth, x))
    new = jax.vmap(lambda p, a, b: pac.disagreement(concept, p, a, b))(prev, x, labels)
    leaves = zip(jax.tree.leaves(prev), jax.tree.leaves(new), jax.tree.leaves(truth))
    for old_leaf, new_leaf, true_leaf in leaves:
        old_leaf, new_leaf, t = np.asarray(old_leaf), np.asarray(new_leaf), float(true_leaf)
        assert np.all(np.abs(new_leaf - t) <= np.abs(old_leaf - t))
        assert np.all((new_leaf - t) * (old_leaf - t) >= 0)  # same side: never overshoots
    errors_old = np.asarray(jax.vmap(concept.error, (0, None))(prev, truth))
    errors_new = np.asarray(jax.vmap(concept.error, (0, None))(new, truth))
    assert np.all(errors_new <= errors_old) and np.any(errors_new < errors_old)


# ----------------------------------------------------------------------------- validation


def test_validation_before_compiling(monkeypatch):
    def forbidden(*args):
        raise AssertionError("a compiled chunk was run: validation must happen before compiling")

    monkeypatch.setattr(devices, "run_sharded", forbidden)
    concept, truth = CONCEPTS["threshold"]
    good = dict(contamination=0.5, sample_size=5, rounds=3, learner="erm", seeds=4, key=jax.random.key(0))
    bad = [
        (dict(contamination=1.5), "contamination must be in \\[0, 1\\]"),
        (dict(contamination=float("nan")), "contamination must be finite"),
        (dict(sample_size=0), "sample_size must be an integer >= 1"),
        (dict(rounds=0), "rounds must be an integer >= 1"),
        (dict(seeds=2.0), "seeds must be an integer >= 1"),
        (dict(learner="sgd"), "learner must be one of"),
    ]
    for change, message in bad:
        with pytest.raises(ValueError, match=message):
            pac.simulate(concept, truth, **{**good, **change})
    with pytest.raises(ValueError, match="truth must be Threshold"):
        pac.simulate(concept, CONCEPTS["interval"][1], **good)
    with pytest.raises(ValueError, match="concept must be"):
        pac.simulate("threshold", truth, **good)
    with pytest.raises(ValueError, match="theta must be finite"):
        pac.Threshold().params(theta=float("nan"))
    with pytest.raises(ValueError, match="theta must be in \\[0, 1\\]"):
        pac.Threshold().params(theta=-0.1)
    with pytest.raises(ValueError, match="left must be in \\[0, 1\\]"):
        pac.Interval().params(left=-0.5, right=0.5)
    with pytest.raises(ValueError, match="right must be in \\[0.6, 1\\]"):
        pac.Interval().params(left=0.6, right=0.4)
    with pytest.raises(ValueError, match="contamination"):
        pac.rate_bound(1, 2.0, 10, 5)


# ----------------------------------------------------------------------------- invariance


@pytest.mark.slow
@pytest.mark.parametrize("learner", ["erm", "disagreement"])
def test_chunk_size_and_seed_count_invariance(learner):
    """Seed i's errors are bitwise the same in a 512-lane chunk of 512 seeds, in 4-lane
    chunks of 8 seeds and in a run of 3 seeds (one extra compile: the 4-lane chunk)."""
    concept, truth = CONCEPTS["interval"]
    whole = _run("interval", learner, 0.5)
    common = dict(contamination=0.5, sample_size=N_POINTS, rounds=ROUNDS, learner=learner,
                  key=jax.random.key(0))
    chunked = pac.simulate(concept, truth, seeds=8, chunk_size=4, **common)
    fewer = pac.simulate(concept, truth, seeds=3, **common)  # default chunk: 4 lanes
    np.testing.assert_array_equal(whole.error[:8], chunked.error)
    np.testing.assert_array_equal(whole.error[:3], fewer.error)
    assert np.all(np.isfinite(whole.error))


def test_contamination_is_traced():
    """Sweeping the contamination reuses one compiled function."""
    _run("threshold", "disagreement", 0.25)
    with traced("chunk") as traces:
        _run("threshold", "disagreement", 0.75)
    assert traces == []


def test_rate_bound():
    bound = pac.rate_bound(2, 0.75, 8, 3)
    np.testing.assert_allclose(bound, np.sqrt(2 / (0.25 * 8 * np.arange(1, 5))))
    assert np.all(np.isinf(pac.rate_bound(1, 1.0, 8, 3)))


# ----------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize("kind", ["threshold", "interval"])
@pytest.mark.parametrize("learner", ["erm", "disagreement"])
def test_both_learn_without_contamination(kind, learner):
    run = _run(kind, learner, 0.0)
    mean, se = _mean_se(run.error[:, 0] - run.error[:, -1])  # paired: same seeds
    assert mean > 4 * se and run.mean()[-1] < 0.2 * run.mean()[0]


# A learner at the paper's rate 1/sqrt(t) would reach sqrt(6 / 31) = 0.44 of its round-5
# error by round 30 (t counts round 0, so round r is t = r + 1); a 1/t learner 6/31 = 0.19.
# An error that stays above half its round-5 value is slower than either: it stalls.
STALL_FRACTION = 0.5


@pytest.mark.parametrize("kind", ["threshold", "interval"])
def test_erm_stalls_above_one_half(kind):
    for alpha in (0.75, 0.9):
        error = _run(kind, "erm", alpha).error
        mean, se = _mean_se(error[:, -1] - STALL_FRACTION * error[:, 5])
        assert mean > 4 * se, (alpha, mean, se)
        assert error[:, -1].mean() > 0.01  # not near zero (n = 20: round 0 has ~0.02-0.05)
    error = _run(kind, "erm", 0.25).error  # below 1/2 ERM keeps falling
    mean, se = _mean_se(STALL_FRACTION * error[:, 5] - error[:, -1])
    assert mean > 4 * se, (mean, se)


@pytest.mark.parametrize("kind", ["threshold", "interval"])
def test_disagreement_keeps_improving(kind):
    concept = CONCEPTS[kind][0]
    for alpha in (0.25, 0.5, 0.75, 0.9):
        dis = _run(kind, "disagreement", alpha)
        bound = pac.rate_bound(concept.vc_dim, alpha, N_POINTS, ROUNDS)
        assert dis.mean()[-1] + 4 * dis.sem()[-1] < bound[-1], alpha
        mean, se = _mean_se(dis.error[:, 5] - dis.error[:, -1])  # still improving after round 5
        assert mean > 4 * se, alpha
        if alpha >= 0.5:  # far below ERM, paired over seeds (both see the same data)
            mean, se = _mean_se(_run(kind, "erm", alpha).error[:, -1] - dis.error[:, -1])
            assert mean > 4 * se, (alpha, mean, se)
        else:
            # Measured, not claimed by the paper: below 1/2 ERM on all data converges too and
            # ends slightly *below* the disagreement learner (which uses only this round's
            # disagreeing labels); the two stay within a factor 2.
            ratio = dis.mean()[-1] / _run(kind, "erm", alpha).mean()[-1]
            assert 0.5 < ratio < 2.0, ratio
