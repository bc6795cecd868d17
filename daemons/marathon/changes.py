"""The changes Marathon's API asks for: apps, groups, task kills, deployments, the launch queue.

Each takes the `Marathon` state and its lock, checks the request against the state (409 while a
deployment holds an app unless `force`, 422 for an invalid definition, 404 for what does not
exist), writes the change to the store in one transaction (`deploy`), and only then applies it
in memory and publishes its events: an acknowledged change survives a failover, a refused one
leaves nothing behind. Kills go through the one applier, `Marathon.apply`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from daemons.kit.errors import Conflict, NotFound
from daemons.marathon import appdef, backoff, deployment, groups, pathid, planning
from daemons.marathon.errors import Invalid, Locked
from daemons.marathon.marathon import TRANSACTION_OP_BYTES, Marathon, Result, ms
from daemons.marathon.model import AppDefinition, Instance
from daemons.marathon.store import Delete, Put, PutGroups, PutVersion, Write, key_of
from daemons.marathon.timestamps import parse_marathon_ts
from daemons.protocols import JSON


def _locked(m: Marathon, app_ids: Iterable[str], force: bool) -> list[Write]:
    """409 when a running deployment touches one of `app_ids`; with force, cancel those
    deployments (their partial progress stays, as in Marathon) and return the deletes."""
    running = sorted({d for a in app_ids for d in m.deployments_of(a)})
    if running and not force:
        raise Locked(running)
    return [Delete("deployments", d) for d in running]


def _apply_cancel(m: Marathon, writes: list[Write]) -> None:
    for w in writes:
        if isinstance(w, Delete) and w.kind == "deployments":
            plan = m.deployments.pop(w.key, None)
            if plan is not None:
                m.bus.publish("deployment_failed", id=plan.id, plan=m.plan_json(plan))


def _prepare(m: Marathon, raw: Any, *, at: float, old: AppDefinition | None) -> AppDefinition:
    try:
        new = appdef.parse_app(raw, version=at)
        new = appdef.next_version(new, old, at)
        new = appdef.assign_service_ports(
            new,
            m.used_service_ports(but=new.id),
            m.config.local_port_min,
            m.config.local_port_max,
        )
    except appdef.InvalidDefinition as err:
        raise Invalid(err.details) from None
    return new


def _check_tree(m: Marathon, app_id: str) -> None:
    """An app id may not be a group, and no ancestor of it may be an app."""
    if app_id in m.all_group_ids():
        raise Conflict(f"A group with id [{app_id}] already exists.")
    parent = pathid.parent(app_id)
    while parent != "/":
        if parent in m.apps:
            raise Conflict(f"An app with id [{parent}] already exists.")
        parent = pathid.parent(parent)


def deploy(
    m: Marathon,
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
            original, target, deployment_id=m.new_id(), version=at, restart=restart
        )
    except deployment.DependencyCycle as err:
        raise Invalid([{"path": "/dependencies", "errors": [str(err)]}]) from None
    all_writes = list(writes)
    size = 0  # of the transaction's data, for m.check_transaction
    changed = [a for i, a in target.items() if original.get(i) != a]
    for app in changed:
        stored = appdef.stored_json(app)
        # Stored twice: the app and its version.
        size += 2 * (m.check_size(stored) + TRANSACTION_OP_BYTES)
        all_writes.append(Put("apps", key_of(app.id), stored))
        all_writes.append(PutVersion(app.id, ms(app.version), stored))
    removed = [i for i in original if i not in target]
    all_writes += [Delete("apps", key_of(i)) for i in removed]
    all_writes += [Delete("delays", key_of(i)) for i in removed if i in m.delays]
    if plan is not None:
        stored_plan = deployment.stored_json(plan, appdef.stored_json)
        size += m.check_size(stored_plan) + TRANSACTION_OP_BYTES
        all_writes.append(Put("deployments", plan.id, stored_plan))
    if groups_after is not None and groups_after != m.explicit_groups:
        all_writes.append(PutGroups(tuple(sorted(groups_after))))
    m.check_transaction(size)
    m.commit(all_writes)
    # Durable: now apply.
    _apply_cancel(m, all_writes)
    for app in changed:
        m.apps[app.id] = app
        delay = m.delays.get(app.id)
        if delay is not None and not backoff.is_current(delay, app):
            m.delays.pop(app.id)  # a new version starts without backoff
    for app_id in removed:
        m.apps.pop(app_id, None)
        m.delays.pop(app_id, None)
    if groups_after is not None:
        m.explicit_groups = set(groups_after)
    m.root_version = at
    deployment_id = plan.id if plan is not None else m.new_id()
    if plan is not None:
        m.deployments[plan.id] = plan
        m.bus.publish(
            "deployment_info",
            plan=m.plan_json(plan),
            currentStep=m.step_json(plan),
        )
    m.want_offers()
    return Result(deployment_id, at)


def create_app(m: Marathon, raw: Any, *, force: bool = False) -> Result:
    """A new app. 409 while a deployment still touches its id (the stop of a deleted app of
    the same id, whose instances are still being killed: Marathon rejects a deployment that
    would change an app another one is changing) unless `force`, which cancels it."""
    with m.lock:
        at = m.now()
        app = _prepare(m, raw, at=at, old=None)
        if app.id in m.apps:
            raise Conflict(f"An app with id [{app.id}] already exists.")
        _check_tree(m, app.id)
        cancel = _locked(m, [app.id], force)
        result = deploy(m, {}, {app.id: app}, at=at, writes=cancel)
        m.bus.publish("api_post_event", clientIp=None, uri=f"/v2/apps{app.id}", appDefinition=None)
        return replace(result, app=app, created=True)


def update_app(m: Marathon, app_id: str, raw: Any, *, force: bool, partial: bool) -> Result:
    app_id = pathid.normalize(app_id)
    if not isinstance(raw, dict):
        raise Invalid([{"path": "/", "errors": ["expected a JSON object"]}])
    with m.lock:
        old = m.apps.get(app_id)
        body = dict(raw)
        body["id"] = app_id
        if old is None:
            return create_app(m, body, force=force)
        at = m.now()
        if set(raw) == {"version"} or set(raw) == {"id", "version"}:
            body = _rollback_body(m, app_id, raw["version"])
        elif partial:
            body = appdef.merge_update(appdef.app_update_json(old), body)
        new = _prepare(m, body, at=at, old=old)
        cancel = _locked(m, [app_id], force)
        if new == replace(old, version=new.version, last_scaling_at=new.last_scaling_at):
            return Result(m.new_id(), old.version)  # nothing changes
        return deploy(m, {app_id: old}, {app_id: new}, at=at, writes=cancel)


def _rollback_body(m: Marathon, app_id: str, version: Any) -> JSON:
    try:
        wanted = ms(parse_marathon_ts(str(version)))
    except ValueError:
        raise Invalid([{"path": "/version", "errors": ["not a Marathon timestamp"]}]) from None
    stored = m.store.version(app_id, wanted)
    if stored is None:
        raise NotFound(f"Version '{version}' of app '{app_id}' does not exist")
    return appdef.app_update_json(appdef.from_stored(stored))


def delete_app(m: Marathon, app_id: str, *, force: bool) -> Result:
    with m.lock:
        app = m.app(app_id)
        cancel = _locked(m, [app.id], force)
        result = deploy(m, {app.id: app}, {}, at=m.now(), writes=cancel)
    m.store.delete_versions(app.id)
    return result


def restart_app(m: Marathon, app_id: str, *, force: bool) -> Result:
    with m.lock:
        app = m.app(app_id)
        at = m.now()
        cancel = _locked(m, [app.id], force)
        new = replace(app, version=at, last_config_change_at=at)
        return deploy(
            m, {app.id: app}, {app.id: new}, at=at, writes=cancel, restart=frozenset({app.id})
        )


def scale_app(m: Marathon, app_id: str, instances: int, *, force: bool) -> Result:
    with m.lock:
        app = m.app(app_id)
        return update_app(m, app.id, {"instances": instances}, force=force, partial=True)


def kill_tasks(
    m: Marathon, task_ids: Iterable[str], *, scale: bool, wipe: bool, force: bool
) -> tuple[list[Instance], Result | None]:
    """Kill the given tasks; with `scale` lower each app's instances by the number killed
    (a deployment), otherwise Marathon replaces them. Unknown ids are ignored."""
    with m.lock:
        found = [m.instances[t] for t in task_ids if t in m.instances]
        result: Result | None = None
        if scale and found:
            counts: dict[str, int] = {}
            for inst in found:
                counts[inst.app_id] = counts.get(inst.app_id, 0) + 1
            at = m.now()
            originals = {a: m.apps[a] for a in counts if a in m.apps}
            cancel = _locked(m, originals, force)
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
            m.apply(planning.kill(m.state(), found, wipe=wipe))
            result = deploy(m, originals, targets, at=at, writes=cancel)
        else:
            m.apply(planning.kill(m.state(), found, wipe=wipe))
    m.flush()
    return found, result


def kill_app_tasks(
    m: Marathon, app_id: str, *, host: str | None, scale: bool, wipe: bool, force: bool
) -> tuple[list[Instance], Result | None]:
    with m.lock:
        app = m.app(app_id)
        ids = [i.task_id for i in m.instances_of(app.id) if host in (None, i.host)]
    return kill_tasks(m, ids, scale=scale, wipe=wipe, force=force)


def cancel_deployment(m: Marathon, deployment_id: str, *, force: bool) -> Result | None:
    """force: stop it where it is (202, no body). Otherwise roll back: a new deployment
    from the current state to the cancelled one's original apps."""
    with m.lock:
        plan = m.deployments.get(deployment_id)
        if plan is None:
            raise NotFound(f"DeploymentPlan {deployment_id} does not exist")
        at = m.now()
        cancel: list[Write] = [Delete("deployments", plan.id)]
        if force:
            m.commit(cancel)
            _apply_cancel(m, cancel)
            return None
        current = {a: m.apps[a] for a in plan.affected_apps if a in m.apps}
        back = {
            a: replace(old, version=at)
            for a, old in plan.original.items()
            if a in plan.affected_apps
        }
        return deploy(m, current, back, at=at, writes=cancel)


