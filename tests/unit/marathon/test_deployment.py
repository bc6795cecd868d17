"""Deployment plans: actions per app, dependency-ordered steps, locks, JSON and the stored form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.marathon import deployment
from daemons.marathon.deployment import RESTART, SCALE, START, STOP, DependencyCycle
from daemons.marathon.model import AppDefinition, DeploymentAction, DeploymentPlan

# The keys marathon-python accepts.
DEPLOYMENT_KEYS = {
    "affectedApps",
    "currentActions",
    "currentStep",
    "id",
    "steps",
    "totalSteps",
    "version",
    "affectedPods",
}
ACTION_KEYS = {"action", "app", "apps", "type", "readinessCheckResults", "pod"}


def app(app_id: str, instances: int = 1, cmd: str = "sleep 100", *deps: str) -> AppDefinition:
    return AppDefinition(id=app_id, cmd=cmd, instances=instances, dependencies=deps)


def apps(*defs: AppDefinition) -> dict[str, AppDefinition]:
    return {a.id: a for a in defs}


def make(
    original: dict[str, AppDefinition], target: dict[str, AppDefinition], **kw: Any
) -> DeploymentPlan:
    p = deployment.plan(original, target, deployment_id="d1", version=1000.0, **kw)
    assert p is not None
    return p


def steps(p: DeploymentPlan) -> list[list[tuple[str, str]]]:
    return [[(a.action, a.app) for a in s.actions] for s in p.steps]


def ts(t: float) -> str:
    return f"T{t:g}"


# --- actions -----------------------------------------------------------------------------------


def test_a_new_app_is_started_at_zero_then_scaled() -> None:
    p = make({}, apps(app("/web", 3)))
    assert steps(p) == [[(START, "/web")], [(SCALE, "/web")]]
    assert p.id == "d1" and p.version == 1000.0 and p.current_step == 0


def test_a_new_app_with_no_instances_is_only_started() -> None:
    assert steps(make({}, apps(app("/web", 0)))) == [[(START, "/web")]]


def test_a_removed_app_is_stopped() -> None:
    assert steps(make(apps(app("/web")), {})) == [[(STOP, "/web")]]


def test_a_config_change_restarts_and_a_count_change_scales() -> None:
    before = apps(app("/a", 1), app("/b", 1))
    after = apps(app("/a", 1, "sleep 200"), app("/b", 5))
    assert steps(make(before, after)) == [[(RESTART, "/a"), (SCALE, "/b")]]


def test_a_config_change_with_a_count_change_is_a_restart() -> None:
    assert steps(make(apps(app("/a", 1)), apps(app("/a", 4, "other")))) == [[(RESTART, "/a")]]


def test_nothing_changed_gives_no_plan() -> None:
    same = apps(app("/a", 2))
    assert deployment.plan(same, same, deployment_id="d", version=1.0) is None
    # A new version with the same config and count needs no action either.
    bumped = {"/a": AppDefinition(id="/a", cmd="sleep 100", instances=2, version=9.0)}
    assert deployment.plan(same, bumped, deployment_id="d", version=9.0) is None


def test_a_forced_restart_restarts_an_unchanged_app() -> None:
    same = apps(app("/a", 2), app("/b", 1))
    p = make(same, same, restart=frozenset({"/a", "/gone"}))
    assert steps(p) == [[(RESTART, "/a")]]


# --- ordering ----------------------------------------------------------------------------------


def test_apps_move_after_their_dependencies_and_independent_ones_together() -> None:
    target = apps(
        app("/db", 1),
        app("/cache", 1),
        app("/api", 1, "x", "/db", "/cache"),
        app("/web", 2, "x", "/api"),
        app("/batch", 1),
    )
    assert steps(make({}, target)) == [
        [(START, "/api"), (START, "/batch"), (START, "/cache"), (START, "/db"), (START, "/web")],
        [(SCALE, "/batch"), (SCALE, "/cache"), (SCALE, "/db")],
        [(SCALE, "/api")],
        [(SCALE, "/web")],
    ]


def test_stops_go_in_reverse_dependency_order_before_anything_else() -> None:
    original = apps(app("/db"), app("/api", 1, "x", "/db"), app("/web", 1, "x", "/api"))
    target = apps(app("/new"))
    assert steps(make(original, target)) == [
        [(STOP, "/web")],
        [(STOP, "/api")],
        [(STOP, "/db")],
        [(START, "/new")],
        [(SCALE, "/new")],
    ]


def test_levels_count_unchanged_apps_in_between() -> None:
    # /c depends on /b depends on /a; only /a and /c change: /c still waits for /a.
    original = apps(app("/a"), app("/b", 1, "x", "/a"), app("/c", 1, "x", "/b"))
    target = apps(app("/a", 2), app("/b", 1, "x", "/a"), app("/c", 3, "x", "/b"))
    assert steps(make(original, target)) == [[(SCALE, "/a")], [(SCALE, "/c")]]


def test_a_dependency_on_a_group_means_every_app_under_it() -> None:
    target = apps(app("/be/db"), app("/be/q"), app("/web", 1, "x", "/be"))
    assert steps(make({}, target))[1:] == [
        [(SCALE, "/be/db"), (SCALE, "/be/q")],
        [(SCALE, "/web")],
    ]


def test_a_dependency_cycle_is_refused_with_its_ids() -> None:
    target = apps(app("/a", 1, "x", "/c"), app("/b", 1, "x", "/a"), app("/c", 1, "x", "/b"))
    with pytest.raises(DependencyCycle) as err:
        deployment.plan({}, target, deployment_id="d", version=1.0)
    assert err.value.ids == ("/a", "/c", "/b", "/a")
    assert isinstance(err.value, ValueError)


def test_an_app_depending_on_itself_is_a_cycle() -> None:
    with pytest.raises(DependencyCycle):
        deployment.plan({}, apps(app("/a", 1, "x", "/a")), deployment_id="d", version=1.0)


@st.composite
def dags(draw: st.DrawFn) -> tuple[dict[str, AppDefinition], dict[str, AppDefinition]]:
    """An original and a target over /a0../aN, each app depending only on lower ones."""
    count = draw(st.integers(1, 8))
    ids = [f"/a{i}" for i in range(count)]

    def version(i: int) -> AppDefinition | None:
        if draw(st.integers(0, 3)) == 0:  # absent from this side
            return None
        deps = draw(st.lists(st.sampled_from(ids[:i]), unique=True)) if i else []
        return app(ids[i], draw(st.integers(0, 3)), draw(st.sampled_from(["x", "y"])), *deps)

    original = {a.id: a for i in range(count) if (a := version(i)) is not None}
    target = {a.id: a for i in range(count) if (a := version(i)) is not None}
    return original, target


@given(dags())
def test_every_action_follows_the_actions_of_its_dependencies(
    case: tuple[dict[str, AppDefinition], dict[str, AppDefinition]],
) -> None:
    original, target = case
    p = deployment.plan(original, target, deployment_id="d", version=1.0)
    if p is None:
        assert all(
            a in original and original[a].same_config(b) and original[a].instances == b.instances
            for a, b in target.items()
        )
        assert set(original) == set(target)
        return
    where: dict[tuple[str, str], int] = {}
    for n, step in enumerate(p.steps):
        assert step.actions, "no empty step"
        for a in step.actions:
            assert (a.action, a.app) not in where, "one action of a kind per app"
            where[(a.action, a.app)] = n
    for (action, app_id), n in where.items():
        if action in (SCALE, RESTART):
            for dep in target[app_id].dependencies:
                for other in (SCALE, RESTART):
                    assert where.get((other, dep), -1) < n
            assert where.get((START, app_id), -1) < n
        if action == STOP:
            assert app_id not in target
            for dependant, other_app in original.items():
                if app_id in other_app.dependencies and (STOP, dependant) in where:
                    assert where[(STOP, dependant)] < n


# --- locks -------------------------------------------------------------------------------------


def plan_of(dep_id: str, *app_ids: str) -> DeploymentPlan:
    p = deployment.plan({}, apps(*(app(a) for a in app_ids)), deployment_id=dep_id, version=1.0)
    assert p is not None
    return p


def test_locked_apps_name_the_deployment_holding_each_app() -> None:
    running = [plan_of("d1", "/a", "/b"), plan_of("d2", "/b", "/c")]
    assert deployment.locked_apps(running) == {"/a": "d1", "/b": "d1", "/c": "d2"}


def test_conflicts_are_the_running_deployments_touching_the_same_apps() -> None:
    running = [plan_of("d1", "/a"), plan_of("d2", "/b"), plan_of("d3", "/b", "/c")]
    assert deployment.conflicts(plan_of("new", "/b"), running) == ["d2", "d3"]
    assert deployment.conflicts(plan_of("new", "/z"), running) == []
    assert deployment.conflicts(running[0], running) == []  # a plan never conflicts with itself


# --- JSON --------------------------------------------------------------------------------------


def test_deployment_json_is_the_4_4_shape_with_a_one_based_current_step() -> None:
    p = make({"/old": app("/old")}, apps(app("/web", 2)))
    body = deployment.deployment_json(p, ts=ts)
    assert set(body) == DEPLOYMENT_KEYS
    assert body == {
        "id": "d1",
        "version": "T1000",
        "affectedApps": ["/old", "/web"],
        "affectedPods": [],
        "steps": [
            {"actions": [{"action": STOP, "app": "/old"}]},
            {"actions": [{"action": START, "app": "/web"}]},
            {"actions": [{"action": SCALE, "app": "/web"}]},
        ],
        "currentActions": [{"action": STOP, "app": "/old", "readinessCheckResults": []}],
        "currentStep": 1,
        "totalSteps": 3,
    }
    later = deployment.advance(deployment.advance(p))
    body = deployment.deployment_json(later, ts=ts)
    assert body["currentStep"] == 3
    assert body["currentActions"] == [{"action": SCALE, "app": "/web", "readinessCheckResults": []}]
    assert all(set(a) <= ACTION_KEYS for a in body["currentActions"])


def test_advancing_past_the_last_step_finishes_the_plan() -> None:
    p = make({}, apps(app("/web", 0)))
    assert not deployment.finished(p)
    assert deployment.current_actions(p) == (DeploymentAction(START, "/web"),)
    done = deployment.advance(deployment.advance(p))
    assert deployment.finished(done) and done.current_step == 1
    assert deployment.current_actions(done) == ()
    assert deployment.deployment_json(done, ts=ts)["currentStep"] == 1


def test_the_event_plan_carries_both_groups_and_the_steps() -> None:
    p = make({}, apps(app("/web", 0)))
    original = {"id": "/", "apps": [], "groups": [], "pods": [], "dependencies": [], "version": "a"}
    target = {**original, "version": "b"}
    assert deployment.plan_event_json(p, original, target, ts) == {
        "id": "d1",
        "version": "T1000",
        "original": original,
        "target": target,
        "steps": [{"actions": [{"action": START, "app": "/web"}]}],
    }
    assert deployment.step_json(p.steps[0]) == {"actions": [{"action": START, "app": "/web"}]}


# --- stored form -------------------------------------------------------------------------------


def app_to_stored(a: AppDefinition) -> dict[str, Any]:
    return {
        "id": a.id,
        "cmd": a.cmd,
        "instances": a.instances,
        "dependencies": list(a.dependencies),
        "version": a.version,
    }


def app_from_stored(raw: dict[str, Any]) -> AppDefinition:
    return AppDefinition(
        id=raw["id"],
        cmd=raw["cmd"],
        instances=raw["instances"],
        dependencies=tuple(raw["dependencies"]),
        version=raw["version"],
    )


def test_a_stored_plan_comes_back_equal_through_json() -> None:
    original = apps(app("/db"), app("/old"))
    target = apps(app("/db", 3, "new"), app("/api", 2, "x", "/db"))
    p = deployment.advance(
        deployment.plan(original, target, deployment_id="d9", version=1234.567) or plan_of("x")
    )
    raw = json.loads(json.dumps(deployment.stored_json(p, app_to_stored)))
    assert deployment.from_stored(raw, app_from_stored) == p
