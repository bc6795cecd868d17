"""Incremental generation (`records.generate(..., previous=)`) and the zone patched from what it
says changed (`dns_zone.zone_of(..., previous)`), against both made whole: random runs of
cluster changes over the recorded state of tests/fixtures/mesos_dns (see
test_mesos_dns_records.py for its cluster), and what is reused when one task changes."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from daemons.mesos_client.master_view import MasterState
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.dns_zone import Built, _children, zone_of
from daemons.mesos_dns.records import RecordSet, StateError, generate

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mesos_dns" / "master_state.json"
STATE: dict[str, Any] = json.loads(FIXTURE.read_text())
CONFIG = MesosDnsConfig()
PREFIX = "8b3f6a0e-4f0c-4a8e-9d5e-2c1f7a9b3d10"
# Names chosen to collide across families: a framework named like a task's name under another
# framework, tasks named like the cluster's own names.
FRAMEWORK_NAMES = ["marathon", "metronome", "web.marathon", "leader", "slave", "Data_Pipeline.v2"]
TASK_NAMES = ["web", "web", "cache", "master", "MyApp.MyGroup", "slave", "x" * 60, "db"]


class Cluster:
    """A `/master/state` changed the way the state view changes it: a changed task, agent or
    framework is a new dict, the others stay the very same objects."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        state = copy.deepcopy(STATE)
        self.leader = state["leader"]
        self.agents: list[dict[str, Any]] = list(state["slaves"])
        self.frameworks: list[dict[str, Any]] = [
            {k: v for k, v in f.items() if k != "tasks"} for f in state["frameworks"]
        ]
        self.tasks: dict[str, list[dict[str, Any]]] = {
            f["id"]: list(f["tasks"]) for f in state["frameworks"]
        }
        self.masters = ["10.0.4.11:5050", "10.0.4.12:5050"]
        self.listener = ["10.0.4.11"]
        self.serial = 0

    def state(self) -> dict[str, Any]:
        return {
            "leader": self.leader,
            "slaves": list(self.agents),
            "frameworks": [
                {**f, "tasks": list(self.tasks.get(f["id"], []))} for f in self.frameworks
            ],
        }

    # -- changes ---------------------------------------------------------------------------

    def _task(self) -> tuple[list[dict[str, Any]], int] | None:
        tasks = [(ts, i) for ts in self.tasks.values() for i in range(len(ts))]
        return self.rng.choice(tasks) if tasks else None

    def add_task(self) -> str:
        rng = self.rng
        framework = rng.choice(self.frameworks)
        agent = rng.choice([*self.agents, {"id": f"{PREFIX}-S9"}])  # S9: no such agent
        port = rng.randrange(31000, 31010)
        name = rng.choice(TASK_NAMES)
        task: dict[str, Any] = {
            "id": f"{name}.{rng.randrange(10**6)}",
            "name": name,
            "framework_id": framework["id"],
            "slave_id": agent["id"],
            "state": rng.choice(["TASK_RUNNING"] * 4 + ["TASK_STAGING"]),
            "resources": {"ports": f"[{port}-{port + rng.randrange(2)}]"},
            "statuses": [
                {
                    "state": "TASK_RUNNING",
                    "timestamp": 1.0,
                    "container_status": {
                        "network_infos": [
                            {"ip_addresses": [{"ip_address": rng.choice(["9.0.0.1", "fd01::1"])}]}
                        ]
                    },
                }
            ],
        }
        if rng.random() < 0.5:
            task["discovery"] = {
                "name": rng.choice(TASK_NAMES),
                "ports": {"ports": [{"number": port, "protocol": rng.choice(["tcp", ""])}]},
            }
        self.tasks.setdefault(framework["id"], []).append(task)
        return "a task added"

    def change_task(self) -> str:
        found = self._task()
        if found is None:
            return "no task to change"
        tasks, i = found
        task = tasks[i]
        change = self.rng.choice(
            ["dropped", "killed", "killed", "state", "address", "name", "ports"]
        )
        if change == "dropped":
            del tasks[i]  # as the view drops a terminal task
            return "a task dropped"
        if change == "killed":
            task = {**task, "state": "TASK_KILLED"}
        elif change == "state":
            task = {**task, "state": self.rng.choice(["TASK_RUNNING", "TASK_STAGING"])}
        elif change == "address":
            ip = f"9.0.1.{self.rng.randrange(4)}"
            status = {"state": "TASK_RUNNING", "timestamp": 2.0, "container_status": {
                "network_infos": [{"ip_addresses": [{"ip_address": ip}]}]}}  # fmt: skip
            task = {**task, "statuses": [*task.get("statuses", []), status]}
        elif change == "name":
            task = {**task, "name": self.rng.choice(TASK_NAMES)}
        else:
            port = self.rng.randrange(31000, 31010)
            task = {**task, "resources": {"ports": f"[{port}-{port}]"}}
        tasks[i] = task
        return f"a task {change}"

    def add_agent(self) -> str:
        n = self.rng.randrange(2, 10)
        agent = {"id": f"{PREFIX}-S{n}", "pid": f"slave(1)@10.0.6.{20 + n}:5051"}
        self.agents = [a for a in self.agents if a["id"] != agent["id"]] + [agent]
        return "an agent added"

    def remove_agent(self) -> str:
        if self.agents:
            self.agents.pop(self.rng.randrange(len(self.agents)))
        return "an agent removed"

    def move_agent(self) -> str:
        if self.agents:
            i = self.rng.randrange(len(self.agents))
            ip = self.rng.choice(["10.0.6.21", "10.0.6.22", "10.0.6.99", "fd00::6"])
            self.agents[i] = {**self.agents[i], "pid": f"slave(1)@{ip}:5051"}
        return "an agent's address changed"

    def rename_framework(self) -> str:
        i = self.rng.randrange(len(self.frameworks))
        self.frameworks[i] = {**self.frameworks[i], "name": self.rng.choice(FRAMEWORK_NAMES)}
        return "a framework renamed"

    def move_framework(self) -> str:
        i = self.rng.randrange(len(self.frameworks))
        pid = f"scheduler@10.0.4.{self.rng.randrange(11, 14)}:{self.rng.randrange(15100, 15102)}"
        self.frameworks[i] = {**self.frameworks[i], "pid": pid}
        return "a framework's pid changed"

    def add_framework(self) -> str:
        fid = f"{PREFIX}-{self.rng.randrange(3, 9):04d}"
        if all(f["id"] != fid for f in self.frameworks):
            name = self.rng.choice(FRAMEWORK_NAMES)
            self.frameworks.append({"id": fid, "name": name, "hostname": "10.0.4.12"})
        return "a framework added"

    def remove_framework(self) -> str:
        if len(self.frameworks) > 1:
            gone = self.frameworks.pop(self.rng.randrange(len(self.frameworks)))
            self.tasks.pop(gone["id"], None)
        return "a framework removed"

    def new_leader(self) -> str:
        ip = self.rng.choice(["10.0.4.11", "10.0.4.12", "10.0.4.13"])
        self.leader = f"master@{ip}:5050"
        self.masters = self.rng.sample(["10.0.4.11:5050", "10.0.4.12:5050", "10.0.4.13:5050"], 2)
        return "a new leader"

    def new_listener(self) -> str:
        self.listener = self.rng.choice([["10.0.4.11"], ["10.0.4.12", "fd00::12"], []])
        return "the name server's addresses changed"

    def read_again(self) -> str:
        """A state read: every dict new and equal."""
        self.agents = copy.deepcopy(self.agents)
        self.frameworks = copy.deepcopy(self.frameworks)
        self.tasks = copy.deepcopy(self.tasks)
        return "the state read again"

    def reorder(self) -> str:
        for tasks in self.tasks.values():
            self.rng.shuffle(tasks)
        return "tasks in another order"

    def nothing(self) -> str:
        return "nothing changed"


