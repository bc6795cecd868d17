"""Deployment plans (Marathon's DeploymentPlan): which action each app needs, in which step. Pure.

A plan compares the apps before and after a change and orders the actions in steps:

1. StopApplication for removed apps, dependants before their dependencies (reverse levels);
2. StartApplication for every new app, all in one step: Start only creates the app at 0
   instances, so it needs nothing running and is never ordered by dependencies (as Marathon);
3. ScaleApplication / RestartApplication by dependency level of the target (the longest chain
   of dependencies below the app, as Marathon's `runSpecsGroupedByLongestPath`), so an app moves
   only after everything it depends on has. A new app with instances > 0 gets its Scale here.

No clock, no ids, no I/O: the deployment id and version come in as arguments. The JSON
functions render `GET /v2/deployments` items and the SSE `deployment_info` plan; `stored_json` /
`from_stored` keep a plan in ZooKeeper so that a new leader resumes it where the old one was
(a rolling restart keeps its capacity bounds across a failover).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from daemons.marathon.model import (
    AppDefinition,
    DeploymentAction,
    DeploymentPlan,
    DeploymentStep,
)
from daemons.protocols import JSON

START = "StartApplication"
STOP = "StopApplication"
SCALE = "ScaleApplication"
RESTART = "RestartApplication"


class DependencyCycle(ValueError):
    """The apps' `dependencies` form a cycle (Marathon rejects such a group with 422)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = tuple(ids)
        super().__init__(f"Dependency graph has cyclic dependencies: {' -> '.join(self.ids)}")


def plan(
    original: Mapping[str, AppDefinition],
    target: Mapping[str, AppDefinition],
    *,
    deployment_id: str,
    version: float,
    restart: frozenset[str] = frozenset(),
) -> DeploymentPlan | None:
    """The plan taking `original` to `target`; None when no app needs an action.

    `restart` names apps to restart even though their config is unchanged (POST .../restart).
    Raises DependencyCycle when the target's (or, for stops, the original's) dependencies loop.
    """
    stopped = [app_id for app_id in original if app_id not in target]
    started = [app_id for app_id in target if app_id not in original]
    changed: dict[str, str] = {}
    for app_id, after in target.items():
        before = original.get(app_id)
        if before is None:
            if after.instances > 0:
                changed[app_id] = SCALE
        elif app_id in restart or not before.same_config(after):
            changed[app_id] = RESTART
        elif before.instances != after.instances:
            changed[app_id] = SCALE

    steps: list[DeploymentStep] = []
    if stopped:
        stop_levels = _levels(original)
        steps += _by_level({a: STOP for a in stopped}, stop_levels, reverse=True)
    steps.append(_step({a: START for a in started}))
    target_levels = _levels(target)  # also validates the target: a cycle raises here
    steps += _by_level(changed, target_levels, reverse=False)
    steps = [s for s in steps if s.actions]
    if not steps:
        return None
    return DeploymentPlan(
        id=deployment_id,
        version=version,
        original=dict(original),
        target=dict(target),
        steps=tuple(steps),
    )


def current_actions(plan: DeploymentPlan) -> tuple[DeploymentAction, ...]:
    """The actions of the step being worked on; () once every step is done."""
    if plan.current_step >= len(plan.steps):
        return ()
    return plan.steps[plan.current_step].actions


def advance(plan: DeploymentPlan) -> DeploymentPlan:
    """The plan with its current step done (the caller stores it before acting on the next)."""
    return dataclasses.replace(plan, current_step=min(plan.current_step + 1, len(plan.steps)))


def finished(plan: DeploymentPlan) -> bool:
    return plan.current_step >= len(plan.steps)


def locked_apps(plans: Iterable[DeploymentPlan]) -> dict[str, str]:
    """App id -> id of the deployment that holds it (the first one given, when several do)."""
    locks: dict[str, str] = {}
    for p in plans:
        for app_id in p.affected_apps:
            locks.setdefault(app_id, p.id)
    return locks


def conflicts(plan: DeploymentPlan, running: Iterable[DeploymentPlan]) -> list[str]:
    """Ids of the running deployments touching an app of `plan` (409 unless ?force=true)."""
    mine = set(plan.affected_apps)
    return [p.id for p in running if p.id != plan.id and mine.intersection(p.affected_apps)]


# --- JSON -------------------------------------------------------------------------------------


