"""What the agent's state asks of its runtime: effects, applied in order by one applier.

The state (`agent.Agent`) and its transitions (`master_events`, `executor_calls`, `containers`,
`recovery`) start no thread, timer or process, send nothing and read no clock of their own: they
change the records, write checkpoints, and `emit` effects. After each transition the runtime
(`runtime.AgentRuntime`) takes the plan and applies it, effect after effect:

- executor streams are written to at once (`SendExecutor`, `CloseStream`: in-memory queues), so
  the executor sees events in the order the state emitted them;
- `ResizeContainer` is applied at once, before anything emitted after it reaches the executor;
- `LaunchContainer` runs after the lock is released, on the thread of the transition (master
  events are handled one at a time, so nothing else touches that executor meanwhile), and ends
  in the `containers.launched` or `containers.launch_failed` transition;
- `WatchContainer`, `DestroyContainer`, `SendMaster` and the timers get threads of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from daemons.agent.containerizer.model import ContainerSpec
from daemons.protocols import JSON

if TYPE_CHECKING:
    from daemons.kit.streams import EventStream


@dataclass(frozen=True)
class LaunchContainer:
    """Make the sandbox's parents and start the executor's container."""

    framework_id: str
    executor_id: str
    spec: ContainerSpec


@dataclass(frozen=True)
class WatchContainer:
    """Wait for the container to exit, then `containers.exited`."""

    container_id: str


@dataclass(frozen=True)
class DestroyContainer:
    """Kill the container's processes and remove it, `after` seconds from now (a shutdown's
    grace period; cancelled by `CancelTimer`), or at once."""

    container_id: str
    after: float = 0.0


@dataclass(frozen=True)
class ResizeContainer:
    """New cgroup limits for a running container (a task group joined its executor)."""

    container_id: str
    cpus: float
    mem_mb: float
    pids_max: int | None


@dataclass(frozen=True)
class RegistrationTimeout:
    """`containers.registration_timed_out` after `seconds`, unless cancelled first."""

    framework_id: str
    executor_id: str
    container_id: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    """Cancel the container's pending timer (registration timeout or delayed destroy)."""

    container_id: str


@dataclass(frozen=True)
class SendExecutor:
    """Queue an event on an executor's stream."""

    stream: EventStream
    event: JSON


@dataclass(frozen=True)
class CloseStream:
    """End an executor's stream (it re-subscribes, listing what is unacknowledged)."""

    stream: EventStream


@dataclass(frozen=True)
class SendMaster:
    """A best-effort call to the master (MESSAGE, EXITED_EXECUTOR): not retried. The runtime
    adds the agent id as it sends it."""

    call: JSON


Effect = (
    LaunchContainer
    | WatchContainer
    | DestroyContainer
    | ResizeContainer
    | RegistrationTimeout
    | CancelTimer
    | SendExecutor
    | CloseStream
    | SendMaster
)
