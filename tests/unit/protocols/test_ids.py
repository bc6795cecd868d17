"""Ids: `{"value": ..}` reading and writing, Mesos' rule for a valid id, and status uuids."""

from __future__ import annotations

import base64

import pytest

from daemons.protocols.fields import ProtocolError, uuid
from daemons.protocols.ids import id_json, id_problem, id_value, id_values, opt_id_value, valid_id


@pytest.mark.parametrize(
    "value, problem",
    [
        ("web.1", None),
        ("7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-S0", None),
        ("名前", None),  # non-ASCII is fine: only control characters are refused
        ("x" * 255, None),
        ("", "must not be empty"),
        ("x" * 256, "must be at most 255 characters"),
        (".", "must not be '.', '..'"),
        ("..", "must not be '.', '..'"),
        ("a/b", "or contain '/'"),
        ("a\\b", "or contain '/'"),
        ("a\nb", "control characters"),
        ("a\x7fb", "control characters"),
    ],
)
def test_id_problem_is_mesos_validate_id(value: str, problem: str | None) -> None:
    found = id_problem(value)
    assert found is None if problem is None else found is not None and problem in found


def test_valid_id_names_what_it_checks() -> None:
    assert valid_id("t1", "task id") == "t1"
    with pytest.raises(ProtocolError, match=r"task id '\.\.' must not be"):
        valid_id("..", "task id", "run_task.task.task_id")


def test_reading_ids() -> None:
    call = {"framework_id": {"value": "F"}, "agent_id": {"value": ""}, "ids": [{"value": "O1"}]}
    assert id_value(call, "framework_id", "call") == "F"
    assert opt_id_value(call, "agent_id", "call") == ""  # present but empty: the caller decides
    assert opt_id_value(call, "executor_id", "call") is None
    assert id_values(call, "ids", "call") == ("O1",)
    assert id_values(call, "offer_ids", "call") == ()
    assert id_json("F") == {"value": "F"}
    with pytest.raises(ProtocolError, match="'agent_id' must not be empty"):
        id_value(call, "agent_id", "call")
    with pytest.raises(ProtocolError, match="'ids' must be a list of objects"):
        id_values({"ids": ["O1"]}, "ids", "call")
    with pytest.raises(ProtocolError, match="'framework_id' must be an object"):
        opt_id_value({"framework_id": "F"}, "framework_id", "call")


def test_a_status_uuid_is_sixteen_bytes() -> None:
    sixteen = base64.b64encode(bytes(range(16))).decode()
    assert uuid({"uuid": sixteen}, "uuid", "acknowledge") == bytes(range(16))
    with pytest.raises(
        ProtocolError, match=r"acknowledge: field 'uuid' must be a UUID \(16 bytes\)"
    ):
        uuid({"uuid": base64.b64encode(b"short").decode()}, "uuid", "acknowledge")
    with pytest.raises(ProtocolError, match="acknowledge: missing field 'uuid'"):
        uuid({}, "uuid", "acknowledge")
    with pytest.raises(ProtocolError, match="is not valid base64"):
        uuid({"uuid": "not base64!"}, "uuid", "acknowledge")
