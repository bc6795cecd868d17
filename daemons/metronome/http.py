"""Shared pieces of Metronome's blueprints: the state accessor, request bodies, query flags."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from daemons.kit.body import JSON_TYPE, parse_json
from daemons.kit.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from daemons.metronome.jobinfo import parse_embeds
from daemons.metronome.metronome import Metronome

TRUE, FALSE = "true", "false"


def metronome() -> Metronome:
    value: Metronome = current_app.extensions["metronome"]
    return value


def now() -> float:
    return metronome().clock()


def read_body() -> Any:
    """The JSON body: 415 for a non-JSON Content-Type (none is accepted, as curl users send
    none), 413 when too large, 400 when it is not JSON."""
    content_type = request.headers.get("Content-Type")
    if content_type and content_type.split(";", 1)[0].strip().lower() != JSON_TYPE:
        raise UnsupportedMediaType(f"Expecting Content-Type {JSON_TYPE}, got {content_type!r}")
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes")
    if not raw.strip():
        raise BadRequest("Expecting a JSON body")
    return parse_json(raw)


def flag(name: str, default: bool = False) -> bool:
    """A query boolean, `true`/`false` in any case (rule X8); anything else is 400."""
    value = request.args.get(name)
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered not in (TRUE, FALSE):
        raise BadRequest(f"Query parameter {name} must be true or false, got {value!r}")
    return lowered == TRUE


def embeds() -> frozenset[str]:
    return parse_embeds(request.args.getlist("embed"))
