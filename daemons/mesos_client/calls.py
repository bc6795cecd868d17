"""Builders for every v1 scheduler and executor call, producing exactly the wire JSON. Pure.

Shape (reference §1.4, §2.1): `{"type": X, "framework_id": {"value": ..}, "<x_lower>": {...}}`,
snake_case proto names, ids as `{"value": ..}`, bytes as base64. Executor calls also carry a
top-level `executor_id`. Optional parts are left out rather than sent empty, as pymesos does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from daemons.mesos_client.payload import b64, value_of
from daemons.protocols import JSON


def _call(kind: str, framework_id: str | None, body: JSON | None = None) -> JSON:
    call: JSON = {"type": kind}
    if framework_id is not None:
        call["framework_id"] = value_of(framework_id)
    if body is not None:
        call[kind.lower()] = body
    return call


def _filters(body: JSON, refuse_seconds: float | None) -> JSON:
    if refuse_seconds is not None:
        body["filters"] = {"refuse_seconds": float(refuse_seconds)}
    return body


def _nanoseconds(seconds: float) -> JSON:
    return {"nanoseconds": round(seconds * 1e9)}


# --- scheduler calls ----------------------------------------------------------------------------


def subscribe(
    framework_info: Mapping[str, Any],
    *,
    suppressed_roles: Iterable[str] = (),
    offer_constraints: Mapping[str, Any] | None = None,
) -> JSON:
    """SUBSCRIBE; re-subscribing (failover) when `framework_info` carries an `id`."""
    body: JSON = {"framework_info": dict(framework_info)}
    roles = sorted(set(suppressed_roles))
    if roles:
        body["suppressed_roles"] = roles
    if offer_constraints is not None:
        body["offer_constraints"] = dict(offer_constraints)
    framework_id = (framework_info.get("id") or {}).get("value")
    return _call("SUBSCRIBE", framework_id, body)


def teardown(framework_id: str) -> JSON:
    return _call("TEARDOWN", framework_id)


def launch(task_infos: Iterable[Mapping[str, Any]]) -> JSON:
    """The LAUNCH offer operation."""
    return {"type": "LAUNCH", "launch": {"task_infos": [dict(t) for t in task_infos]}}


def launch_group(executor_info: Mapping[str, Any], task_infos: Iterable[Mapping[str, Any]]) -> JSON:
    """The LAUNCH_GROUP offer operation: tasks run together under one (default) executor."""
    return {
        "type": "LAUNCH_GROUP",
        "launch_group": {
            "executor": dict(executor_info),
            "task_group": {"tasks": [dict(t) for t in task_infos]},
        },
    }


def accept(
    framework_id: str,
    offer_ids: Iterable[str],
    operations: Iterable[Mapping[str, Any]],
    *,
    refuse_seconds: float | None = None,
) -> JSON:
    body = {
        "offer_ids": [value_of(o) for o in offer_ids],
        "operations": [dict(op) for op in operations],
    }
    return _call("ACCEPT", framework_id, _filters(body, refuse_seconds))


def decline(
    framework_id: str, offer_ids: Iterable[str], *, refuse_seconds: float | None = None
) -> JSON:
    body = {"offer_ids": [value_of(o) for o in offer_ids]}
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
    body: JSON = {"task_id": value_of(task_id)}
    if agent_id is not None:
        body["agent_id"] = value_of(agent_id)
    if grace_period_seconds is not None:
        body["kill_policy"] = {"grace_period": _nanoseconds(grace_period_seconds)}
    return _call("KILL", framework_id, body)


def shutdown(framework_id: str, executor_id: str, agent_id: str) -> JSON:
    body = {"executor_id": value_of(executor_id), "agent_id": value_of(agent_id)}
    return _call("SHUTDOWN", framework_id, body)


def acknowledge(framework_id: str, agent_id: str, task_id: str, uuid: bytes) -> JSON:
    body = {"agent_id": value_of(agent_id), "task_id": value_of(task_id), "uuid": b64(uuid)}
    return _call("ACKNOWLEDGE", framework_id, body)


def reconcile(framework_id: str, tasks: Iterable[tuple[str, str | None]] = ()) -> JSON:
    """RECONCILE `(task_id, agent_id | None)` pairs; none at all asks for every known task."""
    entries: list[JSON] = []
    for task_id, agent_id in tasks:
        entry: JSON = {"task_id": value_of(task_id)}
        if agent_id is not None:
            entry["agent_id"] = value_of(agent_id)
        entries.append(entry)
    return _call("RECONCILE", framework_id, {"tasks": entries})


def message(framework_id: str, agent_id: str, executor_id: str, data: bytes) -> JSON:
    body = {"agent_id": value_of(agent_id), "executor_id": value_of(executor_id), "data": b64(data)}
    return _call("MESSAGE", framework_id, body)


def request(framework_id: str, requests: Iterable[Mapping[str, Any]]) -> JSON:
    return _call("REQUEST", framework_id, {"requests": [dict(r) for r in requests]})


# --- executor calls -----------------------------------------------------------------------------


def _executor_call(kind: str, framework_id: str, executor_id: str, body: JSON | None) -> JSON:
    call = _call(kind, framework_id, body)
    call["executor_id"] = value_of(executor_id)
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
    status: JSON = {
        "task_id": value_of(task_id),
        "state": state,
        "source": source,
        "uuid": b64(uuid),
        "timestamp": timestamp,
    }
    if executor_id is not None:
        status["executor_id"] = value_of(executor_id)
    if agent_id is not None:
        status["agent_id"] = value_of(agent_id)
    if message is not None:
        status["message"] = message
    if reason is not None:
        status["reason"] = reason
    if data is not None:
        status["data"] = b64(data)
    if healthy is not None:
        status["healthy"] = healthy
    return status
