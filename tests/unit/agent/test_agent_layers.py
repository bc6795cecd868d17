"""The agent's import graph: no circles, a containerizer and executors that stand alone, and a
state that imports no runtime.

Every import counts, wherever it is written: at the top, inside a function, or under
TYPE_CHECKING. `from package import name` imports the package (its `__init__` runs) and, when
`name` is a submodule, that submodule as well.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from daemons.agent import builtin_executors

REPO = Path(__file__).resolve().parents[3]
AGENT = REPO / "daemons" / "agent"

# The agent's state and the transitions on it: driven by tests with no thread, so none of them
# may start one, read a clock or speak HTTP (the runtime and the blueprints do).
STATE = (
    "agent",
    "checkpoint",
    "containers",
    "executor_calls",
    "launcher",
    "master_events",
    "messages",
    "model",
    "plan",
    "protocol",
    "recovery",
    "state",
    "status_updates",
)
NOT_IN_STATE = frozenset({"threading", "time", "socket", "flask", "kazoo", "requests", "random"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(AGENT.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module `name` (at `path`) imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = node.module or ""
            if node.level:
                module = f"{base}.{module}" if module else base
            out.add(module)
            out.update(f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported(name, path, known) & known for name, path in found.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, or a module importing itself
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, set()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, set()):
                out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


def test_the_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    path = tmp_path / "launch.py"
    path.write_text(
        "from daemons.agent.containerizer import syscalls\n"
        "if TYPE_CHECKING:\n"
        "    from . import model\n"
        "def later() -> None:\n"
        "    import daemons.agent.plan\n"
    )
    known = {"daemons.agent.containerizer.syscalls", "daemons.agent.containerizer.model"}
    assert imported("daemons.agent.containerizer.launch", path, known) == {
        "daemons.agent.containerizer",
        "daemons.agent.containerizer.syscalls",
        "daemons.agent.containerizer.model",
        "daemons.agent.plan",
    }
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"a"}}) == [["a"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_agent_imports_one_that_imports_it_back() -> None:
    assert circles(graph()) == []


def test_the_containerizer_imports_nothing_of_the_agent_outside_itself() -> None:
    edges = graph()
    outside = {
        (name, target)
        for name, targets in edges.items()
        if name.startswith("daemons.agent.containerizer")
        for target in targets
        if not target.startswith("daemons.agent.containerizer")
    }
    assert outside == set()


def run_time_imports(tree: ast.Module) -> set[str]:
    """Absolute modules imported by code that runs (not under a bare `if TYPE_CHECKING:`)."""
    out: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        test = node.test if isinstance(node, ast.If) else None
        if isinstance(node, ast.If) and isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
        todo.extend(ast.iter_child_nodes(node))
    return out


def shared_with_the_executors() -> dict[str, Path]:
    """The modules of the project the executors' copy holds (builtin_executors.SHARED)."""
    return {module_name(REPO / name): REPO / name for name in builtin_executors.SHARED}


def test_the_executors_import_only_the_standard_library_each_other_and_what_they_share() -> None:
    directory = AGENT / "executors"
    allowed = {p.stem for p in directory.glob("*.py")} | set(shared_with_the_executors())
    for path in sorted(directory.glob("*.py")):
        found = run_time_imports(ast.parse(path.read_text()))
        bad = {m for m in found if m.split(".")[0] not in sys.stdlib_module_names}
        assert bad <= allowed, path.name


def import_time_imports(tree: ast.Module) -> set[str]:
    """Modules imported while the module itself is imported: its top-level statements, not
    under `if TYPE_CHECKING:` and not in a function (which imports when it is called)."""
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            nodes = node.orelse
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        else:
            nodes = [node]
        for inner in nodes:
            for child in ast.walk(inner):
                if isinstance(child, ast.Import):
                    out.update(alias.name for alias in child.names)
                elif isinstance(child, ast.ImportFrom) and child.module:
                    out.add(child.module)
    return out


@pytest.mark.parametrize("name", sorted(shared_with_the_executors()))
def test_what_the_executors_share_imports_nothing_when_it_is_imported(name: str) -> None:
    """The executors start in ~15 ms: typing (~8 ms) or json (~7 ms) would double that."""
    path = shared_with_the_executors()[name]
    assert import_time_imports(ast.parse(path.read_text())) <= {"__future__"}


@pytest.mark.parametrize("name", STATE)
def test_the_state_and_its_transitions_import_no_runtime(name: str) -> None:
    path = AGENT / f"{name}.py"
    found = imported(f"daemons.agent.{name}", path, set(modules()))
    bad = sorted(m for m in found if m.split(".")[0] in NOT_IN_STATE)
    assert bad == []
    assert "daemons.agent.runtime" not in found
