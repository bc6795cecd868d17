"""The per-app step decision: scale, stop, and the rolling restart's capacity invariants,
decided by `rolling` alone and, in the simulations, also through the scheduling plan that the
leader applies (`planning.plan` of a deployment of one step).

(Named test_marathon_rolling: tests/unit/exhibitor/test_rolling.py already owns the basename.)
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemons.marathon import planning, rolling
from daemons.marathon.model import (
    AppDefinition,
    DeploymentAction,
    DeploymentPlan,
    DeploymentStep,
    HealthCheck,
    Instance,
    UpgradeStrategy,
)
from daemons.marathon.rolling import RESTART, SCALE, START, STOP, Capacity, StepDecision

OLD, NEW = 1.0, 2.0


def app(
    n: int,
    mhc: float = 1.0,
    moc: float = 1.0,
    kill_selection: str = "YOUNGEST_FIRST",
) -> AppDefinition:
    return AppDefinition(
        id="/web",
        cmd="serve",
        instances=n,
        upgrade_strategy=UpgradeStrategy(mhc, moc),
        kill_selection=kill_selection,
        version=NEW,
        last_config_change_at=NEW,  # what the leader stamps on launches
    )


def inst(
    task_id: str,
    *,
    version: float = OLD,
    state: str = "TASK_RUNNING",
    staged_at: float = 0.0,
    healthy: bool | None = None,
) -> Instance:
    return Instance(
        task_id=task_id,
        app_id="/web",
        version=version,
        agent_id="a1",
        host="h1",
        state=state,
        staged_at=staged_at,
        healthy=healthy,
    )


def running(count: int, *, version: float = OLD, healthy: bool | None = True) -> list[Instance]:
    return [
        inst(f"{version}-{k}", version=version, staged_at=float(k), healthy=healthy)
        for k in range(count)
    ]


# --- capacity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "mhc", "moc", "expected"),
    [
        (4, 1.0, 1.0, Capacity(4, 8)),  # Marathon's default: double up, never below n
        (4, 0.5, 0.0, Capacity(2, 4)),
        (3, 1.0, 0.5, Capacity(3, 4)),  # 4.5 truncated
        (3, 0.5, 0.0, Capacity(2, 3)),  # 1.5 rounded up
        (10, 0.7, 0.3, Capacity(7, 13)),  # not 8: 10 * 0.7 is 7.000000000000001 in binary
        (1, 1.0, 0.0, Capacity(1, 2)),  # no room: one instance above the maximum
        (4, 1.0, 0.0, Capacity(4, 5)),
        (0, 1.0, 1.0, Capacity(0, 1)),
    ],
)
def test_capacity_follows_marathons_rounding(
    n: int, mhc: float, moc: float, expected: Capacity
) -> None:
    assert rolling.capacity(app(n, mhc, moc)) == expected


# --- start, scale, stop ------------------------------------------------------------------------


def test_start_is_done_at_once() -> None:
    assert rolling.next_actions(START, app(3), [], in_flight=0, health_required=True) == (
        StepDecision(done=True)
    )


def test_scale_up_counts_the_launches_in_flight() -> None:
    d = rolling.next_actions(SCALE, app(5), running(2), in_flight=1, health_required=False)
    assert d == StepDecision(launch=2)


def test_scale_is_done_when_n_are_ready() -> None:
    ready = running(3, healthy=True)
    assert rolling.next_actions(SCALE, app(3), ready, in_flight=0, health_required=True).done
    unsure = [*ready[:2], dataclasses.replace(ready[2], healthy=None)]
    d = rolling.next_actions(SCALE, app(3), unsure, in_flight=0, health_required=True)
    assert d == StepDecision()
    assert rolling.next_actions(SCALE, app(3), unsure, in_flight=0, health_required=False).done


@pytest.mark.parametrize(
    ("selection", "killed"),
    [("YOUNGEST_FIRST", ("1.0-4", "1.0-3")), ("OLDEST_FIRST", ("1.0-0", "1.0-1"))],
)
def test_scale_down_kills_by_kill_selection(selection: str, killed: tuple[str, ...]) -> None:
    d = rolling.next_actions(
        SCALE, app(3, kill_selection=selection), running(5), in_flight=0, health_required=True
    )
    assert d == StepDecision(kill=killed)


def test_scale_down_kills_the_least_useful_first() -> None:
    instances = [
        *running(3),
        inst("unhealthy", staged_at=0.5, healthy=False),
        inst("staging", state="TASK_STAGING", staged_at=0.1),
        inst("lost", state="TASK_UNREACHABLE", staged_at=0.2),
    ]
    d = rolling.next_actions(SCALE, app(3), instances, in_flight=0, health_required=True)
    assert d.kill == ("lost", "staging", "unhealthy")


def test_scale_down_waits_for_the_kills_and_asks_nothing_twice() -> None:
    instances = [*running(2), inst("k", state="TASK_KILLING", staged_at=9.0)]
    d = rolling.next_actions(SCALE, app(2), instances, in_flight=0, health_required=True)
    assert d == StepDecision()  # not done: k still holds its resources


def test_stop_kills_everything_and_is_done_when_none_is_left() -> None:
    instances = [*running(2), inst("k", state="TASK_KILLING"), inst("f", state="TASK_FAILED")]
    d = rolling.next_actions(STOP, app(2), instances, in_flight=0, health_required=False)
    assert d == StepDecision(kill=("1.0-1", "1.0-0"))
    gone = [inst("f", state="TASK_KILLED")]
    assert rolling.next_actions(STOP, app(2), gone, in_flight=0, health_required=False).done
    assert not rolling.next_actions(STOP, app(2), gone, in_flight=1, health_required=False).done


def test_an_unknown_action_is_an_error() -> None:
    with pytest.raises(ValueError, match="StartPod"):
        rolling.next_actions("StartPod", app(1), [], in_flight=0, health_required=False)


# --- restart examples --------------------------------------------------------------------------


def test_restart_with_the_default_strategy_launches_n_new_before_killing() -> None:
    d = rolling.next_actions(RESTART, app(2), running(2), in_flight=0, health_required=True)
    assert d == StepDecision(launch=2)


def test_restart_with_half_capacity_kills_half_first() -> None:
    d = rolling.next_actions(
        RESTART, app(4, 0.5, 0.0), running(4), in_flight=0, health_required=True
    )
    assert d == StepDecision(kill=("1.0-3", "1.0-2"))  # no launch until they are gone (total 4)


def test_restart_with_no_room_starts_one_above_the_maximum() -> None:
    # minimumHealthCapacity 1, maximumOverCapacity 0: Marathon launches one extra instance
    # (non-resident apps) rather than dropping below n.
    d = rolling.next_actions(
        RESTART, app(3, 1.0, 0.0), running(3), in_flight=0, health_required=True
    )
    assert d == StepDecision(launch=1)


def test_restart_kills_an_old_instance_once_a_new_one_is_ready() -> None:
    instances = [*running(3), inst("new", version=NEW, staged_at=5.0, healthy=True)]
    d = rolling.next_actions(
        RESTART, app(3, 1.0, 0.0), instances, in_flight=0, health_required=True
    )
    assert d == StepDecision(kill=("1.0-2",))
    unhealthy_new = [*running(3), inst("new", version=NEW, healthy=None)]
    d = rolling.next_actions(
        RESTART, app(3, 1.0, 0.0), unhealthy_new, in_flight=0, health_required=True
    )
    assert d == StepDecision()


def test_restart_kills_failing_old_instances_without_counting_them() -> None:
    instances = [*running(1), inst("sick", healthy=False, staged_at=7.0)]
    d = rolling.next_actions(
        RESTART, app(2, 1.0, 0.0), instances, in_flight=0, health_required=True
    )
    assert d.kill == ("sick",)


def test_restart_is_done_when_n_new_are_ready_and_no_old_is_left() -> None:
    new = running(2, version=NEW)
    assert rolling.next_actions(RESTART, app(2), new, in_flight=0, health_required=True).done
    with_killing = [*new, inst("old", state="TASK_KILLING")]
    d = rolling.next_actions(RESTART, app(2), with_killing, in_flight=0, health_required=True)
    assert d == StepDecision()


def test_restart_sheds_new_instances_beyond_n() -> None:
    new = [*running(2, version=NEW), inst("extra", version=NEW, state="TASK_STAGING")]
    d = rolling.next_actions(RESTART, app(2), new, in_flight=0, health_required=True)
    assert d == StepDecision(kill=("extra",))


def test_target_version_names_the_version_stamped_on_launches() -> None:
    stamped = running(2, version=7.0)
    d = rolling.next_actions(
        RESTART, app(2), stamped, in_flight=0, health_required=True, target_version=7.0
    )
    assert d.done


# --- simulation --------------------------------------------------------------------------------


class Cluster:
    """Instances reacting to decisions; events (a launch landing, a task starting, turning
    healthy, a kill completing) happen one at a time, in an order the test draws."""

    def __init__(self, instances: list[Instance], health_required: bool) -> None:
        self.instances = {i.task_id: i for i in instances}
        self.in_flight = 0
        self.health_required = health_required
        self.clock = 100.0
        self.killed: list[Instance] = []

    def apply(self, d: StepDecision) -> None:
        self.in_flight += d.launch
        for task_id in d.kill:
            i = self.instances[task_id]
            assert i.is_active and i.state != "TASK_KILLING", f"{task_id} killed twice"
            self.killed.append(i)
            self.instances[task_id] = dataclasses.replace(i, state="TASK_KILLING")

    def events(self) -> list[Callable[[], None]]:
        found: list[Callable[[], None]] = []
        if self.in_flight:
            found.append(self.land)
        for i in self.instances.values():
            if i.state == "TASK_KILLING":
                found.append(functools.partial(self.set, i, state="TASK_KILLED"))
            elif i.state == "TASK_STAGING":
                found.append(functools.partial(self.set, i, state="TASK_RUNNING"))
            elif i.state == "TASK_RUNNING" and self.health_required and i.healthy is None:
                found.append(functools.partial(self.set, i, healthy=True))
        return found

    def land(self) -> None:
        self.in_flight -= 1
        self.clock += 1
        task_id = f"new-{self.clock:g}"
        self.instances[task_id] = inst(
            task_id, version=NEW, state="TASK_STAGING", staged_at=self.clock
        )

    def land_all(self) -> None:
        while self.in_flight:
            self.land()

    def set(self, i: Instance, **changes: object) -> None:
        self.instances[i.task_id] = dataclasses.replace(i, **changes)  # type: ignore[arg-type]

    def live(self) -> list[Instance]:
        return [i for i in self.instances.values() if i.is_active]

    def serving(self) -> int:
        return sum(
            1
            for i in self.live()
            if i.state == "TASK_RUNNING" and (i.healthy is True or not self.health_required)
        )


Decide = Callable[[str, AppDefinition, Cluster], StepDecision]


def by_rolling(action: str, target: AppDefinition, cluster: Cluster) -> StepDecision:
    return rolling.next_actions(
        action,
        target,
        list(cluster.instances.values()),
        in_flight=cluster.in_flight,
        health_required=cluster.health_required,
    )


def by_plan(action: str, target: AppDefinition, cluster: Cluster) -> StepDecision:
    """The decision as the leader's plan makes it, for a deployment of this one step. The
    leader stores a launch's instances when it places them, so it never has launches in
    flight: the caller lands them at once (`Cluster.land_all`)."""
    if cluster.health_required:  # the leader requires health where the app has checks
        target = dataclasses.replace(target, health_checks=(HealthCheck(),))
    stopped = action == STOP
    step = DeploymentStep((DeploymentAction(action, target.id),))
    apps = {} if stopped else {target.id: target}
    d = DeploymentPlan("d1", NEW, {target.id: target} if stopped else {}, apps, (step,))
    plan = planning.plan(
        planning.State(
            apps=apps,
            instances=cluster.instances,
            deployments={d.id: d},
            killing={i.task_id: 0.0 for i in cluster.live() if i.state == "TASK_KILLING"},
        ),
        cluster.clock,
    )
    return StepDecision(
        launch=plan.launch.get(target.id, 0),
        kill=tuple(k.task_id for k in plan.kills),
        done=any(p.finished for p in plan.progress),
    )


def run(
    action: str,
    target: AppDefinition,
    cluster: Cluster,
    data: st.DataObject,
    decide: Decide = by_rolling,
) -> list[int]:
    """Drive the step to done; returns the serving count seen after each decision."""
    seen: list[int] = []
    for _ in range(1000):
        d = decide(action, target, cluster)
        cluster.apply(d)
        if decide is by_plan:
            cluster.land_all()
        seen.append(cluster.serving())
        if action == RESTART:
            total = len(cluster.live()) + cluster.in_flight
            assert total <= rolling.capacity(target).max_total
        if d.done:
            assert not d.launch and not d.kill
            return seen
        # Idempotent: right after applying a decision, the same call asks for nothing more.
        assert decide(action, target, cluster) == StepDecision()
        events = cluster.events()
        assert events, f"deadlock: {d} with {cluster.live()}"
        events[data.draw(st.integers(0, len(events) - 1))]()
    raise AssertionError("did not terminate")


strategies = st.tuples(
    st.integers(0, 6),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.sampled_from(["YOUNGEST_FIRST", "OLDEST_FIRST"]),
    st.booleans(),
)


@pytest.mark.parametrize("decide", [by_rolling, by_plan], ids=["rolling", "plan"])
@settings(max_examples=300)
@given(strategies, st.integers(0, 6), st.data())
def test_a_rolling_restart_keeps_capacity_and_always_finishes(
    decide: Decide,
    params: tuple[int, float, float, str, bool],
    old_count: int,
    data: st.DataObject,
) -> None:
    n, mhc, moc, selection, health_required = params
    target = app(n, mhc, moc, selection)
    old_count = min(old_count, n)
    cluster = Cluster(running(old_count), health_required)
    min_healthy = rolling.capacity(target).min_healthy

    seen = run(RESTART, target, cluster, data, decide)

    # Once minHealthy instances serve, a kill never takes the app below it.
    reached = old_count >= min_healthy
    for serving in seen:
        reached = reached or serving >= min_healthy
        assert not reached or serving >= min_healthy
    live = cluster.live()
    assert len(live) == n and all(i.version == NEW for i in live)
    # Old instances all serve alike, so they go strictly in killSelection order.
    ages = [i.staged_at for i in cluster.killed]
    assert ages == sorted(ages, reverse=selection == "YOUNGEST_FIRST")


@given(
    st.integers(0, 6),
    st.sampled_from(["YOUNGEST_FIRST", "OLDEST_FIRST"]),
    st.lists(st.sampled_from(["TASK_RUNNING", "TASK_STAGING"]), max_size=8),
)
def test_scaling_down_kills_staging_ones_first_then_by_kill_selection(
    n: int, selection: str, states: list[str]
) -> None:
    instances = [
        inst(f"t{k}", state=s, staged_at=float(k), healthy=True) for k, s in enumerate(states)
    ]
    d = rolling.next_actions(
        SCALE, app(n, kill_selection=selection), instances, in_flight=0, health_required=True
    )
    assert d.launch == max(0, n - len(states))
    youngest = selection == "YOUNGEST_FIRST"

    def by_age(state: str) -> list[str]:
        chosen = [i for i in instances if i.state == state]
        return [i.task_id for i in sorted(chosen, key=lambda i: i.staged_at, reverse=youngest)]

    expected = (by_age("TASK_STAGING") + by_age("TASK_RUNNING"))[: max(0, len(states) - n)]
    assert list(d.kill) == expected


@pytest.mark.parametrize("decide", [by_rolling, by_plan], ids=["rolling", "plan"])
@settings(max_examples=200)
@given(strategies, st.integers(0, 8), st.data())
def test_scaling_and_stopping_always_finish(
    decide: Decide, params: tuple[int, float, float, str, bool], start: int, data: st.DataObject
) -> None:
    n, mhc, moc, selection, health_required = params
    target = app(n, mhc, moc, selection)
    cluster = Cluster(running(start, version=NEW), health_required)
    run(SCALE, target, cluster, data, decide)
    assert len(cluster.live()) == n
    run(STOP, target, cluster, data, decide)
    assert cluster.live() == []
