"""Marathon's health state of a task (HealthCheckActor, Health). Pure: `now` is an argument.

One HealthResult per health check per task. The shell feeds it probe outcomes (`observe` for
Marathon-side HTTP/HTTPS/TCP probes, `from_mesos` for executor-side checks reported through
TaskStatus.healthy) and asks `should_kill` after each failure:

- failures while the task is not running, or within gracePeriodSeconds of its start before
  its first success, are ignored, not even counted (Marathon: "ignoreFailures");
- the task is killed once consecutiveFailures >= maxConsecutiveFailures > 0 (0 = never kill),
  that is on the maxConsecutiveFailures-th failure in a row past the grace period.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from daemons.marathon.model import HealthCheck, HealthResult
from daemons.protocols import JSON


def initial(check: HealthCheck) -> HealthResult:
    """No result yet: not alive, nothing counted (an instance with it is neither healthy nor
    unhealthy, see `instance_healthy`)."""
    return HealthResult()


def record(result: HealthResult, *, ok: bool, now: float, cause: str | None) -> HealthResult:
    """One probe outcome, counted unconditionally (Marathon's `Health.update`).

    A success clears the failure count; `lastFailureCause` is kept, as Marathon keeps it.
    """
    if ok:
        return dataclasses.replace(
            result,
            alive=True,
            consecutive_failures=0,
            first_success=result.first_success if result.first_success is not None else now,
            last_success=now,
        )
    return dataclasses.replace(
        result,
        alive=False,
        consecutive_failures=result.consecutive_failures + 1,
        last_failure=now,
        last_failure_cause=cause,
    )


def ignores_failure(
    check: HealthCheck, result: HealthResult, *, started_at: float | None, now: float
) -> bool:
    """A failure now does not count: the task is not running (`started_at` None), or it is
    within its grace period and has never passed the check."""
    if started_at is None:
        return True
    return result.first_success is None and now < started_at + check.grace_period_seconds


def observe(
    check: HealthCheck,
    result: HealthResult,
    *,
    ok: bool,
    now: float,
    cause: str | None,
    started_at: float | None,
) -> HealthResult:
    """What the shell calls with each probe outcome: `record`, minus the ignored failures."""
    if not ok and ignores_failure(check, result, started_at=started_at, now=now):
        return result
    return record(result, ok=ok, now=now, cause=cause)


def from_mesos(
    check: HealthCheck,
    result: HealthResult,
    *,
    healthy: bool,
    now: float,
    cause: str | None = None,
) -> HealthResult:
    """An executor-side check's outcome from TaskStatus.healthy (COMMAND, MESOS_*).

    The executor already applies the grace period and kills the task itself after
    consecutive_failures (Marathon puts maxConsecutiveFailures into HealthCheckInfo), so every
    reported outcome is counted.
    """
    return record(
        result,
        ok=healthy,
        now=now,
        cause=None if healthy else cause or f"{check.protocol} health check failed",
    )


def should_kill(
    check: HealthCheck, result: HealthResult, *, started_at: float | None, now: float
) -> bool:
    """Kill the task (`unhealthy_instance_kill_event`): enough failures in a row, outside the
    grace period; never when maxConsecutiveFailures is 0."""
    limit = check.max_consecutive_failures
    if limit <= 0 or result.consecutive_failures < limit:
        return False
    return not ignores_failure(check, result, started_at=started_at, now=now)


def instance_healthy(results: Iterable[HealthResult]) -> bool | None:
    """Healthy when every check is alive; unhealthy when one that has answered is not; None
    while there is no check or one has not answered yet (Marathon counts such a task in
    neither tasksHealthy nor tasksUnhealthy)."""
    answered: list[bool] = []
    waiting = False
    for r in results:
        if r.last_success is None and r.last_failure is None:
            waiting = True
        else:
            answered.append(r.alive)
    if not all(answered):
        return False
    if waiting or not answered:
        return None
    return True


def result_json(
    result: HealthResult, task_id: str, instance_id: str, ts: Callable[[float], str]
) -> JSON:
    """A task's `healthCheckResults` item (the keys marathon-python accepts; times formatted by
    `ts`, absent ones null)."""

    def when(t: float | None) -> str | None:
        return None if t is None else ts(t)

    return {
        "alive": result.alive,
        "consecutiveFailures": result.consecutive_failures,
        "firstSuccess": when(result.first_success),
        "lastFailure": when(result.last_failure),
        "lastSuccess": when(result.last_success),
        "lastFailureCause": result.last_failure_cause,
        "taskId": task_id,
        "instanceId": instance_id,
    }
