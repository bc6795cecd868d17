"""Agent, network and scheduler faults (docs/fault-scenarios.md: F8, F9, F11-F14) on a workload.

Partitions are nftables drops in the agent's network namespace against the three masters (which
also run ZooKeeper), so this host (198.18.0.1) still reaches the agent over ssh while it is cut.
Every bound comes from faults_bounds.py, which says how it follows from the profile's settings.
"""

from __future__ import annotations

import signal
import time
from collections import defaultdict

import faults_bounds as bound
import pytest
import requests
from faults_checks import FIGURES, Fault, registry_state
from faults_cluster import (
    AGENT_UNIT,
    CLUSTER,
    FAULT_MARKS,
    PING_BUDGET,
    REGISTRY,
    RETRY_MAX,
    FaultCluster,
    wait_for,
)
from faults_framework import CPUS, Workload

from tools import faults

pytestmark = FAULT_MARKS

AGENT_TOTAL_CPUS = 4.0  # faults_cluster.AGENT_RESOURCES


def agent_id_of(c: FaultCluster, node: str) -> str:
    ip = c.agents[node]
    (agent_id,) = [a for a, s in c.slaves().items() if s["hostname"] == ip]
    return agent_id


def reregistered_time(c: FaultCluster, agent_id: str) -> float | None:
    slave = c.slaves().get(agent_id)
    if slave is None or not slave["active"]:
        return None
    value = slave.get("reregistered_time")
    return float(value) if value is not None else None


def reregistered_since(c: FaultCluster, agent_id: str, before: float | None) -> bool:
    now = reregistered_time(c, agent_id)
    return now is not None and now != before


def registry_version(c: FaultCluster, agent_id: str) -> int | None:
    entry = c.registry().get(f"{REGISTRY}/agents/{agent_id}")
    return None if entry is None else entry[1]


def tasks_on(w: Workload, agent_id: str) -> dict[str, str]:
    return {t: a for t, a in w.running().items() if a == agent_id}


def partition(c: FaultCluster, node: str, one_way: bool = False) -> None:
    """Drop traffic between `node` and every master (only master -> node when `one_way`)."""
    masters = list(c.masters.values())
    faults.drop(CLUSTER, node, to=[] if one_way else masters, from_=masters)


def back_running(c: FaultCluster, w: Workload, tasks: dict[str, str], timeout: float) -> float:
    """Seconds until the leader shows `tasks` running and the framework learned it."""
    start = time.monotonic()
    wait_for(
        lambda: all(c.master_tasks().get(t) == "TASK_RUNNING" for t in tasks),
        timeout,
        "tasks running in the master",
        interval=0.2,
    )
    answers, _ = w.reconcile_until_answered(tasks, timeout)
    assert all(s == "TASK_RUNNING" for s in answers.values()), answers
    return time.monotonic() - start


@pytest.mark.timeout(300)
def test_f8_kill_9_agent_restarted(fault_cluster: FaultCluster, workload: Workload) -> None:
    c = fault_cluster
    node = "agent1"
    with Fault("F8", c, workload) as f:
        agent_id = agent_id_of(c, node)
        before = reregistered_time(c, agent_id)
        old_pid = c.main_pid(node, AGENT_UNIT)
        t0 = time.monotonic()
        faults.kill_daemon(CLUSTER, c.ip(node), AGENT_UNIT, signal.SIGKILL)

        def serving() -> bool:
            pid = c.main_pid(node, AGENT_UNIT)
            if pid in (None, old_pid):
                return False
            url = f"http://{c.ip(node)}:5051/health"
            return requests.get(url, timeout=0.5).status_code == 200

        _, restart = wait_for(serving, 30, "the agent to serve again")
        restarted = t0 + restart
        f.figure(
            "agent serving again after kill -9 (systemd)", restart, bound.AGENT_SERVING_AFTER_KILL
        )
        try:
            wait_for(lambda: reregistered_since(c, agent_id, before), 30, "re-registration")
            back = time.monotonic() - restarted
            f.figure("agent re-registered (from its restart)", back, bound.AGENT_BACK_AFTER_RESTART)
        except AssertionError:
            f.figure("agent re-registered (from its restart)", None, bound.AGENT_BACK_AFTER_RESTART)
        f.check("same agent id", agent_id in c.slaves() and agent_id_of(c, node) == agent_id)
        assert f.before is not None
        now = c.task_processes([node])
        mine = {t: p for t, p in f.before.processes.items() if p[0].agent == node}
        same = all(
            [p.executor for p in now.get(t, [])] == [p.executor for p in v] for t, v in mine.items()
        )
        f.check("same executor PIDs (0 tasks restarted)", same and bool(mine), f"{len(mine)} tasks")
        changes = [u for u in workload.updates_since(t0) if u.state != "TASK_RUNNING"]
        f.check("0 task state changes", not changes, str(changes[:3])[:150])
    FIGURES.assert_passed("F8")


