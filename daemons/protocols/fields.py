"""Reading fields of v1 JSON objects, and the one error a malformed message raises. Pure.

Every accessor takes the parent object, the key and `where` (the path of the parent, e.g.
`"update.status"`) and raises `ProtocolError` naming the field: a bad message says what was wrong
with it instead of failing later with a KeyError. Absent and `null` are the same (proto JSON);
unknown keys are never looked at, so newer clients' fields pass through untouched.

These run for every field of every parsed message on the master's hot path: plain `dict.get` and
`isinstance`, no regex, no copies.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from daemons.protocols import JSON

_M = TypeVar("_M")


class ProtocolError(ValueError):
    """A message (or a part of it) does not have the shape of the v1 API.

    `path` names the bad field (`"update.status.task_id"`); the message says what is wrong with
    it. Each side translates it where it parses: the master into a 400 (a TASK_ERROR for one bad
    TaskInfo of an ACCEPT), the agent into a 400 (an executor's call) or a dropped event (the
    master's), `daemons.mesos_client` into `EventParseError` (a subclass).
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def fail(where: str, key: str, problem: str) -> ProtocolError:
    """The error for field `key` of the object at `where`: `"<where>: field 'key' <problem>"`."""
    return ProtocolError(f"{where}: field {key!r} {problem}", f"{where}.{key}")


def obj(parent: Mapping[str, Any], key: str, where: str) -> JSON:
    """A required nested object."""
    value = parent.get(key)
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: missing or non-object field {key!r}", f"{where}.{key}")
    return value


def opt_obj(parent: Mapping[str, Any], key: str, where: str) -> JSON | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(where, key, "is not an object")
    return value


def opt_message(
    parent: Mapping[str, Any], key: str, where: str, parse: Callable[[JSON, str], _M]
) -> _M | None:
    """An optional nested message, read by `parse(raw, path)` (a model's `parse`)."""
    raw = opt_obj(parent, key, where)
    return None if raw is None else parse(raw, f"{where}.{key}")


def string(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{where}: missing or non-string field {key!r}", f"{where}.{key}")
    return value


def opt_string(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    value = parent.get(key)
    if value is None or isinstance(value, str):
        return value
    raise fail(where, key, "is not a string")


def number(parent: Mapping[str, Any], key: str, where: str) -> float:
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{where}: missing or non-number field {key!r}", f"{where}.{key}")
    return float(value)


def opt_number(parent: Mapping[str, Any], key: str, where: str) -> float | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(where, key, "is not a number")
    return float(value)


def integer(parent: Mapping[str, Any], key: str, where: str) -> int:
    """A required integer; a float with no fraction (`3.0`, as some encoders write) counts."""
    value = opt_int(parent, key, where)
    if value is None:
        raise ProtocolError(f"{where}: missing integer field {key!r}", f"{where}.{key}")
    return value


def opt_int(parent: Mapping[str, Any], key: str, where: str) -> int | None:
    value = parent.get(key)
    if value is None or (type(value) is int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise fail(where, key, "is not an integer")


def opt_bool(parent: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = parent.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise fail(where, key, "is not a boolean")


def opt_list(parent: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """A repeated field: [] when absent."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(where, key, "is not a list")
    return value


def objects(parent: Mapping[str, Any], key: str, where: str) -> list[JSON]:
    """A repeated message field: a list of objects, [] when absent."""
    items = opt_list(parent, key, where)
    for item in items:
        if not isinstance(item, dict):
            raise fail(where, key, "must be a list of objects")
    return items


def strings(parent: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A repeated string field: () when absent."""
    items = opt_list(parent, key, where)
    for item in items:
        if not isinstance(item, str):
            raise fail(where, key, "must be a list of strings")
    return tuple(items)


def opt_bytes(parent: Mapping[str, Any], key: str, where: str) -> bytes | None:
    """A `bytes` field: base64 text in proto JSON."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(where, key, "is not a base64 string")
    try:
        # Strict: only the base64 alphabet, correct padding, nothing after it (b64decode's
        # `validate` does the same with a regex).
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        raise fail(where, key, "is not valid base64") from None


def uuid(parent: Mapping[str, Any], key: str, where: str) -> bytes:
    """A required UUID in a `bytes` field (a status update's `uuid`): exactly 16 bytes."""
    value = opt_bytes(parent, key, where)
    if value is None:
        raise ProtocolError(f"{where}: missing field {key!r}", f"{where}.{key}")
    if len(value) != 16:
        raise fail(where, key, f"must be a UUID (16 bytes), not {len(value)} bytes")
    return value


def b64(data: bytes) -> str:
    """A `bytes` field as proto JSON writes it."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def opt_seconds(parent: Mapping[str, Any], key: str, where: str) -> float | None:
    """A DurationInfo (`{"nanoseconds": n}`) in seconds, None when absent."""
    duration = opt_obj(parent, key, where)
    if duration is None:
        return None
    return number(duration, "nanoseconds", f"{where}.{key}") / 1e9


def duration(seconds: float) -> JSON:
    """A DurationInfo: whole nanoseconds."""
    return {"nanoseconds": round(seconds * 1e9)}


# --- writing -----------------------------------------------------------------------------------


def put_values(out: JSON, source: object, keys: Iterable[str]) -> None:
    """`out[key] = source.key` for each of `keys` that is set (not None): optional fields are
    left out of the wire form rather than sent as null."""
    for key in keys:
        value = getattr(source, key)
        if value is not None:
            out[key] = value


def put_messages(out: JSON, source: object, keys: Iterable[str]) -> None:
    """`out[key] = source.key.to_json()` for each of `keys` holding a model (not None)."""
    for key in keys:
        value = getattr(source, key)
        if value is not None:
            out[key] = value.to_json()
