"""The Marathon leader's state and the changes the API asks for.

One lock guards the state. Every change is written to the store (one transaction) *before* it
is applied in memory and acknowledged, so an acknowledged app or deployment survives a failover
and a refused one (4xx, or a store failure) leaves nothing behind. Calls to the Mesos master
(launch, kill, …) are queued under the lock and sent after it is released (`flush`), so the
lock is never held across the network.

Scheduling decisions are plans (`planning`, `placement`): `apply` is the one place that carries
one out, storing first what must be durable. The event handlers (offers, status updates, the
tick) live in `scheduling.py`, the health probes in `service.py`, the JSON views in `views.py`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Protocol

from daemons.kit.errors import Conflict, NotFound
from daemons.marathon import appdef, backoff, deployment, groups, pathid, planning
from daemons.marathon.config import MarathonConfig
from daemons.marathon.errors import AppNotFound, Invalid, Locked
from daemons.marathon.events import EventBus
from daemons.marathon.model import (
    AppDefinition,
    DeploymentPlan,
    Instance,
    instance_from_stored,
    instance_stored,
)
from daemons.marathon.store import (
    Delete,
    Put,
    PutGroups,
    PutVersion,
    Snapshot,
    Write,
    encode,
    key_of,
)
from daemons.marathon.timestamps import marathon_ts, parse_marathon_ts
from daemons.protocols import JSON

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

    def count(self, use: planning.OfferUse, at: float) -> None:
        self.processed += 1
        if use.used:
            self.last_used_at = at
            return
        self.unused += 1
        self.last_unused_at = at
        for reason in use.reasons:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1


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
        self.loaded = False
        self.counters: dict[str, int] = {TASKS_LAUNCHED: 0}  # `/metrics` counters
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

    def check_size(self, *values: JSON) -> None:
        """Refuse what ZooKeeper could not store (jute.maxbuffer), before writing anything."""
        for value in values:
            size = len(encode(value))
            if size > self.config.zk_max_node_size:
                raise Invalid(
                    [
                        {
                            "path": "/",
                            "errors": [
                                f"the stored state would be {size} bytes, over ZooKeeper's"
                                f" node limit of {self.config.zk_max_node_size} bytes"
                            ],
                        }
                    ]
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

    # --- changes --------------------------------------------------------------------------------

    def _locked(self, app_ids: Iterable[str], force: bool) -> list[Write]:
        """409 when a running deployment touches one of `app_ids`; with force, cancel those
        deployments (their partial progress stays, as in Marathon) and return the deletes."""
        running = sorted({d for a in app_ids for d in self.deployments_of(a)})
        if running and not force:
            raise Locked(running)
        return [Delete("deployments", d) for d in running]

    def _apply_cancel(self, writes: list[Write]) -> None:
        for w in writes:
            if isinstance(w, Delete) and w.kind == "deployments":
                plan = self.deployments.pop(w.key, None)
                if plan is not None:
                    self.bus.publish("deployment_failed", id=plan.id, plan=self.plan_json(plan))

    def _prepare(self, raw: Any, *, at: float, old: AppDefinition | None) -> AppDefinition:
        try:
            new = appdef.parse_app(raw, version=at)
            new = appdef.next_version(new, old, at)
            new = appdef.assign_service_ports(
                new,
                self.used_service_ports(but=new.id),
                self.config.local_port_min,
                self.config.local_port_max,
            )
        except appdef.InvalidDefinition as err:
            raise Invalid(err.details) from None
        return new

    def _check_tree(self, app_id: str) -> None:
        """An app id may not be a group, and no ancestor of it may be an app."""
        if app_id in self.all_group_ids():
            raise Conflict(f"A group with id [{app_id}] already exists.")
        parent = pathid.parent(app_id)
        while parent != "/":
            if parent in self.apps:
                raise Conflict(f"An app with id [{parent}] already exists.")
            parent = pathid.parent(parent)

    def deploy(
        self,
        original: Mapping[str, AppDefinition],
        target: Mapping[str, AppDefinition],
        *,
        at: float,
        writes: list[Write],
        restart: frozenset[str] = frozenset(),
        groups_after: set[str] | None = None,
    ) -> Result:
        """Store the target apps and the plan that rolls them out, in one transaction."""
        try:
            plan = deployment.plan(
                original, target, deployment_id=self.new_id(), version=at, restart=restart
            )
        except deployment.DependencyCycle as err:
            raise Invalid([{"path": "/dependencies", "errors": [str(err)]}]) from None
        all_writes = list(writes)
        changed = [a for i, a in target.items() if original.get(i) != a]
        for app in changed:
            stored = appdef.stored_json(app)
            self.check_size(stored)
            all_writes.append(Put("apps", key_of(app.id), stored))
            all_writes.append(PutVersion(app.id, ms(app.version), stored))
        removed = [i for i in original if i not in target]
        all_writes += [Delete("apps", key_of(i)) for i in removed]
        all_writes += [Delete("delays", key_of(i)) for i in removed if i in self.delays]
        if plan is not None:
            stored_plan = deployment.stored_json(plan, appdef.stored_json)
            self.check_size(stored_plan)
            all_writes.append(Put("deployments", plan.id, stored_plan))
        if groups_after is not None and groups_after != self.explicit_groups:
            all_writes.append(PutGroups(tuple(sorted(groups_after))))
        self.commit(all_writes)
        # Durable: now apply.
        self._apply_cancel(all_writes)
        for app in changed:
            self.apps[app.id] = app
            delay = self.delays.get(app.id)
            if delay is not None and not backoff.is_current(delay, app):
                self.delays.pop(app.id)  # a new version starts without backoff
        for app_id in removed:
            self.apps.pop(app_id, None)
            self.delays.pop(app_id, None)
        if groups_after is not None:
            self.explicit_groups = set(groups_after)
        self.root_version = at
        deployment_id = plan.id if plan is not None else self.new_id()
        if plan is not None:
            self.deployments[plan.id] = plan
            self.bus.publish(
                "deployment_info",
                plan=self.plan_json(plan),
                currentStep=self.step_json(plan),
            )
        self.want_offers()
        return Result(deployment_id, at)

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
        if self.suppressed:
            self.suppressed = False
            self.send(lambda d: d.revive())

    def create_app(self, raw: Any) -> Result:
        with self.lock:
            at = self.now()
            app = self._prepare(raw, at=at, old=None)
            if app.id in self.apps:
                raise Conflict(f"An app with id [{app.id}] already exists.")
            self._check_tree(app.id)
            result = self.deploy({}, {app.id: app}, at=at, writes=[])
            self.bus.publish(
                "api_post_event", clientIp=None, uri=f"/v2/apps{app.id}", appDefinition=None
            )
            return replace(result, app=app, created=True)

    def update_app(self, app_id: str, raw: Any, *, force: bool, partial: bool) -> Result:
        app_id = pathid.normalize(app_id)
        if not isinstance(raw, dict):
            raise Invalid([{"path": "/", "errors": ["expected a JSON object"]}])
        with self.lock:
            old = self.apps.get(app_id)
            body = dict(raw)
            body["id"] = app_id
            if old is None:
                return self.create_app(body)
            at = self.now()
            if set(raw) == {"version"} or set(raw) == {"id", "version"}:
                body = self._rollback_body(app_id, raw["version"])
            elif partial:
                body = appdef.merge_update(appdef.app_update_json(old), body)
            new = self._prepare(body, at=at, old=old)
            cancel = self._locked([app_id], force)
            if new == replace(old, version=new.version, last_scaling_at=new.last_scaling_at):
                return Result(self.new_id(), old.version)  # nothing changes
            return self.deploy({app_id: old}, {app_id: new}, at=at, writes=cancel)

    def _rollback_body(self, app_id: str, version: Any) -> JSON:
        try:
            wanted = ms(parse_marathon_ts(str(version)))
        except ValueError:
            raise Invalid([{"path": "/version", "errors": ["not a Marathon timestamp"]}]) from None
        stored = self.store.version(app_id, wanted)
        if stored is None:
            raise NotFound(f"Version '{version}' of app '{app_id}' does not exist")
        return appdef.app_update_json(appdef.from_stored(stored))

    def delete_app(self, app_id: str, *, force: bool) -> Result:
        with self.lock:
            app = self.app(app_id)
            cancel = self._locked([app.id], force)
            result = self.deploy({app.id: app}, {}, at=self.now(), writes=cancel)
        self.store.delete_versions(app.id)
        return result

    def restart_app(self, app_id: str, *, force: bool) -> Result:
        with self.lock:
            app = self.app(app_id)
            at = self.now()
            cancel = self._locked([app.id], force)
            new = replace(app, version=at, last_config_change_at=at)
            return self.deploy(
                {app.id: app}, {app.id: new}, at=at, writes=cancel, restart=frozenset({app.id})
            )

    def scale_app(self, app_id: str, instances: int, *, force: bool) -> Result:
        with self.lock:
            app = self.app(app_id)
            return self.update_app(app.id, {"instances": instances}, force=force, partial=True)

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

    # --- tasks ----------------------------------------------------------------------------------

    def kill_tasks(
        self, task_ids: Iterable[str], *, scale: bool, wipe: bool, force: bool
    ) -> tuple[list[Instance], Result | None]:
        """Kill the given tasks; with `scale` lower each app's instances by the number killed
        (a deployment), otherwise Marathon replaces them. Unknown ids are ignored."""
        with self.lock:
            found = [self.instances[t] for t in task_ids if t in self.instances]
            result: Result | None = None
            if scale and found:
                counts: dict[str, int] = {}
                for inst in found:
                    counts[inst.app_id] = counts.get(inst.app_id, 0) + 1
                at = self.now()
                originals = {a: self.apps[a] for a in counts if a in self.apps}
                cancel = self._locked(originals, force)
                targets = {
                    a: replace(
                        app,
                        instances=max(0, app.instances - counts[a]),
                        version=at,
                        last_scaling_at=at,
                    )
                    for a, app in originals.items()
                }
                # First, so the scale step does not pick others.
                self.apply(planning.kill(self.state(), found, wipe=wipe))
                result = self.deploy(originals, targets, at=at, writes=cancel)
            else:
                self.apply(planning.kill(self.state(), found, wipe=wipe))
        self.flush()
        return found, result

    def kill_app_tasks(
        self, app_id: str, *, host: str | None, scale: bool, wipe: bool, force: bool
    ) -> tuple[list[Instance], Result | None]:
        with self.lock:
            app = self.app(app_id)
            ids = [i.task_id for i in self.instances_of(app.id) if host in (None, i.host)]
        return self.kill_tasks(ids, scale=scale, wipe=wipe, force=force)

    # --- deployments ----------------------------------------------------------------------------

    def cancel_deployment(self, deployment_id: str, *, force: bool) -> Result | None:
        """force: stop it where it is (202, no body). Otherwise roll back: a new deployment
        from the current state to the cancelled one's original apps."""
        with self.lock:
            plan = self.deployments.get(deployment_id)
            if plan is None:
                raise NotFound(f"DeploymentPlan {deployment_id} does not exist")
            at = self.now()
            cancel: list[Write] = [Delete("deployments", plan.id)]
            if force:
                self.commit(cancel)
                self._apply_cancel(cancel)
                return None
            current = {a: self.apps[a] for a in plan.affected_apps if a in self.apps}
            back = {
                a: replace(old, version=at)
                for a, old in plan.original.items()
                if a in plan.affected_apps
            }
            return self.deploy(current, back, at=at, writes=cancel)

    # --- groups ---------------------------------------------------------------------------------

    def put_group(self, group_id: str, raw: Any, *, force: bool, create: bool) -> Result:
        """POST /v2/groups (create) and PUT /v2/groups/{id}: the group's apps become exactly
        the document's (apps of the group missing from it are removed), or `scaleBy`."""
        group_id = pathid.normalize(group_id or "/")
        with self.lock:
            at = self.now()
            if isinstance(raw, dict) and "scaleBy" in raw and set(raw) <= {"scaleBy", "id"}:
                return self._scale_group(group_id, raw["scaleBy"], at=at, force=force)
            if isinstance(raw, dict) and set(raw) <= {"version", "id"} and "version" in raw:
                raise Invalid([{"path": "/version", "errors": ["group rollback is not supported"]}])
            try:
                group_ids, parsed = groups.parse_group(raw, base=group_id, version=at)
            except appdef.InvalidDefinition as err:
                raise Invalid(err.details) from None
            root = next(iter(sorted(group_ids, key=len)), group_id)
            if create and (root in self.all_group_ids() and root != "/"):
                raise Conflict(f"Group {root} is already created. Use PUT to change this group.")
            if root in self.apps:
                raise Conflict(f"An app with id [{root}] already exists.")
            under = {a: app for a, app in self.apps.items() if pathid.is_ancestor(root, a)}
            target: dict[str, AppDefinition] = {}
            for app_id, app in parsed.items():
                old = self.apps.get(app_id)
                new = appdef.next_version(app, old, at)
                new = appdef.assign_service_ports(
                    new,
                    self.used_service_ports(but=app_id)
                    | {p.port for t in target.values() for p in t.port_definitions if p.port},
                    self.config.local_port_min,
                    self.config.local_port_max,
                )
                if old is not None and old.same_config(new) and old.instances == new.instances:
                    new = old
                target[app_id] = new
            cancel = self._locked(set(under) | set(target), force)
            groups_after = {
                g for g in self.explicit_groups if not pathid.is_ancestor(root, g)
            } | set(group_ids)
            groups_after.discard("/")
            return self.deploy(under, target, at=at, writes=cancel, groups_after=groups_after)

    def _scale_group(self, group_id: str, factor: Any, *, at: float, force: bool) -> Result:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0:
            raise Invalid([{"path": "/scaleBy", "errors": ["must be a non-negative number"]}])
        under = {a: app for a, app in self.apps.items() if pathid.is_ancestor(group_id, a)}
        if not under and group_id not in self.all_group_ids():
            raise NotFound(f"Group '{group_id}' does not exist")
        counts = groups.scale_by(under, float(factor))
        target = {
            a: replace(app, instances=counts[a], version=at, last_scaling_at=at)
            for a, app in under.items()
        }
        cancel = self._locked(under, force)
        return self.deploy(under, target, at=at, writes=cancel)

    def delete_group(self, group_id: str, *, force: bool) -> Result:
        group_id = pathid.normalize(group_id)
        with self.lock:
            if group_id not in self.all_group_ids():
                raise NotFound(f"Group '{group_id}' does not exist")
            under = {a: app for a, app in self.apps.items() if pathid.is_ancestor(group_id, a)}
            cancel = self._locked(under, force)
            # The group itself goes too (is_ancestor is strict: a group is not its own).
            groups_after = {
                g
                for g in self.explicit_groups
                if g != group_id and not pathid.is_ancestor(group_id, g)
            }
            return self.deploy(under, {}, at=self.now(), writes=cancel, groups_after=groups_after)

    # --- the launch queue -----------------------------------------------------------------------

    def reset_delay(self, app_id: str) -> None:
        with self.lock:
            app = self.app(app_id)
            if app.id not in self.delays:
                raise NotFound(f"application {app.id} not found in task queue")
            self.commit([Delete("delays", key_of(app.id))])
            self.delays.pop(app.id, None)
            self.want_offers()
        self.flush()


def _kill_call(kill: planning.Kill) -> Callable[[Driver], None]:
    return lambda d: d.kill(
        kill.task_id, kill.agent_id, grace_period_seconds=kill.grace_period_seconds
    )


def _answer_call(answer: planning.Launch | planning.Decline) -> Callable[[Driver], None]:
    if isinstance(answer, planning.Launch):
        return lambda d: d.launch([answer.offer_id], answer.task_infos)
    return lambda d: d.decline([answer.offer_id], refuse_seconds=answer.refuse_seconds)
