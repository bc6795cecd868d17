"""Metronome schedules (`/v1/jobs/{id}/schedules`): parsing, validation, cron ticks and which
ticks fire. Pure.

Ticks come from `croniter` over an aware datetime in the schedule's zone, so they follow the
zone's wall clock across daylight-saving changes the way Vixie cron does:
- spring forward: a time inside the skipped hour fires at the first instant after the gap;
- fall back: a *fixed-time* entry (minute and hour fields not starting with `*`) fires once, at
  the first occurrence of the repeated wall time; a wildcard entry (`*/30 * * * *`) keeps firing
  on real time, in both passes of the repeated hour.

`due` decides what to start at `now`, given the last tick already handled: only the latest tick,
and only when it was missed by at most `startingDeadlineSeconds` (after downtime older ticks are
skipped, not run late — Kubernetes' CronJob rule; Metronome drops them too). With FORBID a tick
is skipped while a run of the job is active.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# croniter ships no type information and types-croniter is not among our pins.
from croniter import (
    CroniterBadDateError,
    CroniterError,
    croniter,
)

from daemons.metronome import validation as v
from daemons.metronome.timestamps import format_time
from daemons.protocols import JSON

POLICIES = ("ALLOW", "FORBID")
DEFAULT_STARTING_DEADLINE = 900
KEYS = frozenset(
    {
        "id",
        "cron",
        "timezone",
        "startingDeadlineSeconds",
        "concurrencyPolicy",
        "enabled",
        "nextRunAt",
    }
)
# Safety bound on croniter steps per call (a window of 15 min of `* * * * *` is 15 steps).
MAX_STEPS = 100_000


@dataclass(frozen=True)
class Schedule:
    id: str
    cron: str
    timezone: str = "UTC"
    starting_deadline_seconds: int = DEFAULT_STARTING_DEADLINE
    concurrency_policy: str = "ALLOW"
    enabled: bool = True


def cron_problem(expression: str, zone: ZoneInfo | None = None) -> str | None:
    """Why `expression` is not a usable 5-field cron expression, or None."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            "must be a cron expression of 5 fields (minute hour day-of-month month day-of-week),"
            f" got {len(fields)}"
        )
    try:
        if not croniter.is_valid(expression):
            return "is not a valid cron expression"
        # An expression such as `0 0 30 2 *` is well-formed but never fires.
        croniter(expression, datetime(2000, 1, 1, tzinfo=zone or ZoneInfo("UTC"))).get_next(float)
    except CroniterBadDateError:
        return "never fires (no such date)"
    except (CroniterError, ValueError, KeyError) as err:
        return f"is not a valid cron expression: {err}"
    return None


def zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (expected an IANA name such as Europe/Berlin)"
    return None


def read_schedule(
    raw: Any, path: str, p: v.Problems, *, path_id: str | None = None
) -> Schedule | None:
    """Collect the problems of one schedule document into `p`; the value when it had none.
    With `path_id` (PUT), a missing `id` is taken from the URL and a different one refused."""
    before = len(p)
    if not isinstance(raw, dict):
        p.add(path, "must be an object")
        return None
    v.reject_unknown(raw, KEYS, path, p)
    if path_id is not None:
        if raw.get("id") is None:
            raw = {**raw, "id": path_id}
        elif raw.get("id") != path_id:
            p.add(v.child(path, "id"), f"must be {path_id!r}, the id in the URL")
    schedule_id = v.identifier(raw, "id", path, p)
    timezone = v.string(raw, "timezone", path, p) or "UTC"
    zone_error = zone_problem(timezone)
    if zone_error:
        p.add(v.child(path, "timezone"), zone_error)
    cron = v.string(raw, "cron", path, p, required=True)
    if cron is not None:
        cron_error = cron_problem(cron, None if zone_error else ZoneInfo(timezone))
        if cron_error:
            p.add(v.child(path, "cron"), cron_error)
    deadline = v.integer(
        raw, "startingDeadlineSeconds", path, p, default=DEFAULT_STARTING_DEADLINE, minimum=1
    )
    policy = v.string(raw, "concurrencyPolicy", path, p) or "ALLOW"
    if policy not in POLICIES:
        p.add(v.child(path, "concurrencyPolicy"), f"must be one of {', '.join(POLICIES)}")
    enabled = v.boolean(raw, "enabled", path, p, True)
    if len(p) != before or schedule_id is None or cron is None:
        return None
    return Schedule(
        id=schedule_id,
        cron=" ".join(cron.split()),
        timezone=timezone,
        starting_deadline_seconds=deadline or DEFAULT_STARTING_DEADLINE,
        concurrency_policy=policy,
        enabled=enabled,
    )


