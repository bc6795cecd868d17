"""Master and ZooKeeper faults (docs/fault-scenarios.md: F1-F5, F22) against a running workload.

Each scenario injects its fault on the live cluster, measures its pass figures (recorded in the
session's table, see faults_checks.py), undoes the fault, and leaves the cluster whole; the global
invariants are then checked by `Fault`. Times are from this host's monotonic clock, polling every
100 ms, so a figure is good to about 0.1 s. Every bound comes from faults_bounds.py, which says
how it follows from the test profile's settings.
"""

from __future__ import annotations

import signal
import time

import faults_bounds as bound
import pytest
import requests
from faults_checks import FIGURES, Fault, registry_state
from faults_cluster import (
    CLUSTER,
    EXHIBITOR_UNIT,
    FAULT_MARKS,
    MASTER_UNIT,
    REGISTRY,
    SESSION_TIMEOUT,
    FaultCluster,
    wait_for,
)
from faults_framework import Received, Workload

from tools import faults

pytestmark = FAULT_MARKS

EPOCH = f"{REGISTRY}/epoch"


def state_changes(updates: list[Received]) -> list[Received]:
    """Updates that are not reconciliation answers and say anything but TASK_RUNNING."""
    return [u for u in updates if u.reason != "REASON_RECONCILIATION" and u.state != "TASK_RUNNING"]


def epoch_version(c: FaultCluster) -> int | None:
    entry = c.registry().get(EPOCH)
    return None if entry is None else entry[1]


def new_leader(c: FaultCluster, old: str) -> str | None:
    """A master other than `old` that ZooKeeper and the master itself name the leader.

    `old` is never asked over HTTP: a stopped master accepts the connection and answers nothing,
    so each poll would wait out the request's timeout and the figure would be sampled once a
    second instead of every 100 ms.
    """
    found = c.zk_leader()
    if found is None or found[0] == old:
        return None
    return found[0] if c.elected(found[0]) else None


def agents_back(c: FaultCluster, leader: str, agent_ids: set[str]) -> bool:
    slaves = c.slaves(leader)
    return all(a in slaves and slaves[a]["active"] for a in agent_ids)


def failover_figures(
    f: Fault,
    c: FaultCluster,
    w: Workload,
    old: str,
    t0: float,
    election_limit: float,
    reconcile_limit: float,
) -> None:
    """F1/F2: election, agents re-registered, explicit reconciliation, 0 state changes."""
    assert f.before is not None
    try:
        leader, election = wait_for(lambda: new_leader(c, old), 30, "a new leader")
    except AssertionError:
        f.figure("election (fault -> new leader elected)", None, election_limit)
        return
    f.figure("election (fault -> new leader elected)", election, election_limit)
    f.check("a different master leads", leader != old, f"{old} -> {leader}")
    agent_ids = set(f.before.agents)
    limit = bound.AGENTS_BACK_AFTER_ELECTION
    try:
        _, back = wait_for(lambda: agents_back(c, leader, agent_ids), 30, "agents re-registered")
        f.figure("all agents re-registered after the election", back, limit)
    except AssertionError:
        f.figure("all agents re-registered after the election", None, limit)
    tasks = w.running()
    answers, _ = w.reconcile_until_answered(tasks, 30, since=t0)
    took = time.monotonic() - t0
    complete = len(answers) == len(tasks)
    f.figure(
        "explicit reconcile answers 100 % (from the fault)",
        took if complete else None,
        reconcile_limit,
    )
    wrong = {t: s for t, s in answers.items() if s != "TASK_RUNNING"}
    f.check("reconcile answers TASK_RUNNING", not wrong, str(wrong)[:150])
    changes = state_changes(w.updates_since(t0))
    f.check("0 task state changes", not changes, str(changes[:3])[:150])


