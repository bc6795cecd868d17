"""The agent's runtime: its lock, threads and timers, and the one applier of the effects its
state emits (plan.py). The state and its transitions (agent.py and the modules named there)
know nothing of this module.

Every transition runs under the lock (`_transition`), and the effects it emitted are applied
before the lock is let go, in their order; what blocks -- starting a container, destroying one,
a call to the master -- is done outside it. Threads:

- `master-link` (master_link.py) subscribes and reads the master's events. ACKNOWLEDGE is
  handled on it at once; every other event goes, in arrival order, to `master-events`, which
  handles one at a time and starts a launch's container itself, outside the lock: a burst of
  launches never holds up the acknowledgements that let the next updates of running tasks go
  out (head-of-line blocking).
- `status-updates` sleeps on the condition until the earliest retry time or until something
  changes (a new update, an ACK, a (re)subscription), takes the due heads under the lock and
  POSTs them outside it. Nothing is sent while not subscribed; SUBSCRIBED resends every head.
- one `wait-<container>` per container, one thread per destroy and per best-effort call to the
  master, a timer per container (registration deadline, or a shutdown's grace period), and
  `reregistration` after a restart.
- the HTTP threads (executor_api, state_api, files) take the lock for a transition or a read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from daemons.agent import (
    builtin_executors,
    containers,
    executor_calls,
    master_events,
    plan,
    recovery,
)
from daemons.agent import state as views
from daemons.agent.agent import Agent
from daemons.agent.checkpoint import Checkpoints
from daemons.agent.config import AgentConfig
from daemons.agent.containerizer import Containerizer
from daemons.agent.master_link import MasterLink
from daemons.agent.messages import Acknowledge, MasterEvent, Message, Subscribe, Subscribed, Update
from daemons.agent.model import Executor, ExecutorState
from daemons.agent.protocol import update_call, updates_call
from daemons.kit.streams import EventStream
from daemons.protocols import JSON
from daemons.protocols.ids import id_json
from daemons.protocols.models import TaskStatus

log = logging.getLogger(__name__)

T = TypeVar("T")

IDLE_WAKEUP = 1.0
# Due updates go to the master in batches of at most this many (one UPDATES call each).
BATCH = 256


def make_sandbox(work_dir: Path, agent_id: str, directory: Path) -> None:
    """Create the run directory's parents and point the `latest` links at the run (the
    containerizer makes the run directory itself: 0750, owned by the task user)."""
    directory.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    for link, target in (
        (directory.parent / "latest", directory.name),
        (work_dir / "slaves" / "latest", agent_id),
    ):
        tmp = link.with_name(".latest.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, link)


class AgentRuntime:
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
        command_argv, default_argv = builtin_executors.argv(config)
        self.agent = Agent(
            config,
            Checkpoints(Path(config.work_dir)),
            boot_id=boot_id,
            command_argv=command_argv,
            default_argv=default_argv,
            base_environment=base_environment,
            clock=clock,
            monotonic=monotonic,
            new_uuid=lambda: uuid.uuid4().bytes,
        )
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.link = MasterLink(
            config.master,
            build_subscribe=self._subscribe_payload,
            on_subscribed=self._subscribed,
            on_event=self._master_event,
            on_disconnected=self._disconnected,
            heartbeat_interval=config.heartbeat_interval,
            backoff_max=config.registration_backoff_max,
            zk_session_timeout=config.zk_session_timeout,
        )
        self._events: queue.SimpleQueue[MasterEvent | None] = queue.SimpleQueue()
        self._timers: dict[str, threading.Timer] = {}
        self._stopped = threading.Event()
        self._forwarder: threading.Thread | None = None
        self._checkpointed: recovery.Checkpointed | None = None
        self._read = False

    # --- lifecycle -----------------------------------------------------------------------

    def read_checkpoints(self) -> None:
        """Read what the previous run left (RecoveryError when a checkpoint is unreadable).
        Before anything starts, so that a refusal leaves every container alone."""
        self._checkpointed = recovery.read(
            self.agent.checkpoints, self.agent.boot_id, self.config.recover
        )
        self._read = True

    def start(self) -> None:
        """Recover, then subscribe once recovered executors had their chance."""
        if not self._read:
            self.read_checkpoints()
        waiting = self._recover()
        self._forwarder = threading.Thread(
            target=self._forward_updates, name="status-updates", daemon=True
        )
        self._forwarder.start()
        threading.Thread(target=self._event_loop, name="master-events", daemon=True).start()
        threading.Thread(
            target=self._await_reregistration, args=(waiting,), name="reregistration", daemon=True
        ).start()

    def stop(self) -> None:
        """Leave executors running (they are recovered on the next start); close streams."""
        self.link.stop()
        self._events.put(None)
        with self.changed:
            self._stopped.set()
            self.changed.notify_all()
        if self._forwarder is not None:
            self._forwarder.join(timeout=5)
        with self.lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
            for framework in self.agent.frameworks.values():
                for executor in framework.executors.values():
                    if executor.stream is not None:
                        executor.stream.close()

    def _recover(self) -> list[Executor]:
        found = self._checkpointed
        try:
            if found is None:
                self._transition(recovery.start_afresh, self._containers())
                return []
            live: dict[str, int] = {}
            limitations: dict[str, str] = {}
            for run in found.runs:
                cid, pid = run.container_id, run.run.pid
                if run.run.completed:
                    continue
                handle = None
                try:
                    handle = self.containerizer.recover(cid, pid) if pid is not None else None
                except Exception:  # the containerizer's errors: the container did not survive
                    log.exception("recovering container failed container=%s", cid)
                if handle is not None:
                    live[cid] = int(handle.pid)
                elif (limitation := self._limitation(cid)) is not None:
                    limitations[cid] = limitation
            containers_now = self._containers()
            return self._transition(recovery.restore, found, live, containers_now, limitations)
        finally:
            with self.lock:
                self.agent.recovered = True

    def _containers(self) -> list[str]:
        try:
            return self.containerizer.containers()
        except Exception:  # the containerizer's errors: nothing to clean up that we can see
            log.exception("listing containers failed")
            return []

    def _await_reregistration(self, waiting: list[Executor]) -> None:
        """Give recovered executors their window, end the missing ones, then subscribe."""
        deadline = self.agent.monotonic() + self.config.executor_reregistration_timeout
        with self.changed:
            while any(e.state is ExecutorState.RECOVERING for e in waiting):
                remaining = deadline - self.agent.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(min(remaining, 0.5))
        self._transition(recovery.reregistration_timed_out, waiting)
        self.link.start()

    # --- transitions and their plans -----------------------------------------------------

    def _transition(self, transition: Callable[..., T], *args: Any) -> T:
        """Run `transition(agent, *args)` under the lock and apply what it emitted (also when
        it raised); launches come last, outside the lock, on this thread."""
        launches: list[plan.LaunchContainer] = []
        try:
            with self.lock:
                try:
                    return transition(self.agent, *args)
                finally:
                    launches = self._apply(self.agent.take_plan())
                    self.changed.notify_all()
        finally:
            for launch in launches:
                self._launch(launch)

    def _apply(self, effects: list[plan.Effect]) -> list[plan.LaunchContainer]:
        launches: list[plan.LaunchContainer] = []
        for effect in effects:
            match effect:
                case plan.SendExecutor():
                    effect.stream.send(effect.event)
                case plan.CloseStream():
                    effect.stream.close()
                case plan.LaunchContainer():
                    launches.append(effect)
                case plan.ResizeContainer():
                    self._resize(effect)
                case plan.WatchContainer():
                    self._spawn(f"wait-{effect.container_id[:8]}", self._wait, effect.container_id)
                case plan.DestroyContainer() if effect.after > 0:
                    self._arm(effect.container_id, effect.after, self._destroy, effect.container_id)
                case plan.DestroyContainer():
                    self._spawn("destroy", self._destroy, effect.container_id)
                case plan.RegistrationTimeout():
                    self._arm(
                        effect.container_id,
                        effect.seconds,
                        self._transition,
                        containers.registration_timed_out,
                        effect.framework_id,
                        effect.executor_id,
                        effect.container_id,
                    )
                case plan.CancelTimer():
                    timer = self._timers.pop(effect.container_id, None)
                    if timer is not None:
                        timer.cancel()
                case plan.SendMaster():
                    self._send_master(effect.call)
        return launches

    @staticmethod
    def _spawn(name: str, target: Callable[..., Any], *args: Any) -> None:
        threading.Thread(target=target, args=args, name=name, daemon=True).start()

    def _arm(
        self, container_id: str, seconds: float, target: Callable[..., Any], *args: Any
    ) -> None:
        previous = self._timers.pop(container_id, None)
        if previous is not None:
            previous.cancel()
        timer = threading.Timer(seconds, target, args)
        timer.daemon = True
        self._timers[container_id] = timer
        timer.start()

    def _launch(self, launch: plan.LaunchContainer) -> None:
        fid, eid, spec = launch.framework_id, launch.executor_id, launch.spec
        try:
            make_sandbox(self.agent.work_dir, self.agent.agent_id or "", spec.sandbox)
            handle = self.containerizer.launch(spec)
        except Exception as err:  # any launch failure becomes TASK_FAILED with its message
            log.exception("launch failed framework=%s executor=%s", fid, eid)
            self._transition(containers.launch_failed, fid, eid, spec.container_id, str(err))
            return
        self._transition(containers.launched, fid, eid, spec.container_id, int(handle.pid))

    def _resize(self, resize: plan.ResizeContainer) -> None:
        try:
            self.containerizer.update(
                resize.container_id, resize.cpus, resize.mem_mb, resize.pids_max
            )
        except Exception:  # the containerizer's errors: the tasks still run, within the old limits
            log.exception("resizing container failed container=%s", resize.container_id)

    def _wait(self, container_id: str) -> None:
        try:
            termination = self.containerizer.wait(container_id)
        except Exception:  # the containerizer's own errors: the container is gone for us
            log.exception("waiting for container failed container=%s", container_id)
            termination = None
        if self._stopped.is_set():
            return
        status = termination.status if termination is not None else None
        limitation = termination.limitation if termination is not None else None
        message = termination.message if termination is not None else ""
        if limitation is None:
            limitation = self._limitation(container_id)
        self._transition(containers.exited, container_id, status, limitation, message)

    def _limitation(self, container_id: str | None) -> str | None:
        if container_id is None:
            return None
        try:
            return self.containerizer.limitation(container_id)
        except Exception:  # the containerizer's errors: no limitation known
            log.exception("reading the container limitation failed container=%s", container_id)
            return None

    def _destroy(self, container_id: str) -> None:
        try:
            self.containerizer.destroy(container_id)
        except Exception:  # the containerizer's errors are not ours to type; log them loudly
            with self.lock:
                self.agent.counters["container_destroy_errors"] += 1
            log.exception("destroying container failed container=%s", container_id)

    def _send_master(self, call: JSON) -> None:
        """Best-effort call (MESSAGE, EXITED_EXECUTOR) from a thread of its own."""
        if self.agent.agent_id is not None:
            call = {**call, "agent_id": id_json(self.agent.agent_id)}
        self._spawn("send-master", self.link.send, call)

    # --- the master ----------------------------------------------------------------------

    def _subscribe_payload(self) -> JSON:
        with self.lock:
            return views.subscribe_payload(self.agent)

    def _subscribed(self, event: Subscribed) -> None:
        self._transition(master_events.subscribed, event)

    def _disconnected(self) -> None:
        log.warning("disconnected from the master")

    def _master_event(self, event: MasterEvent) -> None:
        # An ACKNOWLEDGE is handled on the link's own thread: it never waits on a launch.
        if isinstance(event, Acknowledge):
            self._transition(master_events.handle_event, event)
        else:
            self._events.put(event)

    def _event_loop(self) -> None:
        while (event := self._events.get()) is not None:
            try:
                self._transition(master_events.handle_event, event)
            except Exception:  # one bad event must not stop the agent's event handling
                log.exception("master event failed event=%s", type(event).__name__)

    def _due(self) -> tuple[str, list[tuple[str, TaskStatus]]] | None:
        """Block until updates are due; None once stopped."""
        agent = self.agent
        with self.changed:
            while not self._stopped.is_set():
                timeout = IDLE_WAKEUP
                if self.link.connected and agent.agent_id is not None:
                    now = agent.monotonic()
                    due = agent.updates.due(now)
                    if due:
                        return agent.agent_id, due
                    deadline = agent.updates.next_deadline()
                    if deadline is not None:
                        timeout = max(0.0, min(deadline - now, IDLE_WAKEUP))
                self.changed.wait(timeout)
        return None

    def _forward_updates(self) -> None:
        while (batch := self._due()) is not None:
            agent_id, due = batch
            if len(due) == 1:
                framework_id, status = due[0]
                self.link.send(update_call(agent_id, framework_id, status))
                continue
            for start in range(0, len(due), BATCH):
                self.link.send(updates_call(agent_id, due[start : start + BATCH]))

    # --- executors (the executor API's threads) ------------------------------------------

    def executor_subscribe(self, call: Subscribe) -> tuple[EventStream, JSON]:
        fid, eid = call.framework_id, call.executor_id
        stream = EventStream(
            str(uuid.uuid4()),
            self.config.heartbeat_interval,
            on_close=lambda closed: self._transition(
                executor_calls.stream_closed, fid, eid, closed
            ),
        )
        terminal = call.has_terminal_update
        limitation = self._executor_limitation(fid, eid) if terminal else None
        first = self._transition(executor_calls.subscribe, call, stream, limitation)
        return stream, first

    def executor_update(self, call: Update) -> None:
        terminal = call.status.is_terminal
        limitation = (
            self._executor_limitation(call.framework_id, call.executor_id) if terminal else None
        )
        self._transition(executor_calls.update, call, limitation)

    def executor_message(self, call: Message) -> None:
        self._transition(executor_calls.message, call)

    def executor_heartbeat(self, fid: str, eid: str) -> None:
        with self.lock:  # only checked: nothing changes, nobody to wake
            executor_calls.executor_of(self.agent, fid, eid)

    def _executor_limitation(self, fid: str, eid: str) -> str | None:
        """What the containerizer says ended (or is ending) the executor's container."""
        with self.lock:
            executor = self.agent.executor(fid, eid)
            container_id = executor.container_id if executor is not None else None
        return self._limitation(container_id)

    # --- reads (the state endpoints and the files API) -----------------------------------

    def state(self) -> JSON:
        with self.lock:
            return views.state_json(self.agent, self.link.master_info)

    def metrics(self) -> JSON:
        with self.lock:
            return views.metrics(self.agent, self.agent.clock(), self.link.connected)

    def attached(self) -> tuple[list[Path], dict[str, Path]]:
        with self.lock:
            return views.attached(self.agent)
