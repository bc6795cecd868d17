"""Agent recovery after a restart (Mesos `--recover=reconnect`, the default of `recover`).

1. `read`: the checkpoints of the latest agent id. A different boot id means the machine
   rebooted: nothing survived, so start afresh (the master gives a new agent id). A checkpoint
   that is there but unreadable stops the agent with `RecoveryError` -- which file, what is
   wrong, how to start afresh -- rather than guess: starting afresh destroys every container of
   the previous run. A missing file (its first write never completed) only skips that run.
   `recover = "cleanup"` asks for the fresh start: the old checkpoints are forgotten.
2. The runtime re-attaches each run's container (`containerizer.recover` by its checkpointed
   pid) and lists the containers that exist, then `restore` rebuilds the state: a live executor
   waits for its executor to re-subscribe; a dead one gets terminal updates for its unfinished
   tasks; every task's status-update stream is reloaded, so unacknowledged updates are sent
   again; containers no checkpoint knows (orphans) are destroyed.
3. After `executor_reregistration_timeout` (or as soon as all executors are back),
   `reregistration_timed_out` ends the executors that did not return; then the agent subscribes
   to the master with the same agent id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from daemons.agent.agent import Agent
from daemons.agent.checkpoint import CheckpointError, Checkpoints, RunCheckpoint
from daemons.agent.containers import exited
from daemons.agent.model import Executor, ExecutorState, Task, Termination
from daemons.agent.plan import DestroyContainer, WatchContainer
from daemons.agent.protocol import built
from daemons.protocols.models import TaskStatus

log = logging.getLogger(__name__)

RECONNECT = "reconnect"
CLEANUP = "cleanup"


class RecoveryError(Exception):
    """The checkpoints cannot be read: the agent must not start (the message says why)."""


@dataclass(frozen=True)
class Checkpointed:
    """What the previous run of this agent left to recover."""

    agent_id: str
    runs: list[RunCheckpoint]
    skipped: int = 0  # incomplete runs (a first write that never completed)


def refusal(err: CheckpointError, checkpoints: Checkpoints) -> str:
    return (
        f"the agent cannot recover: {err}. It does not start, so that it does not destroy the "
        "executors and tasks of its previous run, which may still be running. To start afresh "
        "instead (every container of the previous run is destroyed and the agent registers as "
        f'a new agent), set recover = "{CLEANUP}" in the agent config for one start, or '
        f"remove {checkpoints.latest_link}"
    )


def read(checkpoints: Checkpoints, boot_id: str, mode: str) -> Checkpointed | None:
    """The previous run's checkpoints; None to start afresh; RecoveryError when unreadable."""
    try:
        if mode == CLEANUP:
            log.warning("recover=cleanup: forgetting the previous run; its containers go")
            checkpoints.forget_latest()
            return None
        if not checkpoints.latest_link.is_symlink():
            return None
        if checkpoints.boot_id() != boot_id:
            log.warning("the machine rebooted since the last run; starting as a new agent")
            return None
        latest = checkpoints.latest_agent()
        if latest is None:
            return None
        runs, skipped = checkpoints.read_runs(latest[0])
    except CheckpointError as err:
        raise RecoveryError(refusal(err, checkpoints)) from None
    for what in skipped:
        log.warning("recovery skips an incomplete checkpoint: %s", what)
    return Checkpointed(latest[0], runs, len(skipped))


def start_afresh(agent: Agent, containers: list[str]) -> None:
    """No previous run to recover: every container left under the cgroups root goes."""
    for container_id in containers:
        log.warning("destroying orphan container=%s", container_id)
        agent.emit(DestroyContainer(container_id))


def restore(
    agent: Agent,
    found: Checkpointed,
    live: dict[str, int],
    containers: list[str],
    limitations: dict[str, str] | None = None,
) -> list[Executor]:
    """Rebuild the state from `found`. `live`: container id -> pid of the containers the
    containerizer re-attached; `containers`: those it lists; `limitations`: what ended a
    container that did not survive. Returns the executors expected to re-subscribe."""
    agent.agent_id = found.agent_id
    agent.counters["recovery_errors"] += found.skipped
    waiting: list[Executor] = []
    dead: list[Executor] = []
    # Completed runs first, so that a live run of the same executor id takes the slot.
    for run in sorted(found.runs, key=lambda r: not r.run.completed):
        executor = _restore_run(agent, run, live.get(run.container_id))
        if executor.state is ExecutorState.RECOVERING:
            waiting.append(executor)
        elif executor.state is ExecutorState.REGISTERING:
            dead.append(executor)
    for executor in dead:
        executor.termination = Termination(message="Executor terminated while the agent was down")
        exited(agent, executor.container_id, None, (limitations or {}).get(executor.container_id))
    known = {e.container_id for e in waiting}
    start_afresh(agent, [c for c in containers if c not in known])
    log.info(
        "recovered agent_id=%s runs=%d live_executors=%d",
        agent.agent_id,
        len(found.runs),
        len(waiting),
    )
    return waiting


def _restore_run(agent: Agent, run: RunCheckpoint, live_pid: int | None) -> Executor:
    fid, eid = run.framework_id, run.executor_id
    framework = agent.ensure_framework(fid, run.framework_info)
    executor = Executor(
        framework_id=fid,
        executor_id=eid,
        info=run.executor_info,
        kind=run.run.kind,
        container_id=run.container_id,
        directory=run.run.directory,
        user=run.run.user,
        resources=run.run.resources,
        pid=run.run.pid,
    )
    now = agent.monotonic()
    for checkpoint in run.tasks:
        task = Task(info=checkpoint.info, framework_id=fid, executor_id=eid)
        stream = checkpoint.updates
        if stream is not None:
            agent.updates.recover(stream, now)
            task.state = stream.latest_state or task.state
            # What the agent knows of its history after a restart: the latest state, now.
            latest = TaskStatus(task_id=task.task_id, state=task.state, timestamp=agent.clock())
            task.statuses.append(built(latest))
        # A task still STAGING may never have reached the executor: LAUNCH it again unless the
        # executor lists it as unacknowledged when it re-subscribes.
        task.launched = task.state != "TASK_STAGING"
        if stream is not None and stream.terminated:
            executor.completed_tasks.append(task)
        else:
            agent.add_task(executor, task)
    if run.run.completed:
        executor.state = ExecutorState.TERMINATED
        if executor.tasks and eid not in framework.executors:
            framework.executors[eid] = executor  # awaiting acknowledgements
        else:
            framework.completed_executors.append(executor)
        return executor
    framework.executors[eid] = executor
    if live_pid is None:
        return executor  # still REGISTERING: `restore` finishes it off as exited
    executor.pid = live_pid
    executor.state = ExecutorState.RECOVERING
    agent.emit(WatchContainer(run.container_id))
    return executor


def reregistration_timed_out(agent: Agent, waiting: list[Executor]) -> None:
    """The window is over: executors that did not re-subscribe are destroyed."""
    timeout = agent.config.executor_reregistration_timeout
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
