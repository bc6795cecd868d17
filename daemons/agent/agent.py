"""The agent's state: its frameworks, executors and tasks, and what every transition shares.

No thread, timer, lock or socket here: the runtime (runtime.py) holds the lock around each
transition and applies the effects it emits (plan.py). The transitions themselves live by what
triggers them: `master_events` (the master's events), `executor_calls` (an executor's calls),
`containers` (a container started, failed to start or exited; a registration deadline passed)
and `recovery` (a restart). The clock, the monotonic clock and uuids come in as arguments.

Checkpoints are written through `Checkpoints` before a change is visible. Whether a failed write
stops the change depends on who can retry it: an executor's status update is refused (the
executor sends it again, see `executor_calls`), while the agent's own updates and the master's
acknowledgements go on in memory (nobody would resend them; a crash then resends, at worst, an
update already acknowledged) and count in `slave/checkpoint_errors`.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from daemons.agent import launcher, protocol
from daemons.agent.checkpoint import CheckpointError, Checkpoints, RunInfo
from daemons.agent.config import AgentConfig, agent_attributes, total_resources
from daemons.agent.model import Executor, ExecutorState, Framework, Task, Termination
from daemons.agent.plan import CancelTimer, DestroyContainer, Effect, SendExecutor
from daemons.agent.status_updates import StatusUpdateManager, TaskStream
from daemons.protocols import fields
from daemons.protocols.models import AgentInfo, FrameworkInfo, TaskStatus

log = logging.getLogger(__name__)


def container_id_text(raw: bytes) -> str:
    """16 random bytes in the 8-4-4-4-12 hex form Mesos container ids have."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        checkpoints: Checkpoints,
        *,
        boot_id: str,
        command_argv: Sequence[str],
        default_argv: Sequence[str],
        base_environment: Mapping[str, str],
        clock: Callable[[], float],
        monotonic: Callable[[], float],
        new_uuid: Callable[[], bytes],
    ) -> None:
        self.config = config
        self.checkpoints = checkpoints
        self.boot_id = boot_id
        self.command_argv = list(command_argv)
        self.default_argv = list(default_argv)
        self.base_environment = dict(base_environment)
        self.clock = clock
        self.monotonic = monotonic
        self.new_uuid = new_uuid
        self.work_dir = Path(config.work_dir)
        self.agent_id: str | None = None
        self.frameworks: dict[str, Framework] = {}
        self.completed_frameworks: deque[Framework] = deque(maxlen=50)
        self.resources = total_resources(config)
        self.attributes = agent_attributes(config)
        self.recovered = False  # executor calls answer 503 until checkpoints are read
        self.start_time = clock()
        self.counters: Counter[str] = Counter()
        self._locations: dict[tuple[str, str], tuple[str, str]] = {}  # (fid, tid) -> (eid, cid)
        self.updates = StatusUpdateManager(
            config.status_update_retry_initial, config.status_update_retry_max
        )
        self._plan: list[Effect] = []

    # --- the plan --------------------------------------------------------------------------

    def emit(self, effect: Effect) -> None:
        self._plan.append(effect)

    def take_plan(self) -> list[Effect]:
        """The effects emitted since the last call, oldest first (the runtime applies them)."""
        plan, self._plan = self._plan, []
        return plan

    # --- identity --------------------------------------------------------------------------

    def agent_info(self) -> AgentInfo:
        return AgentInfo(
            hostname=self.config.advertised_hostname,
            port=self.config.port,
            id=self.agent_id,
            resources=self.resources,
            attributes=self.attributes,
        )

    def facts(self) -> launcher.AgentFacts:
        return launcher.AgentFacts(
            agent_id=self.agent_id or "",
            ip=self.config.ip,
            port=self.config.port,
            hostname=self.config.advertised_hostname,
            shutdown_grace_period=self.config.executor_shutdown_grace_period,
            recovery_timeout=self.config.recovery_timeout,
        )

    def new_container_id(self) -> str:
        return container_id_text(self.new_uuid())

    # --- lookups ---------------------------------------------------------------------------

    def executor(self, framework_id: str, executor_id: str) -> Executor | None:
        framework = self.frameworks.get(framework_id)
        return None if framework is None else framework.executors.get(executor_id)

    def executor_by_container(self, container_id: str) -> Executor | None:
        for framework in self.frameworks.values():
            for executor in framework.executors.values():
                if executor.container_id == container_id:
                    return executor
        return None

    def live_executors(self) -> list[Executor]:
        return [e for f in self.frameworks.values() for e in f.executors.values() if e.live]

    def ensure_framework(self, framework_id: str, framework_info: FrameworkInfo) -> Framework:
        framework = self.frameworks.get(framework_id)
        if framework is None:
            framework = Framework(framework_id, framework_info)
            framework.completed_executors = deque(
                maxlen=self.config.max_completed_executors_per_framework
            )
            self.frameworks[framework_id] = framework
        return framework

    # --- tasks and their status updates ----------------------------------------------------

    def add_task(self, executor: Executor, task: Task) -> None:
        executor.tasks[task.task_id] = task
        self._locations[(task.framework_id, task.task_id)] = (
            executor.executor_id,
            executor.container_id,
        )

    def _persist(self, stream: TaskStream) -> None:
        where = self._locations.get((stream.framework_id, stream.task_id))
        if where is None or self.agent_id is None:
            return  # a task this agent never ran (TASK_LOST for an unknown kill)
        eid, cid = where
        self.checkpoints.write_updates(self.agent_id, stream.framework_id, eid, cid, stream)

    def _persist_or_count(self, stream: TaskStream) -> None:
        try:
            self._persist(stream)
        except CheckpointError as err:
            self.checkpoint_failed(f"status updates of task {stream.task_id}", err)

    def checkpoint_failed(self, what: str, err: CheckpointError) -> None:
        self.counters["checkpoint_errors"] += 1
        log.error("checkpoint failed what=%r error=%s", what, err)

    def forward(
        self, framework_id: str, status: TaskStatus, task: Task | None, *, strict: bool = False
    ) -> bool:
        """Checkpoint an update, apply it to the task and queue it for the master. `strict`:
        a failed checkpoint raises CheckpointError and nothing changes."""
        persist = self._persist if strict else self._persist_or_count
        fresh = self.updates.update(framework_id, status, self.monotonic(), persist)
        if fresh:
            self.counters["valid_status_updates"] += 1
            if task is not None:
                self.apply_status(task, status)
        return fresh

    def apply_status(self, task: Task, status: TaskStatus) -> None:
        if task.terminal:
            return  # a terminal state never changes
        task.state = status.state
        task.statuses.append(status)
        if status.is_terminal:
            self.counters[status.state] += 1

    def agent_update(
        self,
        framework_id: str,
        task_id: str,
        state: str,
        reason: str,
        message: str,
        executor: Executor | None = None,
    ) -> None:
        """An update the agent itself originates (reliable: it carries a fresh uuid)."""
        status = protocol.agent_status(
            task_id=task_id,
            state=state,
            agent_id=self.agent_id or "",
            uuid=self.new_uuid(),
            timestamp=self.clock(),
            executor_id=executor.executor_id if executor is not None else None,
            reason=reason,
            message=message,
            container_id=executor.container_id if executor is not None else None,
        )
        task = executor.tasks.get(task_id) if executor is not None else None
        self.forward(framework_id, status, task)

    def acknowledged(self, framework_id: str, task_id: str, uuid: bytes) -> None:
        """The master relayed the framework's ACK: drop the head, complete a terminal task."""
        acked = self.updates.acknowledge(
            framework_id, task_id, uuid, self.monotonic(), self._persist_or_count
        )
        if acked is None:
            log.info("ignoring unexpected ack task=%s uuid=%s", task_id, fields.b64(uuid))
            return
        if not acked.is_terminal:
            return
        framework = self.frameworks.get(framework_id)
        found = framework.find_task(task_id) if framework is not None else None
        if found is None:
            return
        executor, task = found
        del executor.tasks[task_id]
        executor.completed_tasks.append(task)
        self.maybe_complete_executor(executor)

    # --- executors -------------------------------------------------------------------------

    def checkpoint_run(self, executor: Executor, completed: bool = False) -> None:
        """run.info: what recovery needs to find the container again (its pid above all)."""
        if self.agent_id is None:
            return
        run = RunInfo(
            kind=executor.kind,
            directory=executor.directory,
            user=executor.user,
            resources=executor.resources,
            allocation_role=executor.info.allocation_role if executor.resources else None,
            pid=executor.pid,
            completed=completed,
        )
        self.checkpoints.write_run(
            self.agent_id, executor.framework_id, executor.executor_id, executor.container_id, run
        )

    def shutdown_executor(self, executor: Executor, termination: Termination) -> None:
        """SHUTDOWN to the executor, destroy after its grace period (at once if not subscribed)."""
        if executor.state in (ExecutorState.TERMINATING, ExecutorState.TERMINATED):
            return
        self.emit(CancelTimer(executor.container_id))
        executor.termination = termination
        executor.state = ExecutorState.TERMINATING
        if executor.stream is None:
            self.emit(DestroyContainer(executor.container_id))
            return
        self.emit(SendExecutor(executor.stream, {"type": "SHUTDOWN"}))
        grace = launcher.shutdown_grace_period(
            executor.info, self.config.executor_shutdown_grace_period
        )
        self.emit(DestroyContainer(executor.container_id, after=grace))

    def terminate_executor(self, executor: Executor, termination: Termination) -> None:
        """Destroy the container now; its unfinished tasks get `termination`'s state."""
        self.emit(CancelTimer(executor.container_id))
        executor.termination = termination
        executor.state = ExecutorState.TERMINATING
        self.emit(DestroyContainer(executor.container_id))

    def maybe_complete_executor(self, executor: Executor) -> None:
        """Retire an exited executor once none of its tasks awaits an acknowledgement."""
        framework = self.frameworks.get(executor.framework_id)
        if framework is None or executor.live:
            return
        if executor.tasks and not framework.terminating:
            return
        if framework.executors.get(executor.executor_id) is executor:
            del framework.executors[executor.executor_id]
            framework.completed_executors.append(executor)
        for task_id in list(executor.tasks):
            executor.completed_tasks.append(executor.tasks.pop(task_id))
        for task in executor.completed_tasks:
            self.updates.forget(executor.framework_id, task.task_id)
            self._locations.pop((executor.framework_id, task.task_id), None)
        if self.agent_id is not None:
            # Nothing of this run is needed to recover any more: keep restarts fast. (The
            # sandbox stays for the files API; sandbox garbage collection is not done yet.)
            self.checkpoints.remove_run(
                self.agent_id, executor.framework_id, executor.executor_id, executor.container_id
            )
        if not framework.executors:
            if framework.terminating:
                self.updates.cleanup(framework.framework_id)
            del self.frameworks[framework.framework_id]
            self.completed_frameworks.append(framework)
