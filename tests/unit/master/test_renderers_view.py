"""The renderers need only the read-only view (view.MasterView): a plain record with the
master's records renders `/master/state`, the v1 GET_STATE and `/metrics/snapshot`, without a
`Master`, its lock or its clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from daemons.master import metrics, rawjson, state_json
from daemons.master.config import MasterConfig
from daemons.master.model import Agent, Framework, Offer, Task
from daemons.protocols import JSON
from daemons.protocols.models import AgentInfo, FrameworkInfo, TaskInfo, TaskStatus
from daemons.protocols.resources import Resources


def cpus(n: float) -> Resources:
    return Resources.of({"cpus": n})


@dataclass
class Snapshot:
    """What a renderer reads, as a plain record."""

    config: MasterConfig
    master_id: str = "m1"
    master_info: JSON = field(default_factory=lambda: {"id": "m1", "pid": "master@10.0.0.1:5050"})
    leader_info: JSON | None = None
    is_leader: bool = True
    acting: bool = True
    start_time: float = 100.0
    elected_time: float | None = 110.0
    agents: dict[str, Agent] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    completed_frameworks: list[Framework] = field(default_factory=list)
    offers: dict[str, Offer] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)


def snapshot_with_one_task() -> Snapshot:
    view = Snapshot(MasterConfig(zk="zk://10.0.0.1:2181/mesos", ip="10.0.0.1"))
    agent_info = AgentInfo(hostname="h1", resources={"*": cpus(4)}, raw={"hostname": "h1"})
    agent = Agent("S1", agent_info, registered_time=101.0)
    framework = Framework("F1", FrameworkInfo(user="", name="marathon"), registered_time=102.0)
    task_info = TaskInfo(task_id="t1", name="web", raw={"name": "web"})
    task = Task("t1", "F1", "S1", "", "web", "*", cpus(1), task_info, state="TASK_RUNNING")
    agent.tasks[("F1", "t1")] = task
    framework.tasks["t1"] = task
    offer = Offer("O1", "F1", "S1", "*", cpus(3), created=105.0)
    agent.offers.add("O1")
    framework.offers["O1"] = offer
    view.agents["S1"], view.frameworks["F1"], view.offers["O1"] = agent, framework, offer
    view.counters["tasks_finished"] = 2
    return view


def test_state_renders_from_the_view_alone() -> None:
    body = state_json.state(snapshot_with_one_task())
    assert (body["id"], body["leader"], body["elected_time"]) == (
        "m1",
        "master@10.0.0.1:5050",
        110.0,
    )
    (agent,) = body["slaves"]
    # used 1 cpu (the task), offered 3 (the outstanding offer), of 4
    assert (agent["used_resources"]["cpus"], agent["offered_resources"]["cpus"]) == (1.0, 3.0)
    (framework,) = body["frameworks"]
    assert [t["id"] for t in framework["tasks"]] == ["t1"]
    assert body["flags"]["zk"] == "zk://10.0.0.1:2181/mesos"


def test_get_state_renders_from_the_view_alone() -> None:
    body = state_json.get_state(snapshot_with_one_task())
    assert [t["task_id"] for t in body["get_tasks"]["tasks"]] == [{"value": "t1"}]
    assert body["get_agents"]["agents"][0]["agent_info"] == {"hostname": "h1"}


def test_metrics_take_the_time_as_an_argument() -> None:
    values = metrics.snapshot(snapshot_with_one_task(), now=160.0)
    assert values["master/uptime_secs"] == 60.0  # 160 - start_time 100
    assert values["master/elected"] == 1.0
    assert values["master/tasks_running"] == 1.0 and values["master/tasks_finished"] == 2.0
    assert (values["master/cpus_used"], values["master/cpus_total"]) == (1.0, 4.0)


def test_used_resources_follow_every_change_of_the_tasks_behind_them() -> None:
    """`used()` reuses its last sum only while the very same tasks are live (a memo for the
    renders of `/master/state`); each change below must show at once."""
    view = snapshot_with_one_task()
    agent, framework = view.agents["S1"], view.frameworks["F1"]
    task = agent.tasks[("F1", "t1")]
    assert (agent.used(), framework.used()) == (cpus(1), cpus(1))
    memo = agent.used_memo
    assert agent.used() == cpus(1) and agent.used_memo is memo  # nothing changed: reused
    two = Task("t2", "F1", "S1", "", "db", "*", cpus(2), task.info, state="TASK_RUNNING")
    agent.tasks[("F1", "t2")], framework.tasks["t2"] = two, two
    assert (agent.used(), framework.used()) == (cpus(3), cpus(3))
    task.state = "TASK_FINISHED"  # terminal: no longer held
    assert (agent.used(), framework.used()) == (cpus(2), cpus(2))
    del agent.tasks[("F1", "t2")]
    assert agent.used() == Resources.of({})
    body = state_json.state(view)
    assert body["slaves"][0]["used_resources"]["cpus"] == 0.0


def test_a_status_shows_its_labels_as_mesos_renders_them_a_list() -> None:
    label = {"key": "MesosContainerizer.NetworkSettings.IPAddress", "value": "9.0.2.7"}
    raw = {"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "labels": {"labels": [label]}}
    status = TaskStatus.parse(raw, "status")
    assert state_json.status_json(status)["labels"] == [label]


def test_an_agents_cached_entry_follows_every_change_it_shows() -> None:
    """`/master/state` serves each agent's entry from bytes kept between renders: each change
    below must show at once, in the same JSON the plain render gives."""
    view = snapshot_with_one_task()
    agent, framework = view.agents["S1"], view.frameworks["F1"]

    def both() -> JSON:
        raw = json.loads(rawjson.dumps(state_json.state(view, raw=True)))
        assert raw == json.loads(json.dumps(state_json.state(view)))
        (entry,) = raw["slaves"]
        return entry  # type: ignore[no-any-return]

    first = both()
    data = state_json.agent_json_bytes(agent, view.offers)
    assert state_json.agent_json_bytes(agent, view.offers) is data  # nothing changed: reused
    assert first["offered_resources"]["cpus"] == 3.0 and first["used_resources"]["cpus"] == 1.0
    agent.offers.discard("O1")  # the offer was accepted or declined
    del view.offers["O1"], framework.offers["O1"]
    assert both()["offered_resources"]["cpus"] == 0.0
    view.offers["O2"] = Offer("O2", "F1", "S1", "*", cpus(2), created=106.0)
    agent.offers.add("O2")
    assert both()["offered_resources"]["cpus"] == 2.0
    task = agent.tasks[("F1", "t1")]
    task.state = "TASK_FINISHED"
    assert both()["used_resources"]["cpus"] == 0.0
    agent.active = False
    assert both()["active"] is False
    agent.reregistered_time = 120.0
    assert both()["reregistered_time"] == 120.0
    agent.info = AgentInfo(hostname="h2", resources={"*": cpus(8)}, raw={"hostname": "h2"})
    entry = both()
    assert (entry["hostname"], entry["resources"]["cpus"]) == ("h2", 8.0)
    agent.version = "1.12.0"
    assert both()["version"] == "1.12.0"
