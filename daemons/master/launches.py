"""ACCEPT: turning offers into launched tasks (LAUNCH, LAUNCH_GROUP) under the master's lock.

Structural problems raise `BadRequest`; a task that cannot run becomes a TASK_ERROR or
TASK_DROPPED update to its framework, as in Mesos, and consumes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from daemons.kit.errors import BadRequest
from daemons.master import state_json
from daemons.master.master import Master
from daemons.master.model import Executor, Framework, Task, id_json
from daemons.master.validation import (
    call_payload,
    parse_id,
    parse_offer_ids,
    parse_resources,
    refuse_seconds,
    validate_task_shape,
)
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.resources import Resources

log = logging.getLogger(__name__)


def accept(master: Master, framework: Framework, body: JSON) -> None:
    """ACCEPT: launch what fits in the offers; return the rest with the call's filter."""
    payload = call_payload(body, "accept")
    offer_ids = parse_offer_ids(payload)
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
    master.send_operators({"type": "TASK_ADDED", "task_added": {"task": state_json.v1_task(task)}})


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
