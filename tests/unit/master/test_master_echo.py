"""What clients sent comes back unchanged: the master keeps each message it parsed with its raw
JSON and echoes that where Mesos shows what was sent — to the agent (RUN_TASK, RUN_TASK_GROUP),
to the framework (its own updates, reconciliation) and to operators (`/master/state`, the v1
GET_* calls, the SUBSCRIBE events) — fields it does not know included."""

from __future__ import annotations

import base64
import copy
from typing import Any

from daemons.kit.streams import EventStream
from daemons.master import leadership, state_json
from daemons.master.memory_registry import MemoryRegistry
from tests.unit.master.factories import (
    add_agent,
    advance,
    agent_update,
    call,
    command_task,
    events,
    first_offer,
    launch,
    make_master,
    reregister,
    scalar,
    start_cluster,
    subscribe,
)

JSON = dict[str, Any]

EXTRAS: JSON = {
    "labels": {"labels": [{"key": "HAPROXY_GROUP", "value": "external"}, {"key": "bare"}]},
    "discovery": {
        "visibility": "CLUSTER",
        "name": "web",
        "ports": {"ports": [{"number": 31001, "protocol": "tcp", "labels": {"labels": []}}]},
        "not_in_the_model": [1, 2],
    },
    "health_check": {"type": "HTTP", "http": {"port": 31001, "path": "/ok"}, "future": True},
    "kill_policy": {"grace_period": {"nanoseconds": 3_000_000_000}},
    "container": {"type": "MESOS", "mesos": {"image": {"type": "DOCKER"}}},
    "check": {"type": "COMMAND", "command": {"command": {"value": "true"}}},
    "an_unknown_field": {"kept": "as sent"},
}


def running_rich_task(
    failover_timeout: float = 0.0,
) -> tuple[Any, str, EventStream, str, EventStream, JSON, JSON]:
    master, _ = make_master()
    operators = EventStream("ops", 15.0)
    master.operator_streams.add(operators)
    agent_id, agent_stream = add_agent(master, agent_info={"an_agent_field": 7})
    fid, stream = subscribe(
        master, webui_url="http://x", framework_field={"x": 1}, failover_timeout=failover_timeout
    )
    offer = first_offer(master, stream)
    sent = dict(command_task("web", agent_id), **copy.deepcopy(EXTRAS))
    sent["command"]["user"] = "nobody"
    launch(master, fid, stream, offer, copy.deepcopy(sent))
    return master, agent_id, agent_stream, fid, stream, sent, {"ops": operators}


def test_the_agent_gets_the_task_info_and_framework_info_as_sent() -> None:
    _master, _agent_id, agent_stream, fid, _, sent, _ = running_rich_task()
    (run,) = events(agent_stream, "RUN_TASK")
    assert run["run_task"]["task"] == sent  # its agent id was already the offer's
    framework_info = run["run_task"]["framework_info"]
    assert framework_info["framework_field"] == {"x": 1}
    assert framework_info["id"] == {"value": fid}


def test_state_and_v1_objects_echo_what_the_framework_sent() -> None:
    master, agent_id, _, _fid, _, sent, _ = running_rich_task()
    (task,) = state_json.state(master)["frameworks"][0]["tasks"]
    assert task["labels"] == sent["labels"]["labels"]
    for key in ("discovery", "health_check", "kill_policy", "container"):
        assert task[key] == sent[key], key
    assert task["user"] == "nobody"
    (v1,) = state_json.get_tasks(master)["tasks"]
    for key in ("labels", "discovery", "check", "an_unknown_field"):
        assert v1[key] == sent[key], key
    (framework,) = state_json.get_frameworks(master)["frameworks"]
    assert framework["framework_info"]["framework_field"] == {"x": 1}
    (agent,) = state_json.get_agents(master)["agents"]
    assert agent["agent_info"]["an_agent_field"] == 7
    assert agent["agent_info"]["id"] == {"value": agent_id}