def put_group(m: Marathon, group_id: str, raw: Any, *, force: bool, create: bool) -> Result:
    """POST /v2/groups (create) and PUT /v2/groups/{id}: the group's apps become exactly
    the document's (apps of the group missing from it are removed), or `scaleBy`."""
    group_id = pathid.normalize(group_id or "/")
    with m.lock:
        at = m.now()
        if isinstance(raw, dict) and "scaleBy" in raw and set(raw) <= {"scaleBy", "id"}:
            return _scale_group(m, group_id, raw["scaleBy"], at=at, force=force)
        if isinstance(raw, dict) and set(raw) <= {"version", "id"} and "version" in raw:
            raise Invalid([{"path": "/version", "errors": ["group rollback is not supported"]}])
        try:
            group_ids, parsed = groups.parse_group(raw, base=group_id, version=at)
        except appdef.InvalidDefinition as err:
            raise Invalid(err.details) from None
        root = next(iter(sorted(group_ids, key=len)), group_id)
        if create and (root in m.all_group_ids() and root != "/"):
            raise Conflict(f"Group {root} is already created. Use PUT to change this group.")
        if root in m.apps:
            raise Conflict(f"An app with id [{root}] already exists.")
        under = {a: app for a, app in m.apps.items() if pathid.is_ancestor(root, a)}
        target: dict[str, AppDefinition] = {}
        for app_id, app in parsed.items():
            old = m.apps.get(app_id)
            new = appdef.next_version(app, old, at)
            new = appdef.assign_service_ports(
                new,
                m.used_service_ports(but=app_id)
                | {p.port for t in target.values() for p in t.port_definitions if p.port},
                m.config.local_port_min,
                m.config.local_port_max,
            )
            if old is not None and old.same_config(new) and old.instances == new.instances:
                new = old
            target[app_id] = new
        cancel = _locked(m, set(under) | set(target), force)
        groups_after = {g for g in m.explicit_groups if not pathid.is_ancestor(root, g)} | set(
            group_ids
        )
        groups_after.discard("/")
        return deploy(m, under, target, at=at, writes=cancel, groups_after=groups_after)


