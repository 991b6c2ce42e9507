"""The reproduction contract and its driver: pages, the ``--all`` index, atomicity, validation.

A toy reproduction (a fair coin's running mean, simulated with NumPy) meets the contract at
no compilation cost; one real reproduction (``xu``, tiny) goes through
``jcollapse reproduce --all`` end to end. Each reproduction's own test file checks its page
on its own run (tests/reproduction_pages.py).
"""

from typing import ClassVar, Optional

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from reproduction_pages import assert_outputs_complete, csv_rows, read_page

from jcollapse import cli, experiments
from jcollapse.experiments import Check, Reproduction, Result, run, run_all, summarize


class Coin(Reproduction):
    """A fair coin's running mean over generations, against its expectation 1/2 (+ `offset`)."""

    offset: float = 0.0

    name: ClassVar[str] = "coin"
    title: ClassVar[str] = "A fair coin & its <running> mean"
    default_seeds: ClassVar[int] = 50
    default_generations: ClassVar[int] = 10
    min_seeds: ClassVar[int] = 2
    figure_captions: ClassVar[dict] = {"running_mean.png": "The running mean, mean over seeds."}
    summary_template: ClassVar[str] = "# Coin\n\nMean at t = {{ r.generations }}: {{ last | num(3) }}.\n"

    def simulate(self, seeds: int, generations: int, key: int = 0, *, progress: Optional[object] = None) -> Result:
        seeds, generations = self.check_counts(seeds, generations)
        if progress is not None:
            progress.reset(total=seeds)
        flips = np.random.default_rng(key).integers(0, 2, (seeds, generations + 1))
        running = np.cumsum(flips, axis=1) / np.arange(1, generations + 2)
        series = summarize(running, np.zeros(seeds, bool), study="coin", label="running mean",
                           theory=np.full(generations + 1, 0.5 + self.offset), theory_kind="exact",
                           closed_form="one half")
        if progress is not None:
            progress.update(seeds)
        return Result(self.name, seeds, generations, key, (series,))

    def figures(self, result: Result) -> dict:
        fig = Figure()
        FigureCanvasAgg(fig)
        fig.subplots().plot(result.series[0].x, result.series[0].mean)
        return {"running_mean.png": fig}

    def checks(self, result: Result) -> list[Check]:
        return [Check.compare("running mean", result.study("coin"), statistic="mean of the running mean")]

    def summary_context(self, result: Result) -> dict:
        return {"last": result.series[0].mean[-1]}


class BiasedTheory(Coin):
    """The same coin checked against a wrong closed form: its check must fail."""

    offset: float = 0.2

    name: ClassVar[str] = "biased"
    title: ClassVar[str] = "A coin checked against a wrong expectation"


class NoFigure(Coin):
    """Draws fewer figures than its captions name."""

    name: ClassVar[str] = "nofigure"

    def figures(self, result: Result) -> dict:
        return {}


def test_all_writes_an_index_linking_every_page(tmp_path):
    reports = run_all([Coin(), BiasedTheory()], tmp_path / "all", seeds=400, generations=8, key=1)
    out = tmp_path / "all"
    assert sorted(p.name for p in out.iterdir()) == ["biased", "coin", "index.html"]
    page = read_page(out / "index.html")
    assert page.links == ["coin/index.html", "biased/index.html"]
    assert page.images == []
    for href in page.links:
        assert (out / href).is_file()
    header, *rows = page.tables["reproductions"]
    assert header == ["reproduction", "title", "seeds", "generations", "verdict", "runtime"]
    assert [row[0] for row in rows] == ["coin", "biased"]
    for row, report in zip(rows, reports):
        assert row[1] == report.title and row[2:4] == ["400", "8"] and row[4] == report.verdict
        assert row[5].endswith(" s") and float(row[5][:-2]) >= 0
    # the fair coin's check passes, the wrong closed form's fails by far
    coin, biased = (report.checks[0] for report in reports)
    assert coin.points == 9 and coin.worst_z < 4
    assert biased.worst_z > 10 and "worst |z|" in rows[1][4]
    for report in reports:
        pages = assert_outputs_complete(out / report.name, {"one half"})
        assert pages[0][0] == "running mean"
        assert "../index.html" in read_page(out / report.name / "index.html").links
    text = (out / "coin" / "index.html").read_text(encoding="utf-8")
    assert "A fair coin &amp; its &lt;running&gt; mean" in text  # escaped


def test_a_single_run_has_no_link_to_an_index(tmp_path):
    report = run(Coin(), tmp_path / "coin", seeds=20, generations=3)
    assert "../index.html" not in read_page(tmp_path / "coin" / "index.html").links
    assert [row["name"] for row in csv_rows(tmp_path / "coin" / "checks.csv")] == ["running mean"]
    assert report.result.seeds == 20 and report.out == tmp_path / "coin"


def test_sizes_and_directories_are_checked_before_anything_runs(tmp_path):
    (tmp_path / "all").mkdir()
    (tmp_path / "all" / "coin").write_text("a file")
    with pytest.raises(ValueError, match="coin: --out must be a directory"):
        run_all([BiasedTheory(), Coin()], tmp_path / "all", seeds=10)
    with pytest.raises(ValueError, match="biased: seeds must be an integer >= 2; got 1"):
        run_all([BiasedTheory(), Coin()], tmp_path / "other", seeds=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all"]
    assert [p.name for p in (tmp_path / "all").iterdir()] == ["coin"]


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"nofigure: drew \[\], captions name \['running_mean.png'\]"):
        run(NoFigure(), tmp_path / "out" / "nofigure", seeds=10, generations=2)
    assert list(tmp_path.iterdir()) == []


def test_reproduce_all_on_the_command_line(tmp_path, monkeypatch, capsys):
    # one real reproduction, tiny, beside the toy: every page and the index, end to end
    registry = {"xu": experiments.REPRODUCTIONS["xu"], "coin": Coin()}
    monkeypatch.setattr(cli, "REPRODUCTIONS", registry)
    out = tmp_path / "all"
    assert cli.main(["reproduce", "--all", "--out", str(out), "--seeds", "4", "--generations", "3",
                     "--no-progress"]) == 0
    page = read_page(out / "index.html")
    assert page.links == ["coin/index.html", "xu/index.html"]
    rows = page.tables["reproductions"][1:]
    assert [(row[0], row[2], row[3]) for row in rows] == [("coin", "4", "3"), ("xu", "4", "3")]
    forms = {"jc.theory.poisson_absorption_probability", "jc.theory.bernoulli_absorption_probability",
             "jcollapse.experiments.xu.gaussian_collapse_probability", "jc.theory.expected"}
    checks = assert_outputs_complete(out / "xu", forms)
    assert rows[1][4].startswith("worst |z|") and len(checks) == 7
    assert_outputs_complete(out / "coin", {"one half"})
    err = capsys.readouterr().err
    assert "jcollapse reproduce xu:" in err and f"wrote {out}/index.html (2 reproductions" in err
