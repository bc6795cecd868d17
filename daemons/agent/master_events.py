"""What the agent does with each event the master sends (docs/agent-protocol.md, events table):
transitions of the agent's state, run by the runtime under its lock. The events come typed
(messages.py: the master link parsed them as they arrived).

SUBSCRIBED checkpoints the agent id and sends every unacknowledged update again; RUN_TASK
launches (the built-in command executor for `command` tasks, the framework's executor, started
once per executor id, otherwise); RUN_TASK_GROUP launches a group under one executor (the
built-in default executor, or a CUSTOM one) or adds it to that executor if it runs already;
a task that cannot be read (but whose ids can) gets TASK_ERROR saying why, one whose id cannot
name a directory is dropped; KILL_TASK asks the executor (TASK_LOST for a task this agent does
not have);
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
from daemons.agent.messages import (
    Acknowledge,
    FrameworkMessage,
    InvalidTasks,
    KillTask,
    MasterEvent,
    RunTask,
    RunTaskGroup,
    ShutdownExecutor,
    ShutdownFramework,
    Subscribed,
)
from daemons.agent.model import Executor, ExecutorKind, ExecutorState, Framework, Task, Termination
from daemons.agent.plan import LaunchContainer, ResizeContainer, SendExecutor
from daemons.protocols import JSON
from daemons.protocols.fields import ProtocolError, b64
from daemons.protocols.ids import id_json, valid_id
from daemons.protocols.models import ExecutorInfo, FrameworkInfo, KillPolicy, TaskInfo

log = logging.getLogger(__name__)


def handle_event(agent: Agent, event: MasterEvent) -> None:
    """One event, parsed where it entered (messages.parse_event)."""
    try:
        match event:
            case RunTask():
                run_task(agent, event)
            case RunTaskGroup():
                run_task_group(agent, event)
            case InvalidTasks():
                invalid_tasks(agent, event)
            case KillTask():
                kill_task(agent, event)
            case ShutdownExecutor():
                shutdown_executor(agent, event)
            case ShutdownFramework():
                shutdown_framework(agent, event)
            case FrameworkMessage():
                message(agent, event)
            case Acknowledge():
                agent.acknowledged(event.framework_id, event.task_id, event.uuid)
    except ProtocolError as err:  # an id the agent cannot use as a directory name
        log.warning("ignoring master event type=%s error=%s", type(event).__name__, err)
    except CheckpointError as err:
        log.error("checkpoint failed handling master event %s error=%s", type(event).__name__, err)


# --- SUBSCRIBED ----------------------------------------------------------------------------


def subscribed(agent: Agent, event: Subscribed) -> None:
    """SUBSCRIBED: checkpoint a new agent id; every unacknowledged update goes out again."""
    agent_id = event.agent_id
    if agent.agent_id is not None and agent_id != agent.agent_id:
        log.error("master gave a new agent id old=%s new=%s", agent.agent_id, agent_id)
    if agent_id != agent.agent_id:
        agent.agent_id = agent_id
        agent.checkpoints.write_boot_id(agent.boot_id)
        agent.checkpoints.write_agent(agent_id, agent.agent_info())
    agent.updates.resume(agent.monotonic())


# --- RUN_TASK ------------------------------------------------------------------------------


def ensure_framework(agent: Agent, framework_id: str, framework_info: FrameworkInfo) -> Framework:
    fid = valid_id(framework_id, "framework id")
    framework = agent.ensure_framework(fid, framework_info)
    framework.info = framework_info
    framework.terminating = False
    return framework


def run_task(agent: Agent, event: RunTask) -> None:
    task = event.task
    task_id = valid_id(task.task_id, "task id")
    framework = ensure_framework(agent, event.framework_id, event.framework)
    fid = framework.framework_id
    if task.executor is not None:
        kind = ExecutorKind.CUSTOM
        info = launcher.with_framework_id(task.executor, fid)
    else:
        kind = ExecutorKind.COMMAND
        info = launcher.command_executor_info(task, fid, agent.command_argv)
    try:
        eid = valid_id(info.executor_id, "executor id")
    except ProtocolError as err:
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


def invalid_tasks(agent: Agent, event: InvalidTasks) -> None:
    """Tasks whose TaskInfo (or group executor) cannot be read: TASK_ERROR, saying why."""
    fid = valid_id(event.framework_id, "framework id")
    log.warning("refusing tasks framework=%s tasks=%s error=%s", fid, event.task_ids, event.message)
    for task_id in event.task_ids:
        agent.agent_update(fid, task_id, "TASK_ERROR", event.reason, event.message)


def add_task(
    agent: Agent, executor: Executor, task_info: TaskInfo, group: str | None = None
) -> None:
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
    group, each TaskInfo as the master sent it. A default executor only understands
    LAUNCH_GROUP: its tasks whose group is not known any more (recovered after an agent
    restart) go together as one group."""
    stream = executor.stream
    assert stream is not None
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        group = task.group
        if group is None and executor.kind is ExecutorKind.DEFAULT:
            group = ""
        if group is None:
            launch = {"type": "LAUNCH", "launch": {"task": task.info.raw}}
            agent.emit(SendExecutor(stream, launch))
        else:
            groups.setdefault(group, []).append(task)
        task.launched = True
    for members in groups.values():
        task_group = {"tasks": [t.info.raw for t in members]}
        launch_group = {"type": "LAUNCH_GROUP", "launch_group": {"task_group": task_group}}
        agent.emit(SendExecutor(stream, launch_group))


