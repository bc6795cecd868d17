"""The allocation core stays pure: no clock, no randomness, no I/O, no frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import daemons.master.allocation as allocation

FORBIDDEN = {"time", "random", "socket", "threading", "flask", "kazoo", "subprocess", "os"}
PACKAGE = Path(allocation.__file__).parent


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module imported anywhere in `source`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            names.add("__import__")
    return names


def test_the_core_imports_nothing_impure() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 4
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(imported_modules(path.read_text()) & FORBIDDEN)
        for path in modules
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}
    dynamic = [p.name for p in modules if "__import__" in imported_modules(p.read_text())]
    assert dynamic == []


def test_the_checker_would_catch_a_forbidden_import() -> None:
    assert imported_modules("import os.path\nfrom time import monotonic\n") == {"os", "time"}
    assert imported_modules("def f():\n    import random\n") == {"random"}
