"""Builders for every v1 scheduler and executor call, producing exactly the wire JSON. Pure.

Shape: `{"type": X, "framework_id": {"value": ..}, "<x_lower>": {...}}`, snake_case proto
names, ids as `{"value": ..}`, bytes as base64. Executor calls also carry a top-level
`executor_id`. Optional parts are left out rather than sent empty, as pymesos does. Messages
(FrameworkInfo, TaskInfo, ExecutorInfo) may be given as JSON or as `daemons.protocols.models`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from daemons.protocols import JSON
from daemons.protocols.fields import b64
from daemons.protocols.ids import id_json
from daemons.protocols.models import ExecutorInfo, FrameworkInfo, TaskInfo, TaskStatus


def _call(kind: str, framework_id: str | None, body: JSON | None = None) -> JSON:
    call: JSON = {"type": kind}
    if framework_id is not None:
        call["framework_id"] = id_json(framework_id)
    if body is not None:
        call[kind.lower()] = body
    return call


# The filter a framework that wants more from the same agents gives its ACCEPT: nothing of the
# offer's unused rest held back, as Marathon does, so it comes back at the next allocation round.
# Without a filter the master applies Mesos' default (5 s) to every agent a task just launched
# on (Marathon with 5 instances per offer and two agents went at about 2 instances a second).
LEFTOVER_REFUSE_SECONDS = 0.0


def _filters(body: JSON, refuse_seconds: float | None) -> JSON:
    if refuse_seconds is not None:
        body["filters"] = {"refuse_seconds": float(refuse_seconds)}
    return body


def _nanoseconds(seconds: float) -> JSON:
    return {"nanoseconds": round(seconds * 1e9)}


# --- scheduler calls ----------------------------------------------------------------------------


def subscribe(
    framework_info: Mapping[str, Any] | FrameworkInfo,
    *,
    suppressed_roles: Iterable[str] = (),
    offer_constraints: Mapping[str, Any] | None = None,
) -> JSON:
    """SUBSCRIBE; re-subscribing (failover) when `framework_info` carries an `id`."""
    info = _message(framework_info)
    body: JSON = {"framework_info": info}
    roles = sorted(set(suppressed_roles))
    if roles:
        body["suppressed_roles"] = roles
    if offer_constraints is not None:
        body["offer_constraints"] = dict(offer_constraints)
    framework_id = (info.get("id") or {}).get("value")
    return _call("SUBSCRIBE", framework_id, body)


def teardown(framework_id: str) -> JSON:
    return _call("TEARDOWN", framework_id)


def launch(task_infos: Iterable[Mapping[str, Any] | TaskInfo]) -> JSON:
    """The LAUNCH offer operation."""
    return {"type": "LAUNCH", "launch": {"task_infos": [_message(t) for t in task_infos]}}


def launch_group(
    executor_info: Mapping[str, Any] | ExecutorInfo,
    task_infos: Iterable[Mapping[str, Any] | TaskInfo],
) -> JSON:
    """The LAUNCH_GROUP offer operation: tasks run together under one (default) executor."""
    return {
        "type": "LAUNCH_GROUP",
        "launch_group": {
            "executor": _message(executor_info),
            "task_group": {"tasks": [_message(t) for t in task_infos]},
        },
    }


def _message(message: Mapping[str, Any] | FrameworkInfo | TaskInfo | ExecutorInfo) -> JSON:
    """A message given as JSON (copied) or as a typed model (rendered)."""
    if isinstance(message, (FrameworkInfo, TaskInfo, ExecutorInfo)):
        return message.to_json()
    return dict(message)


def accept(
    framework_id: str,
    offer_ids: Iterable[str],
    operations: Iterable[Mapping[str, Any]],
    *,
    refuse_seconds: float | None = None,
) -> JSON:
    body = {
        "offer_ids": [id_json(o) for o in offer_ids],
        "operations": [dict(op) for op in operations],
    }
    return _call("ACCEPT", framework_id, _filters(body, refuse_seconds))


def decline(
    framework_id: str, offer_ids: Iterable[str], *, refuse_seconds: float | None = None
) -> JSON:
    body = {"offer_ids": [id_json(o) for o in offer_ids]}
    return _call("DECLINE", framework_id, _filters(body, refuse_seconds))


def revive(framework_id: str, roles: Iterable[str] = ()) -> JSON:
    """REVIVE: clear filters and un-suppress `roles` (all roles when empty)."""
    names = list(roles)
    return _call("REVIVE", framework_id, {"roles": names} if names else None)


def suppress(framework_id: str, roles: Iterable[str] = ()) -> JSON:
    """SUPPRESS: stop offers for `roles` (all roles when empty)."""
    names = list(roles)
    return _call("SUPPRESS", framework_id, {"roles": names} if names else None)


def kill(
    framework_id: str,
    task_id: str,
    agent_id: str | None = None,
    *,
    grace_period_seconds: float | None = None,
) -> JSON:
    body: JSON = {"task_id": id_json(task_id)}
    if agent_id is not None:
        body["agent_id"] = id_json(agent_id)
    if grace_period_seconds is not None:
        body["kill_policy"] = {"grace_period": _nanoseconds(grace_period_seconds)}
    return _call("KILL", framework_id, body)


def shutdown(framework_id: str, executor_id: str, agent_id: str) -> JSON:
    body = {"executor_id": id_json(executor_id), "agent_id": id_json(agent_id)}
    return _call("SHUTDOWN", framework_id, body)


def acknowledge(framework_id: str, agent_id: str, task_id: str, uuid: bytes) -> JSON:
    body = {"agent_id": id_json(agent_id), "task_id": id_json(task_id), "uuid": b64(uuid)}
    return _call("ACKNOWLEDGE", framework_id, body)


def reconcile(framework_id: str, tasks: Iterable[tuple[str, str | None]] = ()) -> JSON:
    """RECONCILE `(task_id, agent_id | None)` pairs; none at all asks for every known task."""
    entries: list[JSON] = []
    for task_id, agent_id in tasks:
        entry: JSON = {"task_id": id_json(task_id)}
        if agent_id is not None:
            entry["agent_id"] = id_json(agent_id)
        entries.append(entry)
    return _call("RECONCILE", framework_id, {"tasks": entries})


def message(framework_id: str, agent_id: str, executor_id: str, data: bytes) -> JSON:
    body = {"agent_id": id_json(agent_id), "executor_id": id_json(executor_id), "data": b64(data)}
    return _call("MESSAGE", framework_id, body)


def request(framework_id: str, requests: Iterable[Mapping[str, Any]]) -> JSON:
    return _call("REQUEST", framework_id, {"requests": [dict(r) for r in requests]})


# --- executor calls -----------------------------------------------------------------------------


def _executor_call(kind: str, framework_id: str, executor_id: str, body: JSON | None) -> JSON:
    call = _call(kind, framework_id, body)
    call["executor_id"] = id_json(executor_id)
    return call


def executor_subscribe(
    framework_id: str,
    executor_id: str,
    unacknowledged_tasks: Iterable[Mapping[str, Any]] = (),
    unacknowledged_updates: Iterable[Mapping[str, Any]] = (),
) -> JSON:
    """SUBSCRIBE from an executor; after a broken stream it lists what the agent has not ACKed."""
    body: JSON = {}
    tasks = [dict(t) for t in unacknowledged_tasks]
    updates = [{"status": dict(s)} for s in unacknowledged_updates]
    if tasks:
        body["unacknowledged_tasks"] = tasks
    if updates:
        body["unacknowledged_updates"] = updates
    return _executor_call("SUBSCRIBE", framework_id, executor_id, body)


def executor_update(framework_id: str, executor_id: str, status: Mapping[str, Any]) -> JSON:
    return _executor_call("UPDATE", framework_id, executor_id, {"status": dict(status)})


def executor_message(framework_id: str, executor_id: str, data: bytes) -> JSON:
    return _executor_call("MESSAGE", framework_id, executor_id, {"data": b64(data)})


def task_status(
    task_id: str,
    state: str,
    *,
    uuid: bytes,
    timestamp: float,
    executor_id: str | None = None,
    agent_id: str | None = None,
    source: str = "SOURCE_EXECUTOR",
    message: str | None = None,
    reason: str | None = None,
    data: bytes | None = None,
    healthy: bool | None = None,
) -> JSON:
    """A TaskStatus as an executor sends it; `uuid` and `timestamp` come from the caller."""
    return TaskStatus(
        task_id=task_id,
        state=state,
        source=source,
        uuid=uuid,
        timestamp=timestamp,
        executor_id=executor_id,
        agent_id=agent_id,
        message=message,
        reason=reason,
        data=data,
        healthy=healthy,
    ).to_json()
