"""What the agent puts on the wire: its own updates, an executor's update passed on, the memory
rewrite, `statuses` entries, durations and roles. Every status it holds says the same in its
typed fields and in `raw` (what is checkpointed and sent)."""

from __future__ import annotations

import base64

import pytest

from daemons.agent import protocol
from daemons.agent.messages import executor_status
from daemons.protocols.models import FrameworkInfo, TaskStatus

UUID = bytes(range(16))
EXECUTOR_STATUS = {
    "task_id": {"value": "t"},
    "state": "TASK_FAILED",
    "uuid": base64.b64encode(UUID).decode(),
    "check_status": {"type": "COMMAND"},  # a field the agent does not model: passed on as is
    "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "10.0.0.9"}]}]},
}


def as_parsed(status: TaskStatus) -> TaskStatus:
    """What the master (or recovery) reads back from the status' wire form."""
    return TaskStatus.parse(status.raw)


def test_an_agent_status_carries_a_uuid_the_agent_id_and_its_source() -> None:
    status = protocol.agent_status(
        task_id="t",
        state="TASK_LOST",
        agent_id="a",
        uuid=UUID,
        timestamp=1.0,
        container_id="c",
    )
    assert status.raw["agent_id"] == {"value": "a"}
    assert status.raw["uuid"] == base64.b64encode(UUID).decode()
    assert status.raw["container_status"] == {"container_id": {"value": "c"}}
    assert (status.source, status.uuid) == ("SOURCE_AGENT", UUID)
    assert as_parsed(status) == status


def test_a_forwarded_update_gets_the_agents_fields_and_keeps_the_executors() -> None:
    sent = executor_status(EXECUTOR_STATUS, "status")
    out = protocol.forwarded(
        sent, agent_id="a", executor_id="e", container_id="c", executor_pid=42, timestamp=5.0
    )
    assert out.raw["check_status"] == {"type": "COMMAND"}
    assert out.raw["container_status"] == {
        "network_infos": [{"ip_addresses": [{"ip_address": "10.0.0.9"}]}],
        "container_id": {"value": "c"},
        "executor_pid": 42,
    }
    assert (out.agent_id, out.executor_id, out.source, out.timestamp) == (
        "a",
        "e",
        "SOURCE_EXECUTOR",
        5.0,
    )
    assert as_parsed(out) == out
    assert sent.raw is EXECUTOR_STATUS and "agent_id" not in EXECUTOR_STATUS  # not changed


def test_a_forwarded_update_keeps_the_executors_own_source_and_timestamp() -> None:
    sent = executor_status({**EXECUTOR_STATUS, "source": "SOURCE_MASTER", "timestamp": 3.0}, "s")
    out = protocol.forwarded(
        sent, agent_id="a", executor_id="e", container_id="c", executor_pid=None, timestamp=5.0
    )
    assert (out.source, out.timestamp) == ("SOURCE_MASTER", 3.0)
    assert out.container_status is not None and out.container_status.executor_pid is None
    assert as_parsed(out) == out


def test_memory_limited_rewrites_state_reason_and_source_but_keeps_the_uuid() -> None:
    status = executor_status({**EXECUTOR_STATUS, "source": "SOURCE_EXECUTOR"}, "status")
    out = protocol.memory_limited(status, None)
    assert (out.state, out.reason, out.source) == (
        "TASK_FAILED",
        "REASON_CONTAINER_LIMITATION_MEMORY",
        "SOURCE_AGENT",
    )
    assert out.message == "Memory limit exceeded"
    assert out.raw["uuid"] == EXECUTOR_STATUS["uuid"]
    assert as_parsed(out) == out


def test_a_status_entry_holds_what_the_state_endpoints_show() -> None:
    status = protocol.forwarded(
        executor_status({**EXECUTOR_STATUS, "healthy": False, "message": "m"}, "status"),
        agent_id="a",
        executor_id="e",
        container_id="c",
        executor_pid=42,
        timestamp=5.0,
    )
    assert protocol.status_entry(status) == {
        "state": "TASK_FAILED",
        "timestamp": 5.0,
        "container_status": status.raw["container_status"],
        "healthy": False,
        "message": "m",
        "source": "SOURCE_EXECUTOR",
    }


def test_update_calls_send_the_wire_form() -> None:
    status = protocol.agent_status(
        task_id="t", state="TASK_LOST", agent_id="a", uuid=UUID, timestamp=1.0
    )
    call = protocol.update_call("a", "f", status)
    assert call["update"] == {"status": status.raw, "framework_id": {"value": "f"}}
    batch = protocol.updates_call("a", [("f", status), ("g", status)])
    assert [u["framework_id"] for u in batch["updates"]["updates"]] == [
        {"value": "f"},
        {"value": "g"},
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5.0, "5secs"), (0.25, "250ms"), (900.0, "15mins"), (7200.0, "2hrs"), (90.0, "90secs")],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert protocol.duration_text(seconds) == text


@pytest.mark.parametrize(
    ("info", "role"),
    [
        (FrameworkInfo(user="u", name="n", role="web"), "web"),
        (FrameworkInfo(user="u", name="n"), "*"),
        (FrameworkInfo(user="u", name="n", roles=("a", "b"), capabilities=("MULTI_ROLE",)), "a"),
        (FrameworkInfo(user="u", name="n", roles=("a",)), "*"),  # roles without MULTI_ROLE
        (FrameworkInfo(user="u", name="n", role="web", capabilities=("MULTI_ROLE",)), "web"),
    ],
)
def test_framework_role(info: FrameworkInfo, role: str) -> None:
    assert protocol.framework_role(info) == role
