"""``jcollapse reproduce dohmatob``: outputs, the table, argument errors, and the paper's
claims against their closed forms (fixed keys, 4 standard errors).

The exact forms (OLS pipeline, over-parametrised collapse, fixed-design replace and
accumulate, fresh-design replace) must hold within 4 SE at every point. The deterministic
equivalents are asymptotic: at d = 50, T = 100 they are within 1.9 % of float64
Monte-Carlo (jc.theory.ridge_deterministic_equivalent), so the U-curve check allows
4 SE + 1.9 %.
"""

import numpy as np
import pytest
from reproduction_pages import Counter, assert_outputs_complete, csv_rows

from jcollapse import cli, experiments
from jcollapse.experiments import REPRODUCTIONS, dohmatob

SEEDS, GENERATIONS = 200, 3


@pytest.fixture(scope="module")
def result_and_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("dohmatob") / "out"
    reproduction, counter = dohmatob.Dohmatob(u_sizes=(100,), power_sizes=(32,)), Counter()
    result = reproduction.simulate(SEEDS, GENERATIONS, key=5, progress=counter)
    checks = experiments.write(reproduction, result, out)
    assert counter.n == counter.total == (1 + 1 + 1 + 3 + 2 + dohmatob.FIXED_DESIGN_SEED_FACTOR) * SEEDS
    return result, out, checks


def test_registered_for_the_command_line():
    assert REPRODUCTIONS["dohmatob"].u_sizes == dohmatob.U_SIZES
    assert cli.build_parser().parse_args(["reproduce", "dohmatob"]).name == "dohmatob"


def test_writes_every_file(result_and_out):
    result, out, checks = result_and_out
    assert {p.name for p in out.iterdir()} == set(dohmatob.FIGURES) | {"errors.csv", "checks.csv", "summary.md",
                                                                        "index.html"}
    rows = csv_rows(out / "errors.csv")
    assert len(rows) == sum(s.x.size for s in result.series)
    assert {r["study"] for r in rows} == set(dohmatob.STUDIES)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for heading in ("## U-curves", "## Error versus n", "## Power law", "## Over-parametrised collapse",
                    "## Replace versus accumulate", "## Checks", "## Machine and runtime"):
        assert heading in summary
    forms = {s.closed_form for s in result.series if s.theory is not None}
    assert forms == {"jc.theory.ridge_deterministic_equivalent", "jc.theory.ols_pipeline_error",
                     "jc.theory.overparametrized_collapse", "jc.theory.replace_vs_accumulate", "jc.theory.expected"}
    assert_outputs_complete(out, forms)
    exact = [c for c in checks if c.kind == "exact"]
    assert [c.name for c in exact] == ["error versus n: OLS", "over-parametrised collapse",
                                       "fixed design: replace and accumulate", "fresh design: replace"]
    assert all(c.worst_z < 4 for c in exact)
    assert all("largest relative deviation" in c.note for c in checks if c.kind == "deterministic equivalent")


def _series(result, study, label):
    (series,) = [s for s in result.study(study) if s.label == label]
    assert series.failed == 0
    return series


@pytest.mark.parametrize(
    "study, label",
    [("error_vs_n", "OLS"), ("fixed_design", "replace"), ("fixed_design", "accumulate"),
     ("accumulate", "replace, fresh design")],
)
def test_exact_closed_forms_within_4_se(result_and_out, study, label):
    series = _series(result_and_out[0], study, label)
    assert series.theory_kind == "exact"
    assert np.all(np.abs(series.z) < 4), series.z


def test_overparametrized_collapse_within_4_se(result_and_out):
    for series in result_and_out[0].study("overparametrized"):
        resolved = series.sem > 1e-6 * series.mean  # beyond, the spread is float32 rounding
        assert resolved[:3].all()
        assert np.all(np.abs(series.z[resolved]) < 4), (series.label, series.z)
        assert series.mean[-1] - series.mean[0] > 4 * np.hypot(series.sem[-1], series.sem[0])  # collapsing


def test_ols_grows_linearly_and_accumulate_stays_below_replace(result_and_out):
    result = result_and_out[0]
    ols = _series(result, "error_vs_n", "OLS")
    assert ols.mean[-1] - ols.mean[0] > 4 * np.hypot(ols.sem[-1], ols.sem[0])
    replace = _series(result, "accumulate", "replace, fresh design")
    accumulate = _series(result, "accumulate", "accumulate, fresh design")
    gap = replace.mean[-1] - accumulate.mean[-1]
    assert gap > 4 * np.hypot(replace.sem[-1], accumulate.sem[-1])


def test_u_curves_track_the_deterministic_equivalents(result_and_out):
    for series in result_and_out[0].study("u_curves"):
        allowance = 4 * series.sem + 0.019 * series.theory
        assert np.all(np.abs(series.mean - series.theory) < allowance), series.label
    # the sweet spot moves: the best penalty on the grid at n = 4 exceeds that at n = 0
    u = {s.label: s for s in result_and_out[0].study("u_curves")}
    assert u["T=100, n=4"].x[np.argmin(u["T=100, n=4"].mean)] > u["T=100, n=0"].x[np.argmin(u["T=100, n=0"].mean)]


def test_power_law_error_grows_with_n(result_and_out):
    # the T-rate itself is in the reproduction's summary (fitted slopes over T = 16..512)
    power = {s.label: s for s in result_and_out[0].study("power_law")}
    for lower, higher in (("n=0", "n=1"), ("n=1", "n=4")):
        low, high = power[lower], power[higher]
        assert high.mean[0] - low.mean[0] > 4 * np.hypot(high.sem[0], low.sem[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(seeds=1), "seeds must be an integer >= 2"),
        (dict(generations=1), "generations must be an integer >= 2"),
        (dict(u_sizes=()), "u_sizes must be a non-empty list of integers >= 1"),
        (dict(power_sizes=(0,)), "power_sizes must be a non-empty list of integers >= 1"),
    ],
)
def test_bad_arguments_write_nothing(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        options = {k: v for k, v in kwargs.items() if k.endswith("sizes")}
        sizes = {k: v for k, v in kwargs.items() if not k.endswith("sizes")}
        experiments.run(dohmatob.Dohmatob(**options), tmp_path / "out", **sizes)
    assert list(tmp_path.iterdir()) == []


def test_command_line_reports_bad_seeds(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", "dohmatob", "--seeds", "1", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "seeds must be an integer >= 2" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