def parse_schedule(raw: Any, *, path_id: str | None = None) -> Schedule:
    """One schedule document, or `Invalid` listing every problem."""
    p = v.Problems()
    schedule = read_schedule(raw, "", p, path_id=path_id)
    p.raise_if_any()
    assert schedule is not None
    return schedule


# --- ticks ---------------------------------------------------------------------------------------


def _is_wildcard(cron: str) -> bool:
    """Vixie cron's test: a job whose minute or hour field starts with `*`."""
    minute, hour = cron.split()[:2]
    return minute.startswith("*") or hour.startswith("*")


def ticks(schedule: Schedule, after: float) -> Iterator[float]:
    """Every tick strictly after `after` (seconds since the epoch), in order."""
    zone = ZoneInfo(schedule.timezone)
    iterator = croniter(schedule.cron, datetime.fromtimestamp(after, zone))
    wildcard = _is_wildcard(schedule.cron)
    for _ in range(MAX_STEPS):
        try:
            tick = float(iterator.get_next(float))
        except CroniterBadDateError:
            return
        if not wildcard and datetime.fromtimestamp(tick, zone).fold == 1:
            continue  # the second pass of a repeated wall time: this entry ran in the first
        yield tick


def next_run(schedule: Schedule, after: float) -> float | None:
    """The first tick after `after`; None when the expression never fires again."""
    return next(ticks(schedule, after), None)


def due(schedule: Schedule, last_tick: float, now: float, active_runs: int = 0) -> list[float]:
    """The ticks in (last_tick, now] to start a run for at `now`: the latest one, if it is at
    most `startingDeadlineSeconds` old; none for a disabled schedule or, with FORBID, while a run
    is active."""
    if not schedule.enabled:
        return []
    first = next_run(schedule, last_tick)
    if first is None or first > now:
        return []  # the common case, one croniter step
    oldest_allowed = now - schedule.starting_deadline_seconds
    latest: float | None = None
    for tick in ticks(schedule, max(last_tick, oldest_allowed - 1.0)):
        if tick > now:
            break
        if tick >= oldest_allowed and tick > last_tick:
            latest = tick
    if latest is None:
        return []
    if schedule.concurrency_policy == "FORBID" and active_runs > 0:
        return []
    return [latest]


# --- JSON ----------------------------------------------------------------------------------------


def schedule_record(schedule: Schedule) -> JSON:
    """The stored form (and the wire form without `nextRunAt`)."""
    return {
        "id": schedule.id,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "startingDeadlineSeconds": schedule.starting_deadline_seconds,
        "concurrencyPolicy": schedule.concurrency_policy,
        "enabled": schedule.enabled,
    }


def schedule_json(schedule: Schedule, now: float) -> JSON:
    """What the API answers: the record plus `nextRunAt` (omitted while it would never run)."""
    out = schedule_record(schedule)
    upcoming = next_run(schedule, now) if schedule.enabled else None
    if upcoming is not None:
        out["nextRunAt"] = format_time(upcoming)
    return out


def schedule_from_record(record: Mapping[str, Any]) -> Schedule:
    return parse_schedule(dict(record))


@dataclass(frozen=True)
class JobSchedules:
    """A job's schedules (at most one) and, per schedule, the last tick that started a run (or
    when the schedule was made): after a restart, ticks after it may still fire (`due`)."""

    schedules: tuple[Schedule, ...] = ()
    last_ticks: Mapping[str, float] = field(default_factory=dict)

    def get(self, schedule_id: str) -> Schedule | None:
        return next((s for s in self.schedules if s.id == schedule_id), None)


def schedules_record(state: JobSchedules) -> JSON:
    return {
        "schedules": [schedule_record(s) for s in state.schedules],
        "lastTicks": dict(state.last_ticks),
    }


def schedules_from_record(record: Mapping[str, Any]) -> JobSchedules:
    return JobSchedules(
        tuple(schedule_from_record(s) for s in record.get("schedules", [])),
        {str(k): float(t) for k, t in (record.get("lastTicks") or {}).items()},
    )
