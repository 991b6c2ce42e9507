"""Shared by the notebook builders: turn a list of ``("md" | "code", source)`` cells into a
notebook file, optionally executed with its outputs stored.

Each ``build_NN_*.py`` holds its notebook's cells (the source of truth) and calls
:func:`main`; edit the cells there, not in the ``.ipynb``, and rebuild.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def build(cells) -> nbformat.NotebookNode:
    """The notebook of `cells`, without outputs.

    **Arguments:**

    - `cells`: a list of ``("md" | "code", source)`` pairs.

    **Returns:**

    An ``nbformat`` v4 notebook.

    ```python
    >>> len(build([("md", "# Title"), ("code", "1 + 1")]).cells)
    2
    ```
    """
    notebook = new_notebook(cells=[new_markdown_cell(s) if kind == "md" else new_code_cell(s) for kind, s in cells])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def main(cells, path: Path, argv=None, doc: str = "Build a notebook.") -> int:
    """Write the notebook of `cells` to `path`, executed (outputs stored) with ``--execute``.

    **Arguments:**

    - `cells`: see :func:`build`.
    - `path`: the ``.ipynb`` to write.
    - `argv`: command-line arguments (``--execute``).
    - `doc`: the command's description.

    **Returns:**

    0.

    ```python
    >>> main([("code", "1")], Path("x.ipynb"), [])  # doctest: +SKIP
    0
    ```
    """
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--execute", action="store_true", help="run the notebook and store its outputs")
    args = parser.parse_args(argv)
    notebook = build(cells)
    if args.execute:
        from nbclient import NotebookClient  # noqa: PLC0415  (only --execute needs a kernel client)

        with tempfile.TemporaryDirectory() as cwd:
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": cwd}}).execute()
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    print(f"wrote {path}", file=sys.stderr)
    return 0
