"""``jcollapse reproduce bakshi-chakraborty``: outputs, tables, atomicity, argument errors, and
the phase diagram's claim — simulation separates collapse from recovery where the theory
says it should.

Monte-Carlo checks: fixed keys, |z| < 4 with the SE of the run.
"""

import subprocess
import sys

import jax
import numpy as np
import pytest
from reproduction_pages import Counter, assert_outputs_complete, csv_rows

import jcollapse as jc
from jcollapse import cli, experiments
from jcollapse.experiments import REPRODUCTIONS
from jcollapse.experiments import bakshi_chakraborty as bc

SEEDS, GENERATIONS = 8, 4


#: A 3 x 3 phase grid (the default is 9 x 9: 81 simulate calls); the command line's happy
#: path is tested with `jcollapse demo` in tests/test_demo.py and `--all` in
#: tests/test_reproductions.py.
EXPONENTS = (0.0, 1.0, 2.0)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bc") / "nested" / "bc"
    reproduction, counter = bc.BakshiChakraborty(exponents=EXPONENTS), Counter()
    result = reproduction.simulate(SEEDS, GENERATIONS, key=3, progress=counter)
    checks = experiments.write(reproduction, result, out)
    assert counter.n == counter.total == (len(bc.configs()) + len(EXPONENTS) ** 2) * SEEDS
    return result, checks, out


@pytest.fixture(scope="module")
def out(run):
    return run[2]


def test_writes_every_file_and_nothing_else(run, out):
    assert {p.name for p in out.iterdir()} == set(bc.FIGURES) | {"final_errors.csv", "phase_diagram.csv",
                                                                  "checks.csv", "summary.md", "index.html"}
    assert [p.name for p in out.parent.iterdir()] == ["bc"]  # no temporary directory left
    result, checks, _ = run
    forms = {s.closed_form for s in result.series if s.theory is not None}
    assert forms == {"jc.theory.expected", "jc.theory.markov_row_heuristic"}
    assert_outputs_complete(out, forms)
    names = [c.name for c in checks]
    assert "phase diagram: R_G / R_0" in names and "Markov chain: row-by-row heuristic" in names
    heavy = next(c for c in checks if c.name == "Gaussian: fitted variance, a = 0")
    assert not heavy.checked and "heavy-tailed" in heavy.interval
    phase = next(c for c in checks if c.name == "phase diagram: R_G / R_0")
    assert phase.points == len(EXPONENTS) ** 2 and phase.kind == "exact"


def test_final_errors_table(out):
    rows = csv_rows(out / "final_errors.csv")
    expected = [(c.study, m) for c in bc.configs() for m in bc.METRICS[c.study]]
    assert [(r["study"], r["metric"]) for r in rows] == expected
    for row in rows:
        assert int(row["seeds"]) == SEEDS and int(row["failed"]) == 0
        assert float(row["sem"]) >= 0
        if row["theory_kind"]:  # z as defined; agreement itself is tested at 2000+ seeds elsewhere
            mean, theory, sem, z = (float(row[k]) for k in ("mean", "theory", "sem", "z"))
            # The CSV keeps 8 significant digits (`.8g`): each value is off by at most
            # 5e-8 of itself, so z recomputed from it is off by at most
            # 5e-8 (|mean| + |theory|) / sem + 1e-7 |z| (sem's and z's own rounding).
            bound = 5e-8 * (abs(mean) + abs(theory)) / sem + 1e-7 * abs(z)
            assert abs(z - (mean - theory) / sem) <= bound, row
        else:
            assert row["theory"] == "nan" and row["z"] == "nan"
    kinds = {(r["study"], r["metric"]): r["theory_kind"] for r in rows}
    assert kinds[("schedules", "param_sq_error")] == "exact"
    assert kinds[("pools", "param_sq_error")] == "exact"
    assert kinds[("markov", "param_sq_error")] == "heuristic"
    assert kinds[("gaussian", "mean_sq_error")] == "exact"
    assert kinds[("schedules", "tv")] == ""
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.count("\n| schedules |") == 16 and "## Machine and runtime" in summary
    assert "jax.random.key(3)" in summary


