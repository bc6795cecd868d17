"""The check every pure core shares: the modules a core imports, and the ones it must not.

A core (allocation, Marathon's plans, Metronome's schedules, Exhibitor's rolling planner …)
takes its clock, randomness and I/O as arguments: it imports none of FORBIDDEN, and nothing of
its own package's shell (stores, services, API).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

FORBIDDEN = frozenset(
    {
        "time",
        "random",
        "secrets",
        "uuid",
        "socket",
        "threading",
        "subprocess",
        "os",
        "fcntl",
        "flask",
        "kazoo",
        "requests",
    }
)


def imports(source: str) -> set[str]:
    """Every module imported anywhere in `source` (dotted, absolute)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(
    package_dir: Path,
    package: str,
    core: Iterable[str],
    *,
    shell: Iterable[str] = (),
    forbidden: frozenset[str] = FORBIDDEN,
) -> dict[str, list[str]]:
    """Core module -> the impure or shell modules it imports (empty when all is well)."""
    shell_modules = {f"{package}.{name}" for name in shell}
    found: dict[str, list[str]] = {}
    for name in core:
        mods = imports((package_dir / f"{name.replace('.', '/')}.py").read_text())
        bad = sorted(
            m
            for m in mods
            if m.split(".")[0] in forbidden
            or any(m == s or m.startswith(s + ".") for s in shell_modules)
        )
        if bad:
            found[name] = bad
    return found
