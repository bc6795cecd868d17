"""What the agent does with each event the master sends (docs/agent-protocol.md, events table):
transitions of the agent's state, run by the runtime under its lock.

SUBSCRIBED checkpoints the agent id and sends every unacknowledged update again; RUN_TASK
launches (the built-in command executor for `command` tasks, the framework's executor, started
once per executor id, otherwise); RUN_TASK_GROUP launches a group under one executor (the
built-in default executor, or a CUSTOM one) or adds it to that executor if it runs already;
KILL_TASK asks the executor (TASK_LOST for a task this agent does not have);
SHUTDOWN_EXECUTOR/SHUTDOWN_FRAMEWORK send SHUTDOWN and destroy after the grace period; MESSAGE
goes to the executor; ACKNOWLEDGE advances the task's update stream.

A launch is two transitions: RUN_TASK makes the executor's record, writes its checkpoints and
emits `LaunchContainer`; the runtime starts the container outside the lock and then calls
`containers.launched` (or `containers.launch_failed`).
"""

from __future__ import annotations

import logging

from daemons.agent import launcher
from daemons.agent.agent import Agent
from daemons.agent.checkpoint import CheckpointError
from daemons.agent.containerizer.model import ContainerSpec
from daemons.agent.containers import launch_failed
from daemons.agent.model import Executor, ExecutorKind, ExecutorState, Framework, Task, Termination
from daemons.agent.plan import LaunchContainer, ResizeContainer, SendExecutor
from daemons.agent.protocol import InvalidCall, id_json, id_of, safe_id
from daemons.protocols import JSON

log = logging.getLogger(__name__)


def handle_event(agent: Agent, event: JSON) -> None:
    kind = str(event.get("type"))
    payload = event.get(kind.lower())
    handler = _HANDLERS.get(kind)
    if handler is None or not isinstance(payload, dict):
        log.warning("ignoring master event type=%s", kind)
        return
    try:
        handler(agent, payload)
    except InvalidCall as err:
        log.warning("ignoring malformed master event type=%s error=%s", kind, err)
    except CheckpointError as err:
        log.error("checkpoint failed handling master event type=%s error=%s", kind, err)


# --- SUBSCRIBED ----------------------------------------------------------------------------


def subscribed(agent: Agent, payload: JSON) -> None:
    """SUBSCRIBED: checkpoint a new agent id; every unacknowledged update goes out again."""
    agent_id = str(payload["agent_id"]["value"])
    if agent.agent_id is not None and agent_id != agent.agent_id:
        log.error("master gave a new agent id old=%s new=%s", agent.agent_id, agent_id)
    if agent_id != agent.agent_id:
        agent.agent_id = agent_id
        agent.checkpoints.write_boot_id(agent.boot_id)
        agent.checkpoints.write_agent(agent_id, agent.agent_info())
    agent.updates.resume(agent.monotonic())


# --- RUN_TASK ------------------------------------------------------------------------------


def ensure_framework(agent: Agent, framework_info: JSON) -> Framework:
    fid = safe_id(id_of(framework_info, "id"), "framework id")
    framework = agent.ensure_framework(fid, framework_info)
    framework.info = framework_info
    framework.terminating = False
    return framework


