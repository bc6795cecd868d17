"""The leading master's state machine: frameworks, agents, offers, tasks.

`Master` owns the records in `model.py` and the DRF allocator, all under one lock. Every public
method is one transition; it changes the records and pushes events into subscribers' streams
(never blocking on I/O). The clock comes in through `clock` and ids through `ids`, so tests
drive it directly on a manual clock.

The Master drives nothing itself. Framework-side calls are in `scheduler_calls.py`, agent-side
ones in `agent_calls.py`, allocation rounds (with the caller's RNG) in `offers.py`, the
unreachable and gone marks in `agent_removal.py`; taking office and the timer round
(`leadership.py`, run by `service.py`'s loops) apply the decisions of the pure cores
`failover.py` and `agent_health.py`. This module holds the state and the shared transitions
(task updates, taking offers back, releasing resources, leadership) and imports none of the
modules named here: they all build on it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from daemons.kit.errors import ServiceUnavailable, StoreUnavailable
from daemons.kit.streams import EventStream
from daemons.master.allocation import Allocator
from daemons.master.config import MasterConfig
from daemons.master.ids import IdGenerator
from daemons.master.memory_registry import MemoryRegistry
from daemons.master.model import VERSION, Agent, Framework, Offer, Task, with_field
from daemons.master.registry import (
    REMOVED,
    Entry,
    Registry,
    RegistryState,
)
from daemons.protocols import JSON
from daemons.protocols.ids import id_json
from daemons.protocols.models import TaskStatus
from daemons.protocols.states import PARTITION_AWARE_STATES, is_terminal

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Master:
    def __init__(
        self,
        config: MasterConfig,
        clock: Clock,
        ids: IdGenerator,
        registry: Registry | None = None,
        on_fatal: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.ids = ids
        self.registry: Registry = registry if registry is not None else MemoryRegistry()
        # False while this master cannot be sure it still holds its ZooKeeper session
        # (service.py's lease): a leader then stops acting until the session is confirmed.
        self.lease: Callable[[], bool] = lambda: True
        # Called when this master must not go on (a failed registry write, too many agents
        # missing after a failover): the daemon exits and systemd restarts it as a standby.
        self.on_fatal = on_fatal
        self.fatal_reason: str | None = None
        self.lock = threading.RLock()
        self.start_time = clock()
        self.elected_time: float | None = None
        self.leader_info: JSON | None = None
        self.is_leader = False
        self.frameworks: dict[str, Framework] = {}
        self.completed_frameworks: list[Framework] = []
        self.agents: dict[str, Agent] = {}
        self.offers: dict[str, Offer] = {}
        self.operator_streams: set[EventStream] = set()
        self.allocator = self._new_allocator()
        self.version = 0  # bumped on every change; keys the cache of rendered state
        self.counters: dict[str, int] = {}
        # After a failover (failover.py): agents expected back by the deadline, those still
        # missing when it passed (waiting for their unreachable mark), and frameworks that were
        # removed (they may never re-subscribe).
        self.recovered: dict[str, Entry] = {}
        self.recovered_total = 0
        self.reregister_deadline = 0.0
        self.missing_agents: dict[str, Entry] = {}
        self.removed_frameworks: set[str] = set()
        # What this leader read from the registry and wrote since (`/registrar(1)/registry`):
        # the one record of which agents are unreachable or gone.
        self.registry_state = RegistryState()
        # Unreachable marks waiting for the removal rate limit (agent id -> why, in order), and
        # when earlier ones were let go (agent_health.release).
        self.removals: OrderedDict[str, str] = OrderedDict()
        self.removals_released: tuple[float, ...] = ()
        # Set to ask the allocation loop for a round now (new framework, decline, revive, ...).
        self.wake = threading.Event()

    def _new_allocator(self) -> Allocator:
        return Allocator(
            weights=dict(self.config.weights),
            min_allocatable_resources=self.config.min_allocatable(),
        )

    # --- small shared helpers --------------------------------------------------------------

    def changed(self) -> None:
        self.version += 1

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    # --- the registry -----------------------------------------------------------------------

    @property
    def acting(self) -> bool:
        """The leader, and sure of it: only then does it offer, launch or write."""
        return self.is_leader and self.lease()

    def fatal(self, reason: str) -> None:
        """Stop acting as leader at once; the daemon exits (`on_fatal`)."""
        log.critical("stepping down: %s", reason)
        self.fatal_reason = reason
        self.demote()
        if self.on_fatal is not None:
            self.on_fatal(reason)

    def _persist(self, what: str, write: Callable[[], None]) -> None:
        """Write to the registry before the change takes effect; never go on after a failure."""
        if not self.acting:
            raise ServiceUnavailable("Not acting as the leading master; try again later")
        try:
            write()
        except StoreUnavailable as err:
            self.fatal(f"failed to update the registry ({what}): {err}")
            raise ServiceUnavailable(f"Failed to update the registry: {err}") from None
        self.count("registry_writes")

    def persist_agent(self, agent_id: str, entry: Entry) -> None:
        self._persist(
            f"agent {agent_id} {entry.state}", lambda: self.registry.put_agent(agent_id, entry)
        )
        self.registry_state.agents[agent_id] = entry
        self.changed()  # the state-summary lists the unreachable and gone agents

    def persist_framework(self, framework_id: str, entry: Entry) -> None:
        self._persist(
            f"framework {framework_id} {entry.state}",
            lambda: self.registry.put_framework(framework_id, entry),
        )
        self.registry_state.frameworks[framework_id] = entry

    @property
    def master_id(self) -> str:
        return self.ids.master_id

    @property
    def master_info(self) -> JSON:
        return self.ids.master_info(self.config, VERSION)

    def send_framework(self, framework: Framework, event: JSON) -> None:
        if framework.stream is not None and framework.connected:
            framework.stream.send(event)

    def send_agent(self, agent: Agent, event: JSON) -> bool:
        if agent.stream is None or agent.stream.closed:
            return False
        agent.stream.send(event)
        return True

    def send_operators(self, event: Callable[[], JSON]) -> None:
        """Send `event()` to the operator API's subscribers; it is built only when there is
        one (a re-registration storm renders no v1 objects for nobody)."""
        if not self.operator_streams:
            return
        built = event()
        for stream in list(self.operator_streams):
            stream.send(built)

    # --- status updates ---------------------------------------------------------------------

    def status_for(self, framework: Framework | None, status: TaskStatus) -> TaskStatus:
        """Frameworks without PARTITION_AWARE see TASK_LOST for the newer partition states."""
        partition_state = status.state in PARTITION_AWARE_STATES
        if framework is not None and not framework.partition_aware and partition_state:
            return with_field(status, "state", "TASK_LOST", "TASK_LOST")
        return status

    def master_status(
        self,
        task_id: str,
        state: str,
        reason: str,
        message: str,
        agent_id: str | None = None,
    ) -> TaskStatus:
        """A status update from the master itself (SOURCE_MASTER), as it is sent."""
        now = self.clock()
        raw: JSON = {
            "task_id": id_json(task_id),
            "state": state,
            "source": "SOURCE_MASTER",
            "reason": reason,
            "message": message,
            "timestamp": now,
        }
        if agent_id:
            raw["agent_id"] = id_json(agent_id)
        return TaskStatus(
            task_id=task_id,
            state=state,
            reason=reason,
            message=message,
            source="SOURCE_MASTER",
            agent_id=agent_id or None,
            timestamp=now,
            raw=raw,
        )

    def forward_update(self, framework: Framework | None, status: TaskStatus) -> None:
        if framework is None:
            return
        status = self.status_for(framework, status)
        self.send_framework(framework, {"type": "UPDATE", "update": {"status": status.raw}})

    def apply_status(self, task: Task, status: TaskStatus) -> None:
        """Record a task's new state; release its resources exactly once when it turns terminal."""
        state = status.state
        was_terminal = task.terminal
        if was_terminal and not is_terminal(state):
            return  # terminal states never change
        # Every recorded status has a time: the master's when the update had none.
        recorded = status
        if status.timestamp is None:
            recorded = dataclasses.replace(status, timestamp=self.clock())
        # As Mesos' updateTask: a repeated state replaces the last entry (a health update is
        # a TASK_RUNNING again), so /master/state shows the latest `healthy`.
        if task.statuses and task.statuses[-1].state == state:
            task.statuses[-1] = recorded
        else:
            task.statuses.append(recorded)
        task.latest_status = status
        task.changed()
        self.changed()
        if was_terminal:
            return
        task.state = state
        self.task_updated(task, status)
        self.count(f"tasks_{state.lower()[5:]}")
        if is_terminal(state):
            self.release_task(task)

    def task_updated(self, task: Task, status: TaskStatus) -> None:
        """Tell the operator API's subscribers that `task` is now in `task.state`."""
        state = task.state
        self.send_operators(
            lambda: {
                "type": "TASK_UPDATED",
                "task_updated": {
                    "framework_id": id_json(task.framework_id),
                    "status": status.raw,
                    "state": state,
                },
            }
        )

    def release_task(self, task: Task) -> None:
        framework = self.frameworks.get(task.framework_id)
        agent = self.agents.get(task.agent_id)
        if agent is not None and task.resources and not task.resources.is_empty():
            self.allocator.recover(
                task.framework_id, task.agent_id, task.role, task.resources, self.clock()
            )
        if framework is not None:
            framework.tasks.pop(task.task_id, None)
            framework.completed_tasks.append(task)
            while len(framework.completed_tasks) > self.config.max_completed_tasks_per_framework:
                framework.completed_tasks.popleft()
        if agent is not None:
            agent.tasks.pop((task.framework_id, task.task_id), None)
            agent.killed_tasks.discard((task.framework_id, task.task_id))
        self.changed()

    # --- offers -----------------------------------------------------------------------------

    def remove_offer(self, offer: Offer, refuse_seconds: float | None = None) -> None:
        """Take an offer back; its resources return to the allocator (with a filter if given)."""
        self.offers.pop(offer.offer_id, None)
        framework = self.frameworks.get(offer.framework_id)
        if framework is not None:
            framework.offers.pop(offer.offer_id, None)
        agent = self.agents.get(offer.agent_id)
        if agent is not None:
            agent.offers.discard(offer.offer_id)
        if not offer.resources.is_empty():
            self.allocator.recover(
                offer.framework_id,
                offer.agent_id,
                offer.role,
                offer.resources,
                self.clock(),
                refuse_seconds,
            )
        self.changed()

    def rescind_offer(self, offer: Offer) -> None:
        framework = self.frameworks.get(offer.framework_id)
        if framework is not None:
            self.send_framework(
                framework, {"type": "RESCIND", "rescind": {"offer_id": id_json(offer.offer_id)}}
            )
        self.remove_offer(offer)
        self.count("offers_rescinded")

    def rescind_offers(self, offers: Iterable[str]) -> None:
        for offer_id in list(offers):
            offer = self.offers.get(offer_id)
            if offer is not None:
                self.rescind_offer(offer)

    # --- timeouts ---------------------------------------------------------------------------

    def expire(self, now: float) -> None:
        """Rescind offers older than `offer_timeout`; remove the frameworks disconnected for
        longer than their failover timeout (the timer round calls this first)."""
        if self.config.offer_timeout > 0:
            for offer in list(self.offers.values()):
                if now - offer.created >= self.config.offer_timeout:
                    self.rescind_offer(offer)
        for framework in list(self.frameworks.values()):
            if (
                not framework.connected
                and framework.disconnected_at is not None
                and now - framework.disconnected_at >= framework.failover_timeout
            ):
                log.info("framework failover timeout framework=%s", framework.framework_id)
                self.remove_framework(framework, "REASON_FRAMEWORK_REMOVED")

    # --- unreachable marks waiting for the removal rate limit ------------------------------

    def schedule_removal(self, agent_id: str, why: str) -> None:
        self.removals.setdefault(agent_id, why)

    def cancel_removal(self, agent_id: str) -> None:
        self.removals.pop(agent_id, None)

    def take_removals(self, count: int) -> list[tuple[str, str]]:
        """The first `count` waiting marks (agent id, why), oldest first, out of the queue."""
        return [self.removals.popitem(last=False) for _ in range(min(count, len(self.removals)))]

    # --- frameworks -------------------------------------------------------------------------

    def remove_framework(self, framework: Framework, reason: str) -> None:
        """Kill its tasks, shut down its executors, forget its offers; keep it as completed."""
        now = self.clock()
        self.persist_framework(framework.framework_id, Entry(REMOVED, framework.info.raw, now))
        self.removed_frameworks.add(framework.framework_id)
        for offer_id in list(framework.offers):
            offer = self.offers.get(offer_id)
            if offer is not None:
                self.remove_offer(offer)
        agents_touched: set[str] = set()
        for task in list(framework.tasks.values()):
            agents_touched.add(task.agent_id)
            status = self.master_status(
                task.task_id, "TASK_KILLED", reason, "Framework removed", task.agent_id
            )
            self.apply_status(task, status)
        for executor in list(framework.executors.values()):
            agents_touched.add(executor.agent_id)
            self.release_executor(framework, executor.agent_id, executor.executor_id)
        for agent_id in agents_touched:
            agent = self.agents.get(agent_id)
            if agent is not None:
                self.send_agent(
                    agent,
                    {
                        "type": "SHUTDOWN_FRAMEWORK",
                        "shutdown_framework": {"framework_id": id_json(framework.framework_id)},
                    },
                )
        if framework.stream is not None:
            framework.stream.close()
        framework.stream = None
        framework.active = framework.connected = False
        framework.unregistered_time = now
        self.frameworks.pop(framework.framework_id, None)
        self.allocator.remove_framework(framework.framework_id)
        self.completed_frameworks.append(framework)
        del self.completed_frameworks[: -self.config.max_completed_frameworks]
        self.send_operators(
            lambda: {
                "type": "FRAMEWORK_REMOVED",
                "framework_removed": {"framework_info": framework.info.raw},
            }
        )
        self.count("frameworks_removed")
        self.changed()

    def release_executor(self, framework: Framework, agent_id: str, executor_id: str) -> None:
        executor = framework.executors.pop((agent_id, executor_id), None)
        agent = self.agents.get(agent_id)
        if agent is not None:
            agent.executors.pop((framework.framework_id, executor_id), None)
        if executor is not None and agent is not None and not executor.resources.is_empty():
            self.allocator.recover(
                framework.framework_id, agent_id, executor.role, executor.resources, self.clock()
            )
        self.changed()

    # --- leadership -------------------------------------------------------------------------

    def elect(self) -> RegistryState | None:
        """Become the leader: fence earlier leaders and read the registry. Returns what was
        read, which the caller restores from (`restore`) in the same hold of the lock, as
        `leadership.take_office` does; None when this master did not take office."""
        with self.lock:
            if self.is_leader or self.fatal_reason is not None:
                return None
            if self.elected_time is not None:
                # Led before: its records are stale; only a fresh process may lead again.
                self.fatal("elected again after losing leadership; restarting afresh")
                return None
            try:
                state = self.registry.recover(self.ids.master_id)
            except StoreUnavailable as err:
                self.fatal(f"registry recovery failed: {err}")
                return None
            log.info("elected leading master id=%s", self.ids.master_id)
            self.is_leader = True
            self.elected_time = self.clock()
            self.registry_state = state
            self.changed()
            return state

    def restore(
        self,
        recovered: Mapping[str, Entry],
        deadline: float,
        frameworks: Iterable[Framework],
        removed_frameworks: Iterable[str],
    ) -> None:
        """Take in what the registry says (`failover.recovery` decides it): admitted agents
        expected back by `deadline`, active frameworks known again (disconnected), and the
        removed frameworks that may never re-subscribe."""
        with self.lock:
            self.recovered = dict(recovered)
            self.recovered_total = len(self.recovered)
            self.reregister_deadline = deadline
            self.removed_frameworks.update(removed_frameworks)
            for framework in frameworks:
                if framework.framework_id in self.frameworks:
                    continue
                self.frameworks[framework.framework_id] = framework
                self.allocator.add_framework(framework.framework_id, framework.roles, active=False)
            self.changed()

    def demote(self) -> None:
        with self.lock:
            was = self.is_leader
            self.is_leader = False
            if was:
                for framework in self.frameworks.values():
                    if framework.stream is not None:
                        framework.stream.close()
                for agent in self.agents.values():
                    if agent.stream is not None:
                        agent.stream.close()
            self.changed()
