"""``atomic_directory``: output appears complete or not at all."""

import pytest

from jcollapse.internal.atomic import atomic_directory


def test_atomic_directory_failure_leaves_previous_output(tmp_path):
    out = tmp_path / "a" / "b" / "demo"
    with pytest.raises(RuntimeError):
        with atomic_directory(out) as tmp:
            (tmp / "summary.md").write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []  # created parents removed too

    out = tmp_path / "demo"
    out.mkdir()
    (out / "summary.md").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(out) as tmp:
            (tmp / "summary.md").write_text("half")
            raise RuntimeError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
    assert (out / "summary.md").read_text() == "old"

    with atomic_directory(out) as tmp:
        (tmp / "summary.md").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
    assert [p.name for p in out.iterdir()] == ["summary.md"]
    assert (out / "summary.md").read_text() == "new"