def test_phase_table_matches_the_grid(out):
    rows = csv_rows(out / "phase_diagram.csv")
    grid = [(float(r["decay"]), float(r["growth"])) for r in rows]
    assert grid == [(d, g) for d in EXPONENTS for g in EXPONENTS]
    for row in rows:
        assert row["regime"] == jc.theory.power_schedule_regime(float(row["decay"]), float(row["growth"]))


# The claim of the phase diagram, at the paper's G = 200: in cells away from the boundary,
# simulation agrees with Theorem 3.1 and lands on the side the asymptotic regime predicts.
CELLS = [(0.25, 1.0, "recovery"), (0.5, 1.5, "recovery"), (1.0, 0.25, "collapse"), (1.75, 0.5, "collapse"),
         (0.5, 0.5, "bounded"), (1.75, 2.0, "bounded")]


@pytest.mark.parametrize("index", range(len(CELLS)))
def test_phase_cells_fall_where_the_theory_says(index):
    decay, growth, regime = CELLS[index]
    assert jc.theory.power_schedule_regime(decay, growth) == regime
    loop = bc.phase_loop(decay, growth, generations=200)
    truth = bc.truth("phase")
    run = jc.simulate(loop, truth, key=jax.random.key(100 + index), seeds=64)
    expected = jc.theory.expected(loop, truth, "param_sq_error")
    mean, sem = run.mean("param_sq_error")[-1], run.sem("param_sq_error")[-1]
    assert abs(mean - expected[-1]) < 4 * sem
    ratio, ratio_sem = mean / expected[0], sem / expected[0]
    if regime == "recovery":
        assert ratio + 4 * ratio_sem < 0.5
    elif regime == "collapse":
        assert ratio - 4 * ratio_sem > 2
    else:  # bounded: within a factor 2 of R_0 at G = 200
        assert 0.5 < ratio - 4 * ratio_sem and ratio + 4 * ratio_sem < 2


def test_regimes_are_the_long_run_trend_of_theorem_3_1():
    # Theory only, G = 2000 (n_t up to 100 * 2001^1.5 < 2^24): away from the boundaries,
    # recovery cells keep falling and collapse cells keep rising toward 1 - ||theta*||^2.
    truth = bc.truth("phase")
    c = jc.theory.collapse_limit(truth)
    exponents = (0.0, 0.5, 1.0, 1.5)
    for decay in exponents:
        for growth in exponents:
            r = jc.theory.expected(bc.phase_loop(decay, growth, 2000), truth, "param_sq_error")
            regime = jc.theory.power_schedule_regime(decay, growth)
            if regime == "recovery" and growth - decay >= 0.5:
                assert r[2000] < r[200] < r[0], (decay, growth)
            elif regime == "collapse" and decay - growth >= 0.5:
                assert r[0] < r[200] < r[2000] < c, (decay, growth)


def test_regime_rejects_bad_exponents():
    with pytest.raises(ValueError, match="decay must be a finite exponent >= 0"):
        jc.theory.power_schedule_regime(-1.0, 0.5)
    with pytest.raises(ValueError, match="growth must be a finite exponent"):
        jc.theory.power_schedule_regime(0.5, np.nan)


def test_bad_arguments_write_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["reproduce", "bakshi-chakraborty", "--out", str(tmp_path / "x"), "--seeds", "0"])
    assert exit.value.code == 2
    assert "--seeds: must be an integer >= 1; got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "no-such-paper", "--out", str(tmp_path / "y")])
    assert "invalid choice: 'no-such-paper'" in capsys.readouterr().err
    (tmp_path / "file").write_text("keep")
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "bakshi-chakraborty", "--out", str(tmp_path / "file"), "--seeds", "2"])
    assert "exists and is a file" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"exponents must be .* in \[0, 3\]"):
        bc.BakshiChakraborty(exponents=(0.5, 4.0))
    assert isinstance(REPRODUCTIONS["bakshi-chakraborty"], bc.BakshiChakraborty)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    assert (tmp_path / "file").read_text() == "keep"


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "jcollapse.cli", "reproduce", "--help"],
                            capture_output=True, text=True, check=True)
    assert "bakshi-chakraborty" in result.stdout
