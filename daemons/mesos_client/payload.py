"""Reading v1 JSON payloads: required keys, `{"value": ..}` ids, base64 bytes. Pure.

Every accessor raises `EventParseError` naming the path of the missing or malformed field, so a
bad event says what was wrong with it instead of failing later with a KeyError.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from daemons.mesos_client.errors import EventParseError
from daemons.protocols import JSON


def obj(parent: Mapping[str, Any], key: str, where: str) -> JSON:
    """A required nested object."""
    value = parent.get(key)
    if not isinstance(value, dict):
        raise EventParseError(f"{where}: missing or non-object field {key!r}")
    return value


def opt_obj(parent: Mapping[str, Any], key: str, where: str) -> JSON | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EventParseError(f"{where}: field {key!r} is not an object")
    return value


def id_value(parent: Mapping[str, Any], key: str, where: str) -> str:
    """A required `{"value": "..."}` id."""
    value = obj(parent, key, where).get("value")
    if not isinstance(value, str):
        raise EventParseError(f"{where}: field {key!r} has no string 'value'")
    return value


def opt_id_value(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    if parent.get(key) is None:
        return None
    return id_value(parent, key, where)


def string(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str):
        raise EventParseError(f"{where}: missing or non-string field {key!r}")
    return value


def opt_string(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventParseError(f"{where}: field {key!r} is not a string")
    return value


def opt_number(parent: Mapping[str, Any], key: str, where: str) -> float | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EventParseError(f"{where}: field {key!r} is not a number")
    return float(value)


def opt_bool(parent: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise EventParseError(f"{where}: field {key!r} is not a boolean")
    return value


def opt_list(parent: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise EventParseError(f"{where}: field {key!r} is not a list")
    return value


def opt_bytes(parent: Mapping[str, Any], key: str, where: str) -> bytes | None:
    """A base64 `bytes` field (proto JSON mapping)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventParseError(f"{where}: field {key!r} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EventParseError(f"{where}: field {key!r} is not valid base64") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def value_of(text: str) -> JSON:
    """An id as the v1 API spells it."""
    return {"value": text}
