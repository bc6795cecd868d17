"""What the agent refuses where a message enters: each bad field of an executor's call is a 400
whose message names the field's path; a malformed master event is dropped (a task that cannot
be read, but whose ids can, gets TASK_ERROR saying why)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from daemons.agent.app import create_app
from daemons.agent.config import AgentConfig
from daemons.agent.containerizer import Containerizer, ContainerizerConfig
from daemons.agent.messages import (
    Acknowledge,
    InvalidTasks,
    KillTask,
    Subscribe,
    parse_event,
    parse_executor_call,
)
from daemons.agent.plan import LaunchContainer
from daemons.agent.runtime import AgentRuntime
from daemons.protocols.fields import ProtocolError
from tests.unit.agent.state_harness import (
    FID,
    FRAMEWORK_INFO,
    handle,
    make_agent,
    of,
    run_task,
    task,
)

JSON = dict[str, Any]
UUID = base64.b64encode(bytes(range(16))).decode()
IDS = {"framework_id": {"value": FID}, "executor_id": {"value": "e"}}
STATUS = {"task_id": {"value": "t"}, "state": "TASK_RUNNING", "uuid": UUID}


def update(**status: Any) -> JSON:
    return {"type": "UPDATE", **IDS, "update": {"status": {**STATUS, **status}}}


def without(body: JSON, key: str) -> JSON:
    return {k: v for k, v in body.items() if k != key}


# (call, the message after "Failed to validate executor::Call: ", the bad field's path)
REFUSED_CALLS = [
    (without(update(), "framework_id"), "call: missing field 'framework_id'", "call.framework_id"),
    (
        {**update(), "framework_id": {"value": ""}},
        "call: field 'framework_id' must not be empty",
        "call.framework_id",
    ),
    (
        {**update(), "executor_id": "e"},
        "call: field 'executor_id' must be an object with a string 'value'",
        "call.executor_id",
    ),
    ({"type": "UPDATE", **IDS}, "call: missing or non-object field 'update'", "call.update"),
    (
        {"type": "UPDATE", **IDS, "update": {}},
        "call.update: missing or non-object field 'status'",
        "call.update.status",
    ),
    (
        {"type": "UPDATE", **IDS, "update": {"status": without(STATUS, "task_id")}},
        "call.update.status: missing field 'task_id'",
        "call.update.status.task_id",
    ),
    (
        update(state="RUNNING"),
        "call.update.status: field 'state' must be a task state, not 'RUNNING'",
        "call.update.status.state",
    ),
    (
        update(state="TASK_STAGING"),
        "call.update.status: field 'state' must not be TASK_STAGING (an executor may not send it)",
        "call.update.status.state",
    ),
    (
        {"type": "UPDATE", **IDS, "update": {"status": without(STATUS, "uuid")}},
        "call.update.status: missing field 'uuid'",
        "call.update.status.uuid",
    ),
    (
        update(uuid="!!"),
        "call.update.status: field 'uuid' is not valid base64",
        "call.update.status.uuid",
    ),
    (
        update(uuid=base64.b64encode(b"short").decode()),
        "call.update.status: field 'uuid' must be a UUID (16 bytes), not 5 bytes",
        "call.update.status.uuid",
    ),
    (
        update(healthy="yes"),
        "call.update.status: field 'healthy' is not a boolean",
        "call.update.status.healthy",
    ),
    (
        update(timestamp="now"),
        "call.update.status: field 'timestamp' is not a number",
        "call.update.status.timestamp",
    ),
    (
        update(container_status={"executor_pid": "42"}),
        "call.update.status.container_status: field 'executor_pid' is not an integer",
        "call.update.status.container_status.executor_pid",
    ),
    (
        {"type": "MESSAGE", **IDS, "message": {}},
        "call.message: missing field 'data'",
        "call.message.data",
    ),
    (
        {"type": "MESSAGE", **IDS, "message": {"data": "not base64!"}},
        "call.message: field 'data' is not valid base64",
        "call.message.data",
    ),
    (
        {"type": "SUBSCRIBE", **IDS, "subscribe": {"unacknowledged_updates": {}}},
        "call.subscribe: field 'unacknowledged_updates' is not a list",
        "call.subscribe.unacknowledged_updates",
    ),
    (
        {"type": "SUBSCRIBE", **IDS, "subscribe": []},
        "call: field 'subscribe' is not an object",
        "call.subscribe",
    ),
    ({"type": "LAUNCH", **IDS}, "call: unknown type 'LAUNCH'", "call.type"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The agent's app over a runtime that is not started (no thread, no master): what it
    answers before a call reaches the agent's state."""
    work = tmp_path_factory.mktemp("agent")
    config = AgentConfig(
        master="127.0.0.1:5050",
        work_dir=str(work),
        resources="cpus:1;mem:512;disk:100;ports:[31000-31001]",
        command_executor="/libexec/command.py",
        default_executor="/libexec/default.py",
        isolation=False,
    )
    runtime = AgentRuntime(
        config,
        Containerizer(ContainerizerConfig(isolation=False)),
        base_environment={},
        boot_id="boot",
    )
    yield create_app(runtime).test_client()


