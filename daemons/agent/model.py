"""The agent's records: frameworks, their executors, and the executors' tasks.

Mutable, changed only by the agent's transitions (under the runtime's lock). A task lives in its
executor's `tasks` until it is terminal *and* its terminal update is acknowledged, then moves to
`completed_tasks`; an executor lives in its framework's `executors` until its container has
exited and none of its tasks await an acknowledgement, then moves to `completed_executors`.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from daemons.protocols.models import ExecutorInfo, FrameworkInfo, KillPolicy, TaskInfo, TaskStatus
from daemons.protocols.resources import Resources
from daemons.protocols.states import is_terminal

if TYPE_CHECKING:
    from daemons.kit.streams import EventStream


class ExecutorState(enum.Enum):
    REGISTERING = "REGISTERING"  # container launched, executor not yet subscribed
    RECOVERING = "RECOVERING"  # found after an agent restart, waiting for it to re-subscribe
    RUNNING = "RUNNING"
    TERMINATING = "TERMINATING"  # shut down or destroyed; the container has not exited yet
    TERMINATED = "TERMINATED"


class ExecutorKind(enum.Enum):
    COMMAND = "command"  # built-in command executor, one per command task (id = task id)
    CUSTOM = "custom"  # the framework's ExecutorInfo.command
    DEFAULT = "default"  # the built-in default executor of task groups (ExecutorInfo.type DEFAULT)


@dataclass
class Task:
    info: TaskInfo  # as the master sent it (its `raw` is what the executor is sent)
    framework_id: str
    executor_id: str
    state: str = "TASK_STAGING"
    statuses: list[TaskStatus] = field(default_factory=list)  # oldest first
    launched: bool = False  # handed to the executor (LAUNCH or LAUNCH_GROUP sent)
    group: str | None = None  # tasks of one RUN_TASK_GROUP share it (their first task's id)

    @property
    def task_id(self) -> str:
        return self.info.task_id

    @property
    def terminal(self) -> bool:
        return is_terminal(self.state)


@dataclass
class Termination:
    """Why the agent is ending an executor: the state and reason its unfinished tasks get."""

    state: str = "TASK_FAILED"
    reason: str = "REASON_EXECUTOR_TERMINATED"
    message: str = "Executor terminated"


@dataclass
class Executor:
    framework_id: str
    executor_id: str
    info: ExecutorInfo  # framework_id set
    kind: ExecutorKind
    container_id: str
    directory: Path
    user: str
    # What the master accounts for the executor itself, by reservation role: its ExecutorInfo's
    # resources, none for a command executor (whose ExecutorInfo carries its task's).
    resources: Mapping[str, Resources]
    state: ExecutorState = ExecutorState.REGISTERING
    pid: int | None = None
    stream: EventStream | None = None
    tasks: dict[str, Task] = field(default_factory=dict)
    completed_tasks: deque[Task] = field(default_factory=lambda: deque(maxlen=200))
    pending_kills: dict[str, KillPolicy | None] = field(default_factory=dict)  # by task id
    termination: Termination | None = None
    exit_status: int | None = None

    @property
    def live(self) -> bool:
        return self.state is not ExecutorState.TERMINATED

    def queued(self) -> list[Task]:
        """Tasks still to hand to the executor (not those killed before that)."""
        return [t for t in self.tasks.values() if not t.launched and not t.terminal]

    def unfinished(self) -> list[Task]:
        return [t for t in self.tasks.values() if not t.terminal]


@dataclass
class Framework:
    framework_id: str
    info: FrameworkInfo  # its id set
    executors: dict[str, Executor] = field(default_factory=dict)
    completed_executors: deque[Executor] = field(default_factory=lambda: deque(maxlen=150))
    terminating: bool = False

    def find_task(self, task_id: str) -> tuple[Executor, Task] | None:
        for executor in self.executors.values():
            task = executor.tasks.get(task_id)
            if task is not None:
                return executor, task
        return None