CHANGES = [
    *[Cluster.add_task] * 4,
    *[Cluster.change_task] * 6,
    Cluster.add_agent,
    Cluster.remove_agent,
    Cluster.move_agent,
    Cluster.rename_framework,
    Cluster.move_framework,
    Cluster.add_framework,
    Cluster.remove_framework,
    Cluster.new_leader,
    Cluster.new_listener,
    Cluster.read_again,
    Cluster.reorder,
    Cluster.nothing,
]


def whole_zone_is(patched: Built, records: RecordSet) -> None:
    whole = zone_of(records, CONFIG)
    assert patched.zone.answers == whole.zone.answers
    assert patched.zone.names == whole.zone.names
    assert (patched.zone.nodata, patched.zone.nxdomain) == (whole.zone.nodata, whole.zone.nxdomain)
    assert patched.children == _children(whole.zone.names, whole.zone.apex)


@pytest.mark.parametrize("seed", range(8))
def test_incremental_generation_equals_a_whole_one_after_every_change(seed: int) -> None:
    rng = random.Random(seed)
    cluster = Cluster(rng)
    previous = generate(cluster.state(), CONFIG, cluster.masters, serial=0)
    built = zone_of(previous, CONFIG)
    patched = 0
    for step in range(60):
        what = rng.choice(CHANGES)(cluster)
        state = cluster.state()
        kwargs: dict[str, Any] = {"serial": step + 1, "listener_ips": cluster.listener}
        incremental = generate(state, CONFIG, cluster.masters, previous=previous, **kwargs)
        whole = generate(state, CONFIG, cluster.masters, **kwargs)
        assert incremental == whole, f"step {step}: {what}"
        patched += incremental.changes_from(previous) is not None
        built = zone_of(incremental, CONFIG, built)
        whole_zone_is(built, incremental)
        previous = incremental
    assert patched > 45  # made from the one before, not whole (a reorder starts over)


