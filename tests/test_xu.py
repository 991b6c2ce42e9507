"""``jcollapse reproduce xu``: outputs, the table, argument errors, and Xu, He & Cheng's
dichotomy (fixed keys, 4 standard errors): the exact absorption probabilities and random-walk
errors at every kept generation, constant n collapsing where superlinear n does not.
"""

import csv

import numpy as np
import pytest

import jcollapse as jc
from jcollapse.experiments import xu
from jcollapse.experiments._series import RESOLUTION
from jcollapse.experiments._xu_report import FIGURES

SEEDS, GENERATIONS = 1000, 200


@pytest.fixture(scope="module")
def result_and_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("xu") / "out"
    return xu.run(out, seeds=SEEDS, generations=GENERATIONS, key=3), out


def test_writes_every_file(result_and_out):
    result, out = result_and_out
    assert {p.name for p in out.iterdir()} == set(FIGURES) | {"errors.csv", "summary.md"}
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "errors.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(s.x.size for s in result.series) == len(xu.rows(result))
    assert {r["study"] for r in rows} == set(xu.STUDIES)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for heading in ("## Collapse", "## Mean error", "## Machine and runtime"):
        assert heading in summary


def test_series_cover_the_grid(result_and_out):
    result, _ = result_and_out
    assert len(result.study("collapse")) == 9 and len(result.study("mean_error")) == 12
    for s in result.series:
        assert s.failed == 0 and s.x[0] == 1 and s.x[-1] == GENERATIONS and s.seeds == SEEDS
    assert {s.theory_kind for s in result.study("collapse")} == {"exact", "normal approximation"}


def test_exact_forms_hold_within_4_se(result_and_out):
    # Points where every seed has the same value (all absorbed: the Bernoulli error is then
    # exactly 1) have a zero standard error; one seed elsewhere would move the mean by about
    # 1/seeds, so there the theory must be within 1/seeds of the mean.
    checked = 0
    for s in result_and_out[0].series:
        if s.theory_kind != "exact":
            continue
        known = np.isfinite(s.theory)
        flat = s.sem <= RESOLUTION * np.abs(s.mean)
        assert np.all(np.abs(s.mean - s.theory)[known & flat] < 1 / s.seeds), s.label
        z = s.z[known & ~flat]
        checked += z.size
        assert np.all(np.abs(z) < 4), (s.study, s.label, z)
    assert checked > 500


def test_helpers_agree_with_the_library():
    n = xu.sample_sizes("bernoulli", "linear", 60)
    t = np.arange(61)
    assert np.allclose(xu.bernoulli_chain(n, t), jc.theory.bernoulli_absorption_probability(n, 0.5), atol=1e-12)
    targets = np.array([1, 7, 40])
    n = xu.sample_sizes("poisson", "linear", 40)
    assert np.allclose(jc.theory.poisson_absorption_probability(n, 1.0, generations=targets),
                       jc.theory.poisson_absorption_probability(n, 1.0)[targets], atol=1e-12)


def test_the_dichotomy(result_and_out):
    result = result_and_out[0]
    for family in ("poisson", "bernoulli"):
        constant = result.find("collapse", family, "constant")
        superlinear = result.find("collapse", family, "superlinear")
        assert constant.mean[-1] - superlinear.mean[-1] > 4 * np.hypot(constant.sem[-1], superlinear.sem[-1])
        assert result.long_run[family, "constant"][1][-1] > 0.99
    for family in ("poisson", "gaussian"):
        assert result.long_run[family, "superlinear"][1][-1] < 0.01
        linear = result.long_run[family, "linear"][1]
        assert np.all(np.diff(linear) >= 0) and linear[-1] < 0.5


def test_gaussian_normal_approximation_is_close(result_and_out):
    for s in result_and_out[0].study("collapse"):
        if s.theory_kind == "normal approximation":
            assert np.max(np.abs(s.mean - s.theory)) < 0.05, s.label


def test_bad_arguments_write_nothing(tmp_path):
    with pytest.raises(ValueError, match="seeds must be an integer >= 2; got 1"):
        xu.run(tmp_path / "a", seeds=1, generations=3)
    with pytest.raises(ValueError, match="generations must be an integer >= 2; got 0"):
        xu.run(tmp_path / "b", seeds=4, generations=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="must be a directory"):
        xu.run(tmp_path / "file", seeds=4, generations=3)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_command_line_runs_the_reproduction(tmp_path, monkeypatch):
    # the wiring of `jcollapse reproduce NAME` (the simulations are tested above)
    from jcollapse import cli

    calls = []
    monkeypatch.setattr(xu, "run", lambda out, **kwargs: calls.append((out, kwargs)))
    assert cli.main(["reproduce", "xu", "--out", str(tmp_path / "x"), "--seeds", "7", "--generations", "9",
                     "--key", "2"]) == 0
    ((out, kwargs),) = calls
    assert out == str(tmp_path / "x")
    assert (kwargs["seeds"], kwargs["generations"], kwargs["key"]) == (7, 9, 2)
    assert cli.main(["reproduce", "xu"]) == 0 and calls[-1][0] == "out/xu"
    assert calls[-1][1]["seeds"] == xu.SEEDS and calls[-1][1]["generations"] == xu.GENERATIONS
