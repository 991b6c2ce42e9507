"""The ``jcollapse demo`` command: outputs, the page, the summary table and its checks (the
heavy-tailed a = 0 variance checked through its log), argument errors, atomicity."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reproduction_pages import assert_outputs_complete, csv_rows

from jcollapse import cli
from jcollapse.experiments import DEMO, demo, run

SEEDS, GENERATIONS = 64, 20  # the doctests' size: the compiled loops are shared
FIGURES = {"variance.png", "mean_sq_error.png", "typical_variance.png"}
FILES = FIGURES | {"summary.md", "index.html", "last_generation.csv", "checks.csv"}


def _table(summary: str) -> list[list[str]]:
    section = summary.split("## Last generation")[1].split("## Checks")[0]
    lines = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| estimator")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "nested" / "demo"
    assert cli.main(["demo", "--out", str(out), "--seeds", str(SEEDS), "--generations", str(GENERATIONS),
                     "--no-progress"]) == 0
    return out


def test_demo_writes_figures_tables_summary_and_page(demo_out):
    assert {p.name for p in demo_out.iterdir()} == FILES
    for name in FIGURES:
        data = (demo_out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    leftovers = [p.name for p in demo_out.parent.iterdir() if p.name != "demo"]
    assert leftovers == []
    forms = {row["closed_form"] for row in csv_rows(demo_out / "last_generation.csv")}
    assert forms == {"jc.theory.expected", "jc.theory.gaussian_expected_log_variance"}
    assert_outputs_complete(demo_out, forms)


def test_summary_table_rows_and_z_scores(demo_out):
    summary = (demo_out / "summary.md").read_text(encoding="utf-8")
    rows = _table(summary)
    zero = [c for c in demo.configs() if c.real_fraction == 0]
    expected = {
        (c.estimator, f"{c.real_fraction:g}", "100" if c.growth == "fixed" else "100(t+1)", metric)
        for c in demo.configs()
        for metric in demo.METRICS
    } | {(c.estimator, "0", "100" if c.growth == "fixed" else "100(t+1)", "log variance") for c in zero}
    assert len(rows) == len(expected) == 28
    assert {tuple(row[:4]) for row in rows} == expected
    for row in rows:
        mean, sem = (float(x) for x in row[5].split("±"))
        assert math.isfinite(mean) and sem > 0, row
        assert row[9] == "0", row
        if row[3] == "variance" and row[1] == "0":  # heavy-tailed: shown, not checked
            assert row[4] == "mean (heavy-tailed)" and row[8] == "not checked", row
            continue
        z = float(row[8])
        assert row[7] == ("`jc.theory.gaussian_expected_log_variance`" if row[3] == "log variance"
                          else "`jc.theory.expected`"), row
        # the log variance is light-tailed: 4 SE; the squared errors are chi^2-like at 64 seeds
        assert math.isfinite(z) and abs(z) < (4 if row[3] == "log variance" else 6), row
    assert "jax / jaxlib" in summary and "total (from program start" in summary
    assert "band: mean ± 2 standard errors" in summary


def test_checks_say_which_statistic(demo_out):
    checks = {row["name"]: row for row in csv_rows(demo_out / "checks.csv")}
    assert set(checks) == {"fitted variance, a > 0", "log fitted variance, a = 0", "fitted variance, a = 0",
                           "squared error of the mean"}
    log = checks["log fitted variance, a = 0"]
    assert log["closed_form"] == "jc.theory.gaussian_expected_log_variance" and log["points"] == "4"
    assert "log σ̂²_t" in log["statistic"] and float(log["worst_z"]) < 4
    heavy = checks["fitted variance, a = 0"]
    assert heavy["points"] == "0" and heavy["worst_z"] == "nan" and "heavy-tailed" in heavy["interval"]
    assert checks["fitted variance, a > 0"]["points"] == "8"
    assert checks["squared error of the mean"]["points"] == "12"


@pytest.mark.parametrize("seeds", ["0", "-3", "abc", "2.5"])
def test_bad_seeds_exit_nonzero_and_write_nothing(tmp_path, capsys, seeds):
    out = tmp_path / "out" / "demo"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "--out", str(out), "--seeds", seeds])
    assert exit_info.value.code == 2
    assert "--seeds: must be an integer >= 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_console_script_rejects_bad_seeds(tmp_path):
    out = tmp_path / "demo"
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "jcollapse.cli", "demo", "--out", str(out), "--seeds", "0"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 2
    assert "jcollapse demo: error: argument --seeds: must be an integer >= 1; got 0" in result.stderr
    assert not out.exists()


def test_run_validates_before_simulating(tmp_path):
    with pytest.raises(ValueError, match="seeds must be an integer >= 1"):
        run(DEMO, tmp_path / "demo", seeds=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="must be a directory"):
        run(DEMO, tmp_path / "file", seeds=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
