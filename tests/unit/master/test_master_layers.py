"""The master's import structure: its cores import nothing impure, the state machine imports
none of the modules that drive or render it, no module imports one that imports it back, and
the allocation package's modules never import the package itself."""

from __future__ import annotations

import ast
from pathlib import Path

import daemons.master as package
from tests.purity import violations

PACKAGE_DIR = Path(package.__file__).parent

# Pure cores over the master's records: no clock, randomness, threads, sockets, Flask or kazoo.
CORE = (
    "validation",
    "calls.scheduler",
    "calls.agent",
    "recorded",
    "state_json",
    "metrics",
    "view",
    "failover",
    "agent_health",
    "model",
)
# What they must not import: the state machine and its runtime, the HTTP layer, and `config`
# (it checks zk:// URLs with the ZooKeeper adapter, which brings in kazoo and threads).
SHELL = (
    "master",
    "leadership",
    "offers",
    "agent_removal",
    "agent_calls",
    "scheduler_calls",
    "launches",
    "service",
    "zk_registry",
    "http",
    "endpoints",
    "operator_api",
    "scheduler_api",
    "agent_api",
    "app",
    "main",
    "config",
)


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR).with_suffix("")
    parts = [p for p in relative.parts if p != "__init__"]
    return ".".join(["daemons.master", *parts])


MODULES = {module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}


def imported(source: str) -> set[str]:
    """The modules of daemons.master that `source` imports anywhere (type-only and in-function
    imports too). `from package import name` imports the package, and the submodule when `name`
    is one."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update({f"{node.module}.{a.name}" for a in node.names})
    return found & MODULES.keys()


GRAPH = {name: imported(path.read_text()) - {name} for name, path in MODULES.items()}


def test_the_cores_import_nothing_impure_and_nothing_of_the_shell() -> None:
    assert violations(PACKAGE_DIR, "daemons.master", CORE, shell=SHELL) == {}


def test_the_state_machine_imports_none_of_the_modules_that_drive_or_render_it() -> None:
    drivers = {
        f"daemons.master.{name}"
        for name in ("failover", "agent_health", "metrics", "leadership", "offers", "state_json")
    }
    assert GRAPH["daemons.master.master"] & drivers == set()


def test_no_module_imports_one_that_imports_it_back() -> None:
    pairs = {tuple(sorted((a, b))) for a, deps in GRAPH.items() for b in deps if a in GRAPH[b]}
    assert pairs == set()


def test_allocation_modules_never_import_their_package() -> None:
    allocation = "daemons.master.allocation"
    submodules = [m for m in GRAPH if m.startswith(allocation + ".")]
    assert len(submodules) >= 5
    assert [m for m in submodules if allocation in GRAPH[m]] == []


def test_the_checker_sees_type_only_and_in_function_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from daemons.master.master import Master\n"
        "def f():\n"
        "    from daemons.master import metrics\n"
        "from daemons.master.allocation import reservations\n"
        "import daemons.master.allocation.sorter as sorter\n"
    )
    assert imported(source) == {
        "daemons.master",
        "daemons.master.master",
        "daemons.master.metrics",
        "daemons.master.allocation",
        "daemons.master.allocation.reservations",
        "daemons.master.allocation.sorter",
    }
