"""Health state: recording outcomes, the grace period, the kill threshold, JSON."""

from __future__ import annotations

from daemons.marathon import health
from daemons.marathon.model import HealthCheck, HealthResult

CHECK = HealthCheck(grace_period_seconds=30, interval_seconds=5, max_consecutive_failures=3)
STARTED = 1000.0


def ts(t: float) -> str:
    return f"T{t:g}"


def fail(r: HealthResult, now: float, check: HealthCheck = CHECK) -> HealthResult:
    return health.observe(check, r, ok=False, now=now, cause="HTTP 500", started_at=STARTED)


def succeed(r: HealthResult, now: float, check: HealthCheck = CHECK) -> HealthResult:
    return health.observe(check, r, ok=True, now=now, cause=None, started_at=STARTED)


def test_the_initial_result_has_nothing_yet() -> None:
    assert health.initial(CHECK) == HealthResult(alive=False, consecutive_failures=0)


def test_record_tracks_successes_and_failures_like_marathon() -> None:
    r = health.record(health.initial(CHECK), ok=True, now=1.0, cause=None)
    r = health.record(r, ok=True, now=2.0, cause=None)
    assert r == HealthResult(alive=True, first_success=1.0, last_success=2.0)
    r = health.record(r, ok=False, now=3.0, cause="ConnectionRefused")
    r = health.record(r, ok=False, now=4.0, cause="HTTP 503")
    assert r == HealthResult(
        alive=False,
        consecutive_failures=2,
        first_success=1.0,
        last_success=2.0,
        last_failure=4.0,
        last_failure_cause="HTTP 503",
    )
    r = health.record(r, ok=True, now=5.0, cause=None)
    assert r.alive and r.consecutive_failures == 0 and r.first_success == 1.0
    assert r.last_failure_cause == "HTTP 503"  # kept after recovery, as Marathon does


def test_failures_within_the_grace_period_are_not_counted() -> None:
    r = health.initial(CHECK)
    for now in (STARTED + 5, STARTED + 10, STARTED + 25):
        r = fail(r, now)
        assert not health.should_kill(CHECK, r, started_at=STARTED, now=now)
    assert r == health.initial(CHECK)
    # Past the grace period: the third failure in a row kills.
    r = fail(r, STARTED + 30)
    r = fail(r, STARTED + 35)
    assert not health.should_kill(CHECK, r, started_at=STARTED, now=STARTED + 35)
    r = fail(r, STARTED + 40)
    assert r.consecutive_failures == 3
    assert health.should_kill(CHECK, r, started_at=STARTED, now=STARTED + 40)


def test_after_a_first_success_the_grace_period_no_longer_protects() -> None:
    r = succeed(health.initial(CHECK), STARTED + 1)
    for now in (STARTED + 2, STARTED + 3, STARTED + 4):
        r = fail(r, now)
    assert r.consecutive_failures == 3
    assert health.should_kill(CHECK, r, started_at=STARTED, now=STARTED + 4)


def test_a_success_resets_the_count() -> None:
    r = health.initial(CHECK)
    for now in (STARTED + 31, STARTED + 32):
        r = fail(r, now)
    r = succeed(r, STARTED + 33)
    r = fail(r, STARTED + 34)
    assert not health.should_kill(CHECK, r, started_at=STARTED, now=STARTED + 34)


def test_zero_max_failures_never_kills() -> None:
    never = HealthCheck(grace_period_seconds=0, max_consecutive_failures=0)
    r = health.initial(never)
    for k in range(50):
        r = fail(r, STARTED + k, never)
    assert r.consecutive_failures == 50
    assert not health.should_kill(never, r, started_at=STARTED, now=STARTED + 50)


def test_a_task_that_is_not_running_is_never_judged() -> None:
    r = health.initial(CHECK)
    assert health.observe(CHECK, r, ok=False, now=5.0, cause="x", started_at=None) == r
    counted = HealthResult(consecutive_failures=9, last_failure=1.0)
    assert not health.should_kill(CHECK, counted, started_at=None, now=1e9)


def test_mesos_reported_health_counts_every_outcome() -> None:
    check = HealthCheck(protocol="MESOS_HTTP")
    r = health.from_mesos(check, health.initial(check), healthy=False, now=1.0)
    assert r.consecutive_failures == 1 and r.last_failure_cause == "MESOS_HTTP health check failed"
    r = health.from_mesos(check, r, healthy=True, now=2.0)
    assert r.alive and r.first_success == 2.0 and r.consecutive_failures == 0
    r = health.from_mesos(check, r, healthy=False, now=3.0, cause="exit 1")
    assert r.last_failure_cause == "exit 1"


def test_an_instance_is_healthy_when_every_check_is_alive() -> None:
    alive = HealthResult(alive=True, last_success=1.0, first_success=1.0)
    dead = HealthResult(alive=False, consecutive_failures=1, last_failure=2.0)
    waiting = HealthResult()
    assert health.instance_healthy([]) is None
    assert health.instance_healthy([waiting]) is None
    assert health.instance_healthy([alive, waiting]) is None
    assert health.instance_healthy([alive, alive]) is True
    assert health.instance_healthy([alive, dead]) is False
    assert health.instance_healthy([dead, waiting]) is False


def test_result_json_has_the_healthcheckresult_keys_only() -> None:
    r = HealthResult(
        alive=False,
        consecutive_failures=2,
        first_success=10.0,
        last_success=11.0,
        last_failure=12.5,
        last_failure_cause="HTTP 500",
    )
    assert health.result_json(r, "web.t1", "web.instance-1", ts) == {
        "alive": False,
        "consecutiveFailures": 2,
        "firstSuccess": "T10",
        "lastFailure": "T12.5",
        "lastSuccess": "T11",
        "lastFailureCause": "HTTP 500",
        "taskId": "web.t1",
        "instanceId": "web.instance-1",
    }
    empty = health.result_json(HealthResult(), "t", "i", ts)
    assert empty["firstSuccess"] is None and empty["lastFailureCause"] is None
