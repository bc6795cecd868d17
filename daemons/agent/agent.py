"""The agent: its frameworks, executors and tasks, and the operations on them.

Every public method takes the agent's lock. Network sends to the master never happen under it
(the status-update forwarder and `send_master` do them), and neither do container destroys (they
may wait out a grace period): both run on their own threads.

Master events are dispatched in `master_events.py`, executor calls in `executor_api.py`, container
exits in `monitor.py`, restarts in `recovery.py`; this module holds what they share.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import shutil
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import current_app

from daemons.agent import builtin_executors, launcher, protocol
from daemons.agent.checkpoint import CheckpointError, Checkpoints
from daemons.agent.config import AgentConfig, agent_attributes, total_resources
from daemons.agent.master_link import MasterLink
from daemons.agent.model import Executor, ExecutorState, Framework, Task, Termination
from daemons.agent.monitor import Containerizer, ContainerMonitor
from daemons.agent.status_forwarder import StatusForwarder
from daemons.agent.status_updates import StatusUpdateManager, TaskStream
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.states import is_terminal

log = logging.getLogger(__name__)

COMMAND_EXECUTOR = Path(__file__).resolve().parent / "executors" / "command.py"
DEFAULT_EXECUTOR = Path(__file__).resolve().parent / "executors" / "default.py"


def current_agent() -> Agent:
    """The agent behind the Flask app handling this request."""
    agent: Agent = current_app.extensions["pydcos_agent"]
    return agent


# Master events handled on the link's own thread (they never wait on a launch).
_INLINE_EVENTS = frozenset({"ACKNOWLEDGE", "HEARTBEAT", "ERROR"})


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        containerizer: Containerizer,
        *,
        base_environment: Mapping[str, str],
        boot_id: str,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.containerizer = containerizer
        self.base_environment = dict(base_environment)
        self.boot_id = boot_id
        self.clock = clock
        self.monotonic = monotonic
        self.work_dir = Path(config.work_dir)
        self.checkpoints = Checkpoints(self.work_dir)
        self.lock = threading.RLock()
        self._events: queue.SimpleQueue[JSON | None] = queue.SimpleQueue()
        self.changed = threading.Condition(self.lock)
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
            config.status_update_retry_initial,
            config.status_update_retry_max,
            persist=self._persist_stream,
        )
        self.link = MasterLink(
            config.master,
            build_subscribe=self.subscribe_payload,
            on_subscribed=self.master_subscribed,
            on_event=self._master_event,
            on_disconnected=self.master_disconnected,
            heartbeat_interval=config.heartbeat_interval,
            backoff_max=config.registration_backoff_max,
            zk_session_timeout=config.zk_session_timeout,
        )
        self.forwarder = StatusForwarder(self)
        self.monitor = ContainerMonitor(containerizer, self._container_exited)
        builtin = (
            builtin_executors.install(Path(config.libexec_dir))
            if not (config.command_executor and config.default_executor)
            else builtin_executors.SOURCE
        )
        script = config.command_executor or str(builtin / COMMAND_EXECUTOR.name)
        self.command_argv = [config.executor_python, "-I", "-S", script]
        script = config.default_executor or str(builtin / DEFAULT_EXECUTOR.name)
        self.default_argv = [config.executor_python, "-I", "-S", script]

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Recover from checkpoints, then subscribe once recovered executors had their chance."""
        from daemons.agent import recovery

        waiting = recovery.recover(self)
        self.forwarder.start()
        threading.Thread(target=self._event_loop, name="master-events", daemon=True).start()
        threading.Thread(
            target=recovery.await_reregistration,
            args=(self, waiting),
            name="reregistration",
            daemon=True,
        ).start()

    def stop(self) -> None:
        """Leave executors running (they are recovered on the next start); close streams."""
        self.link.stop()
        self._events.put(None)
        self.forwarder.stop()
        with self.lock:
            for framework in self.frameworks.values():
                for executor in framework.executors.values():
                    executor.cancel_timer()
                    if executor.stream is not None:
                        executor.stream.close()
        self.monitor.stop()

    # --- master link callbacks -------------------------------------------------------------

    def subscribe_payload(self) -> JSON:
        from daemons.agent.state import subscribe_payload

        with self.lock:
            return subscribe_payload(self)

    def master_subscribed(self, payload: JSON) -> None:
        agent_id = str(payload["agent_id"]["value"])
        with self.lock:
            if self.agent_id is not None and agent_id != self.agent_id:
                log.error("master gave a new agent id old=%s new=%s", self.agent_id, agent_id)
            if agent_id != self.agent_id:
                self.agent_id = agent_id
                self.checkpoints.write_boot_id(self.boot_id)
                self.checkpoints.write_agent(agent_id, self.agent_info())
            self.updates.resume(self.monotonic())
            self.changed.notify_all()

    def master_disconnected(self) -> None:
        log.warning("disconnected from the master")

    def _master_event(self, event: JSON) -> None:
        """ACKNOWLEDGE and HEARTBEAT are handled at once on the link's thread; everything that
        touches executors (RUN_TASK, KILL_TASK, SHUTDOWN_*, MESSAGE) goes, in arrival order, to
        the `master-events` thread. A burst of launches then never holds up the acknowledgements
        that let the next status updates of running tasks go out (head-of-line blocking)."""
        from daemons.agent.master_events import handle_event

        if event.get("type") in _INLINE_EVENTS:
            handle_event(self, event)
        else:
            self._events.put(event)

    def _event_loop(self) -> None:
        from daemons.agent.master_events import handle_event

        while (event := self._events.get()) is not None:
            try:
                handle_event(self, event)
            except Exception:  # one bad event must not stop the agent's event handling
                log.exception("master event failed type=%s", event.get("type"))

    def send_master(self, call: JSON) -> None:
        """Best-effort call (MESSAGE, EXITED_EXECUTOR) from a thread of its own."""
        if self.agent_id is not None:
            call = {**call, "agent_id": protocol.id_json(self.agent_id)}
        threading.Thread(target=self.link.send, args=(call,), daemon=True).start()

    # --- identity ------------------------------------------------------------------------

    def agent_info(self) -> JSON:
        info: JSON = {
            "hostname": self.config.advertised_hostname,
            "port": self.config.port,
            "resources": res.by_role_to_v1(self.resources),
            "attributes": self.attributes,
        }
        if self.agent_id is not None:
            info["id"] = protocol.id_json(self.agent_id)
        return info

    def facts(self) -> launcher.AgentFacts:
        return launcher.AgentFacts(
            agent_id=self.agent_id or "",
            ip=self.config.ip,
            port=self.config.port,
            hostname=self.config.advertised_hostname,
            shutdown_grace_period=self.config.executor_shutdown_grace_period,
            recovery_timeout=self.config.recovery_timeout,
        )

    # --- lookups -------------------------------------------------------------------------

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

    # --- tasks and their status updates --------------------------------------------------

    def add_task(self, executor: Executor, task: Task) -> None:
        executor.tasks[task.task_id] = task
        self._locations[(task.framework_id, task.task_id)] = (
            executor.executor_id,
            executor.container_id,
        )

    def _persist_stream(self, stream: TaskStream) -> None:
        where = self._locations.get((stream.framework_id, stream.task_id))
        if where is None or self.agent_id is None:
            return  # a task this agent never ran (TASK_LOST for an unknown kill)
        eid, cid = where
        try:
            self.checkpoints.write_updates(
                self.agent_id, stream.framework_id, eid, cid, stream.task_id, stream.snapshot()
            )
        except CheckpointError as err:
            # Still forward it: an update that is late to disk beats one never sent.
            self.counters["checkpoint_errors"] += 1
            log.error("status update not checkpointed task=%s error=%s", stream.task_id, err)

    def forward(self, framework_id: str, status: JSON, task: Task | None) -> bool:
        """Checkpoint an update, apply it to the task and queue it for the master."""
        fresh = self.updates.update(framework_id, status, self.monotonic())
        if fresh:
            self.counters["valid_status_updates"] += 1
            if task is not None:
                self.apply_status(task, status)
            self.changed.notify_all()
        return fresh

    def apply_status(self, task: Task, status: JSON) -> None:
        state = str(status["state"])
        if task.terminal:
            return  # a terminal state never changes
        task.state = state
        entry: JSON = {"state": state, "timestamp": status.get("timestamp", self.clock())}
        for key in ("container_status", "healthy", "reason", "message", "source"):
            if key in status:
                entry[key] = status[key]
        task.statuses.append(entry)
        if is_terminal(state):
            self.counters[state] += 1

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
        status = protocol.task_status(
            task_id=task_id,
            state=state,
            agent_id=self.agent_id or "",
            uuid=uuid.uuid4().bytes,
            timestamp=self.clock(),
            executor_id=executor.executor_id if executor is not None else None,
            reason=reason,
            message=message,
            container_id=executor.container_id if executor is not None else None,
        )
        task = executor.tasks.get(task_id) if executor is not None else None
        self.forward(framework_id, status, task)

    def acknowledged(self, framework_id: str, task_id: str, uuid_text: str) -> None:
        """The master relayed the framework's ACK: drop the head, complete a terminal task."""
        with self.lock:
            acked = self.updates.acknowledge(framework_id, task_id, uuid_text, self.monotonic())
            if acked is None:
                log.info("ignoring unexpected ack task=%s uuid=%s", task_id, uuid_text)
                return
            self.changed.notify_all()
            if not is_terminal(str(acked.get("state"))):
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

    def make_sandbox(self, executor: Executor) -> None:
        """Create the run directory's parents and point the `latest` links at the run.

        The containerizer makes the run directory itself (0750, owned by the task user)."""
        directory = executor.directory
        directory.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        for link, target in (
            (directory.parent / "latest", directory.name),
            (self.work_dir / "slaves" / "latest", self.agent_id or ""),
        ):
            tmp = link.with_name(".latest.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            os.symlink(target, tmp)
            os.replace(tmp, link)

    def checkpoint_run(self, executor: Executor, completed: bool = False) -> None:
        if self.agent_id is None:
            return
        self.checkpoints.write_run(
            self.agent_id,
            executor.framework_id,
            executor.executor_id,
            executor.container_id,
            {
                "kind": executor.kind.value,
                "directory": str(executor.directory),
                "user": executor.user,
                "resources": executor.resources,
                "pid": executor.pid,
                "completed": completed,
            },
        )

    def shutdown_executor(self, executor: Executor, termination: Termination) -> None:
        """SHUTDOWN to the executor, destroy after its grace period (at once if not subscribed)."""
        if executor.state in (ExecutorState.TERMINATING, ExecutorState.TERMINATED):
            return
        executor.cancel_timer()
        executor.termination = termination
        executor.state = ExecutorState.TERMINATING
        if executor.stream is None:
            self.destroy_container(executor.container_id)
            return
        executor.stream.send({"type": "SHUTDOWN"})
        grace = launcher.shutdown_grace_period(
            executor.info, self.config.executor_shutdown_grace_period
        )
        timer = threading.Timer(grace, self.destroy_container, (executor.container_id,))
        timer.daemon = True
        timer.start()
        executor.timer = timer

    def terminate_executor(self, executor: Executor, termination: Termination) -> None:
        """Destroy the container now; its unfinished tasks get `termination`'s state."""
        executor.cancel_timer()
        executor.termination = termination
        executor.state = ExecutorState.TERMINATING
        self.destroy_container(executor.container_id)

    def destroy_container(self, container_id: str) -> None:
        threading.Thread(
            target=self._destroy, args=(container_id,), name="destroy", daemon=True
        ).start()

    def _destroy(self, container_id: str) -> None:
        try:
            self.containerizer.destroy(container_id)
        except Exception:  # the containerizer's errors are not ours to type; log them loudly
            with self.lock:
                self.counters["container_destroy_errors"] += 1
            log.exception("destroying container failed container=%s", container_id)

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
            run_meta = self.checkpoints.run_dir(
                self.agent_id, executor.framework_id, executor.executor_id, executor.container_id
            )
            shutil.rmtree(run_meta, ignore_errors=True)
        if not framework.executors:
            if framework.terminating:
                self.updates.cleanup(framework.framework_id)
            del self.frameworks[framework.framework_id]
            self.completed_frameworks.append(framework)

    def _container_exited(self, container_id: str, termination: Any) -> None:
        from daemons.agent.monitor import container_exited

        container_exited(self, container_id, termination)
