"""The fault suite's cluster: 3 masters (Exhibitor/ZooKeeper + master), 2 private agents.

Cluster `faults` on test hosts, masters at 198.18.0.51-.53 and agents at .61-.62 (Molecule uses
.111-, `make cluster` .11-), installed by `playbooks/site.yml` with the test profile of
docs/fault-scenarios.md as extra vars. `FaultCluster` reads the cluster from this host (198.18.0.1):
the leader from ZooKeeper and from each master's `master/elected`, the registry znodes, the
agents in the leader's state, and the task processes inside each agent (by MESOS_TASK_ID).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from kazoo.exceptions import KazooException, NoNodeError

from daemons.agent.config import AgentConfig
from daemons.kit import zk
from daemons.master.config import MasterConfig
from tools import faults, testhosts
from tools.cluster import Layout

CLUSTER = "faults"
# Every scenario module's pytestmark.
FAULT_MARKS = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="test hosts need root"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None, reason="needs systemd-nspawn"),
]
LAYOUT = Layout.of(masters=3, agents=2, public_agents=0, offset=40)
MASTERS: dict[str, str] = LAYOUT.groups["masters"]
AGENTS: dict[str, str] = LAYOUT.groups["agents_private"]
ZK_HOSTS = ",".join(f"{ip}:2181" for ip in MASTERS.values())
ZK_PATH = "/mesos"
ZK_URL = f"zk://{ZK_HOSTS}{ZK_PATH}"
REGISTRY = f"{ZK_PATH}/registry"
MASTER_UNIT = "dcos-mesos-master"
AGENT_UNIT = "dcos-mesos-agent"
EXHIBITOR_UNIT = "dcos-exhibitor"
AGENT_RESOURCES = "cpus:4;mem:4096;disk:4096;ports:[31000-32000]"

# The test profile (docs/fault-scenarios.md; the defaults are tick 2 s, session 10 s, ping
# 15 s x 5): short enough that each scenario takes seconds. faults_bounds.py derives every
# figure's bound from these.
TICK = 0.5
SYNC_LIMIT = 2
SESSION_TIMEOUT = 4.0
PING_TIMEOUT = 1.0
MAX_PING_TIMEOUTS = 5
PING_BUDGET = PING_TIMEOUT * MAX_PING_TIMEOUTS
REREGISTER_TIMEOUT = 20.0
RETRY_INITIAL = 1.0
RETRY_MAX = 30.0
MASTER_PROFILE: dict[str, Any] = {
    "agent_ping_timeout": PING_TIMEOUT,
    "max_agent_ping_timeouts": MAX_PING_TIMEOUTS,
}
AGENT_PROFILE: dict[str, Any] = {
    "status_update_retry_initial": RETRY_INITIAL,
    "status_update_retry_max": RETRY_MAX,
    "zk_session_timeout": SESSION_TIMEOUT,
}

T = TypeVar("T")


def supported(config: type[Any], wanted: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The keys of `wanted` the daemon's config dataclass (this working tree) knows, and the rest.

    The daemons reject unknown keys, so a key the tree does not have yet would fail the whole
    install; it is left out and reported instead (the scenarios that need it then fail).
    """
    known = set(getattr(config, "__dataclass_fields__", {}))
    return {k: v for k, v in wanted.items() if k in known}, sorted(set(wanted) - known)


def profile_vars() -> tuple[dict[str, Any], list[str]]:
    """site.yml extra vars for the test profile, and the profile keys this tree lacks."""
    master_extra, master_missing = supported(MasterConfig, MASTER_PROFILE)
    agent_extra, agent_missing = supported(AgentConfig, AGENT_PROFILE)
    extra_vars: dict[str, Any] = {
        "dcos_zookeeper_tick_time": int(TICK * 1000),
        # Followers notice a dead ZooKeeper leader after syncLimit ticks (1 s, not 2.5 s): F4
        # cuts a master whose ZooKeeper may be the ensemble's leader.
        "dcos_zookeeper_sync_limit": SYNC_LIMIT,
        "dcos_zookeeper_exhibitor_check_ms": 500,
        "dcos_master_zk_session_timeout": SESSION_TIMEOUT,
        "dcos_master_agent_reregister_timeout": REREGISTER_TIMEOUT,
        "dcos_master_extra_config": master_extra,
        "dcos_agent_executor_reregistration_timeout": 2.0,
        "dcos_agent_resources": AGENT_RESOURCES,
        "dcos_agent_extra_config": agent_extra,
    }
    missing = [f"master.{k}" for k in master_missing] + [f"agent.{k}" for k in agent_missing]
    return extra_vars, missing


def wait_for(
    probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1
) -> tuple[T, float]:
    """Poll `probe` until it returns something truthy; (that value, seconds it took)."""
    start = time.monotonic()
    deadline = start + timeout
    last: Any = None
    while True:
        try:
            value = probe()
        except (OSError, requests.RequestException, faults.FaultError, KazooException) as err:
            value, last = None, err
        if value:
            return value, time.monotonic() - start
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} ({last!r})")
        time.sleep(interval)


