"""Framework-side calls of the v1 scheduler API, applied to the `Master` under its lock.

Structural problems raise `BadRequest` (400, nothing changed); semantic problems with a task in an
ACCEPT become a TASK_ERROR / TASK_DROPPED update to the framework, as Mesos does.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from daemons.common import resources as res
from daemons.common.errors import BadRequest, Forbidden
from daemons.common.resources import Resources
from daemons.common.streams import EventStream
from daemons.master.master import Master, id_json
from daemons.master.model import JSON, Executor, Framework, Task
from daemons.master.validation import (
    framework_roles,
    parse_id,
    parse_resources,
    validate_framework_info,
    validate_task_shape,
)

log = logging.getLogger(__name__)

DEFAULT_REFUSE_SECONDS = 5.0


def refuse_seconds(payload: JSON) -> float:
    filters = payload.get("filters")
    if not isinstance(filters, dict) or "refuse_seconds" not in filters:
        return DEFAULT_REFUSE_SECONDS
    value = filters["refuse_seconds"]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise BadRequest("Failed to validate call: 'filters.refuse_seconds' must be a number")
    return float(value)


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
        if framework_id and any(
            f.framework_id == framework_id for f in master.completed_frameworks
        ):
            # Mesos answers 200 with an ERROR event as the first record, then closes.
            return None, {"type": "ERROR", "error": {"message": "Framework has been removed"}}
        framework = master.frameworks.get(framework_id) if framework_id else None
        if framework is None:
            framework = Framework(
                framework_id=framework_id or master.ids.framework_id(),
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
                event_type.lower(): {"framework": {"framework_info": framework.info}},
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


def _payload(body: JSON, key: str, required: bool = True) -> JSON:
    payload = body.get(key)
    if payload is None and not required:
        return {}
    if not isinstance(payload, dict):
        raise BadRequest(f"Failed to validate call: Expecting '{key}' to be present")
    return payload


def _teardown(master: Master, framework: Framework, body: JSON) -> None:
    log.info("framework teardown framework=%s", framework.framework_id)
    master.remove_framework(framework, "REASON_FRAMEWORK_REMOVED")


def _decline(master: Master, framework: Framework, body: JSON) -> None:
    payload = _payload(body, "decline")
    offer_ids = _offer_ids(payload)
    seconds = refuse_seconds(payload)
    for offer_id in offer_ids:
        offer = framework.offers.get(offer_id)
        if offer is not None:
            master.remove_offer(offer, seconds)
    master.count("offers_declined", len(offer_ids))


def _offer_ids(payload: JSON) -> list[str]:
    raw = payload.get("offer_ids")
    if not isinstance(raw, list):
        raise BadRequest("Failed to validate call: Expecting 'offer_ids' to be a list")
    return [parse_id(o, "offer_ids[]", required=True) for o in raw]


def _roles(payload: JSON) -> tuple[str, ...]:
    roles = payload.get("roles")
    if roles is None:
        role = payload.get("role")
        return (role,) if isinstance(role, str) else ()
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise BadRequest("Failed to validate call: 'roles' must be a list of strings")
    return tuple(roles)


def _revive(master: Master, framework: Framework, body: JSON) -> None:
    roles = _roles(_payload(body, "revive", required=False))
    master.allocator.revive(framework.framework_id, roles)
    framework.suppressed_roles -= set(roles or framework.roles)
    master.changed()


def _suppress(master: Master, framework: Framework, body: JSON) -> None:
    roles = _roles(_payload(body, "suppress", required=False))
    master.allocator.suppress(framework.framework_id, roles)
    framework.suppressed_roles |= set(roles or framework.roles)
    master.changed()


def _kill(master: Master, framework: Framework, body: JSON) -> None:
    payload = _payload(body, "kill")
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
    payload = _payload(body, "shutdown")
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
    payload = _payload(body, "acknowledge")
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
    payload = _payload(body, "reconcile", required=False)
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
        agent = master.agents.get(agent_id) if agent_id else None
        state = "TASK_UNREACHABLE" if agent and agent.unreachable_since else "TASK_UNKNOWN"
        if agent is not None and agent.unreachable_since is None:
            state = "TASK_GONE"
        master.forward_update(
            framework,
            master.master_status(task_id, state, "REASON_RECONCILIATION", "Reconciliation"),
        )


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
    payload = _payload(body, "message")
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
    payload = _payload(body, "update_framework")
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


def _accept(master: Master, framework: Framework, body: JSON) -> None:
    payload = _payload(body, "accept")
    offer_ids = _offer_ids(payload)
    seconds = refuse_seconds(payload)
    operations = payload.get("operations") or []
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise BadRequest("Failed to validate call: 'accept.operations' must be a list of objects")
    offers = [framework.offers.get(o) for o in offer_ids]
    agent_ids = {o.agent_id for o in offers if o is not None}
    invalid = (
        not offer_ids
        or any(o is None for o in offers)
        or len(agent_ids) != 1
        or len(set(offer_ids)) != len(offer_ids)
    )
    if invalid:
        for offer in offers:
            if offer is not None:
                master.remove_offer(offer)
        _drop_all(master, framework, operations, "Offers are invalid or no longer exist")
        return
    live = [o for o in offers if o is not None]
    agent = master.agents[live[0].agent_id]
    available: dict[str, Resources] = {}
    for offer in live:
        available[offer.role] = available.get(offer.role, res.EMPTY) + offer.resources
        master.offers.pop(offer.offer_id, None)
        framework.offers.pop(offer.offer_id, None)
        agent.offers.discard(offer.offer_id)
    default_role = live[0].role
    for operation in operations:
        kind = operation.get("type")
        if kind == "LAUNCH":
            launch = operation.get("launch") or {}
            for info in launch.get("task_infos") or []:
                _launch(master, framework, agent, available, default_role, info, None)
        elif kind == "LAUNCH_GROUP":
            group = operation.get("launch_group") or {}
            tasks = (group.get("task_group") or {}).get("tasks") or []
            _launch_group(master, framework, agent, available, default_role, group, tasks)
        else:
            log.info("offer operation not supported, ignored type=%s", kind)
    now = master.clock()
    for role, leftover in available.items():
        if not leftover.is_empty():
            master.allocator.recover(
                framework.framework_id, agent.agent_id, role, leftover, now, seconds
            )
    master.count("offers_accepted", len(live))
    master.changed()


def _drop_all(master: Master, framework: Framework, operations: list[JSON], why: str) -> None:
    for operation in operations:
        infos: list[Any] = []
        if operation.get("type") == "LAUNCH":
            infos = (operation.get("launch") or {}).get("task_infos") or []
        elif operation.get("type") == "LAUNCH_GROUP":
            group = operation.get("launch_group") or {}
            infos = (group.get("task_group") or {}).get("tasks") or []
        for info in infos:
            task_id = (info.get("task_id") or {}).get("value") if isinstance(info, dict) else None
            if isinstance(task_id, str):
                master.forward_update(
                    framework,
                    master.master_status(task_id, "TASK_DROPPED", "REASON_INVALID_OFFERS", why),
                )


def _task_error(master: Master, framework: Framework, task_id: str, message: str) -> None:
    master.forward_update(
        framework, master.master_status(task_id, "TASK_ERROR", "REASON_TASK_INVALID", message)
    )
    master.count("tasks_error")


def _task_role(info: JSON, default_role: str) -> str:
    for item in info.get("resources") or []:
        if isinstance(item, dict):
            allocation = item.get("allocation_info")
            if isinstance(allocation, dict) and isinstance(allocation.get("role"), str):
                return str(allocation["role"])
    return default_role


def _prepare_task(
    master: Master,
    framework: Framework,
    agent: Any,
    info: Any,
    default_role: str,
    group_executor: JSON | None,
) -> tuple[Task, Resources, Executor | None] | str:
    """Validate one TaskInfo; returns the task and what it consumes, or an error message."""
    problem = validate_task_shape(info, agent.agent_id, group_executor is not None)
    if problem is not None:
        return problem
    task_id = info["task_id"]["value"]
    if task_id in framework.tasks:
        return f"Task has duplicate ID: {task_id}"
    try:
        task_resources = parse_resources(info.get("resources"))
    except ValueError as err:
        return f"Task resources are invalid: {err}"
    role = _task_role(info, default_role)
    executor_info = group_executor or info.get("executor")
    consumed = task_resources
    executor: Executor | None = None
    executor_id = ""
    if isinstance(executor_info, dict):
        executor_id = parse_id(executor_info.get("executor_id"), "executor_id", required=False)
        if not executor_id:
            return "ExecutorInfo is missing 'executor_id'"
        if (framework.framework_id, executor_id) not in agent.executors:
            try:
                executor_resources = parse_resources(executor_info.get("resources"))
            except ValueError as err:
                return f"Executor resources are invalid: {err}"
            consumed = consumed + executor_resources
            executor = Executor(
                executor_id=executor_id,
                framework_id=framework.framework_id,
                agent_id=agent.agent_id,
                role=role,
                resources=executor_resources,
                info=dict(executor_info, framework_id=id_json(framework.framework_id)),
            )
    task = Task(
        task_id=task_id,
        framework_id=framework.framework_id,
        agent_id=agent.agent_id,
        executor_id=executor_id,
        name=str(info.get("name", "")),
        role=role,
        resources=task_resources,
        info=dict(info),
    )
    return task, consumed, executor


def _admit(master: Master, framework: Framework, agent: Any, task: Task) -> None:
    task.statuses.append({"state": "TASK_STAGING", "timestamp": master.clock()})
    framework.tasks[task.task_id] = task
    agent.tasks[(framework.framework_id, task.task_id)] = task
    master.count("tasks_staging")
    master.send_operators({"type": "TASK_ADDED", "task_added": {"task": {"task_id": task.task_id}}})


def _register_executor(master: Master, framework: Framework, agent: Any, ex: Executor) -> None:
    framework.executors[(agent.agent_id, ex.executor_id)] = ex
    agent.executors[(framework.framework_id, ex.executor_id)] = ex


def _launch(
    master: Master,
    framework: Framework,
    agent: Any,
    available: dict[str, Resources],
    default_role: str,
    info: Any,
    group_executor: JSON | None,
) -> None:
    prepared = _prepare_task(master, framework, agent, info, default_role, group_executor)
    if isinstance(prepared, str):
        task_id = info.get("task_id", {}).get("value", "") if isinstance(info, dict) else ""
        _task_error(master, framework, str(task_id), prepared)
        return
    task, consumed, executor = prepared
    pool = available.get(task.role, res.EMPTY)
    if not pool.contains(consumed):
        _task_error(master, framework, task.task_id, "Task uses more resources than offered")
        return
    available[task.role] = pool - consumed
    if executor is not None:
        _register_executor(master, framework, agent, executor)
    _admit(master, framework, agent, task)
    task_info = dict(task.info, agent_id=id_json(agent.agent_id))
    master.send_agent(
        agent,
        {"type": "RUN_TASK", "run_task": {"framework_info": framework.info, "task": task_info}},
    )


def _launch_group(
    master: Master,
    framework: Framework,
    agent: Any,
    available: dict[str, Resources],
    default_role: str,
    group: JSON,
    tasks: list[Any],
) -> None:
    executor_info = group.get("executor")
    if not isinstance(executor_info, dict) or not tasks:
        _drop_group(master, framework, tasks, "LAUNCH_GROUP needs an executor and tasks")
        return
    prepared: list[tuple[Task, Resources, Executor | None]] = []
    scratch = dict(available)
    for info in tasks:
        result = _prepare_task(master, framework, agent, info, default_role, executor_info)
        if isinstance(result, str):
            _drop_group(master, framework, tasks, result)
            return
        task, consumed, executor = result
        if prepared and executor is not None:  # the executor is counted once, with the first
            consumed = consumed - executor.resources
            executor = None
        pool = scratch.get(task.role, res.EMPTY)
        if not pool.contains(consumed):
            _drop_group(master, framework, tasks, "Task group uses more resources than offered")
            return
        scratch[task.role] = pool - consumed
        prepared.append((task, consumed, executor))
    available.clear()
    available.update(scratch)
    task_infos = []
    for task, _, executor in prepared:
        if executor is not None:
            _register_executor(master, framework, agent, executor)
        _admit(master, framework, agent, task)
        task_infos.append(dict(task.info, agent_id=id_json(agent.agent_id)))
    master.send_agent(
        agent,
        {
            "type": "RUN_TASK_GROUP",
            "run_task_group": {
                "framework_info": framework.info,
                "executor": dict(executor_info, framework_id=id_json(framework.framework_id)),
                "task_group": {"tasks": task_infos},
            },
        },
    )


def _drop_group(master: Master, framework: Framework, tasks: list[Any], why: str) -> None:
    for info in tasks:
        task_id = info.get("task_id", {}).get("value") if isinstance(info, dict) else None
        if isinstance(task_id, str):
            master.forward_update(
                framework,
                master.master_status(task_id, "TASK_ERROR", "REASON_TASK_GROUP_INVALID", why),
            )


_HANDLERS: dict[str, Any] = {
    "TEARDOWN": _teardown,
    "ACCEPT": _accept,
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
