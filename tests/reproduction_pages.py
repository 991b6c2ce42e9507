"""Checks of what the reproduction driver writes (not collected: no ``test_`` prefix).

:func:`assert_outputs_complete` opens a reproduction's ``index.html``, checks that every image
and link it names exists (images as PNG files), that every figure and table in the directory
is on the page, and that the page's checks table lists every closed form the reproduction
compares, with the rows of ``checks.csv``.
"""

from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path


class Counter:
    """A progress stub for ``Reproduction.simulate``: the total it announces and the seeds it counts."""

    total, n = None, 0

    def reset(self, total=None):
        self.total, self.n = total, 0

    def update(self, n=1):
        self.n += n


class Page(HTMLParser):
    """The images, links and checks-table rows of an HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag == "table":
            self._table = attrs.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_page(path: Path) -> Page:
    """The parsed HTML page at `path`."""
    return Page(Path(path).read_text(encoding="utf-8"))


def assert_links_exist(path: Path, page: Page) -> None:
    """Every image of `page` (at `path`) is a PNG file next to it, every link an existing file."""
    base = Path(path).parent
    assert page.images, "no image on the page"
    for src in page.images:
        assert (base / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", src
    for href in page.links:
        assert (base / href).is_file(), href


def csv_rows(path: Path) -> list[dict]:
    """The rows of a CSV file as dicts."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_outputs_complete(out: Path, closed_forms: set[str]) -> list[list[str]]:
    """`out`'s ``index.html`` names only files that exist, shows every figure and links every
    table in `out`, and its checks table (the rows of ``checks.csv``) lists every one of
    `closed_forms`. Returns the checks table's body rows."""
    out = Path(out)
    page = read_page(out / "index.html")
    assert_links_exist(out / "index.html", page)
    assert {p.name for p in out.glob("*.png")} == set(page.images)
    assert {p.name for p in out.glob("*.csv")} | {"summary.md"} <= set(page.links)
    header, *rows = page.tables["checks"]
    assert header[:2] == ["check", "closed form"]
    listed = {row[1] for row in rows}
    assert closed_forms <= listed, closed_forms - listed
    table = csv_rows(out / "checks.csv")
    assert [(r["name"], r["closed_form"], r["points"]) for r in table] == [(row[0], row[1], row[5]) for row in rows]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for name in page.images:
        assert f"![{name}]({name})" in summary
    for form in closed_forms:
        assert f"`{form}`" in summary
    return rows
