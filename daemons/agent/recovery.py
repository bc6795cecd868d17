"""Agent recovery after a restart (Mesos `--recover=reconnect`).

1. Read the checkpoints of the latest agent id. A different boot id means the machine rebooted:
   nothing survived, so start afresh (the master gives a new agent id).
2. For each run: re-attach the container (`containerizer.recover`); a live one waits for its
   executor to re-subscribe; a dead one gets terminal updates for its unfinished tasks.
3. Reload every task's status-update stream, so unacknowledged updates are sent again.
4. Destroy containers no checkpoint knows (orphans).
5. After `executor_reregistration_timeout` (or as soon as all executors are back), destroy the
   executors that did not return, then subscribe to the master with the same agent id.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from daemons.agent.checkpoint import CheckpointError, RunCheckpoint
from daemons.agent.model import Executor, ExecutorKind, ExecutorState, Framework, Task, Termination
from daemons.agent.monitor import container_exited
from daemons.agent.status_updates import TaskStream

if TYPE_CHECKING:
    from daemons.agent.agent import Agent

log = logging.getLogger(__name__)


def recover(agent: Agent) -> list[Executor]:
    """Rebuild state from checkpoints; returns the executors expected to re-subscribe."""
    with agent.lock:
        try:
            waiting = _recover(agent)
        finally:
            agent.recovered = True
        return waiting


def _recover(agent: Agent) -> list[Executor]:
    try:
        latest = agent.checkpoints.latest_agent()
    except CheckpointError as err:
        log.error("agent checkpoint unreadable; starting afresh error=%s", err)
        agent.counters["recovery_errors"] += 1
        latest = None
    if latest is not None and agent.checkpoints.boot_id() != agent.boot_id:
        log.warning("the machine rebooted since the last run; starting as a new agent")
        latest = None
    if latest is None:
        _destroy_orphans(agent, set())
        return []
    agent.agent_id = latest[0]
    runs, errors = agent.checkpoints.read_runs(agent.agent_id)
    for error in errors:
        log.error("recovery: %s", error)
        agent.counters["recovery_errors"] += 1
    live: list[Executor] = []
    dead: list[Executor] = []
    # Completed runs first, so that a live run of the same executor id takes the slot.
    for run in sorted(runs, key=lambda r: not r.run.get("completed")):
        executor = _recover_run(agent, run)
        if executor.state is ExecutorState.RECOVERING:
            live.append(executor)
        elif executor.state is ExecutorState.REGISTERING:
            dead.append(executor)
    for executor in dead:
        executor.termination = Termination(message="Executor terminated while the agent was down")
        container_exited(agent, executor.container_id, None)
    _destroy_orphans(agent, {e.container_id for e in live})
    log.info(
        "recovered agent_id=%s runs=%d live_executors=%d", agent.agent_id, len(runs), len(live)
    )
    return live


def _recover_run(agent: Agent, run: RunCheckpoint) -> Executor:
    fid, eid = run.framework_id, run.executor_id
    framework = agent.frameworks.get(fid)
    if framework is None:
        framework = Framework(fid, run.framework_info)
        framework.completed_executors = deque(
            maxlen=agent.config.max_completed_executors_per_framework
        )
        agent.frameworks[fid] = framework
    pid = run.run.get("pid")
    executor = Executor(
        framework_id=fid,
        executor_id=eid,
        info=run.executor_info,
        kind=ExecutorKind(run.run.get("kind", "command")),
        container_id=run.container_id,
        directory=Path(str(run.run.get("directory"))),
        user=str(run.run.get("user")),
        resources=list(run.run.get("resources") or []),
        pid=pid if isinstance(pid, int) else None,
    )
    now = agent.monotonic()
    for checkpoint in run.tasks:
        task = Task(info=checkpoint.info, framework_id=fid, executor_id=eid)
        stream = TaskStream.from_snapshot(checkpoint.updates) if checkpoint.updates else None
        if stream is not None:
            agent.updates.recover(stream, now)
            task.state = stream.latest_state or task.state
            task.statuses.append({"state": task.state, "timestamp": agent.clock()})
        # A task still STAGING may never have reached the executor: LAUNCH it again unless the
        # executor lists it as unacknowledged when it re-subscribes.
        task.launched = task.state != "TASK_STAGING"
        if stream is not None and stream.terminated:
            executor.completed_tasks.append(task)
        else:
            agent.add_task(executor, task)
    if run.run.get("completed"):
        executor.state = ExecutorState.TERMINATED
        if executor.tasks and eid not in framework.executors:
            framework.executors[eid] = executor  # awaiting acknowledgements
        else:
            framework.completed_executors.append(executor)
        return executor
    handle = None
    if executor.pid is not None:
        try:
            handle = agent.containerizer.recover(run.container_id, executor.pid)
        except Exception:  # the containerizer's errors: the container did not survive
            log.exception("recovering container failed container=%s", run.container_id)
    framework.executors[eid] = executor
    if handle is None:
        return executor  # still REGISTERING: the caller finishes it off as exited
    executor.pid = int(handle.pid)
    executor.state = ExecutorState.RECOVERING
    agent.monitor.watch(run.container_id)
    return executor


def _destroy_orphans(agent: Agent, known: set[str]) -> None:
    try:
        containers = agent.containerizer.containers()
    except Exception:  # the containerizer's errors: nothing to clean up that we can see
        log.exception("listing containers failed")
        return
    for container_id in containers:
        if container_id not in known:
            log.warning("destroying orphan container=%s", container_id)
            agent.destroy_container(container_id)


def await_reregistration(agent: Agent, waiting: list[Executor]) -> None:
    """Give recovered executors their window, end the missing ones, then subscribe."""
    timeout = agent.config.executor_reregistration_timeout
    deadline = agent.monotonic() + timeout
    with agent.changed:
        while any(e.state is ExecutorState.RECOVERING for e in waiting):
            remaining = deadline - agent.monotonic()
            if remaining <= 0:
                break
            agent.changed.wait(min(remaining, 0.5))
        for executor in waiting:
            if executor.state is ExecutorState.RECOVERING:
                log.warning("executor did not re-subscribe executor=%s", executor.executor_id)
                agent.terminate_executor(
                    executor,
                    Termination(
                        "TASK_FAILED",
                        "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
                        f"Executor did not re-register within {timeout}s",
                    ),
                )
    agent.link.start()