def launch_executor(
    agent: Agent,
    framework: Framework,
    info: ExecutorInfo,
    kind: ExecutorKind,
    tasks: list[TaskInfo],
    group: str | None = None,
) -> None:
    """Checkpoint the executor and its tasks, then ask for its container; its tasks wait for
    the executor's SUBSCRIBE. Nothing is launched that recovery could not find again: a
    checkpoint that fails here fails the tasks instead."""
    config = agent.config
    fid, eid = framework.framework_id, info.executor_id
    cid = agent.new_container_id()
    command = tasks[0].command if kind is ExecutorKind.COMMAND else info.command
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
        resources=info.resources if kind is not ExecutorKind.COMMAND else {},
    )
    framework.executors[eid] = executor
    try:
        if agent.agent_id is not None:
            agent.checkpoints.write_framework(agent.agent_id, fid, framework.info)
            agent.checkpoints.write_executor(agent.agent_id, fid, eid, info)
        agent.checkpoint_run(executor)
        for task in tasks:
            add_task(agent, executor, task, group)
        limits = launcher.container_limits(kind, info.resources, tasks)
        builtin = agent.default_argv if kind is ExecutorKind.DEFAULT else agent.command_argv
        spec = ContainerSpec(
            container_id=cid,
            sandbox=executor.directory,
            argv=launcher.executor_argv(kind, info, builtin),
            environment=launcher.executor_environment(
                base=agent.base_environment,
                agent=agent.facts(),
                framework=framework.info,
                executor=info,
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
            if task.task_id not in executor.tasks:
                executor.tasks[task.task_id] = Task(task, fid, eid, group=group)
        launch_failed(agent, fid, eid, cid, str(err))
        return
    agent.emit(LaunchContainer(fid, eid, spec))


# --- RUN_TASK_GROUP ------------------------------------------------------------------------


def run_task_group(agent: Agent, event: RunTaskGroup) -> None:
    """Launch the group's executor with the group, or add the group to it if it runs already."""
    tasks = list(event.tasks)
    task_ids = [valid_id(task.task_id, "task id") for task in tasks]
    framework = ensure_framework(agent, event.framework_id, event.framework)
    fid = framework.framework_id
    info = launcher.with_framework_id(event.executor, fid)
    try:
        eid = valid_id(info.executor_id, "executor id")
    except ProtocolError as err:
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


def _add_group(agent: Agent, executor: Executor, tasks: list[TaskInfo], group: str) -> None:
    """A later group of a running executor: grow its container to hold it, then hand it over."""
    for task in tasks:
        add_task(agent, executor, task, group)
    unfinished = [t.info for t in executor.unfinished()]
    limits = launcher.container_limits(executor.kind, executor.resources, unfinished)
    pids_max = agent.config.pids_max or None
    agent.emit(ResizeContainer(executor.container_id, limits.cpus, limits.mem_mb, pids_max))
    if executor.stream is not None and executor.state is ExecutorState.RUNNING:
        deliver(agent, executor, [executor.tasks[t.task_id] for t in tasks])


# --- KILL_TASK, SHUTDOWN_EXECUTOR, SHUTDOWN_FRAMEWORK ----------------------------------------


def kill_event(task_id: str, kill_policy: KillPolicy | None) -> JSON:
    """KILL for an executor, with the framework's kill policy as it sent it."""
    kill: JSON = {"task_id": id_json(task_id)}
    if kill_policy is not None:
        kill["kill_policy"] = kill_policy.raw
    return {"type": "KILL", "kill": kill}


def kill_task(agent: Agent, event: KillTask) -> None:
    fid, tid = event.framework_id, event.task_id
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
    if executor.stream is not None:
        agent.emit(SendExecutor(executor.stream, kill_event(tid, event.kill_policy)))
    else:  # delivered when the executor (re)subscribes
        executor.pending_kills[tid] = event.kill_policy


def shutdown_executor(agent: Agent, event: ShutdownExecutor) -> None:
    fid, eid = event.framework_id, event.executor_id
    executor = agent.executor(fid, eid)
    if executor is None:
        log.info("shutdown of unknown executor framework=%s executor=%s", fid, eid)
        return
    agent.shutdown_executor(
        executor, Termination("TASK_KILLED", "REASON_EXECUTOR_TERMINATED", "Executor shut down")
    )


def shutdown_framework(agent: Agent, event: ShutdownFramework) -> None:
    fid = event.framework_id
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


# --- MESSAGE ---------------------------------------------------------------------------------


def message(agent: Agent, event: FrameworkMessage) -> None:
    executor = agent.executor(event.framework_id, event.executor_id)
    if executor is None or executor.stream is None:
        log.info("dropping message for executor=%s (not connected)", event.executor_id)
        return
    to_executor = {"type": "MESSAGE", "message": {"data": b64(event.data)}}
    agent.emit(SendExecutor(executor.stream, to_executor))
