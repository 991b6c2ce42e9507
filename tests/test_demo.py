"""The ``jcollapse demo`` command: outputs, summary table, argument errors, atomicity."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jcollapse import cli
from jcollapse.experiments import demo

FIGURES = {"variance.png", "mean_sq_error.png", "typical_variance.png"}


def _table(summary: str) -> list[list[str]]:
    lines = [line for line in summary.splitlines() if line.startswith("| ") and not line.startswith("| estimator")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "nested" / "demo"
    assert cli.main(["demo", "--out", str(out), "--seeds", "64", "--generations", "20"]) == 0
    return out


def test_demo_writes_figures_and_summary(demo_out):
    assert {p.name for p in demo_out.iterdir()} == FIGURES | {"summary.md"}
    for name in FIGURES:
        data = (demo_out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    leftovers = [p.name for p in demo_out.parent.iterdir() if p.name != "demo"]
    assert leftovers == []


def test_summary_table_rows_and_z_scores(demo_out):
    summary = (demo_out / "summary.md").read_text(encoding="utf-8")
    rows = _table(summary)
    expected = {
        (c.estimator, f"{c.real_fraction:g}", "100" if c.growth == "fixed" else "100(t+1)", metric)
        for c in demo.configs()
        for metric in demo.METRICS
    }
    assert len(rows) == len(expected) == 24
    assert {tuple(row[:4]) for row in rows} == expected
    for row in rows:
        mean, sem = (float(x) for x in row[4].split("±"))
        z = float(row[6])
        assert math.isfinite(mean) and sem > 0, row
        assert math.isfinite(z) and abs(z) < 6, row  # 64 seeds: loose, but catches a wrong theory
        assert row[7] == "0", row
    assert "jax / jaxlib" in summary and "total (from program start" in summary
    assert "band: mean ± 2 standard errors" in summary


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
        demo.run(tmp_path / "demo", seeds=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="must be a directory"):
        demo.run(tmp_path / "file", seeds=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
