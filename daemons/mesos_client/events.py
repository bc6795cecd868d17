"""Scheduler events of the Mesos v1 API as typed, frozen values, and `parse_event`. Pure.

Unknown fields are ignored (Mesos adds fields over time); a known event without its lowercase
payload key, or with a required field missing, raises `EventParseError`. An event type this module
does not know becomes `UnknownEvent`, so a newer master does not break an older client. Each typed
value keeps the JSON it came from in `raw` (excluded from equality and hashing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.mesos_client import payload as p
from daemons.mesos_client.errors import EventParseError
from daemons.protocols import JSON
from daemons.protocols.resources import Range, Resources, from_v1
from daemons.protocols.states import TERMINAL_STATES

AttributeValue = str | float | tuple[Range, ...] | frozenset[str]


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    state: str
    reason: str | None = None
    message: str | None = None
    source: str | None = None
    agent_id: str | None = None
    executor_id: str | None = None
    uuid: bytes | None = None  # present only on updates that must be acknowledged
    healthy: bool | None = None
    timestamp: float | None = None  # seconds since the epoch
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True)
class Offer:
    id: str
    framework_id: str
    agent_id: str
    hostname: str
    resources: Mapping[str, Resources]  # reservation role ("*" = unreserved) -> quantities
    attributes: Mapping[str, AttributeValue]
    allocation_role: str | None = None  # the role the offer was made to (MULTI_ROLE)
    raw: JSON = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Subscribed:
    framework_id: str
    heartbeat_interval_seconds: float | None
    master_info: JSON | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Offers:
    offers: tuple[Offer, ...]


@dataclass(frozen=True)
class InverseOffers:
    inverse_offers: tuple[JSON, ...] = field(compare=False)


@dataclass(frozen=True)
class Rescind:
    offer_id: str


@dataclass(frozen=True)
class RescindInverseOffer:
    inverse_offer_id: str


@dataclass(frozen=True)
class Update:
    status: TaskStatus


@dataclass(frozen=True)
class UpdateOperationStatus:
    status: JSON = field(compare=False)


@dataclass(frozen=True)
class Message:
    agent_id: str
    executor_id: str
    data: bytes


@dataclass(frozen=True)
class Failure:
    """An agent was lost (no executor_id), or an executor exited with `status`."""

    agent_id: str | None
    executor_id: str | None
    status: int | None


@dataclass(frozen=True)
class Error:
    """The master gave up on this framework (removed, failed over, ...): fatal."""

    message: str


@dataclass(frozen=True)
class Heartbeat:
    pass


@dataclass(frozen=True)
class UnknownEvent:
    type: str
    raw: JSON = field(compare=False, repr=False)


Event = (
    Subscribed
    | Offers
    | InverseOffers
    | Rescind
    | RescindInverseOffer
    | Update
    | UpdateOperationStatus
    | Message
    | Failure
    | Error
    | Heartbeat
    | UnknownEvent
)


def parse_task_status(raw: JSON, where: str = "status") -> TaskStatus:
    return TaskStatus(
        task_id=p.id_value(raw, "task_id", where),
        state=p.string(raw, "state", where),
        reason=p.opt_string(raw, "reason", where),
        message=p.opt_string(raw, "message", where),
        source=p.opt_string(raw, "source", where),
        agent_id=p.opt_id_value(raw, "agent_id", where),
        executor_id=p.opt_id_value(raw, "executor_id", where),
        uuid=p.opt_bytes(raw, "uuid", where),
        healthy=p.opt_bool(raw, "healthy", where),
        timestamp=p.opt_number(raw, "timestamp", where),
        raw=raw,
    )


def _attribute(raw: Any, where: str) -> tuple[str, AttributeValue]:
    if not isinstance(raw, dict):
        raise EventParseError(f"{where}: attribute is not an object")
    name = p.string(raw, "name", where)
    kind = raw.get("type", "TEXT")
    if kind == "SCALAR":
        value = p.opt_number(p.obj(raw, "scalar", where), "value", where)
        return name, 0.0 if value is None else value
    if kind == "RANGES":
        ranges = p.opt_list(p.obj(raw, "ranges", where), "range", where)
        if not all(isinstance(r, dict) for r in ranges):
            raise EventParseError(f"{where}: attribute {name!r} has a malformed range")
        return name, tuple(
            (int(p.opt_number(r, "begin", where) or 0), int(p.opt_number(r, "end", where) or 0))
            for r in ranges
        )
    if kind == "SET":
        return name, frozenset(str(i) for i in p.opt_list(p.obj(raw, "set", where), "item", where))
    return name, p.string(p.obj(raw, "text", where), "value", where)


def parse_offer(raw: Any, where: str = "offer") -> Offer:
    if not isinstance(raw, dict):
        raise EventParseError(f"{where}: not an object")
    try:
        resources = from_v1(raw.get("resources"))
    except ValueError as err:
        raise EventParseError(f"{where}: {err}") from None
    allocation = p.opt_obj(raw, "allocation_info", where)
    return Offer(
        id=p.id_value(raw, "id", where),
        framework_id=p.id_value(raw, "framework_id", where),
        agent_id=p.id_value(raw, "agent_id", where),
        hostname=p.string(raw, "hostname", where),
        resources=resources,
        attributes=dict(_attribute(a, where) for a in p.opt_list(raw, "attributes", where)),
        allocation_role=p.opt_string(allocation, "role", where) if allocation else None,
        raw=raw,
    )


def _subscribed(body: JSON) -> Subscribed:
    return Subscribed(
        framework_id=p.id_value(body, "framework_id", "subscribed"),
        heartbeat_interval_seconds=p.opt_number(body, "heartbeat_interval_seconds", "subscribed"),
        master_info=p.opt_obj(body, "master_info", "subscribed"),
    )


def _offers(body: JSON) -> Offers:
    return Offers(tuple(parse_offer(o) for o in p.opt_list(body, "offers", "offers")))


def _failure(body: JSON) -> Failure:
    status = body.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise EventParseError("failure: field 'status' is not an integer")
    return Failure(
        agent_id=p.opt_id_value(body, "agent_id", "failure"),
        executor_id=p.opt_id_value(body, "executor_id", "failure"),
        status=status,
    )


def _message(body: JSON) -> Message:
    return Message(
        agent_id=p.id_value(body, "agent_id", "message"),
        executor_id=p.id_value(body, "executor_id", "message"),
        data=p.opt_bytes(body, "data", "message") or b"",
    )


_PARSERS: dict[str, Callable[[JSON], Event]] = {
    "SUBSCRIBED": _subscribed,
    "OFFERS": _offers,
    "INVERSE_OFFERS": lambda b: InverseOffers(
        tuple(p.opt_list(b, "inverse_offers", "inverse_offers"))
    ),
    "RESCIND": lambda b: Rescind(p.id_value(b, "offer_id", "rescind")),
    "RESCIND_INVERSE_OFFER": lambda b: RescindInverseOffer(
        p.id_value(b, "inverse_offer_id", "rescind_inverse_offer")
    ),
    "UPDATE": lambda b: Update(parse_task_status(p.obj(b, "status", "update"), "update.status")),
    "UPDATE_OPERATION_STATUS": lambda b: UpdateOperationStatus(
        p.obj(b, "status", "update_operation_status")
    ),
    "MESSAGE": _message,
    "FAILURE": _failure,
    "ERROR": lambda b: Error(p.string(b, "message", "error")),
}


def parse_event(raw: Any) -> Event:
    """Turn one decoded scheduler event (`{"type": X, "<x_lower>": {...}}`) into a value."""
    if not isinstance(raw, dict):
        raise EventParseError("event is not a JSON object")
    kind = p.string(raw, "type", "event")
    if kind == "HEARTBEAT":
        return Heartbeat()
    parser = _PARSERS.get(kind)
    if parser is None:
        return UnknownEvent(kind, raw)
    return parser(p.obj(raw, kind.lower(), f"{kind} event"))


def decode_event(record: bytes) -> Event:
    """Parse one RecordIO record (JSON bytes)."""
    return parse_event(decode_json(record))


def decode_json(record: bytes) -> Any:
    try:
        return json.loads(record)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EventParseError(f"event is not valid JSON: {err}") from None