def test_an_update_reaches_the_framework_and_operators_as_the_agent_sent_it() -> None:
    master, agent_id, agent_stream, fid, stream, _, streams = running_rich_task()
    streams["ops"].pending()
    extra = {
        "container_status": {"container_id": {"value": "c1"}, "executor_pid": 9, "ip": "x"},
        "healthy": True,
        "labels": {"labels": [{"key": "l"}]},
        "check_status": {"type": "COMMAND", "command": {"exit_code": 0}},
        "data": base64.b64encode(b"payload").decode(),
    }
    uid = agent_update(master, agent_id, agent_stream, fid, "web", "TASK_RUNNING", **extra)
    sent = {"task_id": {"value": "web"}, "state": "TASK_RUNNING", "uuid": uid, **extra}
    expected = dict(sent, agent_id={"value": agent_id})
    (update,) = events(stream, "UPDATE")
    assert update["update"]["status"] == expected
    (updated,) = [e for e in streams["ops"].pending() if e["type"] == "TASK_UPDATED"]
    assert updated["task_updated"]["status"] == expected
    # /master/state keeps what Mesos keeps of it: state, time, container, health and labels
    # (a Labels message shown as Mesos' state JSON shows one: its list).
    latest = state_json.state(master)["frameworks"][0]["tasks"][0]["statuses"][-1]
    assert latest == {
        "state": "TASK_RUNNING",
        "timestamp": master.clock(),  # the master's time: the update had none
        "container_status": extra["container_status"],
        "healthy": True,
        "labels": extra["labels"]["labels"],
    }
    # Reconciliation passes on what else the latest update said, from the master.
    call(master, fid, stream, "RECONCILE", reconcile={"tasks": [{"task_id": {"value": "web"}}]})
    (answer,) = [e["update"]["status"] for e in events(stream, "UPDATE")]
    assert answer["check_status"] == extra["check_status"] and "uuid" not in answer
    assert (answer["source"], answer["reason"]) == ("SOURCE_MASTER", "REASON_RECONCILIATION")


def test_a_task_group_reaches_the_agent_with_its_executor_as_sent() -> None:
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    executor = {
        "executor_id": {"value": "default"},
        "type": "DEFAULT",
        "resources": [scalar("cpus", 0.1), scalar("mem", 32)],
        "shutdown_grace_period": {"nanoseconds": 5},
        "an_executor_field": "kept",
    }
    tasks = [command_task("g1", agent_id), dict(command_task("g2", agent_id), extra=1)]
    group = {"executor": executor, "task_group": {"tasks": copy.deepcopy(tasks)}}
    call(
        master,
        fid,
        stream,
        "ACCEPT",
        accept={
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH_GROUP", "launch_group": group}],
        },
    )
    (run,) = [e["run_task_group"] for e in events(agent_stream, "RUN_TASK_GROUP")]
    assert run["executor"] == dict(executor, framework_id={"value": fid})
    assert run["task_group"]["tasks"] == tasks
    (listed,) = state_json.get_executors(master)["executors"]
    assert listed["executor_info"] == run["executor"]


def test_update_framework_changes_the_capabilities_the_master_acts_on() -> None:
    """A framework that drops PARTITION_AWARE through UPDATE_FRAMEWORK is shown without it and
    sees TASK_LOST (not TASK_UNREACHABLE) when its agent goes away: the master acts on the
    FrameworkInfo it last received, as Mesos does."""
    master, clock, _, fid, fstream = start_cluster(MemoryRegistry(), agents=1, tasks_per_agent=1)
    assert state_json.state(master)["frameworks"][0]["capabilities"] == ["PARTITION_AWARE"]
    info = {"user": "root", "name": "fw", "failover_timeout": 3600.0}
    call(master, fid, fstream, "UPDATE_FRAMEWORK", update_framework={"framework_info": info})
    assert state_json.state(master)["frameworks"][0]["capabilities"] == []
    advance(master, clock, 7.0)  # the agent misses its pings: unreachable
    assert {e["update"]["status"]["state"] for e in events(fstream, "UPDATE")} == {"TASK_LOST"}


def test_statuses_of_a_reregistered_task_render_as_the_first_leader_rendered_them() -> None:
    """After a failover the new leader knows a task from its agent's report; its statuses are
    shown in Mesos' shape (state, time, container, health), as the leader that launched it
    showed them, not as the agent's whole status messages (task id, uuid, source …)."""
    registry = MemoryRegistry()
    master, clock, agent_streams, fid, _fstream = start_cluster(
        registry, agents=1, tasks_per_agent=1
    )
    ((agent_id, _),) = agent_streams.items()
    (task_id,) = master.frameworks[fid].tasks
    before = state_json.state(master)["frameworks"][0]["tasks"][0]["statuses"]
    hostname = master.agents[agent_id].hostname
    reported = [
        {
            "task_id": {"value": task_id},
            "framework_id": {"value": fid},
            "name": task_id,
            "state": "TASK_RUNNING",
            "resources": command_task(task_id, agent_id)["resources"],
            "statuses": [
                {
                    "task_id": {"value": task_id},
                    "state": s["state"],
                    "timestamp": s["timestamp"],
                    "source": "SOURCE_EXECUTOR",
                    "uuid": base64.b64encode(bytes(16)).decode(),
                    "agent_id": {"value": agent_id},
                }
                for s in before
            ],
        }
    ]
    master.demote()
    new, _ = make_master(registry, clock, master_id="m2")
    leadership.tick(new)
    reregister(new, agent_id, reported, hostname)
    after = state_json.state(new)["frameworks"][0]["tasks"][0]["statuses"]
    assert after == before
    assert [set(s) for s in after] == [{"state", "timestamp"}] * len(before)


