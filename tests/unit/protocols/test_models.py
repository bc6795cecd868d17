"""The typed models read what real clients send, name the bad field, and write the v1 shapes."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from typing import Any

import pytest

from daemons.protocols.fields import ProtocolError
from daemons.protocols.models import (
    URL,
    Address,
    AgentInfo,
    CommandInfo,
    EnvironmentVariable,
    ExecutorInfo,
    FrameworkInfo,
    Label,
    Offer,
    Task,
    TaskInfo,
    TaskStatus,
)
from daemons.protocols.resources import Resources

UUID = uuid.UUID("6f1c2c9e-2f7a-4d0b-9a41-3c1f0e4b5a77").bytes
CPUS_MEM = [
    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "allocation_info": {"role": "*"}},
    {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}, "allocation_info": {"role": "*"}},
]


def mesoshttp_task() -> dict[str, Any]:
    """As mesoshttp sends it: `slave_id` instead of `agent_id`, and fields we do not model."""
    return {
        "name": "web",
        "task_id": {"value": "web.1"},
        "slave_id": {"value": "S0"},
        "resources": CPUS_MEM,
        "command": {
            "value": "./serve",
            "environment": {
                "variables": [
                    {"name": "A", "value": "1"},
                    {"name": "TOKEN", "type": "SECRET", "secret": {"type": "REFERENCE"}},
                ]
            },
            "uris": [{"value": "http://example/x.tgz", "extract": False}],
        },
        "labels": {"labels": [{"key": "tier", "value": "front"}, {"key": "bare"}]},
        "discovery": {
            "visibility": "FRAMEWORK",
            "name": "web",
            "ports": {"ports": [{"number": 31000, "protocol": "tcp", "name": "http"}]},
        },
        "health_check": {"type": "HTTP", "http": {"port": 31000, "path": "/ping"}},
        "kill_policy": {"grace_period": {"nanoseconds": 2_500_000_000}},
        "container": {"type": "MESOS", "volumes": [{"container_path": "/data", "mode": "RW"}]},
        "max_completion_time": {"nanoseconds": 1},
    }


def test_task_info_reads_what_clients_send() -> None:
    raw = mesoshttp_task()
    task = TaskInfo.parse(raw)
    assert (task.task_id, task.name, task.agent_id) == ("web.1", "web", "S0")
    assert task.resources == {"*": Resources.of({"cpus": 0.5, "mem": 64})}
    assert task.allocation_role == "*"
    assert task.command is not None
    assert task.command.environment_values() == {"A": "1"}  # the SECRET has no value here
    assert task.command.environment[1] == EnvironmentVariable("TOKEN", None, "SECRET")
    assert task.command.uris[0].extract is False
    assert task.labels == (Label("tier", "front"), Label("bare"))
    assert task.discovery is not None and task.discovery.ports[0].name == "http"
    assert task.health_check is not None and task.health_check.interval_seconds == 10.0
    assert task.kill_policy is not None and task.kill_policy.grace_period == 2.5
    assert task.container is not None and task.container.type == "MESOS"
    # What the model does not hold is still there to echo, in the very dict it came from.
    assert task.raw is raw
    assert task.container.raw["volumes"][0]["mode"] == "RW"
    assert task.command.raw is raw["command"]


def test_task_info_built_in_code_renders_the_v1_shape() -> None:
    task = TaskInfo(
        task_id="t1",
        name="sleep",
        agent_id="S0",
        resources={"*": Resources.of({"cpus": 1})},
        command=CommandInfo(value="sleep 10"),
    )
    assert task.raw == {}
    assert task.to_json() == {
        "name": "sleep",
        "task_id": {"value": "t1"},
        "agent_id": {"value": "S0"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}, "role": "*"}],
        "command": {"value": "sleep 10", "shell": True},
    }


def test_models_are_frozen_and_replace_keeps_raw() -> None:
    status = TaskStatus.parse({"task_id": {"value": "t"}, "state": "TASK_RUNNING"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.state = "TASK_FAILED"  # type: ignore[misc]
    changed = dataclasses.replace(status, state="TASK_FAILED")
    assert changed.raw["state"] == "TASK_RUNNING"  # stale: send a changed copy with to_json()
    assert changed.to_json()["state"] == "TASK_FAILED"


def test_task_status_of_an_executor() -> None:
    raw = {
        "task_id": {"value": "t1"},
        "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR",
        "uuid": base64.b64encode(UUID).decode(),
        "timestamp": 1731000000,  # pymesos sends whole seconds
        "healthy": True,
        "container_status": {"container_id": {"value": "c1"}, "executor_pid": 4242},
        "labels": {"labels": [{"key": "k", "value": "v"}]},
    }
    status = TaskStatus.parse(raw)
    assert (status.uuid, status.timestamp, status.healthy) == (UUID, 1731000000.0, True)
    assert status.container_status is not None
    assert (status.container_status.container_id, status.container_status.executor_pid) == (
        "c1",
        4242,
    )
    assert not status.is_terminal
    assert dataclasses.replace(status, state="TASK_LOST").is_terminal


def test_task_as_an_agent_reports_it_when_it_re_registers() -> None:
    status = {"task_id": {"value": "t1"}, "state": "TASK_RUNNING", "timestamp": 2.0}
    raw = {
        "task_id": {"value": "t1"},
        "framework_id": {"value": "F"},
        "agent_id": {"value": "S0"},
        "name": "sleep",
        "state": "TASK_RUNNING",
        "resources": CPUS_MEM,
        "statuses": [dict(status, state="TASK_STARTING", timestamp=1.0), status],
        "labels": {"labels": [{"key": "k", "value": "v"}]},
        "status_update_uuid": "AAAA",
    }
    task = Task.parse(raw)
    assert (task.task_id, task.framework_id, task.state, task.executor_id) == (
        "t1",
        "F",
        "TASK_RUNNING",
        None,  # a command task: its executor is the agent's own
    )
    assert [s.state for s in task.statuses] == ["TASK_STARTING", "TASK_RUNNING"]
    assert task.latest_status == TaskStatus.parse(status)
    assert task.allocation_role == "*"
    assert task.statuses[0].raw is raw["statuses"][0]


def test_offer_renders_what_the_master_sends() -> None:
    offer = Offer(
        id="O1",
        framework_id="F1",
        agent_id="S1",
        hostname="a1",
        resources={"web": Resources.of({"cpus": 1}, {"ports": [(31000, 31001)]})},
        attributes={"rack": "r1", "level": 3.0, "zones": frozenset({"b", "a"})},
        allocation_role="web",
        url=URL("http", Address(5051, "a1", "10.0.0.1"), "/slave(1)"),
        executor_ids=("e1",),
    )
    allocated = {"role": "web", "reservations": [{"type": "STATIC", "role": "web"}]}
    allocated["allocation_info"] = {"role": "web"}
    assert offer.to_json() == {
        "id": {"value": "O1"},
        "framework_id": {"value": "F1"},
        "agent_id": {"value": "S1"},
        "hostname": "a1",
        "url": {
            "scheme": "http",
            "address": {"hostname": "a1", "ip": "10.0.0.1", "port": 5051},
            "path": "/slave(1)",
        },
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}, **allocated},
            {
                "name": "ports",
                "type": "RANGES",
                "ranges": {"range": [{"begin": 31000, "end": 31001}]},
                **allocated,
            },
        ],
        "attributes": [
            {"name": "rack", "type": "TEXT", "text": {"value": "r1"}},
            {"name": "level", "type": "SCALAR", "scalar": {"value": 3.0}},
            {"name": "zones", "type": "SET", "set": {"item": ["a", "b"]}},
        ],
        "executor_ids": [{"value": "e1"}],
        "allocation_info": {"role": "web"},
    }


def test_offer_fault_domain() -> None:
    raw = Offer(id="O", framework_id="F", agent_id="S", hostname="h", resources={}).to_json()
    raw["domain"] = {"fault_domain": {"region": {"name": "eu"}, "zone": {"name": "eu-1"}}}
    domain = Offer.parse(raw).domain
    assert domain is not None and (domain.region, domain.zone) == ("eu", "eu-1")


@pytest.mark.parametrize(
    "capabilities, role, roles, subscribed",
    [
        ((), None, (), ("*",)),
        ((), "web", ("ignored",), ("web",)),
        (("MULTI_ROLE",), None, ("a", "b", "a"), ("a", "b")),
        (("MULTI_ROLE",), "web", (), ("*",)),
    ],
)
def test_framework_subscribed_roles(
    capabilities: tuple[str, ...], role: str | None, roles: tuple[str, ...], subscribed: Any
) -> None:
    info = FrameworkInfo(user="u", name="n", role=role, roles=roles, capabilities=capabilities)
    assert info.subscribed_roles == subscribed
    assert info.has_capability("MULTI_ROLE") == bool(capabilities)


def test_framework_info_defaults_are_mesos_and_stay_off_the_wire() -> None:
    info = FrameworkInfo.parse({"user": "root", "name": "demo", "capabilities": [{}]})
    assert (info.failover_timeout, info.checkpoint, info.role, info.capabilities) == (
        0.0,
        False,
        None,
        (),
    )
    assert info.to_json() == {"user": "root", "name": "demo"}


def test_agent_info_default_port() -> None:
    agent = AgentInfo.parse(
        {"hostname": "a1", "attributes": [{"name": "rack", "text": {"value": "r"}}]}
    )
    assert (agent.port, agent.id, agent.attributes) == (5051, None, {"rack": "r"})


@pytest.mark.parametrize(
    "model, raw, message, path",
    [
        (TaskInfo, [], "task: not an object", "task"),
        (TaskInfo, {"name": "x"}, "task: missing field 'task_id'", "task.task_id"),
        (TaskInfo, {"task_id": {"value": ""}}, "field 'task_id' must not be empty", "task.task_id"),
        (TaskInfo, {"task_id": "t1"}, "'task_id' must be an object with a string", "task.task_id"),
        (
            TaskInfo,
            {"task_id": {"value": "t"}, "resources": [{"name": "cpus", "scalar": {"value": -1}}]},
            "task: field 'resources': resource 'cpus' needs a non-negative scalar value",
            "task.resources",
        ),
        (
            TaskInfo,
            {
                "task_id": {"value": "t"},
                "command": {"environment": {"variables": [{"value": "1"}]}},
            },
            "task.command.environment: missing or non-string field 'name'",
            "task.command.environment.name",
        ),
        (
            TaskInfo,
            {"task_id": {"value": "t"}, "health_check": {"http": {"path": "/"}}},
            "task.health_check.http: missing integer field 'port'",
            "task.health_check.http.port",
        ),
        (
            TaskInfo,
            {"task_id": {"value": "t"}, "kill_policy": {"grace_period": {"nanoseconds": "3"}}},
            "task.kill_policy.grace_period: missing or non-number field 'nanoseconds'",
            "task.kill_policy.grace_period.nanoseconds",
        ),
        (
            TaskInfo,
            {"task_id": {"value": "t"}, "executor": {"command": {}}},
            "task.executor: missing field 'executor_id'",
            "task.executor.executor_id",
        ),
        (
            TaskInfo,
            {"task_id": {"value": "t"}, "labels": {"labels": ["k=v"]}},
            "task.labels: field 'labels' must be a list of objects",
            "task.labels.labels",
        ),
        (
            TaskStatus,
            {"task_id": {"value": "t"}, "state": "TASK_RUNNING", "uuid": "!!"},
            "status: field 'uuid' is not valid base64",
            "status.uuid",
        ),
        (
            TaskStatus,
            {"task_id": {"value": "t"}},
            "missing or non-string field 'state'",
            "status.state",
        ),
        (
            TaskStatus,
            {"task_id": {"value": "t"}, "state": "S", "healthy": "yes"},
            "status: field 'healthy' is not a boolean",
            "status.healthy",
        ),
        (
            Offer,
            {"id": {"value": "O"}},
            "offer: missing field 'framework_id'",
            "offer.framework_id",
        ),
        (
            FrameworkInfo,
            {"name": "n"},
            "framework_info: missing or non-string field 'user'",
            "framework_info.user",
        ),
        (
            FrameworkInfo,
            {"user": "u", "name": "n", "capabilities": ["MULTI_ROLE"]},
            "field 'capabilities' must be a list of objects",
            "framework_info.capabilities",
        ),
        (
            AgentInfo,
            {"hostname": "a", "port": 70000},
            "agent_info: field 'port' must be a port number (1-65535)",
            "agent_info.port",
        ),
        (ExecutorInfo, {}, "executor: missing field 'executor_id'", "executor.executor_id"),
        (
            Task,
            {
                "task_id": {"value": "t"},
                "framework_id": {"value": "F"},
                "state": "S",
                "statuses": [{}],
            },
            "task.statuses[]: missing field 'task_id'",
            "task.statuses[].task_id",
        ),
    ],
)
def test_a_malformed_message_names_its_bad_field(
    model: Any, raw: Any, message: str, path: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        model.parse(raw)
    assert message in str(caught.value)
    assert caught.value.path == path
    assert isinstance(caught.value, ValueError)


def test_the_caller_names_where_the_message_sits() -> None:
    with pytest.raises(ProtocolError) as caught:
        TaskStatus.parse({"state": "TASK_RUNNING"}, "update.status")
    assert str(caught.value) == "update.status: missing field 'task_id'"
    assert caught.value.path == "update.status.task_id"
