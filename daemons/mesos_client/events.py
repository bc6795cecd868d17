"""Scheduler events of the Mesos v1 API as typed, frozen values, and `parse_event`. Pure.

Unknown fields are ignored (Mesos adds fields over time); a known event without its lowercase
payload key, or with a required field missing, raises `EventParseError`. An event type this module
does not know becomes `UnknownEvent`, so a newer master does not break an older client. The
messages events carry are the protocols layer's models (`TaskStatus`, `Offer`, re-exported here),
each keeping the JSON it came from in `raw` (excluded from equality and hashing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from daemons.mesos_client.errors import EventParseError
from daemons.protocols import JSON
from daemons.protocols import fields as p
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_value, opt_id_value
from daemons.protocols.models import AttributeValue, Offer, TaskStatus

__all__ = [
    "AttributeValue",
    "Error",
    "Event",
    "Failure",
    "Heartbeat",
    "InverseOffers",
    "Message",
    "Offer",
    "Offers",
    "Rescind",
    "RescindInverseOffer",
    "Subscribed",
    "TaskStatus",
    "UnknownEvent",
    "Update",
    "UpdateOperationStatus",
    "decode_event",
    "decode_json",
    "dispatch",
    "parse_event",
    "parse_offer",
    "parse_task_status",
]

_T = TypeVar("_T")
_E = TypeVar("_E")


@dataclass(frozen=True, slots=True)
class Subscribed:
    framework_id: str
    heartbeat_interval_seconds: float | None
    master_info: JSON | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Offers:
    offers: tuple[Offer, ...]


@dataclass(frozen=True, slots=True)
class InverseOffers:
    inverse_offers: tuple[JSON, ...] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Rescind:
    offer_id: str


@dataclass(frozen=True, slots=True)
class RescindInverseOffer:
    inverse_offer_id: str


@dataclass(frozen=True, slots=True)
class Update:
    status: TaskStatus


@dataclass(frozen=True, slots=True)
class UpdateOperationStatus:
    status: JSON = field(compare=False)


@dataclass(frozen=True, slots=True)
class Message:
    agent_id: str
    executor_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Failure:
    """An agent was lost (no executor_id), or an executor exited with `status`."""

    agent_id: str | None
    executor_id: str | None
    status: int | None


@dataclass(frozen=True, slots=True)
class Error:
    """The master gave up on this framework (removed, failed over, ...): fatal."""

    message: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    pass


@dataclass(frozen=True, slots=True)
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


def parse_task_status(raw: Any, where: str = "status") -> TaskStatus:
    """`TaskStatus.parse`, raising `EventParseError`."""
    return _client_parse(TaskStatus.parse, raw, where)


def parse_offer(raw: Any, where: str = "offer") -> Offer:
    """`Offer.parse`, raising `EventParseError`."""
    return _client_parse(Offer.parse, raw, where)


def _client_parse(parse: Callable[[Any, str], _T], raw: Any, where: str) -> _T:
    try:
        return parse(raw, where)
    except ProtocolError as err:
        raise EventParseError.of(err) from None


def _subscribed(body: JSON) -> Subscribed:
    return Subscribed(
        framework_id=id_value(body, "framework_id", "subscribed"),
        heartbeat_interval_seconds=p.opt_number(body, "heartbeat_interval_seconds", "subscribed"),
        master_info=p.opt_obj(body, "master_info", "subscribed"),
    )


def _offers(body: JSON) -> Offers:
    offers = p.opt_list(body, "offers", "offers")
    return Offers(tuple(Offer.parse(o, "offers.offers[]") for o in offers))


def _failure(body: JSON) -> Failure:
    return Failure(
        agent_id=opt_id_value(body, "agent_id", "failure"),
        executor_id=opt_id_value(body, "executor_id", "failure"),
        status=p.opt_int(body, "status", "failure"),
    )


def _message(body: JSON) -> Message:
    return Message(
        agent_id=id_value(body, "agent_id", "message"),
        executor_id=id_value(body, "executor_id", "message"),
        data=p.opt_bytes(body, "data", "message") or b"",
    )


_PARSERS: dict[str, Callable[[JSON], Event]] = {
    "SUBSCRIBED": _subscribed,
    "OFFERS": _offers,
    "INVERSE_OFFERS": lambda b: InverseOffers(
        tuple(p.opt_list(b, "inverse_offers", "inverse_offers"))
    ),
    "RESCIND": lambda b: Rescind(id_value(b, "offer_id", "rescind")),
    "RESCIND_INVERSE_OFFER": lambda b: RescindInverseOffer(
        id_value(b, "inverse_offer_id", "rescind_inverse_offer")
    ),
    "UPDATE": lambda b: Update(TaskStatus.parse(p.obj(b, "status", "update"), "update.status")),
    "UPDATE_OPERATION_STATUS": lambda b: UpdateOperationStatus(
        p.obj(b, "status", "update_operation_status")
    ),
    "MESSAGE": _message,
    "FAILURE": _failure,
    "ERROR": lambda b: Error(p.string(b, "message", "error")),
}


def parse_event(raw: Any) -> Event:
    """Turn one decoded scheduler event (`{"type": X, "<x_lower>": {...}}`) into a value."""
    return dispatch(raw, _PARSERS, {"HEARTBEAT": Heartbeat})


def dispatch(
    raw: Any,
    parsers: Mapping[str, Callable[[JSON], _E]],
    bare: Mapping[str, Callable[[], _E]],
) -> _E | UnknownEvent:
    """The event `raw` is: `bare` types carry no payload, the others are read from their
    lowercase payload key by `parsers`; a type in neither becomes `UnknownEvent`."""
    if not isinstance(raw, dict):
        raise EventParseError("event is not a JSON object")
    try:
        kind = p.string(raw, "type", "event")
        make = bare.get(kind)
        if make is not None:
            return make()
        parser = parsers.get(kind)
        if parser is None:
            return UnknownEvent(kind, raw)
        return parser(p.obj(raw, kind.lower(), f"{kind} event"))
    except ProtocolError as err:
        raise EventParseError.of(err) from None


def decode_event(record: bytes) -> Event:
    """Parse one RecordIO record (JSON bytes)."""
    return parse_event(decode_json(record))


def decode_json(record: bytes) -> Any:
    try:
        return json.loads(record)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EventParseError(f"event is not valid JSON: {err}") from None
