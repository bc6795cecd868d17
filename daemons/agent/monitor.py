"""Watching containers: one thread per container waits for it to exit, then the agent reacts.

On exit: the executor is TERMINATED; each unfinished task gets a terminal update (TASK_FAILED +
REASON_EXECUTOR_TERMINATED, or the memory limitation when the containerizer reports one, or the
state the agent chose when it ended the executor itself); the master hears EXITED_EXECUTOR; the
run is checkpointed as completed and the container's remains are destroyed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from daemons.agent.model import ExecutorState, Termination
from daemons.agent.protocol import MEMORY_LIMITATION, exited_executor

if TYPE_CHECKING:
    from daemons.agent.agent import Agent

log = logging.getLogger(__name__)


class ContainerHandle(Protocol):
    @property
    def container_id(self) -> str: ...

    @property
    def pid(self) -> int: ...


class ContainerExit(Protocol):
    @property
    def status(self) -> int | None: ...

    @property
    def limitation(self) -> str | None: ...

    @property
    def message(self) -> str: ...


class Containerizer(Protocol):
    """The interface of `daemons.agent.containerizer.Containerizer` the agent relies on."""

    def launch(self, spec: Any) -> Any: ...

    def recover(self, container_id: str, pid: int) -> Any: ...

    def update(
        self, container_id: str, cpus: float, mem_mb: float, pids_max: int | None
    ) -> None: ...

    def wait(self, container_id: str, timeout: float | None = None) -> Any: ...

    def destroy(self, container_id: str, grace_period: float = 0.0) -> None: ...

    def limitation(self, container_id: str) -> str | None: ...

    def usage(self, container_id: str) -> dict[str, float]: ...

    def containers(self) -> list[str]: ...


class ContainerMonitor:
    def __init__(
        self, containerizer: Containerizer, on_exit: Callable[[str, ContainerExit | None], None]
    ) -> None:
        self.containerizer = containerizer
        self.on_exit = on_exit
        self._stopped = threading.Event()

    def watch(self, container_id: str) -> None:
        threading.Thread(
            target=self._wait, args=(container_id,), name=f"wait-{container_id[:8]}", daemon=True
        ).start()

    def _wait(self, container_id: str) -> None:
        try:
            termination = self.containerizer.wait(container_id)
        except Exception:  # the containerizer's own errors: the container is gone for us
            log.exception("waiting for container failed container=%s", container_id)
            termination = None
        if not self._stopped.is_set():
            self.on_exit(container_id, termination)

    def stop(self) -> None:
        self._stopped.set()


def exit_message(termination: ContainerExit | None) -> str:
    if termination is None:
        return "Executor terminated"
    if termination.message:
        return termination.message
    if termination.status is None:
        return "Executor terminated"
    return f"Executor exited with status {termination.status}"


def container_limitation(agent: Agent, container_id: str) -> str | None:
    try:
        return agent.containerizer.limitation(container_id)
    except Exception:  # the containerizer's errors: no limitation known
        log.exception("reading the container limitation failed container=%s", container_id)
        return None


def container_exited(agent: Agent, container_id: str, termination: ContainerExit | None) -> None:
    with agent.lock:
        executor = agent.executor_by_container(container_id)
        if executor is None or executor.state is ExecutorState.TERMINATED:
            return
        executor.cancel_timer()
        executor.state = ExecutorState.TERMINATED
        executor.exit_status = termination.status if termination is not None else None
        if executor.stream is not None:
            executor.stream.close()
            executor.stream = None
        limitation = termination.limitation if termination is not None else None
        if limitation is None:
            limitation = container_limitation(agent, container_id)
        chosen = executor.termination or Termination(message=exit_message(termination))
        for task in executor.unfinished():
            if limitation == MEMORY_LIMITATION:
                state, reason = "TASK_FAILED", MEMORY_LIMITATION
                message = exit_message(termination)
            else:
                state, reason, message = chosen.state, chosen.reason, chosen.message
            agent.agent_update(
                executor.framework_id, task.task_id, state, reason, message, executor
            )
        log.info(
            "executor exited framework=%s executor=%s container=%s status=%s limitation=%s",
            executor.framework_id,
            executor.executor_id,
            container_id,
            executor.exit_status,
            limitation,
        )
        agent.counters["executors_terminated"] += 1
        agent.checkpoint_run(executor, completed=True)
        status = executor.exit_status if executor.exit_status is not None else -1
        exited = exited_executor(executor.framework_id, executor.executor_id, status)
        agent.maybe_complete_executor(executor)
    agent.send_master(exited)
    agent.destroy_container(container_id)
