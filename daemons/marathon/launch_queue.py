"""How many instances an app still needs launched, and what to do with unreachable ones. Pure.

An instance counts toward the app's target while it is active: staging, starting, running,
being killed, or unreachable for less than the app's `unreachableStrategy.inactiveAfterSeconds`
(Marathon's UnreachableInactive: past that, a replacement is launched while the old one may still
come back). Past `expungeAfterSeconds` the old one is forgotten and killed if it ever returns.
A disabled strategy never replaces nor expunges. An inactive one that comes back before that
makes the app one over its target: `surplus` names the instance to kill (Marathon's scale check
after an instance becomes reachable again). The clock is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence

from daemons.marathon.model import ACTIVE_STATES, AppDefinition, Instance
from daemons.marathon.rolling import kill_order

UNREACHABLE = "TASK_UNREACHABLE"
KILLING = "TASK_KILLING"


def wanted(app: AppDefinition, instances: Sequence[Instance], in_flight: int, now: float) -> int:
    """Launches still to send: target - active instances - launches sent but not seen yet.

    `instances` are the app's; `in_flight` counts launches accepted but without a status yet.
    """
    active = sum(1 for i in instances if _counts(app, i, now))
    return max(0, app.instances - active - in_flight)


def surplus(app: AppDefinition, instances: Sequence[Instance], now: float) -> list[Instance]:
    """Instances over the target, to kill while no deployment handles the app: of those that
    count towards it and are not being killed yet, the least useful first (`kill_order`, so
    YOUNGEST_FIRST kills the replacement and keeps the one that came back)."""
    staying = [i for i in instances if i.state != KILLING and _counts(app, i, now)]
    extra = len(staying) - app.instances
    if extra <= 0:
        return []
    order = kill_order(staying, app.kill_selection, health_required=bool(app.health_checks))
    return order[:extra]


def replaceable_unreachable(
    app: AppDefinition, instances: Sequence[Instance], now: float
) -> list[Instance]:
    """Unreachable instances past inactiveAfterSeconds: counted as gone, to be replaced."""
    after = app.unreachable_strategy.inactive_after_seconds
    return [i for i in instances if _unreachable_for_at_least(i, after, now)]


def expunge(app: AppDefinition, instances: Sequence[Instance], now: float) -> list[Instance]:
    """Unreachable instances past expungeAfterSeconds: to be forgotten (and killed if seen)."""
    if app.unreachable_strategy.disabled:
        return []
    after = app.unreachable_strategy.expunge_after_seconds
    return [i for i in instances if _unreachable_for_at_least(i, after, now)]


def _counts(app: AppDefinition, instance: Instance, now: float) -> bool:
    if instance.state in ACTIVE_STATES:
        return True
    if instance.state != UNREACHABLE:
        return False
    after = app.unreachable_strategy.inactive_after_seconds
    return not _unreachable_for_at_least(instance, after, now)


def _unreachable_for_at_least(instance: Instance, seconds: int | None, now: float) -> bool:
    """Unreachable for `seconds` or more (None: never). Without a recorded start the instance
    is taken as unreachable since `now`: only a zero timeout has passed."""
    if instance.state != UNREACHABLE or seconds is None:
        return False
    since = now if instance.unreachable_since is None else instance.unreachable_since
    return now - since >= seconds