def _scale_group(m: Marathon, group_id: str, factor: Any, *, at: float, force: bool) -> Result:
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0:
        raise Invalid([{"path": "/scaleBy", "errors": ["must be a non-negative number"]}])
    under = {a: app for a, app in m.apps.items() if pathid.is_ancestor(group_id, a)}
    if not under and group_id not in m.all_group_ids():
        raise NotFound(f"Group '{group_id}' does not exist")
    counts = groups.scale_by(under, float(factor))
    target = {
        a: replace(app, instances=counts[a], version=at, last_scaling_at=at)
        for a, app in under.items()
    }
    cancel = _locked(m, under, force)
    return deploy(m, under, target, at=at, writes=cancel)


def delete_group(m: Marathon, group_id: str, *, force: bool) -> Result:
    group_id = pathid.normalize(group_id)
    with m.lock:
        if group_id not in m.all_group_ids():
            raise NotFound(f"Group '{group_id}' does not exist")
        under = {a: app for a, app in m.apps.items() if pathid.is_ancestor(group_id, a)}
        cancel = _locked(m, under, force)
        # The group itself goes too (is_ancestor is strict: a group is not its own).
        groups_after = {
            g for g in m.explicit_groups if g != group_id and not pathid.is_ancestor(group_id, g)
        }
        return deploy(m, under, {}, at=m.now(), writes=cancel, groups_after=groups_after)


def reset_delay(m: Marathon, app_id: str) -> None:
    with m.lock:
        app = m.app(app_id)
        if app.id not in m.delays:
            raise NotFound(f"application {app.id} not found in task queue")
        m.commit([Delete("delays", key_of(app.id))])
        m.delays.pop(app.id, None)
        m.want_offers()
    m.flush()
