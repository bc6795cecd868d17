"""Scheduling plans, with no threads, no store and no driver: a `State` in, a `Plan` out.

(Named test_marathon_planning: the basename must be unique across the test tree.)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from daemons.marathon import deployment, placement, planning
from daemons.marathon.backoff import Delay
from daemons.marathon.model import (
    AppDefinition,
    Constraint,
    DeploymentPlan,
    Instance,
    UnreachableStrategy,
    UpgradeStrategy,
)
from daemons.marathon.planning import Decline, Kill, Launch, OfferUse, Plan, State
from daemons.mesos_client.events import Offer
from tests.unit.marathon.factories import offer

NOW = 1_000.0
OLD, NEW = 10.0, 20.0  # config versions


def app(n: int = 3, app_id: str = "/web", version: float = NEW, **fields: Any) -> AppDefinition:
    return AppDefinition(
        id=app_id,
        cmd="serve",
        cpus=1.0,
        mem=64.0,
        instances=n,
        version=version,
        last_config_change_at=version,
        **fields,
    )


def inst(
    task_id: str,
    *,
    app_id: str = "/web",
    version: float = NEW,
    state: str = "TASK_RUNNING",
    staged_at: float = 0.0,
    agent: str = "a1",
    **fields: Any,
) -> Instance:
    return Instance(
        task_id=task_id,
        app_id=app_id,
        version=version,
        agent_id=agent,
        host=f"h-{agent}",
        state=state,
        staged_at=staged_at,
        **fields,
    )


def running(count: int, *, version: float = NEW, prefix: str = "t") -> list[Instance]:
    return [inst(f"{prefix}{k}", version=version, staged_at=float(k)) for k in range(count)]


def state(
    apps: list[AppDefinition],
    instances: list[Instance],
    deployments: Sequence[DeploymentPlan] = (),
    **fields: Any,
) -> State:
    return State(
        apps={a.id: a for a in apps},
        instances={i.task_id: i for i in instances},
        deployments={d.id: d for d in deployments},
        **fields,
    )


def rollout(
    before: Mapping[str, AppDefinition], after: Mapping[str, AppDefinition]
) -> DeploymentPlan:
    found = deployment.plan(before, after, deployment_id="d1", version=NEW)
    assert found is not None
    return found


def killed(plan: Plan) -> list[str]:
    return [k.task_id for k in plan.kills]


# --- deployments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "expected"), [("YOUNGEST_FIRST", ["t4", "t3"]), ("OLDEST_FIRST", ["t0", "t1"])]
)
def test_a_scale_down_plans_kills_by_kill_selection(selection: str, expected: list[str]) -> None:
    before = app(5, kill_selection=selection, task_kill_grace_period_seconds=7)
    after = replace(before, instances=3)
    plan = planning.plan(
        state([after], running(5), [rollout({"/web": before}, {"/web": after})]), NOW
    )
    assert killed(plan) == expected
    assert plan.kills[0] == Kill(expected[0], "a1", grace_period_seconds=7)
    assert plan.queue == {} and plan.progress == ()


def test_a_plan_never_launches_over_the_steps_budget() -> None:
    # A rolling restart of 4 with maximumOverCapacity 0.5: at most 6 at once, old and new.
    before = app(4, version=OLD, upgrade_strategy=UpgradeStrategy(1.0, 0.5))
    after = replace(before, cmd="serve --v2", version=NEW, last_config_change_at=NEW)
    d = rollout({"/web": before}, {"/web": after})
    old = running(4, version=OLD)
    assert planning.plan(state([after], old, [d]), NOW).launch == {"/web": 2}
    # Two new ones staging: nothing more until an old one is gone, though the app wants 4 new.
    staging = [inst(f"n{k}", state="TASK_STAGING", staged_at=50.0 + k) for k in range(2)]
    plan = planning.plan(state([after], old + staging, [d]), NOW)
    assert plan.launch == {} and plan.kills == ()


def test_a_done_step_is_passed_and_the_next_one_planned_in_the_same_pass() -> None:
    web = app(2)
    d = rollout({}, {"/web": web})  # StartApplication, then ScaleApplication
    plan = planning.plan(state([web], [], [d]), NOW)
    (progress,) = plan.progress
    assert progress.done == (d.steps[0],) and progress.deployment.current_step == 1
    assert not progress.finished and plan.launch == {"/web": 2}
    # Both running: the scale step is done and the deployment with it; nothing more to launch.
    moved = progress.deployment
    plan = planning.plan(state([web], running(2), [moved]), NOW)
    (progress,) = plan.progress
    assert progress.finished and progress.done == (d.steps[1],)
    assert plan.launch == {} and plan.kills == ()


def test_kills_already_sent_are_not_planned_again() -> None:
    gone = app(2)
    d = rollout({"/web": gone}, {})  # StopApplication
    instances = running(2)
    plan = planning.plan(state([], instances, [d], killing={"t1": NOW - 1}), NOW)
    assert killed(plan) == ["t0"]
    assert plan.kills[0].grace_period_seconds is None  # the app is gone: no grace known


def test_an_app_in_a_deployment_is_not_also_scaled_by_its_target() -> None:
    # During the step, the step decides: no surplus kill of the old ones the restart still needs.
    before = app(2, version=OLD)
    after = replace(before, cmd="serve --v2", version=NEW, last_config_change_at=NEW)
    instances = [*running(2, version=OLD), *running(2, prefix="n")]
    plan = planning.plan(
        state([after], instances, [rollout({"/web": before}, {"/web": after})]), NOW
    )
    assert killed(plan) == ["t1", "t0"]  # old ones, once new ones serve: the step's choice


# --- apps no deployment handles ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "expected"), [("YOUNGEST_FIRST", "replacement"), ("OLDEST_FIRST", "original")]
)
def test_an_unreachable_instance_back_after_its_replacement_is_planned_for_a_kill(
    selection: str, expected: str
) -> None:
    web = app(1, kill_selection=selection, unreachable_strategy=UnreachableStrategy(0, 600))
    back = inst("original", staged_at=1.0)
    replacement = inst("replacement", staged_at=5.0, agent="a2")
    plan = planning.plan(state([web], [back, replacement]), NOW)
    assert killed(plan) == [expected] and plan.queue == {}


def test_an_unreachable_instance_is_replaced_after_inactive_after_seconds() -> None:
    web = app(1, unreachable_strategy=UnreachableStrategy(300, 600))
    lost = inst("lost", state="TASK_UNREACHABLE", unreachable_since=NOW - 100)
    assert planning.plan(state([web], [lost]), NOW).launch == {}
    assert planning.plan(state([web], [lost]), NOW + 200).launch == {"/web": 1}


def test_a_delayed_app_stays_in_the_queue_but_launches_nothing() -> None:
    web = app(2)
    delay = Delay("/web", NEW, failures=1, until=NOW + 5)
    plan = planning.plan(state([web], [], delays={"/web": delay}), NOW)
    assert plan.queue == {"/web": 2} and plan.delayed == {"/web"} and plan.launch == {}
    later = planning.plan(state([web], [], delays={"/web": delay}), NOW + 6)
    assert later.launch == {"/web": 2}
    # A delay of an older config version does not hold the new one back.
    stale = replace(delay, app_version=OLD)
    assert planning.plan(state([web], [], delays={"/web": stale}), NOW).launch == {"/web": 2}


# --- the tick ----------------------------------------------------------------------------------


def test_the_tick_kills_a_timed_out_launch_a_step_then_replaces_in_the_same_plan() -> None:
    web = app(1)
    stuck = inst("stuck", state="TASK_STAGING", staged_at=NOW - 301)
    plan = planning.tick(state([web], [stuck]), NOW, launch_timeout=300)
    assert plan.kills == (Kill("stuck", "a1", reason="launch timed out"),)
    assert plan.launch == {}  # without a deployment it counts until it has ended
    scaling = rollout({"/web": app(0)}, {"/web": web})
    plan = planning.tick(state([web], [stuck], [scaling]), NOW, launch_timeout=300)
    assert killed(plan) == ["stuck"] and plan.launch == {"/web": 1}
    assert planning.tick(state([web], [stuck]), NOW - 2, launch_timeout=300).kills == ()


def test_the_tick_expunges_with_wipe_and_resends_unconfirmed_kills() -> None:
    web = app(2, unreachable_strategy=UnreachableStrategy(0, 600))
    lost = inst("lost", state="TASK_UNREACHABLE", unreachable_since=NOW - 600)
    slow = inst("slow", staged_at=2.0)
    plan = planning.tick(
        state([web], [lost, slow], killing={"slow": NOW - 31}, wipe={"slow"}),
        NOW,
        launch_timeout=300,
    )
    assert plan.kills == (Kill("lost", "a1", wipe=True), Kill("slow", "a1", wipe=True))
    again = planning.tick(state([web], [slow], killing={"slow": NOW - 29}), NOW, launch_timeout=300)
    assert again.kills == ()


def test_the_tick_kills_instances_of_a_gone_app_unless_a_deployment_stops_them() -> None:
    orphan = inst("orphan", app_id="/gone")
    assert killed(planning.tick(state([], [orphan]), NOW, launch_timeout=300)) == ["orphan"]
    stopping = rollout({"/gone": app(1, app_id="/gone")}, {})
    plan = planning.tick(state([], [orphan], [stopping]), NOW, launch_timeout=300)
    assert killed(plan) == ["orphan"] and plan.kills[0].reason == ""  # the stop step's kill


def test_kill_carries_the_grace_period_and_wipe() -> None:
    web = app(2, task_kill_grace_period_seconds=3)
    plan = planning.kill(state([web], running(2)), running(2)[:1], wipe=True)
    assert plan == Plan(kills=(Kill("t0", "a1", grace_period_seconds=3, wipe=True),))


# --- an offer round ----------------------------------------------------------------------------


def place(s: State, offers: list[Offer], **kwargs: Any) -> Plan:
    ids = itertools.count(1)
    options: dict[str, Any] = {"max_per_offer": 5, "refuse_seconds": 120.0, **kwargs}
    return placement.place(
        planning.plan(s, NOW), s, offers, now=NOW, new_id=lambda: f"id{next(ids)}", **options
    )


def test_an_offer_round_launches_what_the_plan_wants_and_declines_the_rest() -> None:
    web = app(3)
    first, second, third = offer(cpus=2), offer(), offer()
    plan = place(state([web], []), [first, second, third], max_per_offer=5)
    launch_1, launch_2, decline = plan.answers
    assert isinstance(launch_1, Launch) and isinstance(launch_2, Launch)
    assert [i.task_id for i in launch_1.instances] == ["web.id1", "web.id2"]
    assert [i.task_id for i in launch_2.instances] == ["web.id4"]
    assert all(i.state == "TASK_STAGING" and i.staged_at == NOW for i in launch_1.instances)
    assert all(i.version == NEW for i in launch_1.instances)
    assert [t["task_id"]["value"] for t in launch_1.task_infos] == ["web.id1", "web.id2"]
    assert decline == Decline(third.id, 120.0)  # nothing waits any more
    assert plan.offer_uses[:3] == (
        OfferUse("/web"),
        OfferUse("/web"),
        OfferUse("/web", ("InsufficientCpus",)),
    )
    assert plan.unplaced() == {}


def test_an_offer_that_fits_nothing_is_declined_briefly_while_an_app_waits() -> None:
    plan = place(state([app(1)], []), [offer(cpus=0.5)])
    assert plan.answers == (Decline(plan.answers[0].offer_id, placement.SHORT_REFUSE),)
    assert plan.unplaced() == {"/web": 1}


def test_at_most_max_per_offer_tasks_from_one_offer() -> None:
    plan = place(state([app(4)], []), [offer()], max_per_offer=1)
    (launch,) = plan.launches
    assert len(launch.instances) == 1 and plan.unplaced() == {"/web": 3}


def test_constraints_count_instances_placed_earlier_in_the_round() -> None:
    unique = app(2, constraints=(Constraint("hostname", "UNIQUE"),))
    plan = place(state([unique], []), [offer("h1", "a1"), offer("h1", "a1"), offer("h2", "a2")])
    first, again, other = plan.answers
    assert isinstance(first, Launch) and len(first.instances) == 1
    assert isinstance(again, Decline) and again.refuse_seconds == placement.SHORT_REFUSE
    assert isinstance(other, Launch) and other.instances[0].host == "h2"


def test_constraints_see_where_existing_instances_run() -> None:
    unique = app(2, constraints=(Constraint("hostname", "UNIQUE"),))
    s = state([unique], [inst("t0", agent="a1")], agents={"a1": ("h1", {})})
    plan = place(s, [offer("h1", "a1")])
    assert plan.launches == () and plan.offer_uses == (
        OfferUse("/web", ("UnfulfilledConstraint",)),
    )


def test_a_delayed_app_gets_no_launch_from_an_offer() -> None:
    delay = Delay("/web", NEW, failures=1, until=NOW + 5)
    plan = place(state([app(1)], [], delays={"/web": delay}), [offer()])
    assert plan.launches == () and plan.answers == (Decline(plan.answers[0].offer_id, 120.0),)
