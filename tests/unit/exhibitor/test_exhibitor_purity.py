"""Exhibitor's planning core stays pure: no clock, no randomness, no I/O, no frameworks, and it
imports nothing from Exhibitor's shell (stores, supervisor, activity, API)."""

from __future__ import annotations

from pathlib import Path

import exhibitor
from tests.purity import imports, violations

CORE = ("ensemble", "properties", "rolling", "shared")
PACKAGE = Path(exhibitor.__file__).parent
SHELL = tuple(p.stem for p in PACKAGE.glob("*.py") if p.stem not in CORE and p.stem != "__init__")


def test_the_core_imports_nothing_impure() -> None:
    assert SHELL, "the shell modules were found"
    assert violations(PACKAGE, "exhibitor", CORE, shell=SHELL) == {}


def test_the_checker_sees_imports() -> None:
    assert imports("import os.path\nfrom exhibitor.stores import X\n") == {
        "os.path",
        "exhibitor.stores",
    }
