"""v1 shapes: uuids, executor status validation, the memory rewrite, ids, durations."""

from __future__ import annotations

import base64

import pytest

from daemons.agent import protocol
from daemons.agent.protocol import InvalidCall


def test_uuid_must_be_base64_of_sixteen_bytes() -> None:
    good = base64.b64encode(bytes(range(16))).decode()
    assert protocol.decode_uuid(good) == bytes(range(16))
    for bad in (None, 3, "!!!", base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidCall):
            protocol.decode_uuid(bad)


@pytest.mark.parametrize(
    "status",
    [
        None,
        {"state": "TASK_RUNNING", "uuid": base64.b64encode(bytes(16)).decode()},
        {
            "task_id": {"value": "t"},
            "state": "RUNNING",
            "uuid": base64.b64encode(bytes(16)).decode(),
        },
        {
            "task_id": {"value": "t"},
            "state": "TASK_STAGING",
            "uuid": base64.b64encode(bytes(16)).decode(),
        },
        {"task_id": {"value": "t"}, "state": "TASK_RUNNING"},
    ],
)
def test_executor_status_validation_rejects(status: object) -> None:
    with pytest.raises(InvalidCall):
        protocol.validate_executor_status(status)


def test_memory_limited_rewrites_state_reason_and_source_but_keeps_the_uuid() -> None:
    status = {
        "task_id": {"value": "t"},
        "state": "TASK_FAILED",
        "uuid": "u",
        "source": "SOURCE_EXECUTOR",
    }
    out = protocol.memory_limited(status, None)
    assert out["state"] == "TASK_FAILED"
    assert out["reason"] == "REASON_CONTAINER_LIMITATION_MEMORY"
    assert out["source"] == "SOURCE_AGENT"
    assert out["uuid"] == "u"


@pytest.mark.parametrize("value", ["..", ".", "a/b", "a\\b", "a\x00", "x" * 256, "tab\there"])
def test_unsafe_ids_are_rejected(value: str) -> None:
    with pytest.raises(InvalidCall):
        protocol.safe_id(value, "task id")


def test_safe_ids_pass() -> None:
    assert protocol.safe_id("app.4f1c-9a_b:1", "task id") == "app.4f1c-9a_b:1"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5.0, "5secs"), (0.25, "250ms"), (900.0, "15mins"), (7200.0, "2hrs"), (90.0, "90secs")],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert protocol.duration_text(seconds) == text


def test_agent_status_carries_a_uuid_and_the_agent_id() -> None:
    status = protocol.task_status(
        task_id="t", state="TASK_LOST", agent_id="a", uuid=bytes(16), timestamp=1.0
    )
    assert status["agent_id"] == {"value": "a"}
    assert protocol.decode_uuid(status["uuid"]) == bytes(16)
    assert status["source"] == "SOURCE_AGENT"


def test_allocation_role_prefers_allocation_info() -> None:
    framework = {"role": "web"}
    assert protocol.allocation_role([{"allocation_info": {"role": "slave_public"}}], framework) == (
        "slave_public"
    )
    assert protocol.allocation_role([], framework) == "web"
    assert protocol.allocation_role([], {}) == "*"
