"""``jcollapse reproduce amin``: outputs, the table, argument errors, and the paper's claims
(fixed keys, 4 standard errors): Theorem 1 and the weighted estimator's exact variance at
every kept round, the weighted estimator beating ERM, ERM stalling on PAC problems for
alpha > 1/2 where the disagreement algorithm keeps learning.
"""

import numpy as np
import pytest
from reproduction_pages import Counter, assert_outputs_complete, csv_rows

from jcollapse import cli, experiments
from jcollapse.experiments import REPRODUCTIONS, amin

# the mean studies at the full 1000 rounds (O(1) per seed and round); the PAC study at
# tests/test_pac.py's shapes (n = 20, 30 rounds, 512 seeds), so both share the compiled loops
SEEDS, GENERATIONS, PAC_ROUNDS = 512, amin.GENERATIONS, 30


@pytest.fixture(scope="module")
def result_and_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("amin") / "out"
    reproduction, counter = amin.Amin(pac_rounds=PAC_ROUNDS), Counter()
    result = reproduction.simulate(SEEDS, GENERATIONS, key=4, progress=counter)
    checks = experiments.write(reproduction, result, out)
    assert counter.n == counter.total == (4 + 8 + 16) * SEEDS
    return result, out, checks


def test_registered_for_the_command_line():
    assert isinstance(REPRODUCTIONS["amin"], amin.Amin) and REPRODUCTIONS["amin"].pac_rounds == amin.PAC_ROUNDS
    assert cli.build_parser().parse_args(["reproduce", "amin"]).name == "amin"


def test_writes_every_file(result_and_out):
    result, out, checks = result_and_out
    assert {p.name for p in out.iterdir()} == set(amin.FIGURES) | {"errors.csv", "checks.csv", "summary.md",
                                                                    "index.html"}
    rows = csv_rows(out / "errors.csv")
    assert len(rows) == sum(s.x.size for s in result.series)
    assert {r["study"] for r in rows} == set(amin.STUDIES)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for heading in ("## Theorem 1", "## A weighted estimator beats ERM", "## PAC learning", "## Checks",
                    "## Machine and runtime"):
        assert heading in summary
    forms = {s.closed_form for s in result.series if s.theory is not None}
    assert forms == {"jc.theory.expected"}
    assert_outputs_complete(out, forms)
    assert [(c.name, c.points) for c in checks] == [
        ("Theorem 1: ERM's variance on accumulated data", sum(s.x.size for s in result.study("theorem_1"))),
        ("ERM and the variance-optimal pool weights", sum(s.x.size for s in result.study("weights")))]
    assert all(c.worst_z < 4 for c in checks)


def test_series_cover_the_grid(result_and_out):
    result = result_and_out[0]
    assert [s.label for s in result.study("theorem_1")] == [f"alpha={a:g}" for a in amin.THEOREM_CONTAMINATIONS]
    assert len(result.study("weights")) == 2 * len(amin.CONTAMINATIONS)
    assert len(result.study("pac")) == 2 * 2 * len(amin.CONTAMINATIONS)
    for s in result.series:
        assert s.failed == 0 and s.x[0] == 1
    assert result.study("theorem_1")[0].x[-1] == GENERATIONS + 1
    assert result.study("pac")[0].x[-1] == PAC_ROUNDS + 1


@pytest.mark.parametrize("study", ["theorem_1", "weights"])
def test_exact_variances_hold_within_4_se(result_and_out, study):
    for s in result_and_out[0].study(study):
        assert s.theory_kind == "exact"
        assert np.all(np.abs(s.z) < 4), (s.label, s.z)


def test_the_weighted_estimator_beats_erm(result_and_out):
    # Asserted wherever this run can resolve it: the squared error of a 1-D Gaussian mean is
    # Var * chi^2_1, so its SE is about Var * sqrt(2 / seeds); a theoretical gap of 6 such
    # combined SEs is resolved at 4 SE with overwhelming probability.
    weights = result_and_out[0].study("weights")
    resolvable = 0
    for erm, best in zip(weights[::2], weights[1::2]):
        assert erm.label.replace("ERM", "optimal weights") == best.label
        assert np.all(best.theory[1:] < erm.theory[1:])
        expected_se = np.hypot(erm.theory[-1], best.theory[-1]) * np.sqrt(2 / SEEDS)
        if erm.theory[-1] - best.theory[-1] > 6 * expected_se:
            resolvable += 1
            assert erm.mean[-1] - best.mean[-1] > 4 * np.hypot(erm.sem[-1], best.sem[-1]), best.label
    assert resolvable >= 1


def test_erm_stalls_where_the_disagreement_algorithm_learns(result_and_out):
    pac = result_and_out[0].study("pac")
    for erm, algo in zip(pac[::2], pac[1::2]):
        assert ", ERM," in erm.label and ", disagreement," in algo.label
        alpha = float(erm.label.split("alpha=")[1])
        fifth = int(np.searchsorted(erm.x, 5))
        if alpha > 0.5:  # ERM keeps more than half its round-5 error; the algorithm ends far below it
            assert erm.mean[-1] - 4 * erm.sem[-1] > 0.5 * erm.mean[fifth], erm.label
            assert erm.mean[-1] - algo.mean[-1] > 4 * np.hypot(erm.sem[-1], algo.sem[-1]), algo.label
        # the algorithm keeps learning at every alpha (at 0.9 its 1/((1 - alpha) n t) phase starts late)
        assert algo.mean[-1] + 4 * algo.sem[-1] < (0.5 if alpha < 0.9 else 0.75) * algo.mean[fifth], algo.label


def test_bad_arguments_write_nothing(tmp_path, capsys):
    with pytest.raises(ValueError, match="pac_rounds must be an integer >= 2; got 1"):
        amin.Amin(pac_rounds=1)
    with pytest.raises(ValueError, match="seeds must be an integer >= 2; got 1"):
        experiments.run(REPRODUCTIONS["amin"], tmp_path / "a", seeds=1)
    with pytest.raises(SystemExit) as exit:
        cli.main(["reproduce", "amin", "--out", str(tmp_path / "b"), "--generations", "0"])
    assert exit.value.code == 2
    assert "--generations: must be an integer >= 1; got 0" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