@pytest.mark.timeout(300)
def test_f9_agent_down_longer_than_the_ping_budget(
    fault_cluster: FaultCluster, workload: Workload
) -> None:
    c = fault_cluster
    node = "agent2"
    with Fault("F9", c, workload) as f:
        agent_id = agent_id_of(c, node)
        tasks = tasks_on(workload, agent_id)
        known = set(workload.tasks)
        t0 = time.monotonic()
        c.on(node, f"systemctl stop {AGENT_UNIT}")  # KillMode=process: executors live on
        try:

            def all_unreachable() -> bool:
                got = {
                    u.task_id for u in workload.updates_since(t0) if u.state == "TASK_UNREACHABLE"
                }
                return set(tasks) <= got

            try:
                _, took = wait_for(all_unreachable, PING_BUDGET + 10, "TASK_UNREACHABLE")
                f.figure("TASK_UNREACHABLE for all its tasks", took, bound.UNREACHABLE_AFTER_STOP)
            except AssertionError:
                f.figure("TASK_UNREACHABLE for all its tasks", None, bound.UNREACHABLE_AFTER_STOP)
            time.sleep(max(0.0, t0 + PING_BUDGET + 3 - time.monotonic()))
        finally:
            c.on(node, f"systemctl start {AGENT_UNIT}")
        lost = [u for u in workload.updates_since(t0) if u.state == "TASK_LOST"]
        f.check("no TASK_LOST to a PARTITION_AWARE framework", not lost, str(lost[:2])[:120])
        state = registry_state(c.registry(), "agents").get(agent_id)
        f.note("registry state of the agent after its return", str(state))
        try:
            took = back_running(c, workload, tasks, 30)
            f.figure("its tasks running again after it returned", took, None)
        except AssertionError as err:
            f.check("its tasks running again after it returned", False, str(err)[:150])
        launched = set(workload.tasks) - known
        f.check("no replacement launched (tasks came back)", not launched, str(sorted(launched)))
        f.check("agent kept its id", agent_id in c.slaves())
    FIGURES.assert_passed("F9")


@pytest.mark.timeout(300)
def test_f11_short_agent_partition_changes_nothing(
    fault_cluster: FaultCluster, workload: Workload
) -> None:
    c = fault_cluster
    node = "agent1"
    held = 3.0
    with Fault("F11", c, workload) as f:
        agent_id = agent_id_of(c, node)
        before = reregistered_time(c, agent_id)
        version = registry_version(c, agent_id)
        inactive: list[float] = []
        t0 = time.monotonic()
        partition(c, node)
        try:
            while time.monotonic() < t0 + held:
                if not c.slaves().get(agent_id, {}).get("active"):
                    inactive.append(time.monotonic() - t0)
                time.sleep(0.2)
        finally:
            faults.undrop(CLUSTER, node)
        end = time.monotonic() + PING_BUDGET
        while time.monotonic() < end:
            if not c.slaves().get(agent_id, {}).get("active"):
                inactive.append(time.monotonic() - t0)
            time.sleep(0.2)
        changes = [u for u in workload.updates_since(t0) if u.reason != "REASON_RECONCILIATION"]
        f.check("0 state changes (no update at all)", not changes, str(changes[:3])[:150])
        f.check("agent never inactive in the master", not inactive, f"{len(inactive)} polls")
        f.check("0 re-registrations", reregistered_time(c, agent_id) == before)
        f.check("registry entry untouched", registry_version(c, agent_id) == version)
    FIGURES.assert_passed("F11")


