"""Framework-side calls of the v1 scheduler API, applied to the `Master` under its lock.

Structural problems raise `BadRequest` (400, nothing changed). ACCEPT lives in `launches.py`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from daemons.kit.errors import BadRequest, Forbidden
from daemons.kit.streams import EventStream
from daemons.master import state_json
from daemons.master.launches import accept
from daemons.master.master import Master
from daemons.master.model import Framework, Task, id_json
from daemons.master.registry import ACTIVE, GONE, UNREACHABLE, Entry
from daemons.master.validation import (
    call_payload,
    framework_roles,
    parse_id,
    parse_offer_ids,
    refuse_seconds,
    validate_framework_info,
)
from daemons.protocols import JSON

log = logging.getLogger(__name__)

# --- SUBSCRIBE ------------------------------------------------------------------------------


def subscribe(master: Master, body: JSON, stream: EventStream) -> tuple[Framework | None, JSON]:
    payload = body.get("subscribe")
    if not isinstance(payload, dict):
        raise BadRequest("Failed to validate call: Expecting 'subscribe' to be present")
    info = validate_framework_info(payload.get("framework_info"))
    call_id = parse_id(body.get("framework_id"), "framework_id", required=False)
    info_id = parse_id(info.get("id"), "framework_info.id", required=False)
    if call_id and info_id and call_id != info_id:
        raise BadRequest("Failed to validate call: 'framework_id' differs from 'framework_info.id'")
    framework_id = call_id or info_id
    if info_id and not call_id:
        raise BadRequest("Failed to validate call: 'framework_id' must be set when re-subscribing")
    suppressed = payload.get("suppressed_roles") or []
    if not isinstance(suppressed, list) or not all(isinstance(r, str) for r in suppressed):
        raise BadRequest("Failed to validate call: 'suppressed_roles' must be a list of strings")
    roles = framework_roles(info)
    capabilities = frozenset(
        str(c.get("type")) for c in info.get("capabilities") or [] if isinstance(c, dict)
    )
    with master.lock:
        now = master.clock()
        if framework_id and (
            framework_id in master.removed_frameworks
            or any(f.framework_id == framework_id for f in master.completed_frameworks)
        ):
            # Mesos answers 200 with an ERROR event as the first record, then closes.
            return None, {"type": "ERROR", "error": {"message": "Framework has been removed"}}
        framework = master.frameworks.get(framework_id) if framework_id else None
        new_id = framework.framework_id if framework else framework_id or master.ids.framework_id()
        # Durable before it takes effect: a new leader knows the framework and its timeout.
        master.persist_framework(new_id, Entry(ACTIVE, dict(info, id=id_json(new_id)), now))
        if framework is None:
            framework = Framework(
                framework_id=new_id,
                info={},
                roles=roles,
                capabilities=capabilities,
                registered_time=now,
            )
            master.frameworks[framework.framework_id] = framework
            master.allocator.add_framework(
                framework.framework_id, roles, suppressed_roles=tuple(suppressed), active=True
            )
            event_type = "FRAMEWORK_ADDED"
        else:
            if framework.stream is not None and framework.stream is not stream:
                old = framework.stream
                framework.stream = None
                old.close()
            framework.reregistered_time = now
            framework.roles = roles
            framework.capabilities = capabilities
            master.allocator.update_framework(
                framework.framework_id, roles, suppressed_roles=tuple(suppressed)
            )
            master.allocator.activate_framework(framework.framework_id)
            event_type = "FRAMEWORK_UPDATED"
        framework.info = dict(info, id=id_json(framework.framework_id))
        framework.stream = stream
        framework.connected = framework.active = True
        framework.recovered = False
        framework.disconnected_at = None
        framework.suppressed_roles = set(suppressed)
        master.count("frameworks_subscribed")
        master.send_operators(
            {
                "type": event_type,
                event_type.lower(): {"framework": state_json.v1_framework(framework)},
            }
        )
        master.changed()
        first = {
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": id_json(framework.framework_id),
                "heartbeat_interval_seconds": master.config.heartbeat_interval,
                "master_info": master.master_info,
            },
        }
        log.info(
            "framework subscribed framework=%s name=%s", framework.framework_id, info.get("name")
        )
        return framework, first


def disconnected(master: Master, framework_id: str, stream: EventStream) -> None:
    """The SUBSCRIBE connection closed: the framework is disconnected until it fails over."""
    with master.lock:
        framework = master.frameworks.get(framework_id)
        if framework is None or framework.stream is not stream:
            return
        log.info("framework disconnected framework=%s", framework_id)
        framework.stream = None
        framework.connected = framework.active = False
        framework.disconnected_at = master.clock()
        master.allocator.deactivate_framework(framework_id)
        for offer_id in list(framework.offers):
            offer = master.offers.get(offer_id)
            if offer is not None:
                master.remove_offer(offer)
        master.changed()


# --- calls on an established subscription ---------------------------------------------------


def framework_for_call(master: Master, body: JSON, stream_id: str | None) -> Framework:
    framework_id = parse_id(body.get("framework_id"), "framework_id", required=True)
    framework = master.frameworks.get(framework_id)
    if framework is None:
        raise BadRequest("Framework cannot be found")
    if not framework.connected or framework.stream is None:
        raise Forbidden("Framework is not subscribed")
    if stream_id is None:
        raise BadRequest("All non-subscribe calls should include the 'Mesos-Stream-Id' header")
    if stream_id != framework.stream.stream_id:
        raise BadRequest(
            f"The stream ID '{stream_id}' included in this request didn't match the stream ID "
            f"currently associated with framework ID {framework_id}"
        )
    return framework


def handle(master: Master, kind: str, body: JSON, stream_id: str | None) -> JSON | None:
    """Apply one non-SUBSCRIBE call. Returns a body for the synchronous (200) calls."""
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise BadRequest(f"Failed to validate call: unknown call type '{kind}'")
    with master.lock:
        framework = framework_for_call(master, body, stream_id)
        result: JSON | None = handler(master, framework, body)
        return result


def _teardown(master: Master, framework: Framework, body: JSON) -> None:
    log.info("framework teardown framework=%s", framework.framework_id)
    master.remove_framework(framework, "REASON_FRAMEWORK_REMOVED")


def _decline(master: Master, framework: Framework, body: JSON) -> None:
    payload = call_payload(body, "decline")
    offer_ids = parse_offer_ids(payload)
    seconds = refuse_seconds(payload)
    for offer_id in offer_ids:
        offer = framework.offers.get(offer_id)
        if offer is not None:
            master.remove_offer(offer, seconds)
    master.count("offers_declined", len(offer_ids))


def _roles(payload: JSON) -> tuple[str, ...]:
    roles = payload.get("roles")
    if roles is None:
        role = payload.get("role")
        return (role,) if isinstance(role, str) else ()
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise BadRequest("Failed to validate call: 'roles' must be a list of strings")
    return tuple(roles)


def _revive(master: Master, framework: Framework, body: JSON) -> None:
    roles = _roles(call_payload(body, "revive", required=False))
    master.allocator.revive(framework.framework_id, roles)
    framework.suppressed_roles -= set(roles or framework.roles)
    master.changed()


def _suppress(master: Master, framework: Framework, body: JSON) -> None:
    roles = _roles(call_payload(body, "suppress", required=False))
    master.allocator.suppress(framework.framework_id, roles)
    framework.suppressed_roles |= set(roles or framework.roles)
    master.changed()


def _kill(master: Master, framework: Framework, body: JSON) -> None:
    payload = call_payload(body, "kill")
    task_id = parse_id(payload.get("task_id"), "kill.task_id", required=True)
    task = framework.tasks.get(task_id)
    if task is None:
        status = master.master_status(
            task_id, "TASK_UNKNOWN", "REASON_RECONCILIATION", "Attempted to kill an unknown task"
        )
        master.forward_update(framework, status)
        return
    agent = master.agents.get(task.agent_id)
    event: JSON = {
        "type": "KILL_TASK",
        "kill_task": {
            "framework_id": id_json(framework.framework_id),
            "task_id": id_json(task_id),
        },
    }
    if isinstance(payload.get("kill_policy"), dict):
        event["kill_task"]["kill_policy"] = payload["kill_policy"]
    if agent is None:
        return
    agent.killed_tasks.add((framework.framework_id, task_id))
    if not master.send_agent(agent, event):
        log.info("kill of a task on a disconnected agent, sent on re-registration task=%s", task_id)
    master.count("tasks_kill_requested")


def _shutdown(master: Master, framework: Framework, body: JSON) -> None:
    payload = call_payload(body, "shutdown")
    executor_id = parse_id(payload.get("executor_id"), "shutdown.executor_id", required=True)
    agent_id = parse_id(payload.get("agent_id"), "shutdown.agent_id", required=True)
    agent = master.agents.get(agent_id)
    if agent is not None:
        master.send_agent(
            agent,
            {
                "type": "SHUTDOWN_EXECUTOR",
                "shutdown_executor": {
                    "framework_id": id_json(framework.framework_id),
                    "executor_id": id_json(executor_id),
                },
            },
        )


def decode_uuid(value: Any) -> bytes:
    if not isinstance(value, str):
        raise BadRequest("Failed to validate call: 'uuid' must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("Failed to validate call: Not a valid UUID (bad base64)") from None
    if len(raw) != 16:
        raise BadRequest(f"Failed to validate call: Not a valid UUID ({len(raw)} bytes)")
    return raw


def _acknowledge(master: Master, framework: Framework, body: JSON) -> None:
    payload = call_payload(body, "acknowledge")
    agent_id = parse_id(payload.get("agent_id"), "acknowledge.agent_id", required=True)
    task_id = parse_id(payload.get("task_id"), "acknowledge.task_id", required=True)
    decode_uuid(payload.get("uuid"))
    agent = master.agents.get(agent_id)
    if agent is None:
        return
    master.send_agent(
        agent,
        {
            "type": "ACKNOWLEDGE",
            "acknowledge": {
                "framework_id": id_json(framework.framework_id),
                "task_id": id_json(task_id),
                "uuid": payload["uuid"],
            },
        },
    )
    master.count("status_updates_acknowledged")


def _reconcile(master: Master, framework: Framework, body: JSON) -> None:
    payload = call_payload(body, "reconcile", required=False)
    entries = payload.get("tasks") or []
    if not isinstance(entries, list):
        raise BadRequest("Failed to validate call: 'reconcile.tasks' must be a list")
    wanted: list[tuple[str, str | None]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise BadRequest("Failed to validate call: reconcile entries must be objects")
        task_id = parse_id(entry.get("task_id"), "reconcile.tasks[].task_id", required=True)
        wanted.append((task_id, parse_id(entry.get("agent_id"), "agent_id", required=False)))
    if not wanted:  # implicit: every task the master knows for this framework
        for task in list(framework.tasks.values()):
            master.forward_update(framework, _reconciliation_status(master, task))
        return
    for task_id, agent_id in wanted:
        known = framework.tasks.get(task_id)
        if known is not None:
            master.forward_update(framework, _reconciliation_status(master, known))
            continue
        state = _unknown_task_state(master, agent_id)
        if state is not None:
            master.forward_update(
                framework,
                master.master_status(
                    task_id, state, "REASON_RECONCILIATION", "Reconciliation", agent_id
                ),
            )


def _unknown_task_state(master: Master, agent_id: str | None) -> str | None:
    """What reconciliation says of a task the master does not know (Mesos' _reconcileTasks);
    None: no answer yet, because its agent may still re-register after a failover."""
    if not agent_id:
        return None if master.recovered else "TASK_UNKNOWN"
    if agent_id in master.recovered:
        return None
    if master.registry_state.agent_in(agent_id, GONE) is not None:
        return "TASK_GONE_BY_OPERATOR"
    agent = master.agents.get(agent_id)
    marked = master.registry_state.agent_in(agent_id, UNREACHABLE) is not None
    if marked or (agent and agent.unreachable_since):
        return "TASK_UNREACHABLE"
    if agent is not None:
        return "TASK_GONE"
    return "TASK_UNKNOWN"


def _reconciliation_status(master: Master, task: Task) -> JSON:
    base = dict(task.latest_status or {})
    base.pop("uuid", None)
    base.update(
        {
            "task_id": id_json(task.task_id),
            "state": task.state,
            "source": "SOURCE_MASTER",
            "reason": "REASON_RECONCILIATION",
            "agent_id": id_json(task.agent_id),
            "timestamp": master.clock(),
        }
    )
    base.setdefault("message", "Reconciliation: latest task status")
    return base


def _message(master: Master, framework: Framework, body: JSON) -> None:
    payload = call_payload(body, "message")
    agent_id = parse_id(payload.get("agent_id"), "message.agent_id", required=True)
    executor_id = parse_id(payload.get("executor_id"), "message.executor_id", required=True)
    data = payload.get("data", "")
    if not isinstance(data, str):
        raise BadRequest("Failed to validate call: 'message.data' must be base64 text")
    agent = master.agents.get(agent_id)
    if agent is not None:
        master.send_agent(
            agent,
            {
                "type": "MESSAGE",
                "message": {
                    "framework_id": id_json(framework.framework_id),
                    "executor_id": id_json(executor_id),
                    "data": data,
                },
            },
        )


def _noop(master: Master, framework: Framework, body: JSON) -> None:
    return None


def _update_framework(master: Master, framework: Framework, body: JSON) -> JSON:
    payload = call_payload(body, "update_framework")
    info = validate_framework_info(payload.get("framework_info"))
    roles = framework_roles(info)
    suppressed = payload.get("suppressed_roles") or []
    if not isinstance(suppressed, list) or not all(isinstance(r, str) for r in suppressed):
        raise BadRequest("Failed to validate call: 'suppressed_roles' must be a list of strings")
    framework.info = dict(info, id=id_json(framework.framework_id))
    framework.roles = roles
    framework.suppressed_roles = set(suppressed)
    master.allocator.update_framework(framework.framework_id, roles, tuple(suppressed))
    master.changed()
    return {}


_HANDLERS: dict[str, Any] = {
    "TEARDOWN": _teardown,
    "ACCEPT": accept,
    "DECLINE": _decline,
    "ACCEPT_INVERSE_OFFERS": _noop,
    "DECLINE_INVERSE_OFFERS": _noop,
    "REVIVE": _revive,
    "SUPPRESS": _suppress,
    "KILL": _kill,
    "SHUTDOWN": _shutdown,
    "ACKNOWLEDGE": _acknowledge,
    "ACKNOWLEDGE_OPERATION_STATUS": _noop,
    "RECONCILE": _reconcile,
    "RECONCILE_OPERATIONS": _noop,
    "MESSAGE": _message,
    "REQUEST": _noop,
    "UPDATE_FRAMEWORK": _update_framework,
}
SYNCHRONOUS = frozenset({"UPDATE_FRAMEWORK", "RECONCILE_OPERATIONS"})