def test_registry_holds_the_workload(fault_cluster: FaultCluster, workload: Workload) -> None:
    """The durable registry (lead's work) has the framework and both agents, and the leader
    serves it at /registrar(1)/registry."""
    c = fault_cluster
    registry = c.registry()
    agents = registry_state(registry, "agents")
    frameworks = registry_state(registry, "frameworks")
    slave_ids = set(c.slaves())
    FIGURES.check("registry", "epoch znode exists", EPOCH in registry)
    FIGURES.check(
        "registry",
        "both agents admitted",
        agents == dict.fromkeys(slave_ids, "admitted"),
        str(agents),
    )
    FIGURES.check(
        "registry",
        "framework active",
        frameworks.get(workload.framework_id or "") == "active",
        str(frameworks),
    )
    try:
        response = requests.get(c.leader_url() + "/registrar(1)/registry", timeout=3)
        served = response.status_code == 200
        detail = f"HTTP {response.status_code}"
    except requests.RequestException as err:
        served, detail = False, repr(err)[:80]
    FIGURES.check("registry", "leader serves /registrar(1)/registry", served, detail)
    FIGURES.assert_passed("registry")


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("scenario", "sig", "who", "election_limit", "reconcile_limit"),
    [
        (
            "F1",
            signal.SIGKILL,
            "all",
            bound.ELECTION_AFTER_KILL,
            bound.RECONCILED_AFTER_KILL,
        ),
        (
            "F2",
            signal.SIGTERM,
            "main",
            bound.ELECTION_AFTER_SIGTERM,
            bound.ELECTION_AFTER_SIGTERM + bound.RECONCILED_AFTER_KILL - bound.ELECTION_AFTER_KILL,
        ),
    ],
    ids=["f1_kill_9", "f2_sigterm"],
)
def test_leading_master_stopped(
    fault_cluster: FaultCluster,
    workload: Workload,
    scenario: str,
    sig: signal.Signals,
    who: str,
    election_limit: float,
    reconcile_limit: float,
) -> None:
    """F1 (`kill -9`, every process of the unit) and F2 (SIGTERM to the main process)."""
    c = fault_cluster
    with Fault(scenario, c, workload) as f:
        old = f.before.leader if f.before else None
        assert old is not None
        t0 = time.monotonic()
        faults.signal_unit(CLUSTER, c.ip(old), MASTER_UNIT, sig, who=who)
        failover_figures(f, c, workload, old, t0, election_limit, reconcile_limit)
    FIGURES.assert_passed(scenario)


@pytest.mark.timeout(300)
def test_f3_sigstop_leader_then_sigcont(fault_cluster: FaultCluster, workload: Workload) -> None:
    c = fault_cluster
    stopped_for = 2 * SESSION_TIMEOUT
    with Fault("F3", c, workload) as f:
        old = f.before.leader if f.before else None
        assert old is not None
        old_id = (c.master_get("/master/state", old).get("id") or "") + "-O"
        old_pid = c.main_pid(old, MASTER_UNIT)
        t0 = time.monotonic()
        faults.signal_unit(CLUSTER, c.ip(old), MASTER_UNIT, signal.SIGSTOP, who="all")
        try:
            leader, election = wait_for(lambda: new_leader(c, old), stopped_for, "a new leader")
            f.figure("election while the leader is stopped", election, bound.ELECTION_WHILE_STOPPED)
        except AssertionError:
            leader = None
            f.figure("election while the leader is stopped", None, bound.ELECTION_WHILE_STOPPED)
        time.sleep(max(0.0, t0 + stopped_for - time.monotonic()))
        settled = c.registry()
        faults.signal_unit(CLUSTER, c.ip(old), MASTER_UNIT, signal.SIGCONT, who="all")
        resumed = time.monotonic()
        try:
            _, gone = wait_for(lambda: c.elected(old, 0.3) is not True, 10, "the old leader gone")
            f.figure("old leader gone after SIGCONT", gone, bound.GONE_AFTER_SIGCONT)
        except AssertionError:
            f.figure("old leader gone after SIGCONT", None, bound.GONE_AFTER_SIGCONT)
        try:
            _, exited = wait_for(
                lambda: c.main_pid(old, MASTER_UNIT) not in (None, old_pid), 15, "a new process"
            )
            f.figure("old leader's process exited (restarted as standby)", exited, None)
        except AssertionError:
            f.check("old leader's process exited", False, "same MainPID 15 s after SIGCONT")
        # Whatever the resumed process wrote, it wrote before it exited; its successor answering
        # as a standby shows the restart over.
        try:
            wait_for(lambda: c.elected(old, 0.3) is False, 15, "the restarted master standing by")
        except AssertionError:
            f.check("restarted master answers as a standby", False, "not within 15 s")
        after = c.registry()
        for kind in ("agents", "frameworks"):
            same = registry_state(after, kind) == registry_state(settled, kind)
            f.check(f"0 registry writes after resume ({kind} states)", same)
        f.check(
            "epoch untouched after resume",
            (after.get(f"{EPOCH}") or (None, -1))[1] == (settled.get(EPOCH) or (None, -1))[1],
        )
        with workload.lock:
            late = [o for o in workload.offers if o.at >= resumed and o.offer_id.startswith(old_id)]
        f.check("0 offers from the old leader after resume", not late, f"{len(late)} offers")
        f.check("a new leader took over", leader is not None and leader != old, str(leader))
    FIGURES.assert_passed("F3")