@dataclass(frozen=True)
class TaskProcess:
    """A task's process tree on an agent: its executor and the task's top process."""

    agent: str
    executor: tuple[int, int]  # (pid in the node, start time in clock ticks since boot)
    task: tuple[int, int] | None


@dataclass
class Snapshot:
    """What the cluster looked like at one moment (before and after a fault)."""

    at: float
    leader: str | None
    registry: dict[str, tuple[Any, int]]  # path -> (JSON or text, znode version)
    processes: dict[str, list[TaskProcess]]
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)  # agent id -> /slaves entry


PROCESS_SCAN = r"""
import json, os
found = {}
for name in os.listdir("/proc"):
    if not name.isdigit():
        continue
    try:
        with open(f"/proc/{name}/environ", "rb") as fh:
            env = fh.read().split(b"\0")
        with open(f"/proc/{name}/stat") as fh:
            stat = fh.read()
    except OSError:
        continue
    ids = [e[len(b"MESOS_TASK_ID="):].decode() for e in env if e.startswith(b"MESOS_TASK_ID=")]
    if not ids:
        continue
    rest = stat[stat.rindex(")") + 2:].split()
    if rest[0] == "Z":
        continue
    found.setdefault(ids[0], []).append([int(name), int(rest[1]), int(rest[19])])
print(json.dumps(found))
"""


def task_trees(raw: dict[str, list[list[int]]], agent: str) -> dict[str, list[TaskProcess]]:
    """{task id: [TaskProcess]} from the scan: tops (whose parent is not of the same task) are
    executors, their children with the task's id are the task."""
    out: dict[str, list[TaskProcess]] = {}
    for task_id, procs in raw.items():
        pids = {p[0] for p in procs}
        for pid, ppid, start in procs:
            if ppid in pids:
                continue
            children = sorted((p[2], p[0]) for p in procs if p[1] == pid)
            task = (children[0][1], children[0][0]) if children else None
            out.setdefault(task_id, []).append(TaskProcess(agent, (pid, start), task))
    return out


