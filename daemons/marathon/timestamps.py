"""Marathon's timestamps: `2015-09-29T15:59:51.164Z` (UTC, milliseconds, `Z`). Pure.

Inside Marathon a time is seconds since the epoch (a float); these two functions are the only
place it becomes text. marathon-python parses `%Y-%m-%dT%H:%M:%S.%fZ` and `…%SZ` only (rule
X12), so we always emit the milliseconds and the `Z`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Seconds may carry 1-9 fraction digits: marathon-python echoes `%f` (6 digits) back to us.
_TS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|\+00:00)",
    re.ASCII,
)


def marathon_ts(seconds: float) -> str:
    """Format `seconds` (epoch) as Marathon does, rounded to the millisecond.

    Rounding (not truncating) keeps `marathon_ts(parse_marathon_ts(s)) == s`: a float such as
    1443542391.164 is stored as …163.99999, which truncation would print as `.163`.
    """
    millis = round(seconds * 1000)
    moment = _EPOCH + timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def parse_marathon_ts(text: str) -> float:
    """Seconds since the epoch of a Marathon timestamp; ValueError for anything else."""
    match = _TS.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a Marathon timestamp (2015-09-29T15:59:51.164Z): {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)  # ValueError if bad
    fraction = match.group(7) or ""
    whole = (moment - _EPOCH) // timedelta(seconds=1)
    return whole + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)