@pytest.mark.parametrize(("call", "message", "path"), REFUSED_CALLS)
def test_a_bad_field_of_an_executor_call_is_a_400_naming_its_path(
    client: FlaskClient, call: JSON, message: str, path: str
) -> None:
    response = client.post("/api/v1/executor", json=call)
    assert response.status_code == 400
    assert response.json == {"message": f"Failed to validate executor::Call: {message}"}
    with pytest.raises(ProtocolError) as refused:
        parse_executor_call(call["type"], call)
    assert refused.value.path == path


def test_a_well_formed_call_gets_past_the_edge(client: FlaskClient) -> None:
    """The same status, well formed: refused further on, for the agent's own reasons."""
    response = client.post("/api/v1/executor", json=update())
    assert response.status_code == 503  # the runtime has not recovered yet
    assert response.json == {"message": "Agent has not finished recovery"}


def test_an_unreadable_unacknowledged_update_is_left_out_and_said_why() -> None:
    good = {"status": STATUS}
    bad = {"status": {**STATUS, "state": "TASK_STAGING"}}
    subscribe = {"unacknowledged_updates": [bad, good], "unacknowledged_tasks": [{}, task("t")]}
    call = parse_executor_call("SUBSCRIBE", {"type": "SUBSCRIBE", **IDS, "subscribe": subscribe})
    assert isinstance(call, Subscribe)
    assert [s.raw for s in call.unacknowledged_updates] == [STATUS]
    assert call.unacknowledged_tasks == ("t",)
    (why,) = call.dropped
    assert why.startswith("call.subscribe.unacknowledged_updates[].status: field 'state'")


# --- the master's events ---------------------------------------------------------------------