def run_task(agent: Agent, payload: JSON) -> None:
    framework_info, task = payload.get("framework_info"), payload.get("task")
    if not isinstance(framework_info, dict) or not isinstance(task, dict):
        raise InvalidCall("RUN_TASK needs framework_info and task")
    task_id = safe_id(id_of(task, "task_id"), "task id")
    framework = ensure_framework(agent, framework_info)
    fid = framework.framework_id
    if isinstance(task.get("executor"), dict):
        kind = ExecutorKind.CUSTOM
        info = {**task["executor"], "framework_id": id_json(fid)}
    else:
        kind = ExecutorKind.COMMAND
        info = launcher.command_executor_info(task, fid, agent.command_argv)
    try:
        eid = safe_id(id_of(info, "executor_id"), "executor id")
    except InvalidCall as err:
        agent.agent_update(fid, task_id, "TASK_ERROR", "REASON_TASK_INVALID", str(err))
        return
    if framework.find_task(task_id) is not None:
        log.warning("ignoring duplicate RUN_TASK framework=%s task=%s", fid, task_id)
        return
    executor = framework.executors.get(eid)
    if executor is None or not executor.live:
        launch_executor(agent, framework, info, kind, [task])
    elif executor.state is ExecutorState.TERMINATING:
        agent.agent_update(
            fid, task_id, "TASK_LOST", "REASON_EXECUTOR_TERMINATED", "Executor terminating"
        )
    else:
        add_task(agent, executor, task)
        if executor.stream is not None and executor.state is ExecutorState.RUNNING:
            deliver(agent, executor, [executor.tasks[task_id]])


def add_task(agent: Agent, executor: Executor, task_info: JSON, group: str | None = None) -> None:
    task = Task(
        info=task_info,
        framework_id=executor.framework_id,
        executor_id=executor.executor_id,
        group=group,
    )
    agent.add_task(executor, task)
    if agent.agent_id is not None:
        agent.checkpoints.write_task(
            agent.agent_id,
            executor.framework_id,
            executor.executor_id,
            executor.container_id,
            task_info,
        )


def deliver(agent: Agent, executor: Executor, tasks: list[Task]) -> None:
    """Hand tasks to the subscribed executor: LAUNCH for a single task, one LAUNCH_GROUP per
    group. A default executor only understands LAUNCH_GROUP: its tasks whose group is not known
    any more (recovered after an agent restart) go together as one group."""
    stream = executor.stream
    assert stream is not None
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        group = task.group
        if group is None and executor.kind is ExecutorKind.DEFAULT:
            group = ""
        if group is None:
            agent.emit(SendExecutor(stream, {"type": "LAUNCH", "launch": {"task": task.info}}))
        else:
            groups.setdefault(group, []).append(task)
        task.launched = True
    for members in groups.values():
        task_group = {"tasks": [t.info for t in members]}
        launch_group = {"type": "LAUNCH_GROUP", "launch_group": {"task_group": task_group}}
        agent.emit(SendExecutor(stream, launch_group))


def launch_executor(
    agent: Agent,
    framework: Framework,
    info: JSON,
    kind: ExecutorKind,
    tasks: list[JSON],
    group: str | None = None,
) -> None:
    """Checkpoint the executor and its tasks, then ask for its container; its tasks wait for
    the executor's SUBSCRIBE. Nothing is launched that recovery could not find again: a
    checkpoint that fails here fails the tasks instead."""
    config = agent.config
    fid, eid = framework.framework_id, str(info["executor_id"]["value"])
    cid = agent.new_container_id()
    command = tasks[0].get("command") if kind is ExecutorKind.COMMAND else info.get("command")
    executor = Executor(
        framework_id=fid,
        executor_id=eid,
        info=info,
        kind=kind,
        container_id=cid,
        directory=launcher.sandbox_path(agent.work_dir, agent.agent_id or "", fid, eid, cid),
        user=launcher.run_as_user(
            config.task_user, config.allow_framework_user, framework.info, command
        ),
        # What the master accounts for the executor itself: none for a command executor.
        resources=list(info.get("resources") or []) if kind is not ExecutorKind.COMMAND else [],
    )
    framework.executors[eid] = executor
    try:
        if agent.agent_id is not None:
            agent.checkpoints.write_framework(agent.agent_id, fid, framework.info)
            agent.checkpoints.write_executor(agent.agent_id, fid, eid, info)
        agent.checkpoint_run(executor)
        for task in tasks:
            add_task(agent, executor, task, group)
        limits = launcher.container_limits(kind, info.get("resources"), tasks)
        builtin = agent.default_argv if kind is ExecutorKind.DEFAULT else agent.command_argv
        spec = ContainerSpec(
            container_id=cid,
            sandbox=executor.directory,
            argv=launcher.executor_argv(kind, info, builtin),
            environment=launcher.executor_environment(
                base=agent.base_environment,
                agent=agent.facts(),
                framework_info=framework.info,
                executor_info=info,
                kind=kind,
                directory=executor.directory,
                task=tasks[0] if kind is ExecutorKind.COMMAND else None,
            ),
            user=executor.user,
            cpus=limits.cpus,
            mem_mb=limits.mem_mb,
            pids_max=config.pids_max or None,
        )
    except Exception as err:  # a checkpoint, a bad ExecutorInfo: the tasks fail, with its message
        log.exception("launch failed framework=%s executor=%s", fid, eid)
        for task in tasks:
            tid = str(task["task_id"]["value"])
            if tid not in executor.tasks:
                executor.tasks[tid] = Task(task, fid, eid, group=group)
        launch_failed(agent, fid, eid, cid, str(err))
        return
    agent.emit(LaunchContainer(fid, eid, spec))


