"""An import-linter contract for jcollapse's boundaries: private stays private.

``lint-imports`` (run by ``make lint``, before the tests) checks the layers in
``pyproject.toml`` with import-linter's own contracts; this module adds the rule they cannot
express, because it is about names rather than modules:

- a private module (``pkg/_x.py``) is imported only from inside its own package ``pkg``;
- a private name (``_x``) is never imported from another module.

``jcollapse.internal`` is the shared layer every other layer may use, so its modules are
public-named and need no exception. Every import statement counts, function-local ones too.
"""

from __future__ import annotations

import ast
import importlib.util
from typing import NamedTuple

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class Violation(NamedTuple):
    """One import that crosses a private boundary."""

    importer: str
    line: int
    statement: str
    why: str


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _absolute(importer: str, is_package: bool, module: str | None, level: int) -> str:
    """The absolute module name of ``from <level dots><module> import ...`` in ``importer``."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _private_module_owner(module: str) -> str | None:
    """The package that owns `module`'s first private segment, or None if it has none."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[:i])
    return None


def violations(graph: ImportGraph, root: str) -> list[Violation]:
    """Every private import in the package `root`, from its source files.

    **Arguments:**

    - `graph`: import-linter's graph of the project (only its module names are used).
    - `root`: the top-level package, e.g. ``"jcollapse"``.

    **Returns:**

    The violations, in module and line order.
    """
    found = []
    for importer in sorted(m for m in graph.modules if m == root or m.startswith(root + ".")):
        spec = importlib.util.find_spec(importer)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        is_package = spec.origin.endswith("__init__.py")
        source = open(spec.origin, encoding="utf-8").read()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                targets = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(importer, is_package, node.module, node.level)
                targets = [(base, alias.name) for alias in node.names]
            else:
                continue
            statement = ast.get_source_segment(source, node) or ""
            for module, name in targets:
                if name is not None and f"{module}.{name}" in graph.modules:
                    module, name = f"{module}.{name}", None  # `from pkg import _module`: a module
                owner = _private_module_owner(module)
                inside = importer == owner or importer.startswith(f"{owner}.")
                if owner is not None and owner.startswith(root) and not inside:
                    found.append(Violation(importer, node.lineno, statement,
                                           f"imports the private module {module} from outside {owner}"))
                if name is not None and _private(name):
                    found.append(Violation(importer, node.lineno, statement,
                                           f"imports the private name {name} from {module}"))
    return sorted(set(found), key=lambda v: (v.importer, v.line, v.why))


class PrivateImportsContract(Contract):
    """No private module is imported from outside its package, and no private name at all.

    Configuration options:

    - `root`: the package to check (e.g. ``jcollapse``).
    """

    root = fields.StringField()

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        found = violations(graph, str(self.root))
        return ContractCheck(kept=not found, metadata={"violations": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(f"{violation.importer}:{violation.line} {violation.why}", bold=False)
            output.indent_cursor()
            output.print_error(violation.statement.splitlines()[0], bold=False)
            output.new_line()
