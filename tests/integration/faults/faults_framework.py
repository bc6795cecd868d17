"""The fault suite's workload: a PARTITION_AWARE framework that keeps 20 `sleep` tasks running.

Built on our scheduler client (daemons.mesos_client) and run from this host (198.18.0.1). It
records every UPDATE it receives (with its uuid, and whether it was acknowledged), every offer
and every (re)subscription, acknowledges from a thread of its own, and can withhold its
ACKNOWLEDGE calls for a while (F13: `withhold_acks()` / `resume_acks()`). Like Mesos' scheduler
driver it follows the leader in ZooKeeper: when the leading master changes it drops its stream
and subscribes to the new one (a stopped or partitioned old leader never ends the stream itself).

Tasks: `faults-<n>` run `exec sleep 100000` with 0.1 cpus / 16 MB, at most 10 per agent; a task
that ends in a terminal state is replaced (a new id). `launch_extra()` starts one more task with
its own command on a given agent, outside the target (F14).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from daemons.mesos_client import (
    TERMINAL_STATES,
    Backoff,
    Event,
    MesosClientError,
    Offers,
    SchedulerClient,
    Subscribed,
    TaskStatus,
    Update,
    ZooKeeperMaster,
    command_task,
)

log = logging.getLogger(__name__)

TARGET = 20
# The test profile's reconciliation period (Marathon's default is 10 min).
RECONCILE_INTERVAL = 10.0
PER_AGENT = 10
CPUS = 0.1
MEM = 16.0
COMMAND = "exec sleep 100000"


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    task_id: str
    state: str
    uuid: str | None  # base64, None for master-generated updates
    agent_id: str | None
    source: str | None
    reason: str | None


@dataclass(frozen=True)
class SeenOffer:
    at: float
    offer_id: str
    agent_id: str
    hostname: str
    cpus: float
    mem: float


@dataclass
class Task:
    task_id: str
    agent_id: str
    extra: bool
    state: str = "LAUNCHING"


def _scalar(resources: list[dict[str, Any]], name: str) -> float:
    return sum(float(r.get("scalar", {}).get("value", 0.0)) for r in resources if r["name"] == name)


class Workload:
    def __init__(self, zk_url: str, target: int = TARGET) -> None:
        self.target = target
        self.lock = threading.Lock()
        self.updates: list[Received] = []
        self.offers: list[SeenOffer] = []
        self.subscriptions: list[tuple[float, str]] = []  # (time, master ip)
        self.acked: list[tuple[float, str, str]] = []  # (time, task id, uuid)
        self.withheld: list[Received] = []
        self.tasks: dict[str, Task] = {}
        self._extra: list[tuple[str, str, str]] = []  # (task id, command, agent id) to launch
        self._ids = itertools.count(1)
        self._acks_on = threading.Event()
        self._acks_on.set()
        self._ack_queue: queue.SimpleQueue[TaskStatus | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        info = {
            "user": "root",
            "name": "faults-workload",
            "failover_timeout": 7 * 24 * 3600.0,
            "checkpoint": True,
            "capabilities": [{"type": "PARTITION_AWARE"}],
        }
        self._detector = ZooKeeperMaster(zk_url, session_timeout=10.0)
        self.client = SchedulerClient(
            self._detector,
            info,
            on_event=self._on_event,
            auto_acknowledge=False,
            backoff=Backoff(initial=0.2, maximum=2.0),
            subscribe_timeout=3.0,
            call_timeout=3.0,
        )
        self._leader_watch = ZooKeeperMaster(zk_url, session_timeout=10.0)
        self._threads = [
            threading.Thread(target=self._acknowledger, name="faults-acks", daemon=True),
            threading.Thread(target=self._follow_leader, name="faults-leader", daemon=True),
            threading.Thread(target=self._reconciler, name="faults-reconcile", daemon=True),
        ]

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self.client.start()

    def close(self, teardown: bool = True) -> None:
        self._stop.set()
        self._ack_queue.put(None)
        self.client.close(teardown=teardown)
        self._leader_watch.close()
        for thread in self._threads:
            thread.join(10)

    @property
    def framework_id(self) -> str | None:
        return self.client.framework_id

    def _follow_leader(self) -> None:
        """Re-subscribe when ZooKeeper names another leader than the one we are subscribed to
        (what Mesos' scheduler driver does through its master detector)."""
        while not self._stop.wait(0.25):
            try:
                leader = self._leader_watch.leader()
            except MesosClientError:
                continue
            info = self.client.master_info or {}
            ours = (info.get("address") or {}).get("ip")
            if self.client.is_subscribed and ours and ours != leader.host:
                log.info("leader moved from %s to %s: re-subscribing", ours, leader.host)
                self.client._drop_stream()  # the client's own reconnect loop takes over

    def _reconciler(self) -> None:
        """Explicit reconciliation of the tasks not known running, every RECONCILE_INTERVAL,
        as Marathon does: a partition-aware framework learns this way that an unreachable
        agent's tasks run again (the master sends no update when the agent comes back)."""
        while not self._stop.wait(RECONCILE_INTERVAL):
            with self.lock:
                doubtful = [
                    (t.task_id, t.agent_id)
                    for t in self.tasks.values()
                    if t.state not in TERMINAL_STATES and t.state != "TASK_RUNNING" and t.agent_id
                ]
            if doubtful and self.client.is_subscribed:
                with contextlib.suppress(MesosClientError):
                    self.client.reconcile(doubtful)

    # --- acknowledgements -----------------------------------------------------------------------

    def withhold_acks(self) -> None:
        """From now on updates are recorded but not acknowledged (F13)."""
        self._acks_on.clear()

    def resume_acks(self) -> None:
        """Acknowledge again, starting with the updates that arrive from now on (the agent must
        send the withheld ones again: they were never acknowledged)."""
        self._acks_on.set()

    def _acknowledger(self) -> None:
        while (status := self._ack_queue.get()) is not None:
            for _attempt in range(3):
                try:
                    self.client.acknowledge(status)
                except MesosClientError as err:
                    log.warning("acknowledge failed task=%s error=%s", status.task_id, err)
                    if self._stop.wait(0.5):
                        return
                    continue
                uuid = base64.b64encode(status.uuid or b"").decode()
                with self.lock:
                    self.acked.append((time.monotonic(), status.task_id, uuid))
                break

    # --- events ---------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Subscribed):
            ip = ((event.master_info or {}).get("address") or {}).get("ip", "?")
            with self.lock:
                self.subscriptions.append((time.monotonic(), str(ip)))
        elif isinstance(event, Update):
            self._on_update(event.status)
        elif isinstance(event, Offers):
            self._on_offers(event)

    def _on_update(self, status: TaskStatus) -> None:
        uuid = base64.b64encode(status.uuid).decode() if status.uuid else None
        received = Received(
            time.monotonic(),
            status.task_id,
            status.state,
            uuid,
            status.agent_id,
            status.source,
            status.reason,
        )
        with self.lock:
            self.updates.append(received)
            task = self.tasks.get(status.task_id)
            # A reconciliation answer moves a task on (UNREACHABLE -> RUNNING) but never ends
            # it: the scenarios check those answers themselves, and a replacement launched on a
            # wrong answer would hide the fault as a second copy of the task.
            ends = received.reason == "REASON_RECONCILIATION" and status.state in TERMINAL_STATES
            if task is not None and task.state not in TERMINAL_STATES and not ends:
                task.state = status.state
            acks_on = self._acks_on.is_set()
            if status.uuid is not None and not acks_on:
                self.withheld.append(received)
        if status.uuid is not None and acks_on:
            self._ack_queue.put(status)

    def _on_offers(self, event: Offers) -> None:
        for offer in event.offers:
            raw = offer.raw
            seen = SeenOffer(
                time.monotonic(),
                offer.id,
                offer.agent_id,
                offer.hostname,
                _scalar(raw.get("resources", []), "cpus"),
                _scalar(raw.get("resources", []), "mem"),
            )
            tasks = self._plan(seen)
            try:
                if tasks:
                    self.client.launch([offer.id], tasks, refuse_seconds=1.0)
                else:
                    self.client.decline([offer.id], refuse_seconds=1.0)
            except MesosClientError as err:
                log.warning("offer %s not used: %s", offer.id, err)
                with self.lock:
                    for task in tasks:
                        self.tasks.pop(task["task_id"]["value"], None)
            with self.lock:
                self.offers.append(seen)

    def _plan(self, offer: SeenOffer) -> list[dict[str, Any]]:
        """Tasks to launch on this offer: the pending extras for its agent, then regular ones up
        to the target (at most PER_AGENT per agent)."""
        cpus, mem = offer.cpus, offer.mem
        out: list[dict[str, Any]] = []
        with self.lock:
            for entry in list(self._extra):
                task_id, command, agent_id = entry
                if agent_id == offer.agent_id and cpus >= CPUS and mem >= MEM:
                    out.append(self._task(task_id, offer.agent_id, command, extra=True))
                    self._extra.remove(entry)
                    cpus, mem = cpus - CPUS, mem - MEM
            live = [
                t for t in self.tasks.values() if not t.extra and t.state not in TERMINAL_STATES
            ]
            on_agent = sum(1 for t in live if t.agent_id == offer.agent_id)
            missing = self.target - len(live)
            while missing > 0 and on_agent < PER_AGENT and cpus >= CPUS - 1e-9 and mem >= MEM:
                task_id = f"faults-{next(self._ids)}"
                out.append(self._task(task_id, offer.agent_id, COMMAND, extra=False))
                missing, on_agent = missing - 1, on_agent + 1
                cpus, mem = cpus - CPUS, mem - MEM
        return out

    def _task(self, task_id: str, agent_id: str, command: str, extra: bool) -> dict[str, Any]:
        self.tasks[task_id] = Task(task_id, agent_id, extra)
        return command_task(task_id, task_id, agent_id, CPUS, MEM, command)

    # --- what tests ask -------------------------------------------------------------------------

    def launch_extra(self, command: str, agent_id: str) -> str:
        """Queue one task outside the target on `agent_id`; its id."""
        task_id = f"faults-extra-{next(self._ids)}"
        with self.lock:
            self._extra.append((task_id, command, agent_id))
        self.client.revive()
        return task_id

    def running(self) -> dict[str, str]:
        """Regular tasks the framework believes running: task id -> agent id."""
        with self.lock:
            return {
                t.task_id: t.agent_id
                for t in self.tasks.values()
                if not t.extra and t.state == "TASK_RUNNING"
            }

    def live(self) -> dict[str, Task]:
        with self.lock:
            return {k: v for k, v in self.tasks.items() if v.state not in TERMINAL_STATES}

    def updates_since(self, at: float) -> list[Received]:
        with self.lock:
            return [u for u in self.updates if u.at >= at]

    def reconcile_until_answered(
        self, task_ids: dict[str, str], timeout: float, since: float | None = None
    ) -> tuple[dict[str, str], float]:
        """Explicit RECONCILE of `task_ids` (id -> agent id) every second until each got an answer
        (REASON_RECONCILIATION) after `since`; (task id -> state answered, seconds)."""
        start = time.monotonic()
        since = start if since is None else since
        deadline = start + timeout
        answers: dict[str, str] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(MesosClientError):
                self.client.reconcile(list(task_ids.items()))
            stop = min(deadline, time.monotonic() + 1.0)
            while time.monotonic() < stop:
                for u in self.updates_since(since):
                    if u.reason == "REASON_RECONCILIATION" and u.task_id in task_ids:
                        answers.setdefault(u.task_id, u.state)
                if len(answers) == len(task_ids):
                    return answers, time.monotonic() - start
                time.sleep(0.05)
        return answers, time.monotonic() - start

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> float:
        start = time.monotonic()
        while not predicate():
            if time.monotonic() - start > timeout:
                raise AssertionError(
                    f"timed out after {timeout:.0f} s waiting for {what} ({self.describe()})"
                )
            time.sleep(0.1)
        return time.monotonic() - start

    def describe(self) -> str:
        """A one-line account of what the framework saw (for failure messages)."""
        with self.lock:
            states: dict[str, int] = {}
            for task in self.tasks.values():
                states[task.state] = states.get(task.state, 0) + 1
            masters = sorted({ip for _, ip in self.subscriptions})
            return (
                f"subscriptions {len(self.subscriptions)} to {masters}, offers {len(self.offers)}, "
                f"updates {len(self.updates)}, task states {states}"
            )
