"""Following the master's state with operator events (`daemons.mesos_client.master_view`).

The events are the ones our master sends: a master runs in-process on a manual clock
(tests/unit/master/factories.py) with an operator stream attached, and a cluster's life goes
through it (tasks launched, running on a container network, healthy again, unhealthy, killed;
an agent added and one gone; a framework added and one torn down). At each step the records
generated (Mesos-DNS's, the DNS proxy's task names, and the VIP table) from the followed state
(`/master/state` of the start, then every event) must equal the records generated from
`/master/state` as the master renders it at that step, and so must the records of a state read
midway with every event since the start replayed onto it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from daemons.kit.l4lb.table import TableBuilder, agent_addresses
from daemons.kit.l4lb.table import build as vip_table
from daemons.kit.streams import EventStream
from daemons.master import state_json
from daemons.master.agent_removal import mark_gone
from daemons.mesos_client.master_view import Change, MasterState, agent_json, task_json
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import RecordSet, generate
from dnsproxy.tasks import task_records
from tests.unit.master.factories import (
    add_agent,
    agent_update,
    allocate,
    call,
    events,
    launch,
    make_master,
    ports,
    scalar,
    subscribe,
)

JSON = dict[str, Any]
CONFIG = MesosDnsConfig(masters=("10.0.4.11:5050",))
MASTERS = ["10.0.4.11:5050"]


def rendered(master: Any) -> JSON:
    with master.lock:
        state: JSON = json.loads(json.dumps(state_json.state(master)))
    return state


def records(state: JSON) -> tuple[Any, ...]:
    """The records of a state, order aside (the followed view may list things in another
    order than the master): Mesos-DNS's, the DNS proxy's task names, and the VIP table."""
    rs: RecordSet = generate(state, CONFIG, MASTERS, serial=1)
    return (
        dict(vip_table(state).vips),
        {name: set(values) for name, values in rs.a.items()},
        {name: set(values) for name, values in rs.aaaa.items()},
        {name: set(values) for name, values in rs.srv.items()},
        {(f.name, t.id, frozenset(t.records)) for f in rs.frameworks for t in f.tasks},
        set(task_records(state, ["10.0.4.11"])),
    )


def task(
    name: str,
    agent_id: str,
    port: int,
    discovery: JSON | None = None,
    labels: dict[str, str] | None = None,
) -> JSON:
    info: JSON = {
        "name": name,
        "task_id": {"value": f"{name}.{uuid.uuid4().hex[:8]}"},
        "agent_id": {"value": agent_id},
        "resources": [scalar("cpus", 0.1), scalar("mem", 32), ports(port, port)],
        "command": {"value": "sleep 100"},
    }
    if discovery is not None:
        info["discovery"] = discovery
    if labels:
        info["labels"] = {"labels": [{"key": k, "value": v} for k, v in labels.items()]}
    return info


class Life:
    """A master, an operator stream on it from `start`, and what it sent since."""

    def __init__(self) -> None:
        self.master, self.clock = make_master(ip="10.0.4.11", hostname="master-1")
        self.agents: dict[str, EventStream] = {}
        self.offers: dict[tuple[str, str], JSON] = {}
        self.frameworks: dict[str, EventStream] = {}
        for n in (1, 2):
            self.add_agent(n)
        self.fid, self.fstream = subscribe(self.master, "marathon", hostname="10.0.4.11")
        self.start = rendered(self.master)
        self.stream = EventStream("operator", 15.0)
        self.master.operator_streams.add(self.stream)
        self.sent: list[JSON] = []
        # Followed as Minuteman does: one view, and a VIP table kept from what it says changed.
        self.view = MasterState(self.start)
        self.applied = 0
        self.vips = TableBuilder()
        self.agent_ips: dict[str, str] = {}
        self.partial = 0  # how many checks the changed tasks alone were enough for

    def add_agent(self, n: int) -> str:
        agent_id, stream = add_agent(
            self.master, hostname=f"agent-{n}", agent_info={"address": {"ip": f"10.0.6.{20 + n}"}}
        )
        self.agents[agent_id] = stream
        return agent_id

    def offer(self, fid: str, fstream: EventStream, agent_id: str) -> JSON:
        """An offer of `agent_id` to `fid`: one it holds, else one of the next rounds."""
        self.frameworks[fid] = fstream
        for _ in range(5):
            for holder, stream in self.frameworks.items():
                for event in events(stream, "OFFERS"):
                    for offer in event["offers"]["offers"]:
                        self.offers[(holder, offer["agent_id"]["value"])] = offer
            if (fid, agent_id) in self.offers:
                return self.offers.pop((fid, agent_id))
            for (holder, agent), offer in list(self.offers.items()):
                if agent == agent_id:  # another framework holds it: give it back
                    del self.offers[(holder, agent)]
                    decline = {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 30}}
                    call(self.master, holder, self.frameworks[holder], "DECLINE", decline=decline)
            self.clock.advance(1)
            allocate(self.master)
        raise AssertionError(f"no offer of {agent_id}: {list(self.offers)}")

    def run(self, fid: str, fstream: EventStream, info: JSON, **status: Any) -> str:
        agent_id = info["agent_id"]["value"]
        launch(self.master, fid, fstream, self.offer(fid, fstream, agent_id), info)
        task_id: str = info["task_id"]["value"]
        self.update(fid, agent_id, task_id, "TASK_RUNNING", **status)
        return task_id

    def update(self, fid: str, agent_id: str, task_id: str, state: str, **extra: Any) -> None:
        self.clock.advance(1)
        agent_update(
            self.master, agent_id, self.agents[agent_id], fid, task_id, state,
            timestamp=self.clock.now, **extra,
        )  # fmt: skip

    def received(self) -> list[JSON]:
        self.sent += [e for e in self.stream.pending() if isinstance(e, dict)]
        return self.sent

    def check(self, midway: JSON | None = None, midway_from: int = 0) -> None:
        """The followed state's records are the master's; so are those of `midway` (a state
        read after `midway_from` events) with the events since `midway_from` replayed."""
        expected = records(rendered(self.master))
        followed = MasterState(self.start)
        followed.apply_all(self.received())
        assert records(followed.snapshot()) == expected
        if midway is not None:
            replayed = MasterState(midway)
            replayed.apply_all(self.sent[midway_from:])
            assert records(replayed.snapshot()) == expected
        self.view.apply_all(self.sent[self.applied :])
        self.applied = len(self.sent)
        changes = self.view.take_changes()
        if changes is None:
            snapshot = self.view.snapshot()
            self.agent_ips.update(agent_addresses(snapshot))
            table, _ = self.vips.update(snapshot, self.agent_ips)
        else:
            table, _ = self.vips.update_tasks(changes, self.agent_ips)
            self.partial += 1
        assert dict(table.vips) == expected[0]


def test_the_followed_state_gives_the_records_of_the_masters_state() -> None:
    life = Life()
    a1, a2 = list(life.agents)
    web = life.run(life.fid, life.fstream, task("web", a1, 31000))
    life.check()
    network = {"network_infos": [{"ip_addresses": [{"ip_address": "9.0.1.5"}]}]}
    vip = {"labels": [{"key": "VIP_0", "value": "/mygroup/myapp:80"}]}
    discovery = {
        "visibility": "FRAMEWORK",
        "name": "myapp.mygroup",
        "ports": {"ports": [{"number": 31010, "name": "http", "protocol": "tcp", "labels": vip}]},
    }
    legacy = {"VIP_PORT0": "tcp://10.1.1.1:5000"}
    myapp = life.run(
        life.fid, life.fstream, task("mygroup_myapp", a2, 31010, discovery, legacy),
        container_status=network,
    )  # fmt: skip
    life.check()
    assert len(vip_table(rendered(life.master)).vips) == 2
    # A health report: TASK_RUNNING again, the same records; unhealthy: the VIPs' weight 0.
    life.update(life.fid, a2, myapp, "TASK_RUNNING", healthy=True, container_status=network)
    life.check()
    life.update(life.fid, a2, myapp, "TASK_RUNNING", healthy=False, container_status=network)
    life.check()
    vips = vip_table(rendered(life.master)).vips.values()
    assert {b.weight for vip in vips for b in vip.backends} == {0}
    midway, midway_from = rendered(life.master), len(life.received())
    life.check()
    # Killed: its records go.
    life.update(life.fid, a1, web, "TASK_KILLED")
    life.check(midway, 0)
    # A new agent and a task on it; a second framework.
    a3 = life.add_agent(3)
    pipeline, pstream = subscribe(life.master, "Data_Pipeline.v2")
    life.run(pipeline, pstream, task("ingest", a3, 31020))
    life.check(midway, midway_from)
    # An agent gone: its task is lost, the agent and its records go.
    with life.master.lock:
        info = life.master.agents[a2].info.raw
        mark_gone(life.master, a2, info, "TASK_GONE_BY_OPERATOR", "REASON_X", "gone")
    life.check(midway, midway_from)
    # A framework torn down: its tasks are killed, it goes.
    call(life.master, pipeline, pstream, "TEARDOWN")
    life.check(midway, midway_from)
    assert {e["type"] for e in life.sent} >= {
        "TASK_ADDED", "TASK_UPDATED", "AGENT_ADDED", "FRAMEWORK_ADDED", "FRAMEWORK_REMOVED",
    }  # fmt: skip
    assert life.partial >= 4  # the task-only steps were followed from their changes alone


def test_replaying_every_event_again_changes_nothing() -> None:
    life = Life()
    a1, _ = list(life.agents)
    web = life.run(life.fid, life.fstream, task("web", a1, 31000))
    life.update(life.fid, a1, web, "TASK_FINISHED")
    life.run(life.fid, life.fstream, task("api", a1, 31001))
    followed = MasterState(life.start)
    followed.apply_all(life.received())
    once = records(followed.snapshot())
    followed.apply_all(life.sent)
    assert records(followed.snapshot()) == once == records(rendered(life.master))


def test_what_each_event_changes() -> None:
    life = Life()
    a1, _ = list(life.agents)
    followed = MasterState(life.start)
    info = task("web", a1, 31000)
    launch(life.master, life.fid, life.fstream, life.offer(life.fid, life.fstream, a1), info)
    (added,) = life.received()
    assert added["type"] == "TASK_ADDED"
    assert followed.apply(added) is Change.NONE  # staging: no records yet
    task_id = info["task_id"]["value"]
    life.update(life.fid, a1, task_id, "TASK_RUNNING")
    (running,) = life.received()[1:]
    assert followed.apply(running) is Change.RECORDS
    assert followed.apply({"type": "HEARTBEAT"}) is Change.NONE
    assert followed.apply({"type": "TASK_UPDATED", "task_updated": "junk"}) is Change.NONE
    assert followed.apply({"type": "SOMETHING_NEW", "something_new": {}}) is Change.NONE
    # An update of a task the view never saw: it lost track, read the state again.
    unknown = json.loads(json.dumps(running))
    unknown["task_updated"]["status"]["task_id"]["value"] = "never-seen"
    assert followed.apply(unknown) is Change.RESYNC
    # ... unless it ends: a terminal update of an unknown task is expected (already dropped).
    unknown["task_updated"]["state"] = "TASK_KILLED"
    assert followed.apply(unknown) is Change.NONE
    stranger = json.loads(json.dumps(added))
    stranger["task_added"]["task"]["framework_id"]["value"] = "no-such-framework"
    assert followed.apply(stranger) is Change.RESYNC
    assert followed.task_count() == 1
    # Killing, then killed: each changes what a consumer shows (Minuteman: weight 0, then gone).
    life.update(life.fid, a1, task_id, "TASK_KILLING")
    life.update(life.fid, a1, task_id, "TASK_KILLED")
    killing, killed = life.received()[2:]
    assert followed.apply(killing) is Change.RECORDS
    assert followed.apply(killed) is Change.RECORDS
    assert followed.task_count() == 0


def test_the_changes_taken_are_the_tasks_task_events_touched() -> None:
    life = Life()
    a1, a2 = list(life.agents)
    followed = MasterState(life.start)
    assert followed.take_changes() is None  # a new view: anything may have changed
    assert followed.take_changes() == ()
    web = life.run(life.fid, life.fstream, task("web", a1, 31000))
    api = life.run(life.fid, life.fstream, task("api", a2, 31001))
    followed.apply_all(life.received())
    (changes,) = followed.take_changes() or ()
    assert changes.framework["id"] == life.fid and changes.framework["name"] == "marathon"
    assert {t["id"] for t in changes.tasks} == {web, api} and changes.ended == ()
    assert followed.take_changes() == ()  # taken: nothing since
    seen = len(life.sent)
    life.update(life.fid, a1, web, "TASK_KILLED")
    life.update(life.fid, a2, api, "TASK_RUNNING", healthy=False)
    followed.apply_all(life.received()[seen:])
    (changes,) = followed.take_changes() or ()
    assert [t["id"] for t in changes.tasks] == [api] and changes.ended == (web,)
    assert changes.tasks[0]["statuses"][-1]["healthy"] is False
    # An agent or a framework event: everything again.
    seen = len(life.sent)
    life.add_agent(3)
    assert [e["type"] for e in life.received()[seen:]] == ["AGENT_ADDED"]
    followed.apply_all(life.sent[seen:])
    assert followed.take_changes() is None


def test_a_snapshot_does_not_change_with_later_events() -> None:
    life = Life()
    a1, _ = list(life.agents)
    web = life.run(life.fid, life.fstream, task("web", a1, 31000))
    followed = MasterState(life.start)
    followed.apply_all(life.received())
    before = followed.snapshot()
    frozen = json.dumps(before, sort_keys=True)
    life.update(life.fid, a1, web, "TASK_KILLED")
    followed.apply_all(life.received()[len(life.sent) - 1 :])
    assert json.dumps(before, sort_keys=True) == frozen
    assert followed.task_count() == 0


@pytest.mark.parametrize(
    ("v1", "expected"),
    [
        (
            {
                "name": "web",
                "task_id": {"value": "web.1"},
                "framework_id": {"value": "F1"},
                "agent_id": {"value": "S1"},
                "state": "TASK_RUNNING",
                "resources": [
                    scalar("cpus", 1),
                    {
                        "name": "ports",
                        "type": "RANGES",
                        "ranges": {
                            "range": [
                                {"begin": 31000, "end": 31001},
                                {"begin": 31005, "end": 31005},
                            ]
                        },
                    },
                ],
                "statuses": [
                    {
                        "task_id": {"value": "web.1"},
                        "state": "TASK_RUNNING",
                        "timestamp": 5.0,
                        "labels": {"labels": [{"key": "k", "value": "v"}]},
                    },
                ],
                "discovery": {"name": "web"},
            },
            {
                "id": "web.1",
                "name": "web",
                "framework_id": "F1",
                "slave_id": "S1",
                "state": "TASK_RUNNING",
                "statuses": [
                    {
                        "state": "TASK_RUNNING",
                        "timestamp": 5.0,
                        "labels": [{"key": "k", "value": "v"}],
                    },
                ],
                "resources": {"ports": "[31000-31001, 31005-31005]"},
                "discovery": {"name": "web"},
            },
        ),
        (
            {"task_id": {"value": "t"}},
            {
                "id": "t",
                "name": "",
                "framework_id": "",
                "slave_id": "",
                "state": "",
                "statuses": [],
            },
        ),
    ],
)
def test_a_v1_task_as_the_state_shows_it(v1: JSON, expected: JSON) -> None:
    assert task_json(v1) == expected


def test_a_v1_agent_as_the_state_shows_it() -> None:
    v1 = {"agent_info": {"id": {"value": "S1"}, "hostname": "a1", "port": 5052},
          "pid": "slave(1)@10.0.6.21:5052"}  # fmt: skip
    assert agent_json(v1) == {
        "id": "S1",
        "pid": "slave(1)@10.0.6.21:5052",
        "hostname": "a1",
        "port": 5052,
    }


# -- agents carried over a read that lacks them (a master failover) -----------------------------


def _state(agents: list[str], tasks: dict[str, list[str]]) -> JSON:
    """A leader, `agents` (ids), and framework F1 running `tasks` (agent id -> task names)."""
    return {
        "leader": "master@10.0.4.12:5050",
        "slaves": [{"id": a, "pid": f"slave(1)@10.0.6.{n}:5051"} for n, a in enumerate(agents)],
        "frameworks": [
            {
                "id": "F1",
                "name": "marathon",
                "tasks": [
                    {"id": f"{name}.1", "name": name, "framework_id": "F1", "slave_id": agent,
                     "state": "TASK_RUNNING", "statuses": []}
                    for agent, names in tasks.items()
                    for name in names
                ],
            }
        ],
    }  # fmt: skip


def names(view: MasterState) -> set[str]:
    rs = generate(view.snapshot(), CONFIG, MASTERS, serial=1)
    return {name for name in rs.a if name.endswith(".marathon.mesos.") and "-" not in name}


def test_an_agent_missing_from_a_new_leaders_state_keeps_its_tasks_names() -> None:
    before = MasterState(_state(["S0", "S1"], {"S0": ["web"], "S1": ["db"]}))
    # The new leader's first state: S1 has not registered with it yet.
    after = MasterState(_state(["S0"], {"S0": ["web"]}))
    assert after.carry(before, now=100.0, grace=60.0) == ["S1"]
    assert names(after) == {"web.marathon.mesos.", "db.marathon.mesos."}
    # A later read still without it: carried to the same deadline, then let go.
    later = MasterState(_state(["S0"], {"S0": ["web"]}))
    assert later.carry(after, now=150.0, grace=60.0) == ["S1"]
    gone = MasterState(_state(["S0"], {"S0": ["web"]}))
    assert gone.carry(later, now=161.0, grace=60.0) == []
    assert names(gone) == {"web.marathon.mesos."}


def test_a_carried_agent_goes_when_removed_and_stops_being_carried_when_back() -> None:
    before = MasterState(_state(["S0", "S1"], {"S1": ["db"]}))
    after = MasterState(_state(["S0"], {}))
    after.carry(before, now=0.0, grace=60.0)
    removed = json.loads(json.dumps(after.snapshot()))  # what it held, for the next case
    assert after.apply({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "S1"}}})
    assert names(after) == set()
    assert MasterState(_state(["S0"], {})).carry(after, now=1.0, grace=60.0) == []
    # Back: the agent registers again, and the read that follows shows it with its tasks.
    again = MasterState(removed)
    back = MasterState(_state(["S0", "S1"], {"S1": ["db"]}))
    assert back.carry(again, now=2.0, grace=60.0) == []
    assert names(back) == {"db.marathon.mesos."}


def test_only_running_tasks_of_a_carried_agent_are_kept() -> None:
    state = _state(["S0", "S1"], {"S1": ["db", "cache"]})
    state["frameworks"][0]["tasks"][1]["state"] = "TASK_STAGING"
    after = MasterState({**_state(["S0"], {}), "frameworks": []})
    after.carry(MasterState(state), now=0.0, grace=60.0)
    assert after.task_count() == 1 and names(after) == {"db.marathon.mesos."}