def deployment_json(plan: DeploymentPlan, *, ts: Callable[[float], str]) -> JSON:
    """A `GET /v2/deployments` item (only keys marathon-python accepts). currentStep is
    1-based; dcoscli prints it - 1."""
    total = len(plan.steps)
    return {
        "id": plan.id,
        "version": ts(plan.version),
        "affectedApps": list(plan.affected_apps),
        "affectedPods": [],
        "steps": [step_json(s) for s in plan.steps],
        "currentActions": [
            {**_action_json(a), "readinessCheckResults": []} for a in current_actions(plan)
        ],
        "currentStep": min(plan.current_step + 1, total),
        "totalSteps": total,
    }


def step_json(step: DeploymentStep) -> JSON:
    """`{"actions": [{"action", "app"}]}`: a step, also the SSE events' `currentStep`."""
    return {"actions": [_action_json(a) for a in step.actions]}


def plan_event_json(
    plan: DeploymentPlan, original_group: JSON, target_group: JSON, ts: Callable[[float], str]
) -> JSON:
    """The `plan` of deployment_info / deployment_step_* / deployment_success events.

    marathon-python parses `original` and `target` as groups, so the full form is required
    (the `plan-format=light` shape would crash it); the caller renders the two group JSONs.
    """
    return {
        "id": plan.id,
        "version": ts(plan.version),
        "original": original_group,
        "target": target_group,
        "steps": [step_json(s) for s in plan.steps],
    }


def stored_json(plan: DeploymentPlan, app_to_stored: Callable[[AppDefinition], JSON]) -> JSON:
    """The plan as kept in ZooKeeper: everything, so that `from_stored` gives it back equal."""
    return {
        "id": plan.id,
        "version": plan.version,
        "original": {app_id: app_to_stored(app) for app_id, app in plan.original.items()},
        "target": {app_id: app_to_stored(app) for app_id, app in plan.target.items()},
        "steps": [[_action_json(a) for a in s.actions] for s in plan.steps],
        "currentStep": plan.current_step,
    }


def from_stored(
    raw: Mapping[str, Any], app_from_stored: Callable[[JSON], AppDefinition]
) -> DeploymentPlan:
    return DeploymentPlan(
        id=str(raw["id"]),
        version=float(raw["version"]),
        original={k: app_from_stored(v) for k, v in raw["original"].items()},
        target={k: app_from_stored(v) for k, v in raw["target"].items()},
        steps=tuple(
            DeploymentStep(tuple(DeploymentAction(str(a["action"]), str(a["app"])) for a in s))
            for s in raw["steps"]
        ),
        current_step=int(raw["currentStep"]),
    )


def _action_json(action: DeploymentAction) -> JSON:
    return {"action": action.action, "app": action.app}


# --- ordering ---------------------------------------------------------------------------------


def _step(actions: Mapping[str, str]) -> DeploymentStep:
    return DeploymentStep(tuple(DeploymentAction(actions[a], a) for a in sorted(actions)))


def _by_level(
    actions: Mapping[str, str], levels: Mapping[str, int], *, reverse: bool
) -> list[DeploymentStep]:
    """One step per dependency level holding an action; apps of one level move together."""
    present = sorted({levels[a] for a in actions}, reverse=reverse)
    return [_step({a: act for a, act in actions.items() if levels[a] == lvl}) for lvl in present]


def _dependencies(app: AppDefinition, apps: Mapping[str, AppDefinition]) -> list[str]:
    """The apps `app` depends on. A dependency naming a group means every app under it
    (Marathon's group dependencies); one naming nothing deployed is ignored (validation's job)."""
    found: set[str] = set()
    for dep in app.dependencies:
        if dep in apps:
            found.add(dep)
            continue
        prefix = dep.rstrip("/") + "/"
        found.update(a for a in apps if a.startswith(prefix) and a != app.id)
    return sorted(found)


def _levels(apps: Mapping[str, AppDefinition]) -> dict[str, int]:
    """App id -> length of its longest dependency chain (0: depends on nothing).

    Iterative depth-first search (a deep chain must not hit the recursion limit); a node met
    again while still on the path closes a cycle.
    """
    deps = {app_id: _dependencies(app, apps) for app_id, app in apps.items()}
    level: dict[str, int] = {}
    for root in sorted(apps):
        if root in level:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(deps[root]))]
        on_path = {root}
        while stack:
            node, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                on_path.discard(node)
                level[node] = 1 + max((level[d] for d in deps[node]), default=-1)
            elif nxt in on_path:
                path = [n for n, _ in stack]
                raise DependencyCycle([*path[path.index(nxt) :], nxt])
            elif nxt not in level:
                stack.append((nxt, iter(deps[nxt])))
                on_path.add(nxt)
    return level
