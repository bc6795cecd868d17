"""Exhibitor's planning core stays pure: no clock, no randomness, no I/O, no frameworks, and it
imports nothing from Exhibitor's shell (stores, supervisor, activity, API)."""

from __future__ import annotations

import ast
from pathlib import Path

import exhibitor

CORE = {"ensemble", "properties", "rolling", "shared"}
FORBIDDEN = {"time", "random", "socket", "threading", "flask", "kazoo", "subprocess", "os", "fcntl"}
PACKAGE = Path(exhibitor.__file__).parent


def imports(source: str) -> set[str]:
    """Every module imported anywhere in `source` (dotted, absolute)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_core_imports_nothing_impure() -> None:
    found = {name: imports((PACKAGE / f"{name}.py").read_text()) for name in CORE}
    impure = {
        name: sorted(m for m in mods if m.split(".")[0] in FORBIDDEN)
        for name, mods in found.items()
    }
    assert {name: bad for name, bad in impure.items() if bad} == {}
    shell = {
        name: sorted(
            m
            for m in mods
            if m.startswith("exhibitor.") and m.removeprefix("exhibitor.") not in CORE
        )
        for name, mods in found.items()
    }
    assert {name: bad for name, bad in shell.items() if bad} == {}


def test_the_checker_sees_imports() -> None:
    assert imports("import os.path\nfrom exhibitor.stores import X\n") == {
        "os.path",
        "exhibitor.stores",
    }