def test_one_task_killed_makes_no_other_tasks_records_again() -> None:
    cluster = Cluster(random.Random(1))
    for _ in range(200):
        cluster.add_task()
    first = generate(cluster.state(), CONFIG, cluster.masters, serial=1)
    generation = first._generation
    assert generation is not None
    made = generation.made
    assert made > 80  # every running task on a known agent (about half of them), once
    marathon = cluster.tasks[f"{PREFIX}-0000"]
    victim = next(i for i, t in enumerate(marathon) if t["state"] == "TASK_RUNNING")
    del marathon[victim]
    second = generate(cluster.state(), CONFIG, cluster.masters, serial=2, previous=first)
    # The victim's records made again to find its names, and those of the few tasks sharing a
    # name with it (its app's other instances) to merge them; not the other tasks'.
    assert generation.made - made < 20
    kept = [n for n, ips in second.a.items() if first.a.get(n) is ips]
    assert len(kept) > 0.9 * len(second.a)  # the very tuples of the record set before
    changes = second.changes_from(first)
    assert changes is not None and 0 < len(changes[0]) < 40
    assert second.changes_from(second) is None  # only from the one it was made from
    assert second == generate(cluster.state(), CONFIG, cluster.masters, serial=2)


def test_a_previous_that_cannot_be_followed_gives_a_whole_generation() -> None:
    cluster = Cluster(random.Random(2))
    state = cluster.state()
    first = generate(state, CONFIG, cluster.masters, serial=1)
    second = generate(state, CONFIG, cluster.masters, serial=2, previous=first)
    assert second._generation is first._generation  # moved on from first to second
    # first is no longer what the generation holds: starting from it again is a whole one.
    third = generate(state, CONFIG, cluster.masters, serial=3, previous=first)
    assert third._generation is not first._generation and third == generate(
        state, CONFIG, cluster.masters, serial=3
    )
    other = MesosDnsConfig(domain="example")
    assert generate(state, other, [], serial=4, previous=third)._generation is not (
        third._generation
    )
    # A failed generation leaves nothing to start from.
    with pytest.raises(StateError):
        generate({**state, "frameworks": [{"name": "x", "tasks": 5}]}, CONFIG, [], serial=5,
                 previous=third)  # fmt: skip
    assert third._generation is not None and third._generation.token is None


def test_the_state_view_replaces_a_changed_tasks_dict() -> None:
    """What generation relies on to compare tasks by identity: `MasterState` never changes a
    task it handed out in a snapshot."""
    view = MasterState(copy.deepcopy(STATE))
    before = view.snapshot()
    kept = copy.deepcopy(before)
    fid = f"{PREFIX}-0000"
    task_id = STATE["frameworks"][0]["tasks"][0]["id"]
    status = {"task_id": {"value": task_id}, "state": "TASK_RUNNING", "timestamp": 9.0}
    view.apply({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": {"value": fid}, "state": "TASK_RUNNING", "status": status}})  # fmt: skip
    view.apply({"type": "FRAMEWORK_UPDATED", "framework_updated": {"framework": {
        "framework_info": {"id": {"value": fid}, "name": "renamed"}}}})  # fmt: skip
    view.apply({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": f"{PREFIX}-S0"}}})
    assert before == kept
    after = view.snapshot()
    assert after["frameworks"][0]["tasks"][0] is not before["frameworks"][0]["tasks"][0]
    assert after["frameworks"][0]["tasks"][1] is before["frameworks"][0]["tasks"][1]
