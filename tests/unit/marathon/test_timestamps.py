"""Marathon timestamps: the `…T15:59:51.164Z` form marathon-python parses, and back."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.marathon.timestamps import marathon_ts, parse_marathon_ts
from tests.clients import marathon_module


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1443542391.164, "2015-09-29T15:59:51.164Z"),
        (1443542391.0, "2015-09-29T15:59:51.000Z"),
        (1443542391.1649, "2015-09-29T15:59:51.165Z"),  # rounded to the millisecond
        (1443542391.9996, "2015-09-29T15:59:52.000Z"),  # the carry reaches the seconds
        (1709208000.5, "2024-02-29T12:00:00.500Z"),
    ],
)
def test_marathon_ts_formats_utc_millis_z(seconds: float, text: str) -> None:
    assert marathon_ts(seconds) == text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2015-09-29T15:59:51.164Z", 1443542391.164),
        ("2015-09-29T15:59:51Z", 1443542391.0),
        ("2015-09-29T15:59:51.164+00:00", 1443542391.164),
        ("2015-09-29T15:59:51+00:00", 1443542391.0),
        ("2015-09-29T15:59:51.164000Z", 1443542391.164),  # marathon-python echoes %f
        ("1970-01-01T00:00:00.000Z", 0.0),
    ],
)
def test_parse_accepts_with_and_without_millis(text: str, seconds: float) -> None:
    assert parse_marathon_ts(text) == pytest.approx(seconds, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2015-09-29",
        "2015-09-29 15:59:51.164Z",  # space instead of T
        "2015-09-29T15:59:51.164",  # no zone
        "2015-09-29T15:59:51.164+02:00",  # not UTC
        "2015-09-29T15:59:51.164+0000",  # Metronome's form, not Marathon's
        "2015-13-29T15:59:51.164Z",  # month 13
        "2015-02-30T15:59:51.164Z",  # no such day
        "2015-09-29T25:59:51Z",
        "2015-09-29T15:59:51.Z",
        "x2015-09-29T15:59:51Z",
    ],
)
def test_parse_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_marathon_ts(text)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(ValueError):
        parse_marathon_ts(1443542391)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=4_102_444_800_000))  # up to year 2100, in ms
def test_text_round_trips(millis: int) -> None:
    text = marathon_ts(millis / 1000)
    assert marathon_ts(parse_marathon_ts(text)) == text


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_marathon_python_parses_every_timestamp(seconds: float) -> None:
    util = marathon_module().util
    parsed = util.to_datetime(marathon_ts(seconds))
    expected = datetime.datetime.fromtimestamp(round(seconds * 1000) / 1000, tz=datetime.UTC)
    assert abs((parsed - expected).total_seconds()) < 0.001
