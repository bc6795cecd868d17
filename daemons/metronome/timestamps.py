"""Metronome's wire time format and run-id stamps. Pure: times come in as arguments.

Metronome writes `2016-07-15T13:02:59.735+0000` (UTC, milliseconds, `+0000`); dcoscli cuts the
string at `+` and parses the rest with `%Y-%m-%dT%H:%M:%S.%f`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(seconds: float) -> str:
    """Seconds since the epoch -> `2016-07-15T13:02:59.735+0000`."""
    moment = datetime.fromtimestamp(round(seconds, 3), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def format_optional(seconds: float | None) -> str | None:
    return None if seconds is None else format_time(seconds)


def parse_time(text: str) -> float:
    """The inverse of `format_time` (also accepts `Z` and `+00:00`); ValueError otherwise."""
    value = text.strip()
    if value.endswith("+0000"):
        value = value[: -len("+0000")] + "+00:00"
    elif value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return moment.timestamp()


def run_stamp(seconds: float) -> str:
    """The time part of a run id: UTC `yyyyMMddHHmmss`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%d%H%M%S")
