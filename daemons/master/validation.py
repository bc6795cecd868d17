"""Validation of v1 messages the master receives.

Structural errors raise `BadRequest` (the whole call is refused, nothing changes); task-level
problems are returned as messages so the caller can send TASK_ERROR, as Mesos does.

A pure core: no I/O, no clock. It may import the wire layer (`daemons.protocols`) and the kit's
Flask-free error tree; nothing of the master's state, Flask, threading or the clock.
"""

from __future__ import annotations

import re
from typing import Any

from daemons.kit.errors import BadRequest
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.resources import Resources

# Mesos rejects ids with '/', control characters, or that are '.' / '..' (they name sandboxes).
_BAD_ID = re.compile(r"[/\x00-\x1f\x7f]")
_ROLE = re.compile(r"^[a-zA-Z0-9_\-.*][a-zA-Z0-9_\-./]*$")
MAX_ID_LENGTH = 255


def parse_id(value: Any, field: str, *, required: bool) -> str:
    """`{"value": "x"}` -> "x"; "" when absent and not required."""
    if value is None:
        if required:
            raise BadRequest(f"Failed to validate call: Expecting '{field}' to be present")
        return ""
    if not isinstance(value, dict) or not isinstance(value.get("value"), str):
        raise BadRequest(f"Failed to validate call: '{field}' must be an object with 'value'")
    text: str = value["value"]
    if required and not text:
        raise BadRequest(f"Failed to validate call: '{field}' must not be empty")
    return text


def id_problem(text: str) -> str | None:
    if not text:
        return "must not be empty"
    if len(text) > MAX_ID_LENGTH:
        return f"must be at most {MAX_ID_LENGTH} characters"
    if text in (".", "..") or _BAD_ID.search(text):
        return "must not be '.', '..' or contain '/' or control characters"
    return None


def validate_framework_info(info: Any) -> JSON:
    if not isinstance(info, dict):
        raise BadRequest("Failed to validate call: Expecting 'framework_info' to be present")
    for field in ("user", "name"):
        if not isinstance(info.get(field), str):
            raise BadRequest(f"Failed to validate call: 'framework_info.{field}' is required")
    timeout = info.get("failover_timeout", 0.0)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0:
        raise BadRequest("Failed to validate call: 'failover_timeout' must be a number >= 0")
    capabilities = info.get("capabilities", [])
    if not isinstance(capabilities, list) or not all(isinstance(c, dict) for c in capabilities):
        raise BadRequest("Failed to validate call: 'capabilities' must be a list of objects")
    for role in framework_roles(info):
        if role != "*" and not _ROLE.match(role):
            raise BadRequest(f"Failed to validate call: invalid role '{role}'")
    return info


def framework_roles(info: JSON) -> tuple[str, ...]:
    capabilities = {c.get("type") for c in info.get("capabilities") or [] if isinstance(c, dict)}
    if "MULTI_ROLE" in capabilities:
        roles = info.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise BadRequest("Failed to validate call: 'framework_info.roles' must be strings")
        return tuple(dict.fromkeys(roles)) or ("*",)
    role = info.get("role", "*")
    if not isinstance(role, str):
        raise BadRequest("Failed to validate call: 'framework_info.role' must be a string")
    return (role or "*",)


def parse_resources(items: Any) -> Resources:
    """A v1 resource list, all reservations together."""
    return res.flatten(res.from_v1(items))


def validate_task_shape(info: Any, agent_id: str, in_group: bool) -> str | None:
    """The problem with a TaskInfo, or None. (Resources are checked against the offer later.)"""
    if not isinstance(info, dict):
        return "TaskInfo must be an object"
    task_id = info.get("task_id")
    if not isinstance(task_id, dict) or not isinstance(task_id.get("value"), str):
        return "TaskInfo is missing 'task_id'"
    if (problem := id_problem(task_id["value"])) is not None:
        return f"Task ID {problem}"
    if not isinstance(info.get("name", ""), str):
        return "TaskInfo 'name' must be a string"
    given_agent = info.get("agent_id") or info.get("slave_id")
    if isinstance(given_agent, dict) and given_agent.get("value") not in (None, agent_id):
        return "Task uses an agent ID different from the offer's"
    has_command = isinstance(info.get("command"), dict)
    has_executor = isinstance(info.get("executor"), dict)
    if in_group:
        if has_executor:
            return "A task in a task group must not set 'executor'"
        if not has_command:
            return "A task in a task group needs 'command'"
    elif has_command == has_executor:
        return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo"
    command = info.get("command") if has_command else (info.get("executor") or {}).get("command")
    if isinstance(command, dict):
        shell = command.get("shell", True)
        if shell and not isinstance(command.get("value"), str):
            return "CommandInfo with shell=true needs a 'value'"
    if not info.get("resources"):
        return "Task uses no resources"
    return None


# --- parts of scheduler calls ---------------------------------------------------------------

DEFAULT_REFUSE_SECONDS = 5.0


def refuse_seconds(payload: JSON) -> float:
    filters = payload.get("filters")
    if not isinstance(filters, dict) or "refuse_seconds" not in filters:
        return DEFAULT_REFUSE_SECONDS
    value = filters["refuse_seconds"]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise BadRequest("Failed to validate call: 'filters.refuse_seconds' must be a number")
    return float(value)


def call_payload(body: JSON, key: str, required: bool = True) -> JSON:
    payload = body.get(key)
    if payload is None and not required:
        return {}
    if not isinstance(payload, dict):
        raise BadRequest(f"Failed to validate call: Expecting '{key}' to be present")
    return payload


def parse_offer_ids(payload: JSON) -> list[str]:
    raw = payload.get("offer_ids")
    if not isinstance(raw, list):
        raise BadRequest("Failed to validate call: Expecting 'offer_ids' to be a list")
    return [parse_id(o, "offer_ids[]", required=True) for o in raw]