def kill(**fields: Any) -> JSON:
    return {"type": "KILL_TASK", "kill_task": {"framework_id": {"value": FID}, **fields}}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "RUN_TASK"}, "event: missing or non-object field 'run_task'"),
        (
            {"type": "RUN_TASK", "run_task": {"task": task("t")}},
            "run_task.framework_info: not an object",
        ),
        (
            {"type": "RUN_TASK", "run_task": {"framework_info": {"user": "u", "name": "n"}}},
            "run_task.framework_info: missing field 'id'",
        ),
        (
            run_task({k: v for k, v in task("t").items() if k != "task_id"}),
            "run_task.task: missing field 'task_id'",
        ),
        (kill(), "kill_task: missing field 'task_id'"),
        (
            kill(task_id={"value": "t"}, kill_policy={"grace_period": {"nanoseconds": "5"}}),
            "kill_task.kill_policy.grace_period: missing or non-number field 'nanoseconds'",
        ),
        (
            {"type": "ACKNOWLEDGE", "acknowledge": {"framework_id": {"value": FID}}},
            "acknowledge: missing field 'task_id'",
        ),
        (
            {
                "type": "ACKNOWLEDGE",
                "acknowledge": {
                    "framework_id": {"value": FID},
                    "task_id": {"value": "t"},
                    "uuid": "AAAA",
                },
            },
            "acknowledge: field 'uuid' must be a UUID (16 bytes), not 3 bytes",
        ),
        (
            {"type": "SHUTDOWN_EXECUTOR", "shutdown_executor": {"framework_id": {"value": FID}}},
            "shutdown_executor: missing field 'executor_id'",
        ),
    ],
)
def test_a_malformed_master_event_is_refused_naming_the_field(event: JSON, message: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_event(event)
    assert str(refused.value) == message


def test_master_events_are_typed_and_unknown_types_are_none() -> None:
    policy = {"grace_period": {"nanoseconds": 2_000_000_000}}
    parsed = parse_event(kill(task_id={"value": "t"}, kill_policy=policy))
    assert isinstance(parsed, KillTask) and parsed.task_id == "t"
    assert parsed.kill_policy is not None and parsed.kill_policy.grace_period == 2.0
    ack = {"framework_id": {"value": FID}, "task_id": {"value": "t"}, "uuid": UUID}
    assert parse_event({"type": "ACKNOWLEDGE", "acknowledge": ack}) == Acknowledge(
        FID, "t", bytes(range(16))
    )
    assert parse_event({"type": "UPDATE_STATE", "update_state": {}}) is None


def test_a_task_that_cannot_be_read_gets_task_error_saying_why(tmp_path: Path) -> None:
    agent = make_agent(tmp_path)
    bad = {**task("t1"), "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {}}]}
    parsed = parse_event(run_task(bad))
    assert isinstance(parsed, InvalidTasks) and parsed.task_ids == ("t1",)
    handle(agent, run_task(bad))
    assert of(agent.take_plan(), LaunchContainer) == []
    stream = agent.updates.get(FID, "t1")
    assert stream is not None
    (error,) = stream.pending
    assert (error.state, error.reason) == ("TASK_ERROR", "REASON_TASK_INVALID")
    assert error.message is not None and error.message.startswith(
        "run_task.task: field 'resources'"
    )


def test_a_group_whose_executor_cannot_be_read_gets_task_error_for_each_task(
    tmp_path: Path,
) -> None:
    agent = make_agent(tmp_path)
    group = {
        "framework_info": FRAMEWORK_INFO,
        "executor": {"type": "DEFAULT"},
        "task_group": {"tasks": [task("a"), task("b")]},
    }
    handle(agent, {"type": "RUN_TASK_GROUP", "run_task_group": group})
    assert of(agent.take_plan(), LaunchContainer) == []
    for task_id in ("a", "b"):
        stream = agent.updates.get(FID, task_id)
        assert stream is not None
        (error,) = stream.pending
        assert (error.state, error.reason) == ("TASK_ERROR", "REASON_TASK_GROUP_INVALID")
        assert error.message == "run_task_group.executor: missing field 'executor_id'"


@pytest.mark.parametrize("task_id", ["..", "a/b", "x" * 256])
def test_a_task_whose_id_cannot_name_its_directory_is_dropped(tmp_path: Path, task_id: str) -> None:
    agent = make_agent(tmp_path)
    handle(agent, run_task(task(task_id)))
    assert agent.take_plan() == [] and agent.frameworks == {}
    assert list(agent.updates.pending()) == []


def test_an_executor_id_that_cannot_name_its_directory_is_a_task_error(tmp_path: Path) -> None:
    agent = make_agent(tmp_path)
    custom = {**task("t1"), "executor": {"executor_id": {"value": "../e"}}}
    del custom["command"]
    handle(agent, run_task(custom))
    assert of(agent.take_plan(), LaunchContainer) == []
    stream = agent.updates.get(FID, "t1")
    assert stream is not None
    (error,) = stream.pending
    assert (error.state, error.reason) == ("TASK_ERROR", "REASON_TASK_INVALID")
