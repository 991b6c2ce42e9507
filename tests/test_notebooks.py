"""Execute the notebooks end to end (in a temporary working directory)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01_gaussian_collapse.ipynb", "02_next_token_collapse.ipynb",
                                           "03_regression_collapse.ipynb", "04_erm_limits.ipynb",
                                           "05_sample_growth_and_filters.ipynb"]
    builders = sorted(p.name for p in NOTEBOOKS[0].parent.glob("build_*.py"))
    assert builders == ["build_" + p.stem + ".py" for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:  # run from scratch: stored outputs play no part
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # kernel "python3" with argv[0] "python" is started with this interpreter (the venv's).
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    text = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    # Each notebook prints its checks as "<claim>: True|False" lines.
    checks = [line for line in text.splitlines() if line.endswith((": True", ": False")) or ": True (" in line
              or ": False (" in line]
    assert checks and not [line for line in checks if ": False" in line], checks
    assert list(tmp_path.iterdir()) == []  # the notebook writes no files
