"""v1 JSON shapes the agent builds and checks: ids, task states, status updates, durations.

Pure: no I/O, no clock, no randomness (timestamps and uuids come in as arguments).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from daemons.protocols import JSON
from daemons.protocols.states import TASK_STATES, is_terminal

VERSION = "1.11.0"

MEMORY_LIMITATION = "REASON_CONTAINER_LIMITATION_MEMORY"

# Ids become path components of sandboxes and checkpoints: Mesos' validateID rules.
_BAD_ID_CHARS = re.compile(r"[/\\\x00-\x1f\x7f]")


class InvalidCall(ValueError):
    """A call or event lacks a required field or has a malformed one."""


def id_json(value: str) -> JSON:
    return {"value": value}


def id_of(obj: Any, field: str) -> str:
    """`obj[field]["value"]` as a non-empty string, or InvalidCall."""
    holder = obj.get(field) if isinstance(obj, dict) else None
    value = holder.get("value") if isinstance(holder, dict) else None
    if not isinstance(value, str) or not value:
        raise InvalidCall(f"Expecting '{field}' to be present")
    return value


def safe_id(value: str, what: str) -> str:
    """Reject ids that could escape a directory when used as a path component."""
    if value in (".", "..") or _BAD_ID_CHARS.search(value) or len(value) > 255:
        raise InvalidCall(f"{what} {value!r} is not a valid id")
    return value


def decode_uuid(text: Any) -> bytes:
    """A status uuid: base64 of exactly 16 bytes."""
    if not isinstance(text, str):
        raise InvalidCall("Expecting 'uuid' to be present")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCall("'uuid' is not valid base64") from None
    if len(raw) != 16:
        raise InvalidCall("'uuid' must be 16 bytes")
    return raw


def encode_uuid(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def task_status(
    *,
    task_id: str,
    state: str,
    agent_id: str,
    uuid: bytes,
    timestamp: float,
    executor_id: str | None = None,
    source: str = "SOURCE_AGENT",
    reason: str | None = None,
    message: str | None = None,
    container_id: str | None = None,
) -> JSON:
    """A TaskStatus the agent itself originates (reliable: it carries a uuid)."""
    status: JSON = {
        "task_id": id_json(task_id),
        "state": state,
        "source": source,
        "agent_id": id_json(agent_id),
        "timestamp": timestamp,
        "uuid": encode_uuid(uuid),
    }
    if executor_id is not None:
        status["executor_id"] = id_json(executor_id)
    if reason is not None:
        status["reason"] = reason
    if message is not None:
        status["message"] = message
    if container_id is not None:
        status["container_status"] = {"container_id": id_json(container_id)}
    return status


def exited_executor(framework_id: str, executor_id: str, status: int) -> JSON:
    """The EXITED_EXECUTOR call (status: the raw wait status, -1 when unknown)."""
    return {
        "type": "EXITED_EXECUTOR",
        "exited_executor": {
            "framework_id": id_json(framework_id),
            "executor_id": id_json(executor_id),
            "status": status,
        },
    }


def validate_executor_status(status: Any) -> JSON:
    """An executor's UPDATE status: task_id, a known state other than STAGING, a 16-byte uuid."""
    if not isinstance(status, dict):
        raise InvalidCall("Expecting 'update.status' to be present")
    id_of(status, "task_id")
    state = status.get("state")
    if state not in TASK_STATES:
        raise InvalidCall(f"Expecting 'status.state' to be a task state, got {state!r}")
    if state == "TASK_STAGING":
        raise InvalidCall("An executor may not send TASK_STAGING")
    decode_uuid(status.get("uuid"))
    return status


def has_terminal_update(subscribe: JSON) -> bool:
    """Whether an executor's SUBSCRIBE lists an unacknowledged terminal update."""
    updates = subscribe.get("unacknowledged_updates") or []
    return any(
        isinstance(u, dict)
        and isinstance(u.get("status"), dict)
        and is_terminal(str(u["status"].get("state")))
        for u in updates
    )


def memory_limited(status: JSON, message: str | None) -> JSON:
    """Rewrite a terminal update of a task whose container hit its memory limit (Mesos does)."""
    out = dict(status)
    out["state"] = "TASK_FAILED"
    out["reason"] = MEMORY_LIMITATION
    out["source"] = "SOURCE_AGENT"
    out["message"] = message or "Memory limit exceeded"
    return out


def duration_text(seconds: float) -> str:
    """Mesos' Duration printing as executors parse it: `5secs`, `250ms`, `15mins`."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds / 60
        if minutes >= 60 and minutes % 60 == 0:
            return f"{int(minutes // 60)}hrs"
        return f"{int(minutes)}mins"
    if seconds == int(seconds):
        return f"{int(seconds)}secs"
    return f"{round(seconds * 1000)}ms"


def nanoseconds(value: Any) -> float | None:
    """`{"nanoseconds": n}` (a v1 DurationInfo) in seconds, or None."""
    if isinstance(value, dict):
        ns = value.get("nanoseconds")
        if isinstance(ns, (int, float)) and not isinstance(ns, bool) and ns >= 0:
            return float(ns) / 1e9
    return None


def has_capability(framework_info: JSON, capability: str) -> bool:
    caps = framework_info.get("capabilities") or []
    return any(isinstance(c, dict) and c.get("type") == capability for c in caps)


def framework_roles(framework_info: JSON) -> list[str]:
    roles = framework_info.get("roles")
    if has_capability(framework_info, "MULTI_ROLE") and isinstance(roles, list) and roles:
        return [r for r in roles if isinstance(r, str)]
    role = framework_info.get("role")
    return [role if isinstance(role, str) and role else "*"]


def allocation_role(resources: Any, framework_info: JSON) -> str:
    """The role a task's resources were allocated to (allocation_info), else the framework's."""
    if isinstance(resources, list):
        for item in resources:
            info = item.get("allocation_info") if isinstance(item, dict) else None
            if isinstance(info, dict) and isinstance(info.get("role"), str):
                return str(info["role"])
    return framework_roles(framework_info)[0]


def update_call(agent_id: str, framework_id: str, status: JSON) -> JSON:
    """One status update for the master (docs/agent-protocol.md)."""
    return {
        "type": "UPDATE",
        "agent_id": id_json(agent_id),
        "update": {"status": status, "framework_id": id_json(framework_id)},
    }


def updates_call(agent_id: str, due: list[tuple[str, JSON]]) -> JSON:
    """Several updates in one call; the master applies them in order (docs/agent-protocol.md)."""
    return {
        "type": "UPDATES",
        "agent_id": id_json(agent_id),
        "updates": {
            "updates": [
                {"status": status, "framework_id": id_json(framework_id)}
                for framework_id, status in due
            ]
        },
    }