class FaultCluster:
    def __init__(self) -> None:
        self.masters = dict(MASTERS)
        self.agents = dict(AGENTS)
        # Reconnects back off to 1 s at most, like the daemons': the observer must not be the
        # one that notices a returning quorum late (kazoo's own cap is an hour).
        self.zk = zk.connect(ZK_HOSTS, session_timeout=10.0, connect_timeout=30.0)
        self.http = requests.Session()
        self.http.trust_env = False

    def close(self) -> None:
        self.http.close()
        try:
            self.zk.stop()
            self.zk.close()
        except KazooException:
            pass

    # --- nodes ----------------------------------------------------------------------------------

    def ip(self, node: str) -> str:
        return {**self.masters, **self.agents}[node]

    def on(self, node: str, script: str, timeout: float = faults.SSH_TIMEOUT) -> str:
        return faults.on_node(CLUSTER, self.ip(node), script, timeout)

    def node_of(self, ip: str) -> str:
        return next(n for n, a in {**self.masters, **self.agents}.items() if a == ip)

    # --- leadership -----------------------------------------------------------------------------

    def zk_leader(self) -> tuple[str, str] | None:
        """(master node, its json.info_ znode) of the lowest contender in ZooKeeper."""
        children = sorted(c for c in self.zk.get_children(ZK_PATH) if c.startswith("json.info_"))
        for child in children:
            try:
                data, _ = self.zk.get(f"{ZK_PATH}/{child}")
            except NoNodeError:
                continue
            info = json.loads(data)
            ip = (info.get("address") or {}).get("ip") or info.get("hostname")
            return self.node_of(ip), child
        return None

    def elected(self, node: str, timeout: float = 1.0) -> bool | None:
        """The master's own `master/elected`; None when it does not answer."""
        try:
            url = f"http://{self.masters[node]}:5050/metrics/snapshot"
            response = self.http.get(url, timeout=timeout)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        return bool(response.json().get("master/elected"))

    def electeds(self) -> dict[str, bool | None]:
        return {node: self.elected(node) for node in self.masters}

    def leader(self) -> str | None:
        """The master that both ZooKeeper and the master itself name the leader."""
        found = self.zk_leader()
        if found is None or not self.elected(found[0]):
            return None
        return found[0]

    def leader_url(self) -> str:
        node, _ = wait_for(self.leader, 20, "a leading master")
        return f"http://{self.masters[node]}:5050"

    def master_get(self, path: str, node: str | None = None, timeout: float = 3.0) -> Any:
        url = f"http://{self.masters[node]}:5050" if node else self.leader_url()
        response = self.http.get(url + path, timeout=timeout, allow_redirects=False)
        response.raise_for_status()
        return response.json()

    def slaves(self, node: str | None = None) -> dict[str, dict[str, Any]]:
        body = self.master_get("/master/slaves", node)
        return {s["id"]: s for s in body["slaves"]}

    def master_tasks(self) -> dict[str, str]:
        """task id -> state, in the leader's /master/state (running and unreachable tasks)."""
        state = self.master_get("/master/state")
        out: dict[str, str] = {}
        for framework in state["frameworks"]:
            for task in framework["tasks"] + framework.get("unreachable_tasks", []):
                out[task["id"]] = task["state"]
        return out

    # --- ZooKeeper content ----------------------------------------------------------------------

    def registry(self) -> dict[str, tuple[Any, int]]:
        """Every znode under <zk path>/registry: path -> (JSON if it parses, else text; version)."""
        out: dict[str, tuple[Any, int]] = {}
        pending = [REGISTRY]
        while pending:
            path = pending.pop()
            try:
                data, stat = self.zk.get(path)
                children = self.zk.get_children(path)
            except NoNodeError:
                continue
            text = data.decode(errors="replace") if data else ""
            try:
                value: Any = json.loads(text) if text else None
            except ValueError:
                value = text
            out[path] = (value, stat.version)
            pending.extend(f"{path}/{c}" for c in children)
        return out

    def ephemerals(self) -> dict[str, int]:
        """Every ephemeral znode under the masters' path: path -> owner session."""
        out: dict[str, int] = {}
        pending = [ZK_PATH]
        while pending:
            path = pending.pop()
            try:
                _, stat = self.zk.get(path)
                children = self.zk.get_children(path)
            except NoNodeError:
                continue
            if stat.ephemeralOwner:
                out[path] = stat.ephemeralOwner
            pending.extend(f"{path.rstrip('/')}/{c}" for c in children)
        return out

    def zk_modes(self) -> dict[str, str | None]:
        return {node: faults.zk_mode(ip) for node, ip in self.masters.items()}

    def zk_quorum(self) -> bool:
        modes = list(self.zk_modes().values())
        return modes.count("leader") == 1 and modes.count("follower") == len(modes) - 1

    # --- processes ------------------------------------------------------------------------------

    def task_processes(self, agents: Iterable[str] | None = None) -> dict[str, list[TaskProcess]]:
        out: dict[str, list[TaskProcess]] = {}
        for agent in agents if agents is not None else self.agents:
            script = f"/usr/bin/python3 - <<'EOF'\n{PROCESS_SCAN}\nEOF"
            raw = json.loads(self.on(agent, script))
            for task_id, trees in task_trees(raw, agent).items():
                out.setdefault(task_id, []).extend(trees)
        return out

    def main_pid(self, node: str, unit: str) -> int | None:
        return faults.main_pid(CLUSTER, self.ip(node), unit)

    def snapshot(self) -> Snapshot:
        return Snapshot(
            at=time.monotonic(),
            leader=self.leader(),
            registry=self.registry(),
            processes=self.task_processes(),
            agents=self.slaves(),
        )

    # --- health ---------------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What keeps the cluster from being whole (empty when it is)."""
        found: list[str] = []
        if not self.zk_quorum():
            found.append(f"ZooKeeper modes {self.zk_modes()}")
        for node, ip in {**self.masters, **self.agents}.items():
            if faults.has_drops(CLUSTER, node):
                found.append(f"{node} still drops packets")
            unit = MASTER_UNIT if node in self.masters else AGENT_UNIT
            if not faults.unit_active(CLUSTER, ip, unit):
                found.append(f"{unit} on {node} is not active")
        for node, entry in testhosts.status(CLUSTER).items():
            if not (entry["running"] and entry["link_up"]):
                found.append(f"test host {node}: {entry}")
        electeds = self.electeds()
        if sum(1 for e in electeds.values() if e) != 1:
            found.append(f"master/elected {electeds}")
        leader = self.leader()
        if leader is None:
            found.append("no leader that ZooKeeper and the master agree on")
        else:
            slaves = self.slaves(leader)
            active = sorted(s["hostname"] for s in slaves.values() if s["active"])
            if active != sorted(self.agents.values()):
                found.append(f"active agents {active}")
        return found

    def wait_whole(self, timeout: float = 90.0) -> float:
        """Wait until `problems()` is empty; seconds it took."""
        last: list[str] = []

        def whole() -> bool:
            nonlocal last
            last = self.problems()
            return not last

        try:
            _, took = wait_for(whole, timeout, "the cluster to be whole", interval=0.5)
        except AssertionError:
            raise AssertionError(f"cluster not whole after {timeout:.0f} s: {last}") from None
        return took


def write_vars(path: Path, extra_vars: dict[str, Any]) -> Path:
    path.write_text(json.dumps(extra_vars, indent=1) + "\n")
    return path
