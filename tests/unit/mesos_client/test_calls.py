"""The exact JSON of every scheduler and executor call builder, and the command TaskInfo helper."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from daemons.mesos_client import calls, command_task

FID = {"value": "fw-1"}
B64 = base64.b64encode(b"\x00\x01payload").decode()


@pytest.mark.parametrize(
    "built, wire",
    [
        (calls.teardown("fw-1"), {"type": "TEARDOWN", "framework_id": FID}),
        (
            calls.decline("fw-1", ["O1", "O2"], refuse_seconds=30),
            {
                "type": "DECLINE",
                "framework_id": FID,
                "decline": {
                    "offer_ids": [{"value": "O1"}, {"value": "O2"}],
                    "filters": {"refuse_seconds": 30.0},
                },
            },
        ),
        (
            calls.decline("fw-1", ["O1"]),
            {"type": "DECLINE", "framework_id": FID, "decline": {"offer_ids": [{"value": "O1"}]}},
        ),
        (calls.revive("fw-1"), {"type": "REVIVE", "framework_id": FID}),
        (
            calls.revive("fw-1", ["web"]),
            {"type": "REVIVE", "framework_id": FID, "revive": {"roles": ["web"]}},
        ),
        (calls.suppress("fw-1"), {"type": "SUPPRESS", "framework_id": FID}),
        (
            calls.suppress("fw-1", ["*"]),
            {"type": "SUPPRESS", "framework_id": FID, "suppress": {"roles": ["*"]}},
        ),
        (
            calls.kill("fw-1", "t1"),
            {"type": "KILL", "framework_id": FID, "kill": {"task_id": {"value": "t1"}}},
        ),
        (
            calls.kill("fw-1", "t1", "S0", grace_period_seconds=2.5),
            {
                "type": "KILL",
                "framework_id": FID,
                "kill": {
                    "task_id": {"value": "t1"},
                    "agent_id": {"value": "S0"},
                    "kill_policy": {"grace_period": {"nanoseconds": 2_500_000_000}},
                },
            },
        ),
        (
            calls.shutdown("fw-1", "e1", "S0"),
            {
                "type": "SHUTDOWN",
                "framework_id": FID,
                "shutdown": {"executor_id": {"value": "e1"}, "agent_id": {"value": "S0"}},
            },
        ),
        (
            calls.acknowledge("fw-1", "S0", "t1", b"\x00\x01payload"),
            {
                "type": "ACKNOWLEDGE",
                "framework_id": FID,
                "acknowledge": {
                    "agent_id": {"value": "S0"},
                    "task_id": {"value": "t1"},
                    "uuid": B64,
                },
            },
        ),
        (
            calls.reconcile("fw-1"),
            {"type": "RECONCILE", "framework_id": FID, "reconcile": {"tasks": []}},
        ),
        (
            calls.reconcile("fw-1", [("t1", "S0"), ("t2", None)]),
            {
                "type": "RECONCILE",
                "framework_id": FID,
                "reconcile": {
                    "tasks": [
                        {"task_id": {"value": "t1"}, "agent_id": {"value": "S0"}},
                        {"task_id": {"value": "t2"}},
                    ]
                },
            },
        ),
        (
            calls.message("fw-1", "S0", "e1", b"\x00\x01payload"),
            {
                "type": "MESSAGE",
                "framework_id": FID,
                "message": {
                    "agent_id": {"value": "S0"},
                    "executor_id": {"value": "e1"},
                    "data": B64,
                },
            },
        ),
        (
            calls.request("fw-1", [{"agent_id": {"value": "S0"}, "resources": []}]),
            {
                "type": "REQUEST",
                "framework_id": FID,
                "request": {"requests": [{"agent_id": {"value": "S0"}, "resources": []}]},
            },
        ),
    ],
)
def test_scheduler_call_shapes(built: dict[str, Any], wire: dict[str, Any]) -> None:
    assert built == wire


def test_subscribe_first_time_and_failover() -> None:
    info = {
        "user": "root",
        "name": "f",
        "roles": ["a", "b"],
        "capabilities": [{"type": "MULTI_ROLE"}],
    }
    assert calls.subscribe(info) == {"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}
    again = {**info, "id": {"value": "fw-1"}}
    assert calls.subscribe(again, suppressed_roles=["b", "a", "b"]) == {
        "type": "SUBSCRIBE",
        "framework_id": FID,
        "subscribe": {"framework_info": again, "suppressed_roles": ["a", "b"]},
    }


def test_accept_with_launch_and_launch_group() -> None:
    task = {"name": "t", "task_id": {"value": "t"}, "agent_id": {"value": "S0"}}
    executor = {"executor_id": {"value": "e"}, "type": "DEFAULT"}
    built = calls.accept(
        "fw-1",
        ["O1"],
        [calls.launch([task]), calls.launch_group(executor, [task])],
        refuse_seconds=1,
    )
    assert built == {
        "type": "ACCEPT",
        "framework_id": FID,
        "accept": {
            "offer_ids": [{"value": "O1"}],
            "operations": [
                {"type": "LAUNCH", "launch": {"task_infos": [task]}},
                {
                    "type": "LAUNCH_GROUP",
                    "launch_group": {"executor": executor, "task_group": {"tasks": [task]}},
                },
            ],
            "filters": {"refuse_seconds": 1.0},
        },
    }


def test_executor_calls() -> None:
    ids = {"framework_id": FID, "executor_id": {"value": "e1"}}
    status = calls.task_status(
        "t1",
        "TASK_RUNNING",
        uuid=b"\x00\x01payload",
        timestamp=12.5,
        executor_id="e1",
        agent_id="S0",
    )
    assert status == {
        "task_id": {"value": "t1"},
        "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR",
        "uuid": B64,
        "timestamp": 12.5,
        "executor_id": {"value": "e1"},
        "agent_id": {"value": "S0"},
    }
    task = {"name": "t1", "task_id": {"value": "t1"}}
    assert calls.executor_subscribe("fw-1", "e1", [task], [status]) == {
        "type": "SUBSCRIBE",
        **ids,
        "subscribe": {
            "unacknowledged_tasks": [task],
            "unacknowledged_updates": [{"status": status}],
        },
    }
    assert calls.executor_subscribe("fw-1", "e1") == {"type": "SUBSCRIBE", **ids, "subscribe": {}}
    assert calls.executor_update("fw-1", "e1", status) == {
        "type": "UPDATE",
        **ids,
        "update": {"status": status},
    }
    assert calls.executor_message("fw-1", "e1", b"\x00\x01payload") == {
        "type": "MESSAGE",
        **ids,
        "message": {"data": B64},
    }


def test_task_status_optional_fields() -> None:
    status = calls.task_status(
        "t",
        "TASK_FAILED",
        uuid=b"u",
        timestamp=1.0,
        message="m",
        reason="R",
        data=b"d",
        healthy=False,
    )
    assert (status["message"], status["reason"], status["healthy"]) == ("m", "R", False)
    assert status["data"] == base64.b64encode(b"d").decode()


def test_command_task() -> None:
    task = command_task(
        "web",
        "web.1",
        "S0",
        0.5,
        128,
        "python3 -m http.server $PORT0",
        disk=10,
        ports=[31001, 31000, 31005],
        environment={"B": "2", "A": "1"},
        uris=["http://example/x.tgz"],
        labels={"k": "v"},
    )
    assert task == {
        "name": "web",
        "task_id": {"value": "web.1"},
        "agent_id": {"value": "S0"},
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "role": "*"},
            {"name": "disk", "type": "SCALAR", "scalar": {"value": 10.0}, "role": "*"},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 128.0}, "role": "*"},
            {
                "name": "ports",
                "type": "RANGES",
                "ranges": {
                    "range": [{"begin": 31000, "end": 31001}, {"begin": 31005, "end": 31005}]
                },
                "role": "*",
            },
        ],
        "command": {
            "value": "python3 -m http.server $PORT0",
            "shell": True,
            "environment": {
                "variables": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
            },
            "uris": [{"value": "http://example/x.tgz"}],
        },
        "labels": {"labels": [{"key": "k", "value": "v"}]},
    }


def test_command_task_for_a_role() -> None:
    task = command_task("t", "t", "S0", 1, 32, "true", role="web", allocation_role="web")
    cpus = task["resources"][0]
    assert cpus["role"] == "web"
    assert cpus["reservations"] == [{"type": "STATIC", "role": "web"}]
    assert cpus["allocation_info"] == {"role": "web"}
    assert [r["name"] for r in task["resources"]] == ["cpus", "mem"]
