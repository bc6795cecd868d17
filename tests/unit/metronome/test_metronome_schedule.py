"""Schedules: validation, cron ticks in time zones and across DST, the starting deadline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from daemons.metronome.schedule import (
    JobSchedules,
    Schedule,
    due,
    next_run,
    parse_schedule,
    schedule_json,
    schedules_from_record,
    schedules_record,
)
from daemons.metronome.validation import Invalid
from tests.clients import metronome_module

# dcos-metronome's generated protobuf module uses an API protobuf 3.20 marks deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")

BERLIN = ZoneInfo("Europe/Berlin")


def at(*args: int, tz: Any = UTC) -> float:
    return datetime(*args, tzinfo=tz).timestamp()


def local(seconds: float, tz: Any = BERLIN) -> str:
    return datetime.fromtimestamp(seconds, tz).isoformat()


def problems(raw: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as info:
        parse_schedule(raw, **kwargs)
    return {d["path"]: d["errors"] for d in info.value.details}


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ({"cron": "* * * * *"}, "/id", "is required"),
        ({"id": "A", "cron": "* * * * *"}, "/id", "must be lower-case letters"),
        ({"id": "s"}, "/cron", "is required"),
        ({"id": "s", "cron": "* * * *"}, "/cron", "must be a cron expression of 5 fields"),
        ({"id": "s", "cron": "0 * * * * *"}, "/cron", "must be a cron expression of 5 fields"),
        ({"id": "s", "cron": "61 * * * *"}, "/cron", "is not a valid cron expression"),
        ({"id": "s", "cron": "a b c d e"}, "/cron", "is not a valid cron expression"),
        ({"id": "s", "cron": "0 0 30 2 *"}, "/cron", "never fires (no such date)"),
        ({"id": "s", "cron": "@daily"}, "/cron", "must be a cron expression of 5 fields"),
        (
            {"id": "s", "cron": "* * * * *", "timezone": "Mars/Olympus"},
            "/timezone",
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            {"id": "s", "cron": "* * * * *", "timezone": "../etc/passwd"},
            "/timezone",
            "unknown time zone",
        ),
        (
            {"id": "s", "cron": "* * * * *", "startingDeadlineSeconds": 0},
            "/startingDeadlineSeconds",
            "must be at least 1",
        ),
        (
            {"id": "s", "cron": "* * * * *", "concurrencyPolicy": "REPLACE"},
            "/concurrencyPolicy",
            "must be one of ALLOW, FORBID",
        ),
        ({"id": "s", "cron": "* * * * *", "enabled": "yes"}, "/enabled", "must be a boolean"),
        ({"id": "s", "cron": "* * * * *", "every": 5}, "/every", "unknown property"),
        ([], "/", "must be an object"),
    ],
)
def test_each_problem_has_its_path_and_message(raw: Any, path: str, message: str) -> None:
    found = problems(raw)
    assert path in found, found
    assert any(e.startswith(message) for e in found[path]), found[path]


def test_defaults() -> None:
    s = parse_schedule({"id": "daily", "cron": "0  2 * * *"})
    assert s == Schedule("daily", "0 2 * * *", "UTC", 900, "ALLOW", True)


def test_put_takes_the_id_from_the_url() -> None:
    assert parse_schedule({"cron": "* * * * *"}, path_id="s").id == "s"
    assert problems({"id": "t", "cron": "* * * * *"}, path_id="s") == {
        "/id": ["must be 's', the id in the URL"]
    }


def test_next_run_in_utc_and_in_a_zone() -> None:
    utc = Schedule("s", "30 2 * * *")
    assert next_run(utc, at(2024, 1, 10, 12)) == at(2024, 1, 11, 2, 30)
    berlin = Schedule("s", "30 2 * * *", timezone="Europe/Berlin")
    # 02:30 in Berlin (CET, UTC+1) is 01:30 UTC.
    assert next_run(berlin, at(2024, 1, 10, 12)) == at(2024, 1, 11, 1, 30)


def test_spring_forward_fires_right_after_the_gap() -> None:
    # 2024-03-31 in Berlin: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    s = Schedule("s", "30 2 * * *", timezone="Europe/Berlin")
    first = next_run(s, at(2024, 3, 30, 12, tz=BERLIN))
    assert first is not None and local(first) == "2024-03-31T03:00:00+02:00"
    second = next_run(s, first)
    assert second is not None and local(second) == "2024-04-01T02:30:00+02:00"


def test_fall_back_fires_a_fixed_time_once_and_wildcards_on_real_time() -> None:
    # 2024-10-27 in Berlin: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    fixed = Schedule("s", "30 2 * * *", timezone="Europe/Berlin")
    first = next_run(fixed, at(2024, 10, 26, 12, tz=BERLIN))
    assert first is not None and local(first) == "2024-10-27T02:30:00+02:00"
    second = next_run(fixed, first)
    assert second is not None and local(second) == "2024-10-28T02:30:00+01:00"
    every_half_hour = Schedule("s", "*/30 * * * *", timezone="Europe/Berlin")
    seen = []
    t = at(2024, 10, 27, 1, 50, tz=BERLIN)
    for _ in range(5):
        n = next_run(every_half_hour, t)
        assert n is not None
        seen.append(local(n))
        t = n
    assert seen == [
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:30:00+02:00",
        "2024-10-27T02:00:00+01:00",
        "2024-10-27T02:30:00+01:00",
        "2024-10-27T03:00:00+01:00",
    ]


EVERY_MINUTE = Schedule("s", "* * * * *", starting_deadline_seconds=120)


@pytest.mark.parametrize(
    ("last", "now", "fired"),
    [
        # (last tick handled, now) -> the tick that starts a run
        (at(2024, 1, 1, 0, 0, 30), at(2024, 1, 1, 0, 0, 59), []),  # no tick in between
        (at(2024, 1, 1, 0, 0, 59), at(2024, 1, 1, 0, 1, 0), [at(2024, 1, 1, 0, 1)]),  # on time
        (at(2024, 1, 1, 0, 0, 59), at(2024, 1, 1, 0, 1, 0, 500), [at(2024, 1, 1, 0, 1)]),
        # 5 minutes down: only the latest tick (within 120 s) runs, once.
        (at(2024, 1, 1, 0, 0, 30), at(2024, 1, 1, 0, 5, 10), [at(2024, 1, 1, 0, 5)]),
        # exactly at the deadline still fires
        (at(2024, 1, 1, 0, 0, 30), at(2024, 1, 1, 0, 3, 0), [at(2024, 1, 1, 0, 3)]),
    ],
)
def test_due_fires_the_latest_tick_once(last: float, now: float, fired: list[float]) -> None:
    assert due(EVERY_MINUTE, last, now) == fired


def test_a_tick_missed_by_more_than_the_deadline_is_skipped() -> None:
    hourly = Schedule("s", "0 * * * *", starting_deadline_seconds=60)
    # Down from 09:59 to 10:05: the 10:00 tick is 5 minutes late, more than 60 s.
    assert due(hourly, at(2024, 1, 1, 9, 59), at(2024, 1, 1, 10, 5)) == []
    assert due(hourly, at(2024, 1, 1, 9, 59), at(2024, 1, 1, 10, 1)) == [at(2024, 1, 1, 10)]
    assert due(hourly, at(2024, 1, 1, 9, 59), at(2024, 1, 1, 10, 1, 1)) == []


def test_forbid_skips_while_a_run_is_active_and_disabled_never_fires() -> None:
    last, now = at(2024, 1, 1, 0, 0, 59), at(2024, 1, 1, 0, 1)
    forbid = Schedule("s", "* * * * *", concurrency_policy="FORBID")
    assert due(forbid, last, now, active_runs=1) == []
    assert due(forbid, last, now, active_runs=0) == [now]
    allow = Schedule("s", "* * * * *")
    assert due(allow, last, now, active_runs=3) == [now]
    assert due(Schedule("s", "* * * * *", enabled=False), last, now) == []


def test_json_has_next_run_at_and_the_client_parses_it() -> None:
    s = Schedule("s", "0 0 * * *", timezone="Europe/Berlin")
    out = schedule_json(s, at(2024, 1, 1, 12))
    assert out == {
        "id": "s",
        "cron": "0 0 * * *",
        "timezone": "Europe/Berlin",
        "startingDeadlineSeconds": 900,
        "concurrencyPolicy": "ALLOW",
        "enabled": True,
        "nextRunAt": "2024-01-01T23:00:00.000+0000",
    }
    metronome_module()
    from google.protobuf.json_format import Parse
    from metronome.models import ScheduleSpec

    assert Parse(json.dumps(out), ScheduleSpec()).nextRunAt == out["nextRunAt"]
    assert "nextRunAt" not in schedule_json(Schedule("s", "* * * * *", enabled=False), 0.0)


def test_stored_form_round_trips() -> None:
    state = JobSchedules(
        (Schedule("s", "* * * * *", "Asia/Tokyo", 60, "FORBID", False),), {"s": 5.0}
    )
    assert schedules_from_record(json.loads(json.dumps(schedules_record(state)))) == state
