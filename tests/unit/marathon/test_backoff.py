"""Launch backoff: the delay sequence, what counts as a failure, resets, the stored form (a new
leader goes on from it)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.marathon import backoff
from daemons.marathon.backoff import Delay
from daemons.marathon.model import AppDefinition


def app(**kw: float) -> AppDefinition:
    fields: dict[str, float] = {"version": 10.0, "last_config_change_at": 10.0, **kw}
    return AppDefinition(id="/crash", cmd="false", **fields)  # type: ignore[arg-type]


def delays(a: AppDefinition, failures: int, now: float = 0.0) -> list[float]:
    d: Delay | None = None
    seen = []
    for _ in range(failures):
        d = backoff.on_failure(d, a, now)
        seen.append(round(backoff.time_left(d, now), 9))
    return seen


def test_delays_grow_by_the_factor_from_backoff_seconds() -> None:
    # 1, 1.15, 1.15^2, 1.15^3 with the defaults (backoffSeconds 1, backoffFactor 1.15).
    assert delays(app(), 4) == [1.0, 1.15, 1.3225, 1.520875]


def test_delays_are_capped_at_max_launch_delay() -> None:
    # 2, 4, 8, 10, 10: capped at maxLaunchDelaySeconds.
    a = app(backoff_seconds=2.0, backoff_factor=2.0, max_launch_delay_seconds=10.0)
    assert delays(a, 5) == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_a_crash_loop_of_any_length_stays_at_the_cap() -> None:
    # 1.15 ** 10000 overflows a float: the cap is reached without computing it.
    assert backoff.delay_seconds(app(), 10_000) == 300.0
    assert backoff.delay_seconds(app(backoff_seconds=0.0), 50) == 0.0
    assert backoff.delay_seconds(app(backoff_factor=1.0), 50) == 1.0
    assert backoff.delay_seconds(app(), 0) == 0.0


@given(st.integers(1, 2000), st.floats(1.0, 3.0), st.floats(0.0, 5.0), st.floats(0.0, 600.0))
def test_delays_never_shrink_and_never_pass_the_cap(
    failures: int, factor: float, base: float, cap: float
) -> None:
    a = app(backoff_seconds=base, backoff_factor=factor, max_launch_delay_seconds=cap)
    now, nxt = backoff.delay_seconds(a, failures), backoff.delay_seconds(a, failures + 1)
    assert 0.0 <= now <= nxt <= cap


def test_until_is_absolute_from_the_failure_time() -> None:
    d = backoff.on_failure(None, app(), 100.0)
    assert d == Delay(app_id="/crash", app_version=10.0, failures=1, until=101.0)
    d = backoff.on_failure(d, app(), 200.0)
    assert d.failures == 2 and d.until == pytest.approx(201.15)
    assert backoff.time_left(d, 200.5) == pytest.approx(0.65)
    assert not backoff.overdue(d, 200.5)
    assert backoff.time_left(d, 300.0) == 0.0 and backoff.overdue(d, 300.0)
    assert backoff.time_left(None, 1.0) == 0.0 and backoff.overdue(None, 1.0)


@pytest.mark.parametrize(
    ("state", "grows"),
    [
        ("TASK_FAILED", True),
        ("TASK_FINISHED", True),
        ("TASK_ERROR", True),
        ("TASK_LOST", True),
        ("TASK_DROPPED", True),
        ("TASK_GONE", True),
        ("TASK_KILLED", False),
        ("TASK_KILLING", False),
        ("TASK_GONE_BY_OPERATOR", False),
        ("TASK_RUNNING", False),
        ("TASK_UNREACHABLE", False),
    ],
)
def test_only_failures_grow_the_delay(state: str, grows: bool) -> None:
    assert backoff.counts_as_failure(state) is grows


def test_a_new_config_version_starts_again_but_scaling_does_not() -> None:
    d = backoff.on_failure(backoff.on_failure(None, app(), 0.0), app(), 1.0)
    assert d.failures == 2
    scaled = app(instances=5, version=20.0)  # same last_config_change_at
    assert backoff.is_current(d, scaled)
    assert backoff.on_failure(d, scaled, 2.0).failures == 3
    changed = app(version=30.0, last_config_change_at=30.0)
    assert not backoff.is_current(d, changed)
    fresh = backoff.on_failure(d, changed, 3.0)
    assert fresh == Delay("/crash", 30.0, 1, 4.0)


def test_an_app_without_version_info_is_keyed_by_its_version() -> None:
    a = AppDefinition(id="/x", cmd="false", version=5.0)
    assert backoff.on_failure(None, a, 0.0).app_version == 5.0


def test_queue_delay_json_has_whole_seconds_and_overdue() -> None:
    d = Delay("/crash", 10.0, 3, until=107.9)
    assert backoff.queue_delay_json(d, 100.0) == {"timeLeftSeconds": 7, "overdue": False}
    assert backoff.queue_delay_json(d, 108.0) == {"timeLeftSeconds": 0, "overdue": True}
    assert backoff.queue_delay_json(None, 0.0) == {"timeLeftSeconds": 0, "overdue": True}


@given(
    st.text(min_size=1),
    st.floats(0, 2e9, allow_nan=False),
    st.integers(1, 10**6),
    st.floats(0, 2e9, allow_nan=False),
)
def test_the_stored_delay_comes_back_equal_through_json(
    app_id: str, version: float, failures: int, until: float
) -> None:
    # A new leader reads this and goes on backing off from where the old one was.
    d = Delay(app_id, version, failures, until)
    assert backoff.from_stored(json.loads(json.dumps(backoff.stored_json(d)))) == d