@pytest.mark.timeout(300)
def test_f12_one_way_drop_master_to_agent(fault_cluster: FaultCluster, workload: Workload) -> None:
    c = fault_cluster
    node = "agent2"
    held = PING_BUDGET + 2
    with Fault("F12", c, workload) as f:
        agent_id = agent_id_of(c, node)
        before = reregistered_time(c, agent_id)
        tasks = tasks_on(workload, agent_id)
        t0 = time.monotonic()
        partition(c, node, one_way=True)
        try:
            time.sleep(held)
        finally:
            faults.undrop(CLUSTER, node)
        try:
            wait_for(lambda: reregistered_since(c, agent_id, before), 30, "re-registration")
            limit = bound.reregistered_after_one_way_drop(held)
            f.figure("agent re-registered (from the drop)", time.monotonic() - t0, limit)
        except AssertionError:
            limit = bound.reregistered_after_one_way_drop(held)
            f.figure("agent re-registered (from the drop)", None, limit)
        f.figure("drop held", held, None)
        try:
            back_running(c, workload, tasks, 30)
        except AssertionError as err:
            f.check("its tasks running after the heal", False, str(err)[:150])
        ended = [
            u
            for u in workload.updates_since(t0)
            if u.state in ("TASK_LOST", "TASK_KILLED", "TASK_FAILED", "TASK_GONE")
        ]
        f.check("0 task loss", not ended, str(ended[:3])[:150])
    FIGURES.assert_passed("F12")


ACK_DROP = 20.0


@pytest.mark.timeout(300)
def test_f13_scheduler_acks_dropped(fault_cluster: FaultCluster, workload: Workload) -> None:
    """The framework withholds ACKNOWLEDGE for 20 s while two tasks are killed and replaced."""
    c = fault_cluster
    with Fault("F13", c, workload) as f:
        victims = sorted(workload.running().items())[:2]
        f.ended.update(t for t, _ in victims)
        t0 = time.monotonic()
        workload.withhold_acks()
        try:
            for task_id, agent_id in victims:
                workload.client.kill(task_id, agent_id)
            time.sleep(ACK_DROP)
        finally:
            workload.resume_acks()
        resumed = time.monotonic()
        with workload.lock:
            withheld = {(u.task_id, u.uuid) for u in workload.withheld if u.at >= t0}
        f.check("updates arrived while ACKs were withheld", len(withheld) >= 4, f"{len(withheld)}")

        def drained() -> bool:
            with workload.lock:
                acked = {(t, u) for at, t, u in workload.acked if at >= resumed}
            return withheld <= acked

        try:
            _, took = wait_for(drained, RETRY_MAX + 15, "withheld updates re-sent and acked")
            limit = bound.drained_after_acks_return(ACK_DROP)
            f.figure("pending updates drained (from the heal)", took, limit)
        except AssertionError:
            limit = bound.drained_after_acks_return(ACK_DROP)
            f.figure("pending updates drained (from the heal)", None, limit)
        updates = [u for u in workload.updates_since(t0) if u.uuid is not None]
        per_uuid: dict[str, set[tuple[str, str]]] = defaultdict(set)
        per_state: dict[tuple[str, str], set[str]] = defaultdict(set)
        deliveries: dict[str, int] = defaultdict(int)
        for u in updates:
            assert u.uuid is not None
            per_uuid[u.uuid].add((u.task_id, u.state))
            per_state[(u.task_id, u.state)].add(u.uuid)
            if u.at < resumed:
                deliveries[u.uuid] += 1
        f.check(
            "a uuid always carries the same task and state",
            all(len(v) == 1 for v in per_uuid.values()),
        )
        f.check(
            "duplicates carry the same uuid",
            all(len(v) == 1 for v in per_state.values()),
            str({k: len(v) for k, v in per_state.items() if len(v) > 1})[:150],
        )
        f.check(
            "agent re-sent unacknowledged updates while withheld",
            any(n >= 2 for n in deliveries.values()),
            f"max deliveries {max(deliveries.values(), default=0)}",
        )
        killed = {u.task_id for u in updates if u.state == "TASK_KILLED"}
        f.check("every update delivered >= 1x (KILLED)", {t for t, _ in victims} <= killed)
    FIGURES.assert_passed("F13")


