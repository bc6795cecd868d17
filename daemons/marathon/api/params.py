"""Request helpers every Marathon blueprint shares: the state, query booleans, JSON bodies."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.exceptions import ClientDisconnected

from daemons.kit.body import parse_json
from daemons.kit.errors import BadRequest
from daemons.marathon.marathon import Marathon


def marathon() -> Marathon:
    found: Marathon = current_app.extensions["marathon"]
    return found


def flag(name: str, default: bool = False) -> bool:
    """Query booleans as clients send them: true/false in any case (marathon-python: True)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise BadRequest(f"query parameter {name} must be true or false, got {raw!r}")


def body() -> Any:
    """The request's JSON (any type: the core says what it must be); 400 when it is not JSON.
    Flask's MAX_CONTENT_LENGTH answers 413 for bodies over the limit."""
    try:
        raw = request.get_data(cache=True)
    except (OSError, ClientDisconnected) as err:
        raise BadRequest(f"Malformed request body: {err}") from None
    if not raw.strip():
        raise BadRequest("Invalid JSON: the body is empty")
    return parse_json(raw)