# --- RUN_TASK_GROUP ------------------------------------------------------------------------


def run_task_group(agent: Agent, payload: JSON) -> None:
    """Launch the group's executor with the group, or add the group to it if it runs already."""
    framework_info, executor_info = payload.get("framework_info"), payload.get("executor")
    tasks = (payload.get("task_group") or {}).get("tasks")
    if not isinstance(framework_info, dict) or not isinstance(executor_info, dict):
        raise InvalidCall("RUN_TASK_GROUP needs framework_info and executor")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) for t in tasks):
        raise InvalidCall("RUN_TASK_GROUP needs task_group.tasks")
    task_ids = [safe_id(id_of(task, "task_id"), "task id") for task in tasks]
    framework = ensure_framework(agent, framework_info)
    fid = framework.framework_id
    info = {**executor_info, "framework_id": id_json(fid)}
    try:
        eid = safe_id(id_of(info, "executor_id"), "executor id")
    except InvalidCall as err:
        for tid in task_ids:
            agent.agent_update(fid, tid, "TASK_ERROR", "REASON_TASK_GROUP_INVALID", str(err))
        return
    if len(set(task_ids)) != len(task_ids) or any(framework.find_task(t) for t in task_ids):
        log.warning("ignoring RUN_TASK_GROUP with known tasks framework=%s", fid)
        return
    executor = framework.executors.get(eid)
    group = task_ids[0]
    if executor is None or not executor.live:
        kind = launcher.group_executor_kind(info)
        launch_executor(agent, framework, info, kind, tasks, group)
    elif executor.state is ExecutorState.TERMINATING:
        for tid in task_ids:
            agent.agent_update(
                fid, tid, "TASK_LOST", "REASON_EXECUTOR_TERMINATED", "Executor terminating"
            )
    else:
        _add_group(agent, executor, tasks, group)


def _add_group(agent: Agent, executor: Executor, tasks: list[JSON], group: str) -> None:
    """A later group of a running executor: grow its container to hold it, then hand it over."""
    for task in tasks:
        add_task(agent, executor, task, group)
    unfinished = [t.info for t in executor.unfinished()]
    limits = launcher.container_limits(executor.kind, executor.resources, unfinished)
    pids_max = agent.config.pids_max or None
    agent.emit(ResizeContainer(executor.container_id, limits.cpus, limits.mem_mb, pids_max))
    if executor.stream is not None and executor.state is ExecutorState.RUNNING:
        deliver(agent, executor, [executor.tasks[str(t["task_id"]["value"])] for t in tasks])


# --- KILL_TASK, SHUTDOWN_EXECUTOR, SHUTDOWN_FRAMEWORK ----------------------------------------


