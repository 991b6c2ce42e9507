"""Sweep configurations (TOML) and the command line: sweep, list, reproduce --all."""

from pathlib import Path

import pytest
import xarray as xr

from jcollapse import cli, experiments
from jcollapse.sweeps import load_config

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.toml"))
TINY = """
seeds = 40
key = 3
chunk_size = 16

[model]
family = "GaussianMean"
dim = 1

[truth]
mean = [0.0]
cov = [[1.0]]

[loop]
generations = 6
sample_size = { schedule = "power", scale = 10, exponent = 0.0 }

[grid]
real_fraction = [0.2, 0.6]
"""


def test_examples_are_valid_configurations():
    assert len(EXAMPLES) >= 2
    for path in EXAMPLES:
        config = load_config(path)
        assert config.grid and config.seeds >= 1


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda t: "extra = 1\n" + t, r"unknown top-level key\(s\) \['extra'\]"),
        (lambda t: t.replace("seeds = 40", "seeds = 0"), "seeds must be an integer >= 1; got 0"),
        (lambda t: t.replace('"GaussianMean"', '"Gausian"'), r"\[model\] family must be one of"),
        (lambda t: t.replace("dim = 1", "dims = 1"), r"\[model\] GaussianMean takes dim"),
        (lambda t: t.replace("cov = [[1.0]]", "covariance = [[1.0]]"),
         r"\[truth\] must hold the arguments of GaussianMean.params"),
        (lambda t: t.replace("generations = 6", "generation = 6"),
         r"\[loop\] unknown key\(s\) \['generation'\]"),
        (lambda t: t.replace('schedule = "power"', 'schedule = "cubic"'),
         r"\[loop\] sample_size: a schedule table needs"),
        (lambda t: t.replace("exponent = 0.0", "slope = 0.0"),
         r"\[loop\] sample_size: a power schedule takes scale, exponent, offset"),
        (lambda t: t.replace("real_fraction = [0.2, 0.6]", "real_fraction = 0.2"),
         r"\[grid\] real_fraction must be a list"),
        (lambda t: t.replace("[loop]", "[loop\n"), "not valid TOML"),
        (lambda t: t.replace("generations = 6", "generations = -1"),
         r"\[loop\] generations must be an integer in \[0, 16777216\]"),
    ],
)
def test_bad_configurations_name_the_key_and_write_nothing(edit, match, tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(edit(TINY))
    with pytest.raises(ValueError, match=match):
        load_config(config)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit:
        cli.main(["sweep", str(config), "--out", str(out), "--no-progress"])
    assert exit.value.code == 2
    assert "bad.toml" in capsys.readouterr().err
    assert not out.exists()


def test_a_grid_error_writes_nothing(tmp_path, capsys):
    config = tmp_path / "grid.toml"
    config.write_text(TINY.replace("real_fraction = [0.2, 0.6]", "real_fraction = [0.2, 1.6]"))
    with pytest.raises(SystemExit):
        cli.main(["sweep", str(config), "--out", str(tmp_path / "out"), "--no-progress"])
    assert "real_fraction must lie in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_sweep_command_writes_the_dataset_and_figures(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    assert cli.main(["sweep", str(config), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    ds = xr.load_dataset(tmp_path / "out" / "sweep.nc")
    assert ds["mean_sq_error"].sizes == {"real_fraction": 2, "generation": 7, "stat": 9}
    assert ds.attrs["seeds"] == 40 and ds.attrs["key"] == "[0, 3]"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mean_sq_error.png", "sweep.nc"]
    assert "2 grid point(s) x 40 seeds" in capsys.readouterr().err


def test_list_names_every_reproduction(capsys):
    assert cli.main(["list"]) == 0
    printed = capsys.readouterr().out
    for name, reproduction in experiments.REPRODUCTIONS.items():
        assert f"  {name:20s} {reproduction.title} ({reproduction.default_seeds} seeds" in printed
    assert f"demo (jcollapse demo): {experiments.DEMO.title}" in printed
    assert "GaussianMean" in printed


def test_reproduce_all_runs_each_into_its_directory(tmp_path, monkeypatch, capsys):
    # the wiring (tests/test_reproductions.py runs --all for real)
    calls = []
    monkeypatch.setattr(cli, "run_all", lambda reproductions, out, **kwargs: calls.append((reproductions, out, kwargs)))
    assert cli.main(["reproduce", "--all", "--out", str(tmp_path), "--seeds", "3", "--no-progress"]) == 0
    ((reproductions, out, kwargs),) = calls
    assert [r.name for r in reproductions] == sorted(experiments.REPRODUCTIONS) and out == str(tmp_path)
    assert (kwargs["seeds"], kwargs["generations"], kwargs["key"], kwargs["progress"]) == (3, None, 0, False)
    for argv in (["reproduce"], ["reproduce", "xu", "--all"]):
        with pytest.raises(SystemExit) as exit:
            cli.main(argv)
        assert exit.value.code == 2
    assert "reproduce takes a NAME or --all" in capsys.readouterr().err
    monkeypatch.undo()
    with pytest.raises(SystemExit) as exit:  # xu needs 2 seeds: refused before anything runs
        cli.main(["reproduce", "--all", "--out", str(tmp_path / "new"), "--seeds", "1"])
    assert exit.value.code == 2 and "seeds must be an integer >= 2; got 1" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