@pytest.mark.timeout(300)
def test_f4_leader_cut_from_zk_and_masters(fault_cluster: FaultCluster, workload: Workload) -> None:
    c = fault_cluster
    with Fault("F4", c, workload) as f:
        old = f.before.leader if f.before else None
        assert old is not None
        others = [ip for node, ip in c.masters.items() if node != old]
        epoch_before = epoch_version(c)
        # When the cut master also runs ZooKeeper's leader, the ensemble elects another first.
        cut_zookeeper_leader = c.zk_modes().get(old) == "leader"
        f.note("the cut master ran ZooKeeper's leader", str(cut_zookeeper_leader))
        t0 = time.monotonic()
        faults.drop(CLUSTER, old, to=others, from_=others)
        old_end: float | None = None
        new_start: float | None = None
        new_node: str | None = None
        try:
            deadline = t0 + 30
            while time.monotonic() < deadline and (old_end is None or new_start is None):
                now = time.monotonic()
                electeds = c.electeds()
                if old_end is None and electeds[old] is not True:
                    old_end = now
                for node, elected in electeds.items():
                    if node != old and elected and new_start is None:
                        new_start, new_node = now, node
                time.sleep(0.1)
        finally:
            faults.undrop(CLUSTER, old)
        healed = time.monotonic()
        f.figure(
            "old leader steps down (from the cut)",
            None if old_end is None else old_end - t0,
            bound.STEPS_DOWN_AFTER_CUT,
        )
        f.figure(
            "new leader elected (from the cut)",
            None if new_start is None else new_start - t0,
            bound.new_leader_after_cut(cut_zookeeper_leader),
        )
        overlap = None
        if old_end is not None and new_start is not None:
            overlap = max(0.0, old_end - new_start)
        f.figure("two masters leading at once", overlap, bound.LEADERS_OVERLAP)
        f.check("new leader is another master", new_node not in (None, old), str(new_node))
        epoch_after = epoch_version(c)
        f.check(
            "registry epoch bumped by the new leader (fencing)",
            epoch_before is not None and epoch_after is not None and epoch_after > epoch_before,
            f"epoch version {epoch_before} -> {epoch_after}",
        )
        f.figure("partition held", healed - t0, None)
        lost = [u for u in workload.updates_since(t0) if u.state not in ("TASK_RUNNING",)]
        f.check("0 task loss (no non-RUNNING update)", not lost, str(lost[:3])[:150])
    FIGURES.assert_passed("F4")


# The scenario's outage is 60 s; 20 s is five session timeouts and keeps the suite short.
F5_DOWN = 20.0