F14_COMMAND = "trap 'exit 0' TERM; while :; do sleep 1; done"


@pytest.mark.timeout(300)
def test_f14_task_exits_during_agent_partition(
    fault_cluster: FaultCluster, workload: Workload
) -> None:
    c = fault_cluster
    node = "agent2"
    held = 4.0
    with Fault("F14", c, workload) as f:
        agent_id = agent_id_of(c, node)
        task_id = workload.launch_extra(F14_COMMAND, agent_id)
        workload.wait(
            lambda: (
                workload.live().get(task_id) is not None
                and workload.live()[task_id].state == "TASK_RUNNING"
            ),
            30,
            f"{task_id} running",
        )
        (tree,) = c.task_processes([node])[task_id]
        assert tree.task is not None
        t0 = time.monotonic()
        partition(c, node)
        try:
            c.on(node, f"kill -TERM {tree.task[0]}")
            time.sleep(held)
        finally:
            faults.undrop(CLUSTER, node)
        healed = time.monotonic()

        def finished() -> bool:
            return any(
                u.task_id == task_id and u.state == "TASK_FINISHED"
                for u in workload.updates_since(t0)
            )

        try:
            _, took = wait_for(finished, 30, "TASK_FINISHED")
            f.figure("TASK_FINISHED received (from the heal)", took, None)
        except AssertionError:
            f.check("TASK_FINISHED received >= 1x", False, "not within 30 s of the heal")
        # If the partition outlasted the ping budget, the agent's tasks went TASK_UNREACHABLE
        # and ran on: ask, as a partition-aware framework does, before counting them.
        on_agent = {t.task_id: agent_id for t in workload.live().values() if t.agent_id == agent_id}
        on_agent.pop(task_id, None)
        workload.reconcile_until_answered(on_agent, 15)
        n = len(tasks_on(workload, agent_id))
        want_used = round(n * CPUS, 6)

        def used_cpus() -> float:
            return round(float(c.slaves()[agent_id]["used_resources"]["cpus"]), 6)

        try:
            wait_for(lambda: used_cpus() == want_used, 10, f"used cpus {want_used}")
            f.check("master released the task's resources once", True, f"used {want_used}")
        except AssertionError:
            f.check(
                "master released the task's resources once",
                False,
                f"used {used_cpus()}, want {want_used}",
            )
        after = time.monotonic() + 1.5
        time.sleep(1.5)
        free = round(AGENT_TOTAL_CPUS - want_used, 6)

        def offered() -> float | None:
            with workload.lock:
                seen = [o for o in workload.offers if o.agent_id == agent_id and o.at >= after]
            return round(seen[-1].cpus, 6) if seen else None

        got, _ = wait_for(offered, 15, "an offer from the agent")
        f.check(
            "offers show the resources back exactly once",
            got == free,
            f"offered {got} cpus, free {free}",
        )
        f.figure("partition held", healed - t0, None)
    FIGURES.assert_passed("F14")
