"""ExecutorClient against the in-test fake agent (conftest): subscribe, launch, updates kept until
ACKNOWLEDGED and listed again in the SUBSCRIBE after a broken stream; recovery rules."""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any

import pytest

from daemons.mesos_client import (
    Backoff,
    ExecutorClient,
    ExecutorSettings,
    SubscriptionEnded,
)
from daemons.mesos_client.executor_events import Acknowledged, Launch, Shutdown, Subscribed

FAST = Backoff(initial=0.01, maximum=0.05)


def settings_for(agent: Any, **overrides: Any) -> ExecutorSettings:
    env = {
        "MESOS_FRAMEWORK_ID": "fw-1",
        "MESOS_EXECUTOR_ID": "exec-1",
        "MESOS_AGENT_ENDPOINT": agent.address,
        "MESOS_CHECKPOINT": "1",
        "MESOS_RECOVERY_TIMEOUT": "15mins",
    }
    env.update(overrides)
    return ExecutorSettings.from_env(env)


def counting_uuids() -> Any:
    counter = itertools.count(1)
    return lambda: next(counter).to_bytes(16, "big")


def start(agent: Any, **overrides: Any) -> ExecutorClient:
    client = ExecutorClient(
        settings_for(agent, **overrides),
        backoff=FAST,
        clock=lambda: 1700000000.5,
        new_uuid=counting_uuids(),
    )
    client.start()
    return client


def next_of(client: ExecutorClient, kind: type[Any]) -> Any:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        event = client.next_event(timeout=0.5)
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} event")


def launch_event(task_id: str) -> dict[str, Any]:
    task = {"name": task_id, "task_id": {"value": task_id}, "agent_id": {"value": "agent-S0"}}
    return {"type": "LAUNCH", "launch": {"task": task}}


def ack_event(task_id: str, uuid: bytes) -> dict[str, Any]:
    body = {"task_id": {"value": task_id}, "uuid": base64.b64encode(uuid).decode()}
    return {"type": "ACKNOWLEDGED", "acknowledged": body}


def test_subscribe_launch_update(agent: Any) -> None:
    client = start(agent)
    try:
        subscribed = next_of(client, Subscribed)
        assert subscribed.agent_id == "agent-S0"
        assert agent.subscribe_attempts[0] == {
            "type": "SUBSCRIBE",
            "framework_id": {"value": "fw-1"},
            "executor_id": {"value": "exec-1"},
            "subscribe": {},
        }
        stream = agent.wait_stream()
        stream.send(launch_event("t1"))
        assert next_of(client, Launch).task_id == "t1"
        uuid = client.update("t1", "TASK_RUNNING", message="started")
        update, headers = agent.wait_call("UPDATE")
        assert headers["Mesos-Stream-Id"] == stream.stream_id
        assert update == {
            "type": "UPDATE",
            "framework_id": {"value": "fw-1"},
            "executor_id": {"value": "exec-1"},
            "update": {
                "status": {
                    "task_id": {"value": "t1"},
                    "state": "TASK_RUNNING",
                    "source": "SOURCE_EXECUTOR",
                    "uuid": base64.b64encode(uuid).decode(),
                    "timestamp": 1700000000.5,
                    "executor_id": {"value": "exec-1"},
                    "agent_id": {"value": "agent-S0"},
                    "message": "started",
                }
            },
        }
        stream.send(ack_event("t1", uuid))
        next_of(client, Acknowledged)
        assert client.unacknowledged_updates == []
        assert client.unacknowledged_tasks == []
        client.message(b"hi")
        message, _ = agent.wait_call("MESSAGE")
        assert message["message"] == {"data": base64.b64encode(b"hi").decode()}
    finally:
        client.close()


def test_unacknowledged_updates_are_resent_on_resubscribe(agent: Any) -> None:
    client = start(agent)
    try:
        stream = agent.wait_stream()
        stream.send(launch_event("t1"))
        stream.send(launch_event("t2"))
        next_of(client, Launch)
        next_of(client, Launch)
        first = client.update("t1", "TASK_RUNNING")
        second = client.update("t2", "TASK_RUNNING")
        agent.wait_call("UPDATE", 2)
        stream.send(ack_event("t2", second))
        next_of(client, Acknowledged)

        stream.end()  # the agent restarts
        agent.wait_stream(2)
        again = agent.subscribe_attempts[1]["subscribe"]
        assert [t["task_id"]["value"] for t in again["unacknowledged_tasks"]] == ["t1"]
        (pending,) = again["unacknowledged_updates"]
        assert pending["status"]["task_id"] == {"value": "t1"}
        assert pending["status"]["uuid"] == base64.b64encode(first).decode()

        agent.streams[1].send(ack_event("t1", first))
        next_of(client, Acknowledged)
        agent.streams[1].end()
        agent.wait_stream(3)
        assert agent.subscribe_attempts[2]["subscribe"] == {}
    finally:
        client.close()


def test_updates_while_the_agent_is_away_go_out_with_the_next_subscribe(agent: Any) -> None:
    client = start(agent)
    try:
        stream = agent.wait_stream()
        next_of(client, Subscribed)
        agent.call_status = 503  # agent recovering
        uuid = client.update("t9", "TASK_FINISHED")
        agent.call_status = 202
        stream.end()
        agent.wait_stream(2)
        (pending,) = agent.subscribe_attempts[1]["subscribe"]["unacknowledged_updates"]
        assert pending["status"]["uuid"] == base64.b64encode(uuid).decode()
    finally:
        client.close()


def test_non_checkpointing_executor_gives_up_when_the_agent_goes(agent: Any) -> None:
    client = start(agent, MESOS_CHECKPOINT="0")
    agent.wait_stream().end()
    with pytest.raises(SubscriptionEnded, match="non-checkpointing"):
        for _ in client.events():
            pass
    assert len(agent.subscribe_attempts) == 1
    client.close()


def test_recovery_timeout_bounds_the_retries(agent: Any) -> None:
    client = start(agent, MESOS_RECOVERY_TIMEOUT="300ms")
    agent.wait_stream()
    next_of(client, Subscribed)
    agent.subscribe_script.extend([(503, {})] * 10_000)
    started = time.monotonic()
    agent.streams[0].end()
    with pytest.raises(SubscriptionEnded, match="recovery timeout"):
        client.next_event(5)
    assert 0.25 <= time.monotonic() - started < 3
    client.close()


def test_shutdown_ends_cleanly_when_the_stream_closes(agent: Any) -> None:
    client = start(agent)
    stream = agent.wait_stream()
    stream.send({"type": "SHUTDOWN"})
    next_of(client, Shutdown)
    client.update("t1", "TASK_KILLED")  # still possible while shutting down
    agent.wait_call("UPDATE")
    stream.end()
    assert list(client.events()) == []
    assert client.join(2)
    assert client.error is None
    assert len(agent.subscribe_attempts) == 1
    client.close()
