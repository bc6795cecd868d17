"""The layers of docs/architecture.md, checked over every module of daemons/, dnsproxy/,
minuteman/ and exhibitor/.

    protocols  ->  kit (+ the Mesos client)  ->  cores  ->  runtimes  ->  daemons

1. No import circle anywhere.
2. No import runs back up a layer; the kit imports neither a daemon nor the Mesos client; the
   client imports only the protocols layer and the kit's ZooKeeper adapter; no daemon imports
   another daemon's code (what two daemons share lives in protocols, the kit, the client or the
   framework host).
3. Every core is pure, transitively: it imports only the standard library's pure modules, the
   pure libraries below, the protocols layer, the kit's error tree and other cores, and the same
   holds for everything those import in turn. The clock, randomness and I/O come in as arguments.
4. Some modules promise more: the protocols layer needs only the standard library; the agent's
   state and transitions start no thread and read no clock; the containerizer stands alone; the
   built-in executors import only the standard library and the protocols files copied beside
   them, which themselves import nothing while being imported.

Every import counts wherever it is written: at module level, inside a function, or under
TYPE_CHECKING. `from package import name` imports the package (its `__init__` runs) and, when
`name` is a submodule, the submodule as well. This one test replaces the per-package checkers;
the last test shows on a small made-up tree that each check fails when it should.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("daemons", "dnsproxy", "minuteman", "exhibitor")

PROTOCOLS, KIT, CORE, RUNTIME, DAEMON = range(5)
LAYER_NAMES = ("protocols", "kit", "core", "runtime", "daemon")

# The pure cores, per daemon: functions over immutable inputs returning values or plans.
CORES: dict[str, tuple[str, ...]] = {
    "daemons.master": (
        "allocation",
        "allocation.allocator",
        "allocation.filters",
        "allocation.model",
        "allocation.reservations",
        "allocation.sorter",
        "allocation.state",
        "calls",
        "calls.agent",
        "calls.scheduler",
        "model",
        "rawjson",
        "recorded",
        "registry",
        "validation",
        "state_json",
        "metrics",
        "view",
        "failover",
        "agent_health",
    ),
    "daemons.agent": ("messages", "protocol", "status_updates"),
    "daemons.marathon": (
        "appdef",
        "appfields",
        "appjson",
        "backoff",
        "constraints",
        "deployment",
        "groups",
        "health",
        "launch_queue",
        "model",
        "offers",
        "pathid",
        "placement",
        "planning",
        "rolling",
        "task_info",
        "timestamps",
    ),
    "daemons.metronome": (
        "jobinfo",
        "jobspec",
        "placement",
        "runs",
        "schedule",
        "timestamps",
        "validation",
    ),
    "daemons.mesos_dns": (
        "config",
        "contributions",
        "dns_zone",
        "enumeration",
        "families",
        "labels",
        "records",
        "zone",
    ),
    # The leading master's state kept up to date by operator events, shared by the DNS daemons.
    "daemons.mesos_client": ("master_view",),
    "exhibitor": ("ensemble", "properties", "rolling", "shared"),
    "dnsproxy": ("axfr", "config", "routing", "tasks", "views", "zones"),
    "minuteman": ("config", "ruleset", "views"),
    "daemons.adminrouter": ("config", "cookies", "origin", "routes"),
    "daemons.iam": (
        "access",
        "accounts",
        "config",
        "errors",
        "keys",
        "login",
        "passwords",
        "tokens",
    ),
    "daemons.ui": ("config", "ring", "summary"),
    "daemons.diagnostics": ("cluster", "config", "units"),
}

# The HTTP face and the entry point of each daemon: blueprints, app factories, `main`.
DAEMON_MODULES = frozenset(
    {
        "daemons.master.app",
        "daemons.master.main",
        "daemons.master.agent_api",
        "daemons.master.scheduler_api",
        "daemons.master.operator_api",
        "daemons.master.endpoints",
        "daemons.master.http",
        "daemons.agent.app",
        "daemons.agent.main",
        "daemons.agent.executor_api",
        "daemons.agent.state_api",
        "daemons.agent.files",
        "daemons.agent.web",
        "daemons.marathon.app",
        "daemons.marathon.main",
        "daemons.metronome.app",
        "daemons.metronome.main",
        "daemons.metronome.http",
        "daemons.mesos_dns.api",
        "daemons.mesos_dns.app",
        "daemons.mesos_dns.main",
        "exhibitor.api",
        "exhibitor.config_api",
        "exhibitor.ui",
        "exhibitor.main",
        "dnsproxy.api",
        "dnsproxy.app",
        "dnsproxy.main",
        "minuteman.api",
        "minuteman.app",
        "minuteman.main",
        "daemons.adminrouter.api",
        "daemons.adminrouter.app",
        "daemons.adminrouter.main",
        "daemons.iam.app",
        "daemons.iam.auth_api",
        "daemons.iam.http",
        "daemons.iam.main",
        "daemons.iam.users_api",
        "daemons.ui.api",
        "daemons.ui.app",
        "daemons.ui.main",
        "daemons.diagnostics.api",
        "daemons.diagnostics.app",
        "daemons.diagnostics.main",
    }
)
DAEMON_PREFIXES = ("daemons.marathon.api", "daemons.metronome.api_")

# The agent's state and its transitions: driven by tests with no thread, so none of them may
# start one, read a clock or speak HTTP (daemons/agent/runtime.py and the blueprints do).
AGENT_STATE = tuple(
    f"daemons.agent.{name}"
    for name in (
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
)
NOT_IN_AGENT_STATE = frozenset({"threading", "time", "socket", "flask", "kazoo", "requests"})
# What the built-in executors import from the project: copied beside them into libexec
# (daemons/agent/builtin_executors.py), and cheap to import (they start in ~15 ms).
EXECUTOR_SHARED = ("daemons", "daemons.protocols", "daemons.protocols.recordio")
EXECUTOR_SHARED_MODULES = (*EXECUTOR_SHARED, "daemons.protocols.states")

SHARED = frozenset(
    {"daemons", "daemons.protocols", "daemons.kit", "daemons.mesos_client", "daemons.frameworks"}
)
# Pure libraries a core may use (arrays for the allocator, cron arithmetic for Metronome;
# signatures and password hashes for IAM: PyJWT is given the clock's reading, never asked to
# read it, and cryptography and argon2 only compute over the keys and salts they are given).
PURE_LIBRARIES = frozenset({"numpy", "croniter", "dateutil", "jwt", "cryptography", "argon2"})
# The standard library's modules that do I/O, keep time, draw randomness or run threads.
IMPURE_STDLIB = frozenset(
    {
        "asyncio",
        "ctypes",
        "fcntl",
        "http",
        "multiprocessing",
        "os",
        "pathlib",
        "random",
        "secrets",
        "select",
        "selectors",
        "shutil",
        "signal",
        "socket",
        "ssl",
        "subprocess",
        "sys",
        "tempfile",
        "threading",
        "time",
        "urllib",
        "uuid",
        "_thread",
        "_socket",
    }
)
# The kit's modules a core may import: its error tree is plain exceptions; the DNS kit's wire
# format, precomputed zones, label sanitizing and upstream values are pure; so is the L4LB
# kit's VIP table.
PURE_KIT = frozenset(
    {
        "daemons.kit.errors",
        "daemons.kit.dns",
        "daemons.kit.dns.labels",
        "daemons.kit.dns.upstream",
        "daemons.kit.dns.wire",
        "daemons.kit.dns.zone",
        "daemons.kit.l4lb",
        "daemons.kit.l4lb.named_ips",
        "daemons.kit.l4lb.table",
        "daemons.kit.l4lb.vips",
    }
)


def with_packages(modules: Iterable[str]) -> set[str]:
    """Importing `a.b.c` runs `a` and `a.b` first."""
    out: set[str] = set()
    for module in modules:
        parts = module.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


@dataclass
class Tree:
    """The modules under `roots` of `repo` and what each imports."""

    repo: Path
    roots: tuple[str, ...]
    cores: Mapping[str, tuple[str, ...]]
    _imports: dict[str, frozenset[str]] = field(default_factory=dict)

    @cached_property
    def modules(self) -> dict[str, Path]:
        found = {}
        for root in self.roots:
            for path in sorted((self.repo / root).rglob("*.py")):
                parts = list(path.relative_to(self.repo).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                found[".".join(parts)] = path
        return found

    @cached_property
    def core_modules(self) -> frozenset[str]:
        return frozenset(f"{pkg}.{name}" for pkg, names in self.cores.items() for name in names)

    def imports(self, name: str) -> frozenset[str]:
        """Every module `name` imports, project or not (dotted, absolute)."""
        if name not in self._imports:
            path = self.modules[name]
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    if node.level:
                        base = package.split(".")[: len(package.split(".")) - node.level + 1]
                        module = ".".join(base + ([module] if module else []))
                    found.add(module)
                    found.update(f"{module}.{alias.name}" for alias in node.names)
            self._imports[name] = frozenset(found)
        return self._imports[name]

    def project_imports(self, name: str) -> set[str]:
        """The project modules `name` imports, its own parent packages left out (Python has run
        them already; a package's `__init__` importing nothing back keeps that circle-free)."""
        parents = with_packages([name]) - {name}
        return (with_packages(self.imports(name)) & self.modules.keys()) - parents - {name}

    def external_imports(self, name: str) -> set[str]:
        return {m.split(".")[0] for m in self.imports(name)} - set(self.roots) - {""}

    def layer(self, name: str) -> int:
        # The bare `daemons` package imports nothing (checked below): the bottom, for dnsproxy/.
        if name == "daemons" or name.startswith("daemons.protocols"):
            return PROTOCOLS
        if name.startswith(("daemons.kit", "daemons.mesos_client")):
            return KIT
        if name in self.core_modules:
            return CORE
        if name in DAEMON_MODULES or name.startswith(DAEMON_PREFIXES):
            return DAEMON
        return RUNTIME

    # --- the checks -------------------------------------------------------------------------

    def circles(self) -> list[list[str]]:
        """Strongly connected components of more than one module (Tarjan, iterative)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []
        for start in sorted(self.modules):
            if start in index:
                continue
            index[start] = low[start] = len(index)
            stack.append(start)
            on_stack.add(start)
            work = [(start, iter(sorted(self.project_imports(start))))]
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is not None:
                    if child not in index:
                        index[child] = low[child] = len(index)
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(sorted(self.project_imports(child)))))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.append(member)
                        if member == node:
                            break
                    if len(members) > 1:
                        found.append(sorted(members))
        return found

    def upward(self) -> list[str]:
        return [
            f"{a} ({LAYER_NAMES[self.layer(a)]}) imports {b} ({LAYER_NAMES[self.layer(b)]})"
            for a in sorted(self.modules)
            for b in sorted(self.project_imports(a))
            if self.layer(b) > self.layer(a)
        ]

    def reaching_out(self) -> list[str]:
        """The kit importing above itself, the client beyond protocols and the kit's ZooKeeper
        adapter and errors, or a daemon importing another daemon's code."""
        bad = []
        for a in sorted(self.modules):
            for b in sorted(self.project_imports(a) - {"daemons"}):
                if a.startswith("daemons.kit"):
                    ok = b.startswith(("daemons.kit", "daemons.protocols"))
                elif a.startswith("daemons.mesos_client"):
                    ok = b.startswith(("daemons.mesos_client", "daemons.protocols")) or b in (
                        "daemons.kit",
                        "daemons.kit.zk",
                        "daemons.kit.errors",
                    )
                else:
                    ok = component(b) in SHARED or component(b) == component(a)
                if not ok:
                    bad.append(f"{a} imports {b}")
        return bad

    def impure(self, core: str) -> list[str]:
        """What makes `core` impure, following the project's modules it reaches."""
        seen: set[str] = set()
        todo = [core]
        problems: list[str] = []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for module in sorted(self.project_imports(name)):
                if (
                    module in self.core_modules
                    or module.startswith("daemons.protocols")
                    or module in PURE_KIT
                    or module in SHARED  # a bare package `__init__`: checked on its own
                ):
                    todo.append(module)
                else:
                    problems.append(f"{name} imports {module}")
            for top in sorted(self.external_imports(name)):
                if top in IMPURE_STDLIB or (
                    top not in sys.stdlib_module_names and top not in PURE_LIBRARIES
                ):
                    problems.append(f"{name} imports {top}")
        return problems


def component(name: str) -> str:
    """Which daemon (or shared layer) a module belongs to."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "daemons" and len(parts) > 1 else parts[0]


def import_time_imports(source: str) -> set[str]:
    """Modules imported while a module is being imported: top-level statements, neither in a
    function (that imports when called) nor under `if TYPE_CHECKING:`."""
    out: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            nodes: list[ast.stmt] = node.orelse
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


TREE = Tree(REPO, ROOTS, CORES)


def test_every_listed_module_exists() -> None:
    listed = TREE.core_modules | DAEMON_MODULES | set(AGENT_STATE) | set(EXECUTOR_SHARED_MODULES)
    assert sorted(listed - TREE.modules.keys()) == []


def test_no_import_circle() -> None:
    assert TREE.circles() == []


def test_no_import_runs_up_a_layer() -> None:
    assert TREE.upward() == []


def test_each_layer_imports_only_what_it_may() -> None:
    assert TREE.reaching_out() == []


@pytest.mark.parametrize("core", sorted(TREE.core_modules))
def test_cores_are_pure_transitively(core: str) -> None:
    assert TREE.impure(core) == []


def test_the_protocols_layer_needs_only_the_standard_library() -> None:
    bad = {
        name: sorted(
            top
            for top in TREE.external_imports(name)
            if top not in sys.stdlib_module_names or top in IMPURE_STDLIB
        )
        for name in TREE.modules
        if name.startswith("daemons.protocols")
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_shared_package_inits_import_nothing_of_the_project() -> None:
    for name in ("daemons", "daemons.protocols", "daemons.kit", "daemons.frameworks"):
        assert TREE.project_imports(name) == set(), name


@pytest.mark.parametrize("name", AGENT_STATE)
def test_the_agent_state_and_its_transitions_start_no_thread_and_read_no_clock(name: str) -> None:
    bad = sorted(m for m in TREE.imports(name) if m.split(".")[0] in NOT_IN_AGENT_STATE)
    assert bad == []
    assert "daemons.agent.runtime" not in TREE.project_imports(name)


def test_the_containerizer_imports_nothing_of_the_agent() -> None:
    for name in TREE.modules:
        if name.startswith("daemons.agent.containerizer"):
            outside = {
                m
                for m in TREE.project_imports(name)
                if not m.startswith(("daemons.agent.containerizer", "daemons.protocols"))
            } - {"daemons", "daemons.agent"}
            assert outside == set(), name


def test_the_executors_import_only_the_stdlib_and_what_is_copied_beside_them() -> None:
    for name in TREE.modules:
        if name.startswith("daemons.agent.executors"):
            outside = {
                m for m in TREE.project_imports(name) if not m.startswith("daemons.agent.executors")
            } - {"daemons.agent", *EXECUTOR_SHARED_MODULES}
            assert outside == set(), name
            # Run as scripts from their directory, they import each other as top-level modules.
            siblings = {p.stem for p in TREE.modules[name].parent.glob("*.py")}
            libraries = TREE.external_imports(name) - set(sys.stdlib_module_names) - siblings
            assert libraries == set(), name


@pytest.mark.parametrize("name", EXECUTOR_SHARED_MODULES)
def test_what_the_executors_share_imports_nothing_while_being_imported(name: str) -> None:
    """The executors start in ~15 ms: typing (~30 ms with -I -S) or json (~17 ms) would
    double that."""
    assert import_time_imports(TREE.modules[name].read_text()) <= {"__future__"}


def test_each_check_fails_when_it_should(tmp_path: Path) -> None:
    def write(module: str, source: str) -> None:
        path = tmp_path / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)

    for package in ("daemons", "daemons.protocols", "daemons.master", "daemons.agent"):
        write(f"{package}.__init__", "")
    # A core that reads the clock inside a function, and reaches threads through a runtime
    # module imported only for type checking.
    write(
        "daemons.master.failover",
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from daemons.master import service\n"
        "def now():\n    import time\n    return time.time()\n",
    )
    write("daemons.master.service", "import threading\nfrom daemons.master import app\n")
    # A runtime importing its daemon's blueprints, which import it back; one daemon reaching
    # into another; the protocols layer importing a library.
    write("daemons.master.app", "import daemons.master.service\n")
    write("daemons.agent.runtime", "from daemons.master.service import x\n")
    write("daemons.protocols.wire", "import requests\n")
    tree = Tree(tmp_path, ("daemons",), {"daemons.master": ("failover",)})

    assert tree.circles() == [["daemons.master.app", "daemons.master.service"]]
    assert "daemons.master.failover (core) imports daemons.master.service (runtime)" in (
        tree.upward()
    )
    assert "daemons.master.service (runtime) imports daemons.master.app (daemon)" in tree.upward()
    assert "daemons.agent.runtime imports daemons.master.service" in tree.reaching_out()
    assert sorted(tree.impure("daemons.master.failover")) == [
        "daemons.master.failover imports daemons.master.service",
        "daemons.master.failover imports time",
    ]
    assert tree.external_imports("daemons.protocols.wire") == {"requests"}
    assert import_time_imports("import json\nif TYPE_CHECKING:\n    import typing\n") == {"json"}
