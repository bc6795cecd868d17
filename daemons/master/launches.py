"""ACCEPT: turning offers into launched tasks (LAUNCH, LAUNCH_GROUP) under the master's lock.

The call comes parsed (`calls.scheduler.Accept`). A task that cannot run — one that could not be
read, or that `validation.validate_task` or the offers refuse — becomes a TASK_ERROR or
TASK_DROPPED update to its framework, as in Mesos, and consumes nothing. The agent gets each
TaskInfo as its framework sent it, with the agent id filled in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from daemons.master import state_json
from daemons.master.calls.scheduler import Accept, InvalidTask, Launch
from daemons.master.master import Master
from daemons.master.model import Agent, Executor, Framework, Task, flat, with_id
from daemons.master.validation import validate_task
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.ids import id_json
from daemons.protocols.models import ExecutorInfo, TaskInfo, TaskStatus
from daemons.protocols.resources import Resources

log = logging.getLogger(__name__)


def accept(master: Master, framework: Framework, call: Accept) -> None:
    """ACCEPT: launch what fits in the offers; return the rest with the call's filter."""
    offer_ids = call.offer_ids
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
        _drop_all(master, framework, call, "Offers are invalid or no longer exist")
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
    for operation in call.operations:
        if isinstance(operation, str):
            log.info("offer operation not supported, ignored type=%s", operation)
        elif operation.group:
            _launch_group(master, framework, agent, available, default_role, operation)
        else:
            for info in operation.tasks:
                _launch(master, framework, agent, available, default_role, info)
    now = master.clock()
    for role, leftover in available.items():
        if not leftover.is_empty():
            master.allocator.recover(
                framework.framework_id, agent.agent_id, role, leftover, now, call.refuse_seconds
            )
    master.count("offers_accepted", len(live))
    master.changed()


def _drop_all(master: Master, framework: Framework, call: Accept, why: str) -> None:
    for operation in call.operations:
        if isinstance(operation, str):
            continue
        for task_id in _task_ids(operation.tasks):
            master.forward_update(
                framework,
                master.master_status(task_id, "TASK_DROPPED", "REASON_INVALID_OFFERS", why),
            )


def _task_ids(tasks: Iterable[TaskInfo | InvalidTask]) -> list[str]:
    """The ids of the tasks that have a readable one."""
    return [t.task_id for t in tasks if t.task_id is not None]


def _task_error(master: Master, framework: Framework, task_id: str, message: str) -> None:
    master.forward_update(
        framework, master.master_status(task_id, "TASK_ERROR", "REASON_TASK_INVALID", message)
    )
    master.count("tasks_error")


def _prepare_task(
    master: Master,
    framework: Framework,
    agent: Agent,
    info: TaskInfo | InvalidTask,
    default_role: str,
    group_executor: ExecutorInfo | None,
) -> tuple[Task, Resources, Executor | None] | str:
    """Validate one TaskInfo; returns the task and what it consumes, or an error message."""
    if isinstance(info, InvalidTask):
        return info.problem
    problem = validate_task(info, agent.agent_id, group_executor is not None)
    if problem is not None:
        return problem
    task_id = info.task_id
    if task_id in framework.tasks:
        return f"Task has duplicate ID: {task_id}"
    task_resources = flat(info.resources)
    role = info.allocation_role or default_role
    executor_info = group_executor or info.executor
    consumed = task_resources
    executor: Executor | None = None
    executor_id = ""
    if executor_info is not None:
        executor_id = executor_info.executor_id
        if (framework.framework_id, executor_id) not in agent.executors:
            executor_resources = flat(executor_info.resources)
            consumed = consumed + executor_resources
            executor = Executor(
                executor_id=executor_id,
                framework_id=framework.framework_id,
                agent_id=agent.agent_id,
                role=role,
                resources=executor_resources,
                info=with_id(executor_info, "framework_id", framework.framework_id),
            )
    task = Task(
        task_id=task_id,
        framework_id=framework.framework_id,
        agent_id=agent.agent_id,
        executor_id=executor_id,
        name=info.name,
        role=role,
        resources=task_resources,
        info=info,
    )
    return task, consumed, executor


def _admit(master: Master, framework: Framework, agent: Agent, task: Task) -> None:
    now = master.clock()
    task.statuses.append(TaskStatus(task_id=task.task_id, state="TASK_STAGING", timestamp=now))
    framework.tasks[task.task_id] = task
    agent.tasks[(framework.framework_id, task.task_id)] = task
    master.count("tasks_staging")
    master.send_operators(
        lambda: {"type": "TASK_ADDED", "task_added": {"task": state_json.v1_task(task)}}
    )


def _register_executor(master: Master, framework: Framework, agent: Agent, ex: Executor) -> None:
    framework.executors[(agent.agent_id, ex.executor_id)] = ex
    agent.executors[(framework.framework_id, ex.executor_id)] = ex


def _task_info_json(task: Task) -> JSON:
    """The TaskInfo as its framework sent it, with the agent it runs on."""
    return dict(task.info.raw, agent_id=id_json(task.agent_id))


def _launch(
    master: Master,
    framework: Framework,
    agent: Agent,
    available: dict[str, Resources],
    default_role: str,
    info: TaskInfo | InvalidTask,
) -> None:
    prepared = _prepare_task(master, framework, agent, info, default_role, None)
    if isinstance(prepared, str):
        _task_error(master, framework, info.task_id or "", prepared)
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
    master.send_agent(
        agent,
        {
            "type": "RUN_TASK",
            "run_task": {"framework_info": framework.info.raw, "task": _task_info_json(task)},
        },
    )


def _launch_group(
    master: Master,
    framework: Framework,
    agent: Agent,
    available: dict[str, Resources],
    default_role: str,
    group: Launch,
) -> None:
    executor_info = group.executor
    if executor_info is None:
        _drop_group(master, framework, group, group.executor_problem or "")
        return
    prepared: list[tuple[Task, Resources, Executor | None]] = []
    scratch = dict(available)
    for info in group.tasks:
        result = _prepare_task(master, framework, agent, info, default_role, executor_info)
        if isinstance(result, str):
            _drop_group(master, framework, group, result)
            return
        task, consumed, executor = result
        if prepared and executor is not None:  # the executor is counted once, with the first
            consumed = consumed - executor.resources
            executor = None
        pool = scratch.get(task.role, res.EMPTY)
        if not pool.contains(consumed):
            _drop_group(master, framework, group, "Task group uses more resources than offered")
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
        task_infos.append(_task_info_json(task))
    executor_json = with_id(executor_info, "framework_id", framework.framework_id).raw
    master.send_agent(
        agent,
        {
            "type": "RUN_TASK_GROUP",
            "run_task_group": {
                "framework_info": framework.info.raw,
                "executor": executor_json,
                "task_group": {"tasks": task_infos},
            },
        },
    )


def _drop_group(master: Master, framework: Framework, group: Launch, why: str) -> None:
    for task_id in _task_ids(group.tasks):
        master.forward_update(
            framework,
            master.master_status(task_id, "TASK_ERROR", "REASON_TASK_GROUP_INVALID", why),
        )
