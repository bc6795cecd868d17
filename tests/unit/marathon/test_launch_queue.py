"""How many launches an app wants, and when unreachable instances are replaced or expunged."""

from __future__ import annotations

import pytest

from daemons.marathon.launch_queue import expunge, replaceable_unreachable, surplus, wanted
from daemons.marathon.model import AppDefinition, Instance, UnreachableStrategy

NOW = 10_000.0


def app(
    instances: int = 3, inactive: int | None = 300, expunge_after: int | None = 600
) -> AppDefinition:
    return AppDefinition(
        id="/web",
        cmd="sleep 1000",
        instances=instances,
        unreachable_strategy=UnreachableStrategy(inactive, expunge_after),
    )


def task(n: int, state: str = "TASK_RUNNING", since: float | None = None) -> Instance:
    return Instance(
        task_id=f"web.{n}",
        app_id="/web",
        version=0.0,
        agent_id="a1",
        host="h1",
        state=state,
        staged_at=float(n),  # a higher n is younger
        unreachable_since=since,
    )


@pytest.mark.parametrize(
    ("states", "in_flight", "expected"),
    [
        ([], 0, 3),
        (["TASK_RUNNING"], 0, 2),
        (["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING"], 0, 0),
        (["TASK_KILLING"], 0, 2),  # still holds its slot until it is gone
        (["TASK_FAILED", "TASK_KILLED", "TASK_FINISHED", "TASK_LOST"], 0, 3),
        (["TASK_RUNNING"], 1, 1),
        (["TASK_RUNNING"], 5, 0),  # never negative
        (["TASK_RUNNING"] * 5, 0, 0),  # over target: scaling down is not this function's job
    ],
)
def test_wanted_counts_active_instances_and_launches_in_flight(
    states: list[str], in_flight: int, expected: int
) -> None:
    instances = [task(i, s) for i, s in enumerate(states)]
    assert wanted(app(), instances, in_flight, NOW) == expected


@pytest.mark.parametrize(
    ("unreachable_for", "inactive", "expected_wanted", "replaced"),
    [
        (10.0, 300, 0, False),  # recently unreachable: still counted, may come back
        (299.0, 300, 0, False),
        (300.0, 300, 1, True),  # inactive: a replacement is launched
        (0.0, 0, 1, True),  # the default strategy replaces at once
        (10_000.0, None, 0, False),  # disabled: never replaced
    ],
)
def test_unreachable_instances_count_until_inactive(
    unreachable_for: float, inactive: int | None, expected_wanted: int, replaced: bool
) -> None:
    a = app(instances=3, inactive=inactive, expunge_after=None if inactive is None else 600)
    instances = [task(0), task(1), task(2, "TASK_UNREACHABLE", NOW - unreachable_for)]
    assert wanted(a, instances, 0, NOW) == expected_wanted
    assert (replaceable_unreachable(a, instances, NOW) == [instances[2]]) is replaced


@pytest.mark.parametrize(
    ("unreachable_for", "expunged"),
    [(599.0, False), (600.0, True), (5000.0, True)],
)
def test_expunge_after_expunge_seconds(unreachable_for: float, expunged: bool) -> None:
    instances = [task(0), task(1, "TASK_UNREACHABLE", NOW - unreachable_for)]
    assert (expunge(app(), instances, NOW) == [instances[1]]) is expunged


def test_disabled_strategy_never_replaces_nor_expunges() -> None:
    a = app(inactive=None, expunge_after=None)
    instances = [task(0, "TASK_UNREACHABLE", 0.0)]
    assert replaceable_unreachable(a, instances, NOW) == []
    assert expunge(a, instances, NOW) == []
    assert wanted(a, instances, 0, NOW) == 2


def test_running_instances_are_never_replaced_or_expunged() -> None:
    instances = [task(0, "TASK_RUNNING", since=0.0), task(1, "TASK_FAILED")]
    assert replaceable_unreachable(app(inactive=0), instances, NOW) == []
    assert expunge(app(expunge_after=0), instances, NOW) == []


def test_unreachable_without_a_recorded_time_is_unreachable_since_now() -> None:
    instances = [task(0, "TASK_UNREACHABLE", None)]
    assert replaceable_unreachable(app(inactive=300), instances, NOW) == []
    assert replaceable_unreachable(app(inactive=0), instances, NOW) == instances


def test_an_unreachable_instance_back_after_its_replacement_makes_one_surplus() -> None:
    a = app(instances=1, inactive=0)
    # web.0 was unreachable and replaced by web.1: no surplus while web.0 stays away.
    away = [task(0, "TASK_UNREACHABLE", NOW - 5), task(1)]
    assert surplus(a, away, NOW) == []
    # web.0 is back: 2 of 1. YOUNGEST_FIRST (the default) kills the replacement.
    back = [task(0), task(1)]
    assert surplus(a, back, NOW) == [back[1]]
    oldest_first = AppDefinition(id="/web", cmd="x", instances=1, kill_selection="OLDEST_FIRST")
    assert surplus(oldest_first, back, NOW) == [back[0]]


@pytest.mark.parametrize(
    ("states", "instances", "expected"),
    [
        (["TASK_RUNNING", "TASK_RUNNING"], 2, []),
        (["TASK_RUNNING", "TASK_KILLING"], 1, []),  # already on its way out
        (["TASK_RUNNING", "TASK_STAGING", "TASK_RUNNING"], 1, ["web.1", "web.2"]),
        (["TASK_RUNNING", "TASK_FAILED"], 1, []),  # terminal ones do not count
        (["TASK_RUNNING", "TASK_UNREACHABLE"], 1, ["web.1"]),  # still counted (inactive 300)
        ([], 0, []),
    ],
)
def test_surplus_kills_the_least_useful_over_the_target(
    states: list[str], instances: int, expected: list[str]
) -> None:
    given = [
        task(i, s, NOW - 10 if s == "TASK_UNREACHABLE" else None) for i, s in enumerate(states)
    ]
    assert [i.task_id for i in surplus(app(instances=instances), given, NOW)] == expected