def kill_task(agent: Agent, payload: JSON) -> None:
    fid, tid = id_of(payload, "framework_id"), id_of(payload, "task_id")
    framework = agent.frameworks.get(fid)
    found = framework.find_task(tid) if framework is not None else None
    if found is None:
        log.warning("kill of unknown task framework=%s task=%s", fid, tid)
        agent.agent_update(fid, tid, "TASK_LOST", "REASON_TASK_UNKNOWN", "Cannot find task")
        return
    executor, task = found
    if task.terminal:
        return
    if not task.launched and executor.state is not ExecutorState.RECOVERING:
        # Mesos kills a queued task's whole group with it.
        for member in executor.queued():
            if member is task or (task.group is not None and member.group == task.group):
                agent.agent_update(
                    fid,
                    member.task_id,
                    "TASK_KILLED",
                    "REASON_TASK_KILLED_DURING_LAUNCH",
                    "Killed before delivery to the executor",
                    executor,
                )
        if not executor.unfinished():
            agent.shutdown_executor(
                executor, Termination("TASK_KILLED", "REASON_TASK_KILLED_DURING_LAUNCH")
            )
        return
    kill: JSON = {"task_id": id_json(tid)}
    if isinstance(payload.get("kill_policy"), dict):
        kill["kill_policy"] = payload["kill_policy"]
    if executor.stream is not None:
        agent.emit(SendExecutor(executor.stream, {"type": "KILL", "kill": kill}))
    else:
        executor.pending_kills[tid] = kill  # delivered when the executor (re)subscribes


def shutdown_executor(agent: Agent, payload: JSON) -> None:
    fid, eid = id_of(payload, "framework_id"), id_of(payload, "executor_id")
    executor = agent.executor(fid, eid)
    if executor is None:
        log.info("shutdown of unknown executor framework=%s executor=%s", fid, eid)
        return
    agent.shutdown_executor(
        executor, Termination("TASK_KILLED", "REASON_EXECUTOR_TERMINATED", "Executor shut down")
    )


def shutdown_framework(agent: Agent, payload: JSON) -> None:
    fid = id_of(payload, "framework_id")
    framework = agent.frameworks.get(fid)
    if framework is None:
        return
    framework.terminating = True
    for executor in list(framework.executors.values()):
        agent.shutdown_executor(
            executor,
            Termination("TASK_KILLED", "REASON_FRAMEWORK_REMOVED", "Framework shut down"),
        )
        agent.maybe_complete_executor(executor)
    if not framework.executors and fid in agent.frameworks:
        agent.updates.cleanup(fid)
        del agent.frameworks[fid]
        agent.completed_frameworks.append(framework)


# --- MESSAGE, ACKNOWLEDGE --------------------------------------------------------------------


def message(agent: Agent, payload: JSON) -> None:
    fid, eid = id_of(payload, "framework_id"), id_of(payload, "executor_id")
    executor = agent.executor(fid, eid)
    if executor is None or executor.stream is None:
        log.info("dropping message for executor=%s (not connected)", eid)
        return
    event = {"type": "MESSAGE", "message": {"data": payload.get("data", "")}}
    agent.emit(SendExecutor(executor.stream, event))


def acknowledge(agent: Agent, payload: JSON) -> None:
    fid, tid = id_of(payload, "framework_id"), id_of(payload, "task_id")
    uuid_text = payload.get("uuid")
    if not isinstance(uuid_text, str):
        raise InvalidCall("ACKNOWLEDGE needs a uuid")
    agent.acknowledged(fid, tid, uuid_text)


_HANDLERS = {
    "RUN_TASK": run_task,
    "RUN_TASK_GROUP": run_task_group,
    "KILL_TASK": kill_task,
    "SHUTDOWN_EXECUTOR": shutdown_executor,
    "SHUTDOWN_FRAMEWORK": shutdown_framework,
    "MESSAGE": message,
    "ACKNOWLEDGE": acknowledge,
}
