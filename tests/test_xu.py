"""``jcollapse reproduce xu``: outputs, the page, argument errors, and Xu, He & Cheng's
dichotomy (fixed keys, 4 standard errors): the exact absorption probabilities and random-walk
errors at every kept generation, constant n collapsing where superlinear n does not.
"""

import numpy as np
import pytest
from reproduction_pages import Counter, assert_outputs_complete, csv_rows

import jcollapse as jc
from jcollapse import cli, experiments
from jcollapse.experiments import REPRODUCTIONS, RESOLUTION, xu

SEEDS, GENERATIONS = 1000, 200


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("xu") / "out"
    counter = Counter()
    result = xu.Xu().simulate(SEEDS, GENERATIONS, key=3, progress=counter)
    checks = experiments.write(xu.Xu(), result, out)
    return result, checks, out, counter


def test_writes_every_file_and_the_page(run):
    result, checks, out, counter = run
    assert {p.name for p in out.iterdir()} == set(xu.FIGURES) | {"errors.csv", "checks.csv", "summary.md",
                                                                  "index.html"}
    rows = csv_rows(out / "errors.csv")
    assert len(rows) == sum(s.x.size for s in result.series)
    assert {r["study"] for r in rows} == set(xu.STUDIES)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for heading in ("## Collapse", "## Mean error", "## Checks", "## Figures", "## Machine and runtime"):
        assert heading in summary
    forms = {s.closed_form for s in result.series if s.theory is not None}
    assert forms == {"jc.theory.poisson_absorption_probability", "jc.theory.bernoulli_absorption_probability",
                     "jcollapse.experiments.xu.gaussian_collapse_probability", "jc.theory.expected"}
    assert_outputs_complete(out, forms)
    assert counter.n == counter.total == 12 * SEEDS


def test_series_cover_the_grid(run):
    result = run[0]
    assert len(result.study("collapse")) == 9 and len(result.study("mean_error")) == 12
    for s in result.series:
        assert s.failed == 0 and s.x[0] == 1 and s.x[-1] == GENERATIONS and s.seeds == SEEDS
    assert {s.theory_kind for s in result.study("collapse")} == {"exact", "normal approximation"}


def test_exact_forms_hold_within_4_se(run):
    # Points where every seed has the same value (all absorbed: the Bernoulli error is then
    # exactly 1) have a zero standard error; one seed elsewhere would move the mean by about
    # 1/seeds, so there the theory must be within 1/seeds of the mean. (The Poisson's mean
    # error is heavy-tailed once most seeds are absorbed, so the reproduction does not count
    # it as a check at its default size; here, at G = 200 with 1000 seeds, it still holds.)
    checked = 0
    for s in run[0].series:
        if s.theory_kind != "exact":
            continue
        known = np.isfinite(s.theory)
        flat = s.sem <= RESOLUTION * np.abs(s.mean)
        assert np.all(np.abs(s.mean - s.theory)[known & flat] < 1 / s.seeds), s.label
        z = s.z[known & ~flat]
        checked += z.size
        assert np.all(np.abs(z) < 4), (s.study, s.label, z)
    assert checked > 500


def test_checks(run):
    checks = {c.name: c for c in run[1]}
    assert set(checks) == {"collapse: poisson absorbed", "collapse: bernoulli absorbed",
                           "collapse: Gaussian σ̂²_t/σ² < 0.1", "mean error, Bernoulli",
                           "mean error, Gaussian with known variance", "mean error, Poisson",
                           "mean error, Gaussian with unbiased variance"}
    for check in checks.values():
        if check.checked and check.kind == "exact":
            assert check.points > 50 and check.worst_z < 4, check
    assert not checks["mean error, Poisson"].checked and "heavy-tailed" in checks["mean error, Poisson"].interval
    assert checks["collapse: Gaussian σ̂²_t/σ² < 0.1"].kind == "normal approximation"


def test_helpers_agree_with_the_library():
    n = xu.sample_sizes("bernoulli", "linear", 60)
    t = np.arange(61)
    assert np.allclose(xu.bernoulli_chain(n, t), jc.theory.bernoulli_absorption_probability(n, 0.5), atol=1e-12)
    targets = np.array([1, 7, 40])
    n = xu.sample_sizes("poisson", "linear", 40)
    assert np.allclose(jc.theory.poisson_absorption_probability(n, 1.0, generations=targets),
                       jc.theory.poisson_absorption_probability(n, 1.0)[targets], atol=1e-12)


def test_the_dichotomy(run):
    result = run[0]
    long_run = result.extras["long_run"]
    for family in ("poisson", "bernoulli"):
        constant = result.get("collapse", f"{family}, constant")
        superlinear = result.get("collapse", f"{family}, superlinear")
        assert constant.mean[-1] - superlinear.mean[-1] > 4 * np.hypot(constant.sem[-1], superlinear.sem[-1])
        assert long_run[family, "constant"][1][-1] > 0.99
    for family in ("poisson", "gaussian"):
        assert long_run[family, "superlinear"][1][-1] < 0.01
        linear = long_run[family, "linear"][1]
        assert np.all(np.diff(linear) >= 0) and linear[-1] < 0.5


def test_gaussian_normal_approximation_is_close(run):
    for s in run[0].study("collapse"):
        if s.theory_kind == "normal approximation":
            assert np.max(np.abs(s.mean - s.theory)) < 0.05, s.label


def test_bad_arguments_write_nothing(tmp_path):
    reproduction = REPRODUCTIONS["xu"]
    with pytest.raises(ValueError, match="seeds must be an integer >= 2; got 1"):
        experiments.run(reproduction, tmp_path / "a", seeds=1, generations=3)
    with pytest.raises(ValueError, match="generations must be an integer >= 2; got 0"):
        experiments.run(reproduction, tmp_path / "b", seeds=4, generations=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="must be a directory"):
        experiments.run(reproduction, tmp_path / "file", seeds=4, generations=3)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_command_line_runs_the_reproduction(tmp_path, monkeypatch):
    # the wiring of `jcollapse reproduce NAME` (the simulations are tested above)
    calls = []
    monkeypatch.setattr(cli, "run", lambda reproduction, out, **kwargs: calls.append((reproduction, out, kwargs)))
    assert cli.main(["reproduce", "xu", "--out", str(tmp_path / "x"), "--seeds", "7", "--generations", "9",
                     "--key", "2"]) == 0
    ((reproduction, out, kwargs),) = calls
    assert reproduction is REPRODUCTIONS["xu"] and out == str(tmp_path / "x")
    assert (kwargs["seeds"], kwargs["generations"], kwargs["key"]) == (7, 9, 2)
    assert cli.main(["reproduce", "xu"]) == 0 and calls[-1][1] == "out/xu"
    assert calls[-1][2]["seeds"] is None and calls[-1][2]["generations"] is None  # the reproduction's defaults
