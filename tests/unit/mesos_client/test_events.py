"""Parsing scheduler and executor events from recorded streams (tests/fixtures/mesos_client)."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.mesos_client import (
    Error,
    EventParseError,
    Failure,
    Heartbeat,
    InverseOffers,
    MesosClientError,
    Message,
    Offers,
    Rescind,
    RescindInverseOffer,
    Subscribed,
    UnknownEvent,
    Update,
    UpdateOperationStatus,
    parse_event,
    parse_executor_event,
)
from daemons.mesos_client import executor_events as ex
from daemons.protocols.fields import ProtocolError
from daemons.protocols.models import CommandInfo, TaskInfo
from daemons.protocols.recordio import Decoder, encode_json
from daemons.protocols.resources import Resources

FIXTURES = Path(__file__).parents[2] / "fixtures" / "mesos_client"
FID = "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-0000"
AID = "7b3f0f4e-1c0a-4a8e-9b1f-2d9c0e7a1b2c-S0"
UUID1 = uuid.UUID("6f1c2c9e-2f7a-4d0b-9a41-3c1f0e4b5a77").bytes
SLEEP = CommandInfo(value="sleep 1")


def records(name: str) -> list[Any]:
    decoder = Decoder()
    out = decoder.decode((FIXTURES / name).read_bytes())
    decoder.finish()
    return [json.loads(r) for r in out]


def test_scheduler_stream_parses_to_typed_events() -> None:
    events = [parse_event(r) for r in records("scheduler_events.recordio")]
    assert [type(e) for e in events] == [
        Subscribed,
        Heartbeat,
        Offers,
        Rescind,
        Update,
        Update,
        Message,
        Failure,
        Failure,
        InverseOffers,
        RescindInverseOffer,
        UpdateOperationStatus,
        UnknownEvent,
        Error,
    ]
    subscribed, _, offers, rescind, running, lost, message, failure, lost_agent = events[:9]
    assert subscribed == Subscribed(FID, 15.0)
    assert subscribed.master_info is not None
    assert subscribed.master_info["address"]["port"] == 5050

    (offer,) = offers.offers
    assert (offer.framework_id, offer.agent_id, offer.hostname) == (FID, AID, "agent-1.local")
    assert offer.resources["*"] == Resources.of(
        {"cpus": 2, "mem": 1024, "disk": 4096}, {"ports": [(31000, 32000)]}
    )
    assert offer.resources["slave_public"] == Resources.of({"cpus": 1})
    assert offer.attributes == {
        "rack": "r1",
        "level": 3.0,
        "zones": frozenset({"a", "b"}),
        "slots": ((1, 4),),
    }
    assert offer.allocation_role == "*"
    assert offer.raw["some_future_field"] == {"x": 1}
    assert rescind == Rescind(offer.id)

    status = running.status
    assert (status.task_id, status.state, status.source) == (
        "sleep-1",
        "TASK_RUNNING",
        "SOURCE_EXECUTOR",
    )
    assert (status.agent_id, status.executor_id) == (AID, "sleep-1")
    assert status.uuid == UUID1
    assert status.healthy is True
    assert status.timestamp == 1731000000.25
    assert not status.is_terminal
    assert status.raw["container_status"]["executor_pid"] == 4242

    assert lost.status.uuid is None
    assert lost.status.reason == "REASON_RECONCILIATION"
    assert lost.status.is_terminal
    assert message == Message(AID, "exec-1", b"hello")
    assert failure == Failure(AID, "exec-1", 137)
    assert lost_agent == Failure(AID, None, None)
    assert events[-2] == UnknownEvent("SOMETHING_NEW", {})
    assert events[-1] == Error("Framework has been removed")


def test_executor_stream_parses_to_typed_events() -> None:
    events = [parse_executor_event(r) for r in records("executor_events.recordio")]
    subscribed, launch, group, heartbeat, kill, acked, message, error, shutdown = events
    assert isinstance(subscribed, ex.Subscribed)
    assert (subscribed.agent_id, subscribed.container_id) == (AID, "c-1")
    assert subscribed.executor_info["executor_id"] == {"value": "exec-1"}
    assert subscribed.executor.type == "CUSTOM"
    assert (subscribed.framework.id, subscribed.framework.name) == (FID, "sleep")
    assert (subscribed.agent.hostname, subscribed.agent.port) == ("agent-1.local", 5051)
    assert isinstance(launch, ex.Launch)
    assert launch == ex.Launch(TaskInfo(task_id="t1", name="t1", agent_id=AID, command=SLEEP))
    assert launch.task_id == "t1"
    assert launch.task["command"] == {"value": "sleep 1"}  # the JSON the agent sent
    assert launch.task_info.command == SLEEP
    assert group.task_ids == ("g1", "g2")
    assert [t["name"] for t in group.tasks] == ["g1", "g2"]
    assert heartbeat == Heartbeat()
    assert kill == ex.Kill("t1", 3.0)
    assert acked == ex.Acknowledged("t1", UUID1)
    assert message == ex.Message(b"ping")
    assert error == Error("oops")
    assert shutdown == ex.Shutdown()


@pytest.mark.parametrize(
    "raw, complaint",
    [
        ({"type": "UPDATE"}, "'update'"),
        ({"type": "OFFERS", "offers": []}, "'offers'"),
        ({"type": "UPDATE", "update": {"status": {"state": "TASK_RUNNING"}}}, "task_id"),
        ({"type": "UPDATE", "update": {"status": {"task_id": {"value": "t"}}}}, "state"),
        (
            {
                "type": "UPDATE",
                "update": {"status": {"task_id": {"value": "t"}, "state": "S", "uuid": "!!"}},
            },
            "base64",
        ),
        ({"type": "RESCIND", "rescind": {"offer_id": "O1"}}, "offer_id"),
        ({"type": "ERROR", "message": "top-level only"}, "'error'"),
        ({"subscribed": {}}, "'type'"),
        ([], "not a JSON object"),
    ],
)
def test_malformed_scheduler_events_say_what_is_wrong(raw: Any, complaint: str) -> None:
    with pytest.raises(EventParseError, match=complaint):
        parse_event(raw)


@pytest.mark.parametrize(
    "raw, complaint",
    [
        ({"type": "LAUNCH"}, "'launch'"),
        ({"type": "LAUNCH", "launch": {"task": {"name": "x"}}}, "task_id"),
        ({"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "t"}}}, "uuid"),
        (
            {
                "type": "SUBSCRIBED",
                "subscribed": {
                    "executor_info": {"executor_id": {"value": "e"}},
                    "framework_info": {"user": "root", "name": "f"},
                },
            },
            "agent_info",
        ),
        (
            {"type": "SUBSCRIBED", "subscribed": {"executor_info": {}}},
            "subscribed.executor_info: missing field 'executor_id'",
        ),
    ],
)
def test_malformed_executor_events_say_what_is_wrong(raw: Any, complaint: str) -> None:
    with pytest.raises(EventParseError, match=complaint):
        parse_executor_event(raw)


def test_unknown_fields_are_ignored() -> None:
    raw = {
        "type": "RESCIND",
        "rescind": {"offer_id": {"value": "O1", "extra": 1}, "new": True},
        "also_new": [],
    }
    assert parse_event(raw) == Rescind("O1")


def test_frozen_values_with_raw_json_stay_hashable() -> None:
    (event,) = [
        parse_event(r) for r in records("scheduler_events.recordio") if r["type"] == "RESCIND"
    ]
    status = [parse_event(r) for r in records("scheduler_events.recordio") if r["type"] == "UPDATE"]
    assert {event, *(s.status for s in status if isinstance(s, Update))}
    with pytest.raises(AttributeError):
        event.offer_id = "x"  # type: ignore[misc]


STREAM = (FIXTURES / "scheduler_events.recordio").read_bytes()


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_recordio_split_anywhere_decodes_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    decoder = Decoder()
    got: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        got.extend(decoder.decode(STREAM[start:end]))
    decoder.finish()
    assert [parse_event(json.loads(r)) for r in got] == [
        parse_event(r) for r in records("scheduler_events.recordio")
    ]


def test_one_byte_at_a_time() -> None:
    decoder = Decoder()
    got = [r for i in range(len(STREAM)) for r in decoder.decode(STREAM[i : i + 1])]
    assert len(got) == 14


def test_event_with_binary_payload_round_trips() -> None:
    data = bytes(range(256))
    event = {
        "type": "MESSAGE",
        "message": {
            "agent_id": {"value": "a"},
            "executor_id": {"value": "e"},
            "data": base64.b64encode(data).decode(),
        },
    }
    (record,) = Decoder().decode(encode_json(event))
    assert parse_event(json.loads(record)) == Message("a", "e", data)


def test_a_parse_error_is_the_clients_and_the_protocols_and_names_the_field() -> None:
    raw = {"type": "UPDATE", "update": {"status": {"task_id": {"value": "t"}, "state": 1}}}
    with pytest.raises(EventParseError) as caught:
        parse_event(raw)
    assert isinstance(caught.value, MesosClientError)
    assert isinstance(caught.value, ProtocolError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.path == "update.status.state"
    assert str(caught.value) == "update.status: missing or non-string field 'state'"
