"""What the agent does when an executor's container started, failed to start or exited, and when
an executor missed its registration deadline: transitions of the agent's state.

- launched: the pid is checkpointed (run.info's `pid`, what recovery re-attaches by), the
  container watched and the registration deadline set. If that checkpoint fails, recovery could
  never find the executor again: it is destroyed, and its tasks end TASK_FAILED with
  REASON_CONTAINER_LAUNCH_FAILED.
- launch failed: every task TASK_FAILED with REASON_CONTAINER_LAUNCH_FAILED, EXITED_EXECUTOR.
- exited: the executor is TERMINATED; each unfinished task gets a terminal update (TASK_FAILED +
  REASON_EXECUTOR_TERMINATED, or the memory limitation when the containerizer reports one, or
  the state the agent chose when it ended the executor itself); the master hears
  EXITED_EXECUTOR; the run is checkpointed as completed and the container's remains destroyed.
"""

from __future__ import annotations

import logging

from daemons.agent.agent import Agent
from daemons.agent.checkpoint import CheckpointError
from daemons.agent.model import ExecutorState, Termination
from daemons.agent.plan import (
    CancelTimer,
    CloseStream,
    DestroyContainer,
    RegistrationTimeout,
    SendMaster,
    WatchContainer,
)
from daemons.agent.protocol import MEMORY_LIMITATION, exited_executor

log = logging.getLogger(__name__)

LAUNCH_FAILED = "REASON_CONTAINER_LAUNCH_FAILED"


def exit_message(status: int | None, message: str) -> str:
    if message:
        return message
    if status is None:
        return "Executor terminated"
    return f"Executor exited with status {status}"


def launched(agent: Agent, fid: str, eid: str, cid: str, pid: int) -> None:
    executor = agent.executor(fid, eid)
    if executor is None or executor.container_id != cid:
        return
    executor.pid = pid
    agent.counters["executors_launched"] += 1
    agent.emit(WatchContainer(cid))
    try:
        agent.checkpoint_run(executor)
    except CheckpointError as err:
        agent.checkpoint_failed(f"pid of container {cid}", err)
        # Its tasks fail when the container is gone, with this termination (see `exited`).
        agent.terminate_executor(
            executor, Termination("TASK_FAILED", LAUNCH_FAILED, f"Failed to checkpoint: {err}")
        )
        return
    if executor.state is ExecutorState.REGISTERING:
        timeout = agent.config.executor_registration_timeout
        agent.emit(RegistrationTimeout(fid, eid, cid, timeout))
    log.info("launched executor framework=%s executor=%s container=%s", fid, eid, cid)


def launch_failed(agent: Agent, fid: str, eid: str, cid: str, message: str) -> None:
    executor = agent.executor(fid, eid)
    if executor is None or executor.container_id != cid:
        return
    executor.state = ExecutorState.TERMINATED
    for task in executor.unfinished():
        agent.agent_update(
            fid,
            task.task_id,
            "TASK_FAILED",
            LAUNCH_FAILED,
            f"Failed to launch container: {message}",
            executor,
        )
    try:
        agent.checkpoint_run(executor, completed=True)
    except CheckpointError as err:
        agent.checkpoint_failed(f"run of container {cid}", err)
    agent.emit(SendMaster(exited_executor(fid, eid, -1)))
    agent.maybe_complete_executor(executor)


def registration_timed_out(agent: Agent, fid: str, eid: str, cid: str) -> None:
    executor = agent.executor(fid, eid)
    if executor is None or executor.container_id != cid:
        return
    if executor.state is not ExecutorState.REGISTERING:
        return
    timeout = agent.config.executor_registration_timeout
    log.warning("executor did not subscribe within %ss executor=%s", timeout, eid)
    agent.terminate_executor(
        executor,
        Termination(
            "TASK_FAILED",
            "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
            f"Executor did not register within {timeout}s",
        ),
    )


def exited(
    agent: Agent, cid: str, status: int | None, limitation: str | None, message: str = ""
) -> None:
    """The container is gone: `status` is its raw wait status (None when unknown), and
    `limitation` what the containerizer says ended it."""
    executor = agent.executor_by_container(cid)
    if executor is None or executor.state is ExecutorState.TERMINATED:
        return
    agent.emit(CancelTimer(cid))
    executor.state = ExecutorState.TERMINATED
    executor.exit_status = status
    if executor.stream is not None:
        agent.emit(CloseStream(executor.stream))
        executor.stream = None
    why = exit_message(status, message)
    chosen = executor.termination or Termination(message=why)
    for task in executor.unfinished():
        if limitation == MEMORY_LIMITATION:
            state, reason, text = "TASK_FAILED", MEMORY_LIMITATION, why
        else:
            state, reason, text = chosen.state, chosen.reason, chosen.message
        agent.agent_update(executor.framework_id, task.task_id, state, reason, text, executor)
    log.info(
        "executor exited framework=%s executor=%s container=%s status=%s limitation=%s",
        executor.framework_id,
        executor.executor_id,
        cid,
        status,
        limitation,
    )
    agent.counters["executors_terminated"] += 1
    try:
        agent.checkpoint_run(executor, completed=True)
    except CheckpointError as err:
        agent.checkpoint_failed(f"run of container {cid}", err)
    code = status if status is not None else -1
    exited_call = exited_executor(executor.framework_id, executor.executor_id, code)
    agent.maybe_complete_executor(executor)
    agent.emit(SendMaster(exited_call))
    agent.emit(DestroyContainer(cid))
