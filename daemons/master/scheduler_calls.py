"""Framework-side calls of the v1 scheduler API, applied to the `Master` under its lock.

Each call is parsed first, outside the lock (`calls.scheduler`): a malformed one is refused with
400 and changes nothing. The handlers read only the typed payload. ACCEPT lives in
`launches.py`.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from daemons.kit.errors import BadRequest, Forbidden
from daemons.kit.streams import EventStream
from daemons.master import state_json
from daemons.master.calls import scheduler as calls
from daemons.master.launches import accept
from daemons.master.master import Master
from daemons.master.model import Framework, Task, with_id
from daemons.master.registry import ACTIVE, GONE, UNREACHABLE, Entry
from daemons.master.validation import refused
from daemons.protocols import JSON
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_json
from daemons.protocols.models import TaskStatus

log = logging.getLogger(__name__)

CALL = "scheduler::Call"

# --- SUBSCRIBE ------------------------------------------------------------------------------


def subscribe(master: Master, body: JSON, stream: EventStream) -> tuple[Framework | None, JSON]:
    try:
        call = calls.parse_subscribe(body)
    except ProtocolError as err:
        raise refused(CALL, err) from None
    info, framework_id = call.framework_info, call.framework_id
    roles, suppressed = info.subscribed_roles, call.suppressed_roles
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
        info = with_id(info, "id", new_id)
        # Durable before it takes effect: a new leader knows the framework and its timeout.
        master.persist_framework(new_id, Entry(ACTIVE, info.raw, now))
        if framework is None:
            framework = Framework(framework_id=new_id, info=info, registered_time=now)
            master.frameworks[framework.framework_id] = framework
            master.allocator.add_framework(
                framework.framework_id, roles, suppressed_roles=suppressed, active=True
            )
            event_type = "FRAMEWORK_ADDED"
        else:
            if framework.stream is not None and framework.stream is not stream:
                old = framework.stream
                framework.stream = None
                old.close()
            framework.reregistered_time = now
            master.allocator.update_framework(
                framework.framework_id, roles, suppressed_roles=suppressed
            )
            master.allocator.activate_framework(framework.framework_id)
            event_type = "FRAMEWORK_UPDATED"
        framework.info = info
        framework.stream = stream
        framework.connected = framework.active = True
        framework.recovered = False
        framework.disconnected_at = None
        framework.suppressed_roles = set(suppressed)
        master.count("frameworks_subscribed")
        master.send_operators(
            lambda: {
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
        log.info("framework subscribed framework=%s name=%s", framework.framework_id, info.name)
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


def framework_for_call(master: Master, framework_id: str, stream_id: str | None) -> Framework:
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
    try:
        framework_id, payload = calls.parse(kind, body)
    except ProtocolError as err:
        raise refused(CALL, err) from None
    with master.lock:
        framework = framework_for_call(master, framework_id, stream_id)
        result: JSON | None = _HANDLERS[kind](master, framework, payload)
        return result


def _teardown(master: Master, framework: Framework, call: calls.Empty) -> None:
    log.info("framework teardown framework=%s", framework.framework_id)
    master.remove_framework(framework, "REASON_FRAMEWORK_REMOVED")


def _decline(master: Master, framework: Framework, call: calls.Decline) -> None:
    for offer_id in call.offer_ids:
        offer = framework.offers.get(offer_id)
        if offer is not None:
            master.remove_offer(offer, call.refuse_seconds)
    master.count("offers_declined", len(call.offer_ids))


def _revive(master: Master, framework: Framework, call: calls.Roles) -> None:
    master.allocator.revive(framework.framework_id, call.roles)
    framework.suppressed_roles -= set(call.roles or framework.roles)
    master.changed()


def _suppress(master: Master, framework: Framework, call: calls.Roles) -> None:
    master.allocator.suppress(framework.framework_id, call.roles)
    framework.suppressed_roles |= set(call.roles or framework.roles)
    master.changed()


def _kill(master: Master, framework: Framework, call: calls.Kill) -> None:
    master.count("messages_kill_task")  # every KILL received, known task or not (as Mesos)
    task_id = call.task_id
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
    if call.kill_policy is not None:
        event["kill_task"]["kill_policy"] = call.kill_policy.raw
    if agent is None:
        return
    agent.killed_tasks.add((framework.framework_id, task_id))
    if not master.send_agent(agent, event):
        log.info("kill of a task on a disconnected agent, sent on re-registration task=%s", task_id)


def _shutdown(master: Master, framework: Framework, call: calls.Shutdown) -> None:
    agent = master.agents.get(call.agent_id)
    if agent is not None:
        master.send_agent(
            agent,
            {
                "type": "SHUTDOWN_EXECUTOR",
                "shutdown_executor": {
                    "framework_id": id_json(framework.framework_id),
                    "executor_id": id_json(call.executor_id),
                },
            },
        )


def _acknowledge(master: Master, framework: Framework, call: calls.Acknowledge) -> None:
    agent = master.agents.get(call.agent_id)
    if agent is None:
        return
    master.send_agent(
        agent,
        {
            "type": "ACKNOWLEDGE",
            "acknowledge": {
                "framework_id": id_json(framework.framework_id),
                "task_id": id_json(call.task_id),
                "uuid": call.uuid_text,
            },
        },
    )
    master.count("status_updates_acknowledged")


def _reconcile(master: Master, framework: Framework, call: calls.Reconcile) -> None:
    if not call.tasks:  # implicit: every task the master knows for this framework
        for task in list(framework.tasks.values()):
            master.forward_update(framework, _reconciliation_status(master, task))
        return
    for task_id, agent_id in call.tasks:
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


def _reconciliation_status(master: Master, task: Task) -> TaskStatus:
    """The task's latest status as the master knows it, from SOURCE_MASTER (no uuid: it is not
    to be acknowledged); what else the latest update said is passed on as it was sent."""
    latest = task.latest_status
    now = master.clock()
    raw = dict(latest.raw) if latest is not None else {}
    raw.pop("uuid", None)
    raw.update(
        {
            "task_id": id_json(task.task_id),
            "state": task.state,
            "source": "SOURCE_MASTER",
            "reason": "REASON_RECONCILIATION",
            "agent_id": id_json(task.agent_id),
            "timestamp": now,
        }
    )
    raw.setdefault("message", "Reconciliation: latest task status")
    message = raw["message"] if isinstance(raw["message"], str) else None
    base = latest if latest is not None else TaskStatus(task_id=task.task_id, state=task.state)
    return dataclasses.replace(
        base,
        task_id=task.task_id,
        state=task.state,
        source="SOURCE_MASTER",
        reason="REASON_RECONCILIATION",
        message=message,
        agent_id=task.agent_id,
        uuid=None,
        timestamp=now,
        raw=raw,
    )


def _message(master: Master, framework: Framework, call: calls.Message) -> None:
    agent = master.agents.get(call.agent_id)
    if agent is not None:
        master.send_agent(
            agent,
            {
                "type": "MESSAGE",
                "message": {
                    "framework_id": id_json(framework.framework_id),
                    "executor_id": id_json(call.executor_id),
                    "data": call.data,
                },
            },
        )


def _noop(master: Master, framework: Framework, call: calls.Empty) -> None:
    return None


def _update_framework(master: Master, framework: Framework, call: calls.UpdateFramework) -> JSON:
    framework.info = with_id(call.framework_info, "id", framework.framework_id)
    framework.suppressed_roles = set(call.suppressed_roles)
    master.allocator.update_framework(
        framework.framework_id, framework.roles, call.suppressed_roles
    )
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
