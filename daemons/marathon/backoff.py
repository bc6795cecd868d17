"""Launch backoff (Marathon's RateLimiter, docs/backoff.md). Pure: `now` comes in as an argument.

After the k-th failed launch of an app version in a row, the next launch waits

    delay(k) = min(backoffSeconds * backoffFactor ** (k - 1), maxLaunchDelaySeconds)

from the failure: 1, 1.15, 1.3225, ... s with the defaults, capped at 300 s. This is Marathon's
`Delay.increased`: the first failure waits `backoffSeconds`, each further one multiplies the
current delay by the factor. A Delay belongs to one app config version: a new version (any
change but scaling) starts again from nothing, as does `DELETE /v2/queue/{id}/delay` (the
caller drops the Delay). `until` is absolute, so the Delay kept in ZooKeeper lets a new leader
continue the backoff where the old one left it, with no burst of launches (Marathon #985).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from daemons.marathon.model import AppDefinition
from daemons.protocols import JSON

# Terminal states that mean the app failed to stay up. TASK_KILLED (we or the operator asked)
# and TASK_GONE_BY_OPERATOR (the operator removed the agent) say nothing about the app.
FAILURE_STATES = frozenset(
    {"TASK_FAILED", "TASK_FINISHED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE"}
)


@dataclass(frozen=True)
class Delay:
    app_id: str
    app_version: float  # the config version it applies to (see `config_version`)
    failures: int  # failed launches in a row of that version
    until: float  # no launch of that version before this time (seconds since the epoch)


def counts_as_failure(state: str) -> bool:
    return state in FAILURE_STATES


def config_version(app: AppDefinition) -> float:
    """The version a Delay is keyed by: the last config change, so scaling a crash-looping app
    does not reset its backoff (Marathon keys the RateLimiter by the config version)."""
    return app.last_config_change_at or app.version


def delay_seconds(app: AppDefinition, failures: int) -> float:
    """min(backoffSeconds * backoffFactor ** (failures - 1), maxLaunchDelaySeconds); 0 for none."""
    cap = max(0.0, app.max_launch_delay_seconds)
    base = max(0.0, app.backoff_seconds)
    if failures <= 0 or base == 0.0 or cap == 0.0:
        return 0.0
    exponent = failures - 1
    factor = app.backoff_factor
    # Compare in logarithms first: factor ** exponent overflows a float long before a
    # crash-looping app stops failing.
    if factor > 1.0 and math.log(base) + exponent * math.log(factor) >= math.log(cap):
        return cap
    try:
        return min(cap, base * factor**exponent)
    except OverflowError:  # a subnormal base: the power alone is out of range
        return cap


def is_current(delay: Delay, app: AppDefinition) -> bool:
    """The Delay applies to this app's current config (a new version resets the backoff)."""
    return delay.app_id == app.id and delay.app_version == config_version(app)


def on_failure(delay: Delay | None, app: AppDefinition, now: float) -> Delay:
    """The Delay after a launch of `app` failed at `now` (see `counts_as_failure`)."""
    failures = delay.failures + 1 if delay is not None and is_current(delay, app) else 1
    return Delay(
        app_id=app.id,
        app_version=config_version(app),
        failures=failures,
        until=now + delay_seconds(app, failures),
    )


def time_left(delay: Delay | None, now: float) -> float:
    """Seconds until the next launch may go out (0 when it may now)."""
    return 0.0 if delay is None else max(0.0, delay.until - now)


def overdue(delay: Delay | None, now: float) -> bool:
    """The delay has run out (Marathon: timeLeft < 0): launches are due, not backing off."""
    return delay is None or now > delay.until


def queue_delay_json(delay: Delay | None, now: float) -> JSON:
    """A `GET /v2/queue` item's `delay` (QueueDelay keys): whole seconds, truncated as Marathon
    does."""
    return {"timeLeftSeconds": int(time_left(delay, now)), "overdue": overdue(delay, now)}


def stored_json(delay: Delay) -> JSON:
    return {
        "appId": delay.app_id,
        "appVersion": delay.app_version,
        "failures": delay.failures,
        "until": delay.until,
    }


def from_stored(raw: Mapping[str, Any]) -> Delay:
    return Delay(
        app_id=str(raw["appId"]),
        app_version=float(raw["appVersion"]),
        failures=int(raw["failures"]),
        until=float(raw["until"]),
    )