@pytest.mark.timeout(400)
def test_f5_two_of_three_zk_servers_down(fault_cluster: FaultCluster, workload: Workload) -> None:
    """Stops Exhibitor (which takes its ZooKeeper child with it) on two masters."""
    c = fault_cluster
    with Fault("F5", c, workload) as f:
        assert f.before is not None
        victims = sorted(c.masters)[1:]
        t0 = time.monotonic()
        answers: dict[str, set[str]] = {node: set() for node in c.masters}
        leaderless_since: float | None = None
        try:
            for node in victims:
                c.on(node, f"systemctl stop {EXHIBITOR_UNIT}")
            while time.monotonic() < t0 + F5_DOWN:
                electeds = c.electeds()
                if any(electeds.values()):
                    leaderless_since = None
                elif leaderless_since is None:
                    leaderless_since = time.monotonic()
                for node, ip in c.masters.items():
                    try:
                        r = requests.get(
                            f"http://{ip}:5050/master/state", timeout=0.5, allow_redirects=False
                        )
                        answers[node].add(str(r.status_code))
                    except requests.RequestException:
                        answers[node].add("none")
                time.sleep(0.2)
            during = c.task_processes()
        finally:
            for node in victims:
                c.on(node, f"systemctl start {EXHIBITOR_UNIT}")
        started = time.monotonic()
        f.figure(
            "masters leaderless (from the fault)",
            None if leaderless_since is None else leaderless_since - t0,
            bound.LEADERLESS_AFTER_QUORUM_LOSS,
        )
        served = {n: sorted(a) for n, a in answers.items()}
        late = {s for a in list(answers.values()) for s in a} - {"503", "none", "307"}
        f.check("API answers 503 or nothing (no stale 200)", "200" not in late, str(served))
        same = {t: [p.executor for p in v] for t, v in during.items()} == {
            t: [p.executor for p in v] for t, v in f.before.processes.items()
        }
        f.check("tasks keep running without quorum", same)
        try:
            _, quorum = wait_for(c.zk_quorum, 60, "ZooKeeper quorum")
            quorum_at = started + quorum
            f.figure("ZooKeeper quorum back (from restart)", quorum, None)
        except AssertionError:
            quorum_at = None
            f.figure("ZooKeeper quorum back (from restart)", None, None)
        if quorum_at is not None:
            try:
                wait_for(c.leader, 60, "a leader")
                after = time.monotonic() - quorum_at
                f.figure("leader after quorum returns", after, bound.LEADER_AFTER_QUORUM)
            except AssertionError:
                f.figure("leader after quorum returns", None, bound.LEADER_AFTER_QUORUM)
            tasks = workload.running()
            answered, _ = workload.reconcile_until_answered(tasks, 40, since=quorum_at)
            took = time.monotonic() - quorum_at
            f.figure(
                "full reconciliation after quorum",
                took if len(answered) == len(tasks) else None,
                bound.RECONCILED_AFTER_QUORUM,
            )
        killed = [
            u
            for u in workload.updates_since(t0)
            if u.state in ("TASK_KILLED", "TASK_FAILED", "TASK_LOST", "TASK_GONE")
        ]
        f.check("0 tasks killed", not killed, str(killed[:3])[:150])
    FIGURES.assert_passed("F5")


def zk_server_pid(c: FaultCluster, node: str) -> int:
    """The ZooKeeper JVM: the `java` child of the node's Exhibitor (its API worker is the
    other child)."""
    exhibitor = c.main_pid(node, EXHIBITOR_UNIT)
    assert exhibitor is not None, f"no Exhibitor on {node}"
    (pid,) = faults.child_pids(CLUSTER, c.ip(node), exhibitor, name="java")
    return pid


@pytest.mark.timeout(300)
def test_f22_sigstop_zk_leader(fault_cluster: FaultCluster, workload: Workload) -> None:
    c = fault_cluster
    with Fault("F22", c, workload) as f:
        assert f.before is not None
        modes = c.zk_modes()
        (zk_leader,) = [node for node, mode in modes.items() if mode == "leader"]
        pid = zk_server_pid(c, zk_leader)
        contender = c.zk_leader()
        ephemerals = c.ephemerals()
        t0 = time.monotonic()
        faults.signal_pids(CLUSTER, c.ip(zk_leader), [pid], signal.SIGSTOP)
        try:
            try:
                _, took = wait_for(
                    lambda: any(m == "leader" for n, m in c.zk_modes().items() if n != zk_leader),
                    2 * SESSION_TIMEOUT,
                    "a new ZooKeeper leader",
                )
                f.figure("new ZooKeeper leader", took, None)
            except AssertionError:
                f.figure("new ZooKeeper leader", None, None)
            time.sleep(max(0.0, t0 + 2 * SESSION_TIMEOUT - time.monotonic()))
        finally:
            try:
                faults.signal_pids(CLUSTER, c.ip(zk_leader), [pid], signal.SIGCONT)
            except faults.FaultError as err:  # Exhibitor killed and replaced it meanwhile
                f.note("SIGCONT", str(err)[:80])
        wait_for(c.zk_quorum, 60, "ZooKeeper quorum")
        wait_for(c.leader, 30, "a leading master")
        f.check(
            "Mesos leader unchanged (same json.info_ znode)",
            c.zk_leader() == contender,
            f"{contender} -> {c.zk_leader()}",
        )
        lost = sorted(set(ephemerals.items()) - set(c.ephemerals().items()))
        f.check("0 ephemeral znodes lost", not lost, str(lost)[:150])
        replaced = zk_server_pid(c, zk_leader) != pid
        f.note("Exhibitor restarted the stopped server", "yes" if replaced else "no")
    FIGURES.assert_passed("F22")
