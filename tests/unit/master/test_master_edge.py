"""What the master refuses where a call enters: each malformed field is a 400 whose message
names the field's path, in Mesos' words ("Failed to validate scheduler::Call: …"), and the call
changes nothing. A TaskInfo of an ACCEPT that cannot be read fails alone (TASK_ERROR naming the
field), as any task that cannot run does."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from daemons.kit.errors import BadRequest
from daemons.kit.streams import EventStream
from daemons.master import agent_calls, scheduler_calls
from daemons.master.app import create_app
from tests.unit.master.factories import (
    add_agent,
    command_task,
    events,
    first_offer,
    launch,
    make_master,
    scalar,
    subscribe,
)

JSON = dict[str, Any]
UUID = base64.b64encode(bytes(16)).decode()
SCHEDULER = "Failed to validate scheduler::Call: "


def subscribe_body(**info: Any) -> JSON:
    framework_info = {"user": "root", "name": "fw", **info}
    return {"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}}


@pytest.mark.parametrize(
    ("info", "path"),
    [
        ({"user": 5}, "subscribe.framework_info: missing or non-string field 'user'"),
        ({"failover_timeout": "1w"}, "subscribe.framework_info: field 'failover_timeout'"),
        ({"failover_timeout": -1}, "subscribe.framework_info: field 'failover_timeout'"),
        ({"checkpoint": "yes"}, "subscribe.framework_info: field 'checkpoint'"),
        ({"capabilities": {"type": "MULTI_ROLE"}}, "subscribe.framework_info: field 'capab"),
        ({"labels": {"labels": [{"value": "v"}]}}, "subscribe.framework_info.labels: missing"),
        ({"role": "a b"}, "subscribe.framework_info: field 'role' has an invalid role 'a b'"),
        (
            {"roles": ["ok", 7], "capabilities": [{"type": "MULTI_ROLE"}]},
            "subscribe.framework_info: field 'roles' must be a list of strings",
        ),
        ({"id": "fw-1"}, "subscribe.framework_info: field 'id' must be an object"),
    ],
)
def test_a_malformed_framework_info_is_refused_naming_the_field(info: JSON, path: str) -> None:
    master, _ = make_master()
    with pytest.raises(BadRequest) as refused:
        scheduler_calls.subscribe(master, subscribe_body(**info), EventStream("s", 15.0))
    assert refused.value.message.startswith(SCHEDULER + path)
    assert master.frameworks == {}


@pytest.mark.parametrize(
    ("kind", "payload", "path"),
    [
        (
            "ACCEPT",
            {"accept": {"offer_ids": "O1"}},
            "accept: field 'offer_ids' is not a list",
        ),
        (
            "ACCEPT",
            {"accept": {"offer_ids": [{"value": 3}]}},
            "accept: field 'offer_ids' must be a list of objects",
        ),
        (
            "ACCEPT",
            {"accept": {"offer_ids": [], "operations": [{"type": "LAUNCH", "launch": [1]}]}},
            "accept.operations[]: field 'launch' is not an object",
        ),
        (
            "ACCEPT",
            {
                "accept": {
                    "offer_ids": [],
                    "operations": [{"type": "LAUNCH", "launch": {"task_infos": [1]}}],
                }
            },
            "accept.operations[].launch: field 'task_infos' must be a list of objects",
        ),
        (
            "DECLINE",
            {"decline": {"offer_ids": [], "filters": {"refuse_seconds": "5"}}},
            "decline.filters: field 'refuse_seconds' is not a number",
        ),
        ("KILL", {"kill": {}}, "kill: missing field 'task_id'"),
        (
            "KILL",
            {"kill": {"task_id": {"value": "t"}, "kill_policy": {"grace_period": {}}}},
            "kill.kill_policy.grace_period: missing or non-number field 'nanoseconds'",
        ),
        ("SHUTDOWN", {"shutdown": {"agent_id": {"value": "a"}}}, "shutdown: missing field"),
        (
            "ACKNOWLEDGE",
            {"acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "%"}},
            "Not a valid UUID: acknowledge: field 'uuid' is not valid base64",
        ),
        (
            "RECONCILE",
            {"reconcile": {"tasks": [{"task_id": {"value": 1}}]}},
            "reconcile.tasks[]: field 'task_id' must be an object with a string 'value'",
        ),
        (
            "MESSAGE",
            {"message": {"agent_id": {"value": "a"}, "executor_id": {"value": "e"}, "data": 1}},
            "message: field 'data' is not a string",
        ),
        ("REVIVE", {"revive": {"roles": "web"}}, "revive: field 'roles' is not a list"),
        (
            "UPDATE_FRAMEWORK",
            {"update_framework": {"framework_info": {"user": "root"}}},
            "update_framework.framework_info: missing or non-string field 'name'",
        ),
        ("TEARDOWN", {"framework_id": {"value": 5}}, "call: field 'framework_id' must be"),
        ("NOPE", {}, "unknown call type 'NOPE'"),
    ],
)
def test_a_malformed_call_is_refused_naming_the_field_and_changes_nothing(
    kind: str, payload: JSON, path: str
) -> None:
    master, _ = make_master()
    _agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    first_offer(master, stream)
    version = master.version
    body = {"type": kind, "framework_id": {"value": fid}, **payload}
    with pytest.raises(BadRequest) as refused:
        scheduler_calls.handle(master, kind, body, stream.stream_id)
    assert refused.value.message.startswith(SCHEDULER + path)
    assert master.version == version
    assert events(stream) == [] and events(agent_stream) == []
    assert fid in master.frameworks and len(master.offers) == 1


def agent_call(master: Any, agent_id: str, stream: Any, kind: str, payload: JSON) -> None:
    body = {"type": kind, "agent_id": {"value": agent_id}, kind.lower(): payload}
    agent_calls.handle(master, kind, body, stream.stream_id)


def status(task_id: str = "t1", **extra: Any) -> JSON:
    return {"task_id": {"value": task_id}, "state": "TASK_RUNNING", "uuid": UUID, **extra}


@pytest.mark.parametrize(
    ("kind", "payload", "path"),
    [
        (
            "UPDATE",
            {"status": status(state="TASK_BOGUS"), "framework_id": {"value": "f"}},
            "update.status: field 'state' is an unknown task state 'TASK_BOGUS'",
        ),
        (
            "UPDATE",
            {"status": status(uuid="%%%"), "framework_id": {"value": "f"}},
            "update.status: field 'uuid' is not valid base64",
        ),
        (
            "UPDATE",
            {"status": status(healthy="yes"), "framework_id": {"value": "f"}},
            "update.status: field 'healthy' is not a boolean",
        ),
        (
            "UPDATE",
            {"status": status(container_status={"executor_pid": "1"}), "framework_id": None},
            "update.status.container_status: field 'executor_pid' is not an integer",
        ),
        ("UPDATE", {"status": status()}, "update: missing field 'framework_id'"),
        ("UPDATE", {"framework_id": {"value": "f"}}, "Expecting 'update.status' to be present"),
        (
            "UPDATES",
            {"updates": [{"status": status(), "framework_id": {"value": ""}}]},
            "updates.updates[]: field 'framework_id' must not be empty",
        ),
        (
            "EXITED_EXECUTOR",
            {"framework_id": {"value": "f"}},
            "exited_executor: missing field 'executor_id'",
        ),
    ],
)
def test_a_malformed_agent_call_is_refused_naming_the_field(
    kind: str, payload: JSON, path: str
) -> None:
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    version = master.version
    with pytest.raises(BadRequest) as refused:
        agent_call(master, agent_id, agent_stream, kind, payload)
    assert refused.value.message.startswith("Failed to validate call: " + path)
    assert master.version == version


@pytest.mark.parametrize(
    ("agent_info", "path"),
    [
        ({"port": 70000}, "subscribe.agent_info: field 'port' must be a port number"),
        ({"hostname": ""}, "subscribe.agent_info: field 'hostname' must not be empty"),
        (
            {"resources": [scalar("cpus", -1)]},
            "subscribe.agent_info: field 'resources': resource 'cpus' needs a non-negative",
        ),
        (
            {"attributes": [{"name": "rack", "type": "SCALAR"}]},
            "subscribe.agent_info.attributes: missing or non-object field 'scalar'",
        ),
    ],
)
def test_a_malformed_agent_info_is_refused_naming_the_field(agent_info: JSON, path: str) -> None:
    master, _ = make_master()
    with pytest.raises(BadRequest) as refused:
        add_agent(master, agent_info=agent_info)
    assert refused.value.message.startswith("Failed to validate call: " + path)
    assert master.agents == {} and master.registry_state.agents == {}


def test_a_malformed_operator_call_is_refused_in_mesos_words() -> None:
    master, _ = make_master()
    client = create_app(master).test_client()
    body = {"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {}}}
    response = client.post(
        "/api/v1", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Failed to validate master::Call: mark_agent_gone: "
        "field 'agent_id' must be an object with a string 'value'"
    )


def test_a_task_info_that_cannot_be_read_fails_alone_naming_the_field() -> None:
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    bad = dict(command_task("bad", agent_id), name=5)
    launch(master, fid, stream, first_offer(master, stream), bad, command_task("good", agent_id))
    (error,) = [e["update"]["status"] for e in events(stream, "UPDATE")]
    assert (error["task_id"], error["state"], error["reason"]) == (
        {"value": "bad"},
        "TASK_ERROR",
        "REASON_TASK_INVALID",
    )
    assert error["message"] == (
        "accept.operations[].launch.task_infos[]: field 'name' is not a string"
    )
    assert [e["run_task"]["task"]["name"] for e in events(agent_stream, "RUN_TASK")] == ["good"]


def test_a_task_id_mesos_refuses_is_a_task_error() -> None:
    """Mesos' id rule: no '/', no '\\' (both could climb out of the sandbox directory the id
    names), no control character, not '.' or '..'."""
    master, _ = make_master()
    agent_id, _agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    tasks = [command_task(t, agent_id, cpus=0.1) for t in ("a\\b", "a/b", "..", "ok")]
    launch(master, fid, stream, first_offer(master, stream), *tasks)
    errors = {
        e["update"]["status"]["task_id"]["value"]: e["update"]["status"]["state"]
        for e in events(stream, "UPDATE")
    }
    assert errors == {"a\\b": "TASK_ERROR", "a/b": "TASK_ERROR", "..": "TASK_ERROR"}
    assert list(master.frameworks[fid].tasks) == ["ok"]
