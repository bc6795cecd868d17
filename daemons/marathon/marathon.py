"""The Marathon leader's state, its plumbing to the store and the master, and the one applier.

One lock guards the state. Every change is written to the store (one transaction) *before* it
is applied in memory and acknowledged, so an acknowledged app or deployment survives a failover
and a refused one (4xx, or a store failure) leaves nothing behind. Calls to the Mesos master
(launch, kill, …) are queued under the lock and sent after it is released (`flush`), so the
lock is never held across the network.

Scheduling decisions are plans (`planning`, `placement`): `apply` is the one place that carries
one out, storing first what must be durable. The event handlers (offers, status updates, the
tick) live in `scheduling.py`, the changes the API asks for in `changes.py`, the health probes
in `service.py`, the JSON views in `views.py`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from daemons.kit.errors import NotFound
from daemons.marathon import appdef, backoff, deployment, groups, pathid, planning
from daemons.marathon.config import MarathonConfig
from daemons.marathon.errors import AppNotFound, Invalid
from daemons.marathon.events import EventBus
from daemons.marathon.model import (
    AppDefinition,
    DeploymentPlan,
    Instance,
    instance_from_stored,
    instance_stored,
)
from daemons.marathon.placement import SHORT_REFUSE
from daemons.marathon.store import (
    Delete,
    Put,
    Snapshot,
    Write,
    encode,
)
from daemons.marathon.timestamps import marathon_ts, parse_marathon_ts
from daemons.mesos_client.calls import LEFTOVER_REFUSE_SECONDS
from daemons.protocols import JSON
from daemons.protocols.models import Offer

log = logging.getLogger(__name__)


class Store(Protocol):
    def load(self) -> Snapshot: ...

    def commit(self, writes: Iterable[Write]) -> None: ...

    def versions(self, app_id: str) -> list[int]: ...

    def version(self, app_id: str, version_ms: int) -> JSON | None: ...

    def delete_versions(self, app_id: str) -> None: ...


class Driver(Protocol):
    """The calls Marathon makes to the Mesos master (SchedulerClient has them all)."""

    def launch(
        self,
        offer_ids: Iterable[str],
        task_infos: Iterable[Mapping[str, Any]],
        *,
        refuse_seconds: float | None = None,
    ) -> None: ...

    def decline(self, offer_ids: Iterable[str], *, refuse_seconds: float | None = None) -> None: ...

    def kill(
        self,
        task_id: str,
        agent_id: str | None = None,
        *,
        grace_period_seconds: float | None = None,
    ) -> None: ...

    def revive(self, roles: Iterable[str] = ()) -> None: ...

    def suppress(self, roles: Iterable[str] = ()) -> None: ...

    def reconcile(self, tasks: Iterable[tuple[str, str | None]] = ()) -> None: ...


def ms(seconds: float) -> int:
    return round(seconds * 1000)


# What a transaction's operation costs ZooKeeper besides its data (its path, its header): a
# generous round figure, so that a change refused as too big never comes near the limit.
TRANSACTION_OP_BYTES = 256


def _over_limit(reason: str) -> Invalid:
    return Invalid([{"path": "/", "errors": [reason]}])


# Counters of `/metrics` (Marathon's names). Only a leader counts (a standby handles no offer
# or update), so they count what happened since this process became the leader.
TASKS_LAUNCHED = "marathon.tasks.launched.counter"


def task_updates_counter(state: str) -> str:
    """`marathon.mesos.task-updates.<task-state>.counter`, e.g. `task-running`."""
    return f"marathon.mesos.task-updates.{state.lower().replace('_', '-')}.counter"


@dataclass
class OfferStats:
    """What the queue endpoint reports about offers an app waited on."""

    processed: int = 0
    unused: int = 0
    last_unused_at: float | None = None
    last_used_at: float | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    # As Marathon's OfferMatchStatistics: the last offer each agent made that the app could not
    # use, with why and when (`?embed=lastUnusedOffers`); one per agent, so it stays bounded.
    last_unused: dict[str, tuple[Offer, tuple[str, ...], float]] = field(default_factory=dict)

    def count(self, use: planning.OfferUse, at: float) -> None:
        self.processed += 1
        if use.used:
            self.last_used_at = at
            return
        self.unused += 1
        self.last_unused_at = at
        for reason in use.reasons:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if use.offer is not None:
            self.last_unused[use.offer.agent_id] = (use.offer, use.reasons, at)


@dataclass(frozen=True)
class Result:
    """What a deployment-affecting call answers: the deployment id and version."""

    deployment_id: str
    version: float
    app: AppDefinition | None = None
    created: bool = False

    def json(self) -> JSON:
        return {"deploymentId": self.deployment_id, "version": marathon_ts(self.version)}


class Marathon:
    def __init__(
        self,
        config: MarathonConfig,
        store: Store,
        bus: EventBus,
        clock: Callable[[], float],
        new_id: Callable[[], str],
    ) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        self.now = clock
        self.new_id = new_id
        self.lock = threading.RLock()
        self.driver: Driver | None = None
        self.apps: dict[str, AppDefinition] = {}
        self.explicit_groups: set[str] = set()
        self.deployments: dict[str, DeploymentPlan] = {}
        self.instances: dict[str, Instance] = {}
        self.delays: dict[str, backoff.Delay] = {}
        self.killing: dict[str, float] = {}  # task id -> when the kill was sent
        self.wipe: set[str] = set()  # killed tasks to forget at once (wipe=true)
        self.last_failures: dict[str, JSON] = {}
        self.agents: dict[str, tuple[str, Mapping[str, Any]]] = {}  # id -> (host, attributes)
        self.offer_stats: dict[str, OfferStats] = {}
        self.health_due: dict[tuple[str, int], float] = {}  # (task, check index) -> next probe
        self.root_version = 0.0
        self.suppressed = False
        self.filtered = False  # an offer was declined for longer than SHORT_REFUSE since a revive
        self.loaded = False
        self.counters: dict[str, int] = {TASKS_LAUNCHED: 0}  # `/metrics` counters
        self.unplanned: list[str] = []  # counters of updates recorded but not planned for yet
        self._outbox: list[Callable[[Driver], None]] = []

    # --- loading and plumbing -------------------------------------------------------------------

    def load(self) -> None:
        """Read the stored state (after election): apps, deployments, instances, delays."""
        snapshot = self.store.load()
        with self.lock:
            self.apps = {a.id: a for a in (appdef.from_stored(v) for v in snapshot.apps.values())}
            self.explicit_groups = set(snapshot.groups)
            self.deployments = {}
            for raw in sorted(snapshot.deployments.values(), key=lambda r: r.get("version", 0)):
                plan = deployment.from_stored(raw, appdef.from_stored)
                self.deployments[plan.id] = plan
            self.instances = {k: instance_from_stored(v) for k, v in snapshot.instances.items()}
            self.delays = {
                d.app_id: d for d in (backoff.from_stored(v) for v in snapshot.delays.values())
            }
            versions = [a.version for a in self.apps.values()] + [
                p.version for p in self.deployments.values()
            ]
            self.root_version = max(versions, default=self.now())
            self.loaded = True

    def has_instances(self) -> bool:
        with self.lock:
            return bool(self.instances)

    def send(self, call: Callable[[Driver], None]) -> None:
        """Queue a call to the master; `flush` sends it once the lock is released."""
        self._outbox.append(call)

    def flush(self) -> None:
        with self.lock:
            calls, self._outbox = self._outbox, []
            driver = self.driver
        if driver is None:
            return
        for call in calls:
            try:
                call(driver)
            except Exception as err:  # the master is away: reconciliation repairs it later
                log.warning("call to the master failed error=%s", err)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def commit(self, writes: list[Write]) -> None:
        """One transaction; a store fenced by a newer leader has told the daemon to step down
        (its `on_fenced`) before it raises."""
        self.store.commit(writes)

    def check_size(self, value: JSON) -> int:
        """The stored size of `value` in bytes; refused (422) when ZooKeeper could not store it
        (jute.maxbuffer), before anything is written."""
        size = len(encode(value))
        if size > self.config.zk_max_node_size:
            raise _over_limit(
                f"the stored state would be {size} bytes, over ZooKeeper's"
                f" node limit of {self.config.zk_max_node_size} bytes"
            )
        return size

    def check_transaction(self, size: int) -> None:
        """Refuse a change whose one transaction ZooKeeper could not take (`size`: its data
        and `TRANSACTION_OP_BYTES` per operation): jute.maxbuffer bounds the whole request,
        not only each node (a group of 1,000 apps, each stored with its version and in the
        deployment plan, is over 1 MiB; ZooKeeper answered it by dropping the connection, a
        503). Before anything is written."""
        if size > self.config.zk_max_node_size:
            raise _over_limit(
                f"this change would be stored in one ZooKeeper transaction of about {size}"
                f" bytes, over its limit of {self.config.zk_max_node_size} bytes: make it in"
                " smaller steps (e.g. fewer apps per group)"
            )

    # --- plans: the one applier -----------------------------------------------------------------

    def state(self) -> planning.State:
        """A read-only view of what the leader knows, for a plan (valid under the lock, until
        a plan is applied)."""
        return planning.State(
            apps=MappingProxyType(self.apps),
            instances=MappingProxyType(self.instances),
            deployments=MappingProxyType(self.deployments),
            delays=MappingProxyType(self.delays),
            killing=MappingProxyType(self.killing),
            wipe=frozenset(self.wipe),
            agents=MappingProxyType(self.agents),
        )

    def apply(self, plan: planning.Plan) -> None:
        """Carry out a plan (under the lock). What must be durable is stored first: each
        deployment's progress, then each launch's instances (a new leader knows what this one
        started). The calls to the master are queued for `flush` in the plan's order: kills,
        then each offer's launch or decline."""
        at = self.now()
        for progress in plan.progress:
            self._apply_progress(progress)
        for kill in plan.kills:
            if kill.reason:
                log.warning("killing task=%s reason=%s", kill.task_id, kill.reason)
            if kill.wipe:
                self.wipe.add(kill.task_id)
            self.killing[kill.task_id] = at
            self.send(_kill_call(kill))
        for use in plan.offer_uses:
            self.offer_stats.setdefault(use.app_id, OfferStats()).count(use, at)
        for answer in plan.answers:
            if isinstance(answer, planning.Launch):
                self.commit(
                    [Put("instances", i.task_id, instance_stored(i)) for i in answer.instances]
                )
                for inst in answer.instances:
                    self.instances[inst.task_id] = inst
                self.count(TASKS_LAUNCHED, len(answer.instances))
            elif answer.refuse_seconds > SHORT_REFUSE:
                self.filtered = True
            self.send(_answer_call(answer))

    def _apply_progress(self, progress: planning.Progress) -> None:
        moved = progress.deployment
        if progress.finished:
            self.commit([Delete("deployments", moved.id)])
            self.deployments.pop(moved.id, None)
        else:
            self.commit(
                [Put("deployments", moved.id, deployment.stored_json(moved, appdef.stored_json))]
            )
            self.deployments[moved.id] = moved
        plan_json = self.plan_json(moved)
        for step in progress.done:
            self.bus.publish(
                "deployment_step_success", plan=plan_json, currentStep=deployment.step_json(step)
            )
        if progress.finished:
            self.bus.publish("deployment_success", id=moved.id, plan=plan_json)
            for app_id in moved.affected_apps:
                if app_id not in self.apps:
                    self.bus.publish("app_terminated_event", appId=app_id)
            log.info("deployment finished id=%s", moved.id)

    # --- reads ----------------------------------------------------------------------------------

    def app(self, app_id: str) -> AppDefinition:
        found = self.apps.get(pathid.normalize(app_id))
        if found is None:
            raise AppNotFound(pathid.normalize(app_id))
        return found

    def instances_of(self, app_id: str) -> list[Instance]:
        return [i for i in self.instances.values() if i.app_id == app_id]

    def deployments_of(self, app_id: str) -> list[str]:
        return [p.id for p in self.deployments.values() if app_id in p.affected_apps]

    def all_group_ids(self) -> set[str]:
        ids = set(self.explicit_groups) | {"/"}
        for app_id in self.apps:
            parent = pathid.parent(app_id)
            while parent != "/":
                ids.add(parent)
                parent = pathid.parent(parent)
        return ids

    def used_service_ports(self, but: str | None = None) -> set[int]:
        return {
            p.port for a in self.apps.values() if a.id != but for p in a.port_definitions if p.port
        }

    def plan_json(self, plan: DeploymentPlan) -> JSON:
        return deployment.plan_event_json(
            plan,
            groups.plain_group(plan.original, plan.version),
            groups.plain_group(plan.target, plan.version),
            marathon_ts,
        )

    def step_json(self, plan: DeploymentPlan) -> JSON:
        step = plan.steps[min(plan.current_step, len(plan.steps) - 1)] if plan.steps else None
        actions = [] if step is None else step.actions
        return {"actions": [{"action": a.action, "app": a.app} for a in actions]}

    def want_offers(self) -> None:
        """There is something to launch: revive if offers are suppressed or were declined for
        long (as Marathon revives for new apps). Offers declined while nothing waited stay away
        for `decline_offer_duration`: a deployment that starts meanwhile would otherwise wait
        that long for the agents whose offers went back (a deploy of 1,000 stalled 90 s)."""
        if self.suppressed or self.filtered:
            self.suppressed = False
            self.filtered = False
            self.send(lambda d: d.revive())

    def versions(self, app_id: str) -> list[str]:
        with self.lock:
            app = self.app(app_id)
        return [marathon_ts(v / 1000) for v in self.store.versions(app.id)]

    def version(self, app_id: str, version: str) -> AppDefinition:
        with self.lock:
            app = self.app(app_id)
        try:
            wanted = ms(parse_marathon_ts(version))
        except ValueError:
            raise NotFound(f"Version '{version}' of app '{app.id}' does not exist") from None
        stored = self.store.version(app.id, wanted)
        if stored is None:
            raise NotFound(f"Version '{version}' of app '{app.id}' does not exist")
        return appdef.from_stored(stored)

    # --- deployments ----------------------------------------------------------------------------

    # --- the launch queue -----------------------------------------------------------------------


def _kill_call(kill: planning.Kill) -> Callable[[Driver], None]:
    return lambda d: d.kill(
        kill.task_id, kill.agent_id, grace_period_seconds=kill.grace_period_seconds
    )


def _answer_call(answer: planning.Launch | planning.Decline) -> Callable[[Driver], None]:
    if isinstance(answer, planning.Launch):
        return lambda d: d.launch(
            [answer.offer_id], answer.task_infos, refuse_seconds=LEFTOVER_REFUSE_SECONDS
        )
    return lambda d: d.decline([answer.offer_id], refuse_seconds=answer.refuse_seconds)