def test_labels_without_their_list_do_not_break_the_state() -> None:
    """`labels: {}` is a valid Labels message (no labels): the state shows an empty list."""
    master, _ = make_master()
    agent_id, _ = add_agent(master)
    fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    launch(master, fid, stream, offer, dict(command_task("t1", agent_id), labels={}))
    (task,) = state_json.state(master)["frameworks"][0]["tasks"]
    assert task["labels"] == []


def test_a_task_reported_with_a_part_the_master_cannot_read_is_kept_not_lost() -> None:
    """A task launched through an earlier release (which checked less) comes back with a health
    check this master reads more strictly, and statuses without their task id: it is still the
    agent's running task, shown with what it was sent, not reported lost."""
    registry = MemoryRegistry()
    master, clock, agent_streams, fid, fstream = start_cluster(
        registry, agents=1, tasks_per_agent=1
    )
    ((agent_id, _),) = agent_streams.items()
    (task_id,) = master.frameworks[fid].tasks
    hostname = master.agents[agent_id].hostname
    health_check = {"type": "COMMAND", "interval_seconds": "5"}
    reported = {
        "task_id": {"value": task_id},
        "framework_id": {"value": fid},
        "name": task_id,
        "state": "TASK_RUNNING",
        "resources": command_task(task_id, agent_id)["resources"],
        "health_check": health_check,
        "statuses": [{"state": "TASK_RUNNING", "timestamp": 1000.0}],
    }
    master.demote()
    new, _ = make_master(registry, clock, master_id="m2")
    _, fstream = subscribe(new, framework_id=fid)
    reregister(new, agent_id, [reported], hostname)
    assert events(fstream, "UPDATE") == []
    (task,) = state_json.state(new)["frameworks"][0]["tasks"]
    assert (task["id"], task["state"], task["health_check"]) == (
        task_id,
        "TASK_RUNNING",
        health_check,
    )
    assert task["statuses"] == [{"state": "TASK_RUNNING", "timestamp": 1000.0}]
    assert new.agents[agent_id].used().scalar("cpus") == 1.0


def test_a_reregistered_task_is_shown_as_the_leader_that_launched_it_showed_it() -> None:
    """After a failover the new leader keeps of each reported task only what it echoes (the rest
    it holds typed and renders itself): `/master/state` and the v1 task show the same ids,
    resources, labels, discovery, checks and unknown fields as before the failover."""
    master, agent_id, agent_stream, fid, _, sent, _ = running_rich_task(failover_timeout=3600.0)
    agent_update(master, agent_id, agent_stream, fid, "web", "TASK_RUNNING")
    (before,) = state_json.state(master)["frameworks"][0]["tasks"]
    (v1_before,) = state_json.get_tasks(master)["tasks"]
    reported = dict(
        copy.deepcopy(sent),
        framework_id={"value": fid},
        state="TASK_RUNNING",
        user="nobody",
        statuses=[
            {"task_id": {"value": "web"}, "state": s["state"], "timestamp": s["timestamp"]}
            for s in before["statuses"]
        ],
    )
    del reported["command"]  # an agent reports the task, not how it runs it
    hostname = master.agents[agent_id].hostname
    master.demote()
    new, _ = make_master(master.registry, master.clock, master_id="m2")
    leadership.tick(new)
    reregister(new, agent_id, [reported], hostname)
    (after,) = state_json.state(new)["frameworks"][0]["tasks"]
    assert after == before
    (v1_after,) = state_json.get_tasks(new)["tasks"]
    for key in ("task_id", "framework_id", "agent_id", "name", "state", "resources", "statuses"):
        assert v1_after[key] == v1_before[key], key
    for key in ("labels", "discovery", "health_check", "kill_policy", "container", "check"):
        assert v1_after[key] == sent[key], key
    assert v1_after["an_unknown_field"] == {"kept": "as sent"}
