"""Pass figures and the global invariants every fault scenario is checked against.

`Figures` collects what each scenario measured next to its pass figure (docs/fault-scenarios.md); a
check that fails is recorded, not raised at once, so one scenario reports every figure; the
scenario then raises all of its failures together (`Figures.assert_passed`). The session prints
the table at the end (conftest.py, pytest_terminal_summary).

`Fault` wraps one scenario: a snapshot before (leader, registry, task processes, agents), the
fault, then: the cluster is whole again (restarted what was killed, healed what was cut), and
the invariants hold — no registry entry acknowledged before is gone or regressed, no task runs
twice, the number of running regular tasks equals the target in the framework, in the leader's
state and on the agents, and tasks the scenario did not touch run in the very same processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from faults_cluster import REGISTRY, FaultCluster, Snapshot, TaskProcess
from faults_framework import Workload


@dataclass
class Figure:
    scenario: str
    name: str
    value: str
    limit: str
    ok: bool | None  # None: recorded for information


@dataclass
class Figures:
    rows: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def measure(
        self, scenario: str, name: str, value: float | None, limit: float | None, unit: str = "s"
    ) -> bool:
        """Record `value` against `value <= limit`; False when it misses (None: not reached)."""
        shown = "not reached" if value is None else f"{value:.2f} {unit}".strip()
        limit_text = "" if limit is None else f"<= {limit:g} {unit}".strip()
        ok = None if limit is None else (value is not None and value <= limit)
        self.rows.append(Figure(scenario, name, shown, limit_text, ok))
        return ok is not False

    def check(self, scenario: str, name: str, ok: bool, detail: str = "") -> bool:
        self.rows.append(Figure(scenario, name, detail or ("yes" if ok else "no"), "yes", ok))
        return ok

    def failures(self, scenario: str) -> list[Figure]:
        return [r for r in self.rows if r.scenario == scenario and r.ok is False]

    def assert_passed(self, scenario: str) -> None:
        bad = self.failures(scenario)
        assert not bad, f"{scenario}: " + "; ".join(f"{f.name}: {f.value} ({f.limit})" for f in bad)

    def table(self) -> list[str]:
        lines = [f"{'scenario':<9} {'figure':<58} {'measured':<28} {'pass':<14} result"]
        for r in self.rows:
            result = {True: "ok", False: "FAIL", None: "-"}[r.ok]
            lines.append(f"{r.scenario:<9} {r.name:<58} {r.value:<28} {r.limit:<14} {result}")
        return lines + [f"note: {n}" for n in self.notes]


FIGURES = Figures()


def registry_regressions(
    before: dict[str, tuple[Any, int]], after: dict[str, tuple[Any, int]]
) -> list[str]:
    """Entries acknowledged before that are gone, or whose znode went back in version, after.

    States may move on (admitted -> unreachable -> admitted) but a znode never disappears and its
    version never goes down; the epoch only grows.
    """
    out = []
    for path, (value, version) in before.items():
        if path not in after:
            out.append(f"{path} is gone (was {value!r})")
        elif after[path][1] < version:
            out.append(f"{path} went from version {version} to {after[path][1]}")
    return out


def registry_state(registry: dict[str, tuple[Any, int]], kind: str) -> dict[str, str]:
    """{id: state} of the registry's `agents` or `frameworks` entries."""
    prefix = f"{REGISTRY}/{kind}/"
    out = {}
    for path, (value, _) in registry.items():
        if path.startswith(prefix) and isinstance(value, dict):
            out[path[len(prefix) :]] = str(value.get("state"))
    return out


def duplicates(processes: dict[str, list[TaskProcess]]) -> dict[str, list[TaskProcess]]:
    return {task_id: trees for task_id, trees in processes.items() if len(trees) > 1}


class Fault:
    """`with Fault(name, cluster, workload, touched=...) as f:` around one scenario."""

    def __init__(
        self,
        scenario: str,
        cluster: FaultCluster,
        workload: Workload,
        *,
        allowed_replacements: int = 0,
    ) -> None:
        self.scenario = scenario
        self.cluster = cluster
        self.workload = workload
        self.allowed_replacements = allowed_replacements
        self.before: Snapshot | None = None
        self.started = 0.0
        # Tasks the scenario ends on purpose (their processes may go).
        self.ended: set[str] = set()

    def __enter__(self) -> Fault:
        self.cluster.wait_whole(60)
        wait_target(self.workload, 60)
        self.before = self.cluster.snapshot()
        self.started = time.monotonic()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None and not issubclass(kind, AssertionError):
            return  # a harness error: let it through as it is
        self.finish()

    def figure(self, name: str, value: float | None, limit: float | None, unit: str = "s") -> bool:
        return FIGURES.measure(self.scenario, name, value, limit, unit)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        return FIGURES.check(self.scenario, name, ok, detail)

    def note(self, name: str, detail: str) -> None:
        """Something observed that has no pass figure."""
        FIGURES.rows.append(Figure(self.scenario, name, detail, "", None))

    def finish(self) -> None:
        """The cluster is whole again, then the global invariants."""
        assert self.before is not None
        try:
            took = self.cluster.wait_whole(90)
        except AssertionError as err:
            self.check("cluster whole again", False, str(err)[:200])
            return
        self.check("cluster whole again", True, f"after {took:.1f} s")
        try:
            wait_target(self.workload, 60)
        except AssertionError as err:
            self.check("framework back at target", False, str(err)[:120])
        after = self.cluster.snapshot()
        lost = registry_regressions(self.before.registry, after.registry)
        self.check("no registry write lost", not lost, "; ".join(lost)[:200])
        twice = duplicates(after.processes)
        self.check("no task runs twice", not twice, ", ".join(sorted(twice))[:200])
        running = self.workload.running()
        in_master = {t for t, s in self.cluster.master_tasks().items() if s == "TASK_RUNNING"}
        on_agents = set(after.processes)
        regular_on_agents = {t for t in on_agents if not t.startswith("faults-extra-")}
        counts = (len(running), len(in_master & set(running)), len(regular_on_agents))
        self.check(
            "running tasks = target (framework, master, agents)",
            counts == (self.workload.target,) * 3 and set(running) == regular_on_agents,
            f"{counts} target {self.workload.target}",
        )
        replaced = [
            t
            for t, trees in self.before.processes.items()
            if t not in self.ended
            and [p.executor for p in after.processes.get(t, [])] != [p.executor for p in trees]
        ]
        self.check(
            "untouched tasks keep their processes",
            len(replaced) <= self.allowed_replacements,
            f"{len(replaced)} changed: {', '.join(sorted(replaced))[:150]}",
        )


def wait_target(workload: Workload, timeout: float) -> float:
    return workload.wait(
        lambda: len(workload.running()) == workload.target,
        timeout,
        f"{workload.target} running tasks",
    )
