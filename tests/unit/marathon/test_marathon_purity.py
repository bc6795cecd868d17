"""Marathon's cores stay pure: no clock, randomness, threads, sockets, Flask, kazoo or requests,
and nothing of the shell (store, state, scheduling, service, API, probes, events). No module of
the package imports one that imports it back, directly or through others (imports inside
functions and under TYPE_CHECKING count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import daemons.marathon as package
from tests.purity import imports, violations

PACKAGE = Path(package.__file__).parent

CORE = (
    "model",
    "pathid",
    "timestamps",
    "appfields",
    "appdef",
    "appjson",
    "groups",
    "constraints",
    "offers",
    "task_info",
    "launch_queue",
    "deployment",
    "rolling",
    "backoff",
    "health",
    "planning",
    "placement",
)


def module_names() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (`api` and its blueprints too)."""
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join((package.__name__, *parts))] = path
    return out


def package_imports(source: str, modules: set[str]) -> set[str]:
    """The modules of the package `source` imports (`from daemons.marathon import views` is
    the module views, not the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in modules:
                    found.add(f"{node.module}.{alias.name}")
                elif node.module in modules:
                    found.add(node.module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of `graph` (Tarjan's strongly connected components of two or more
    modules, or one importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: package_imports(path.read_text(), set(modules)) for name, path in modules.items()}


def test_the_cores_import_nothing_impure_and_nothing_of_the_shell() -> None:
    core = {f"{package.__name__}.{name}" for name in CORE}
    shell = [name.removeprefix(package.__name__ + ".") for name in module_names()]
    shell = [name for name in shell if name != package.__name__ and name not in CORE]
    assert violations(PACKAGE, package.__name__, CORE, shell=shell) == {}
    assert core <= set(module_names())


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(import_graph()) == []


def test_the_checkers_see_what_they_look_for() -> None:
    assert imports("import time\nfrom daemons.marathon.store import X\n") == {
        "time",
        "daemons.marathon.store",
    }
    lazy = "def f():\n    from daemons.marathon import views\n"
    assert package_imports(lazy, {"daemons.marathon", "daemons.marathon.views"}) == {
        "daemons.marathon.views"
    }
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}, "b": set()}) == [["a"]]
