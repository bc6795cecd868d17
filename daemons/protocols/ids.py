"""Ids as the v1 API spells them (`{"value": "..."}`), and Mesos' rule for a valid id. Pure.

Every id (framework, agent, task, executor, offer, container) is a message with one string
field; the models hold the bare string and `id_json` wraps it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daemons.protocols import JSON
from daemons.protocols.fields import ProtocolError, fail

# Mesos' NAME_MAX: ids name directories (sandboxes, checkpoints, cgroups).
MAX_ID_LENGTH = 255
# Characters Mesos refuses in an id: path separators and control characters (iscntrl).
_FORBIDDEN = frozenset("/\\\x7f" + "".join(map(chr, range(0x20))))


def id_json(value: str) -> JSON:
    """`"x"` -> `{"value": "x"}`."""
    return {"value": value}


def id_value(parent: Mapping[str, Any], key: str, where: str) -> str:
    """A required id: `parent[key]["value"]`, a non-empty string."""
    holder = parent.get(key)
    value = holder.get("value") if isinstance(holder, dict) else None
    if type(value) is str and value:
        return value
    if holder is None:
        raise ProtocolError(f"{where}: missing field {key!r}", f"{where}.{key}")
    if type(value) is str:
        raise fail(where, key, "must not be empty")
    raise fail(where, key, "must be an object with a string 'value'")


def opt_id_value(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    """An optional id: None when absent; when present it must be an object with a string
    `value` (which may be empty: the caller decides what an empty id means)."""
    holder = parent.get(key)
    if holder is None:
        return None
    value = holder.get("value") if isinstance(holder, dict) else None
    if type(value) is not str:
        raise fail(where, key, "must be an object with a string 'value'")
    return value


def id_values(parent: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A repeated id (`offer_ids`, `executor_ids`): () when absent; each a non-empty string."""
    items = parent.get(key)
    if items is None:
        return ()
    if not isinstance(items, list):
        raise fail(where, key, "is not a list")
    out: list[str] = []
    for item in items:
        value = item.get("value") if isinstance(item, dict) else None
        if type(value) is not str or not value:
            raise fail(where, key, "must be a list of objects with a non-empty string 'value'")
        out.append(value)
    return tuple(out)


def id_problem(value: str) -> str | None:
    """What makes `value` an invalid id to Mesos (its `validateID`), or None.

    Empty, longer than 255 characters, "." or "..", or containing '/', '\\' or a control
    character: such an id could not name its sandbox directory.
    """
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID_LENGTH:
        return f"must be at most {MAX_ID_LENGTH} characters"
    if value in (".", "..") or not _FORBIDDEN.isdisjoint(value):
        return "must not be '.', '..' or contain '/', '\\' or control characters"
    return None


def valid_id(value: str, what: str, where: str = "") -> str:
    """`value` when it is a valid id, else ProtocolError naming `what` (e.g. "task id")."""
    problem = id_problem(value)
    if problem is not None:
        raise ProtocolError(f"{what} {value!r} {problem}", where)
    return value
