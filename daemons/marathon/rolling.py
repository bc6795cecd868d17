"""What one app needs next in the current deployment step (Marathon's TaskStartActor,
TaskReplaceActor and the stop/scale actors, as one pure function). Pure.

`next_actions` looks only at its arguments, so the shell re-runs it on every event (status
update, health change, launch, timer) and after a failover, and it never needs memory of what
it decided before. Its contract with the caller, which makes re-running idempotent:

- `in_flight` counts launches asked for (queued or offered) that are not in `instances` yet;
- an instance the caller has been told to kill is passed in state TASK_KILLING from then on
  (Marathon marks it Killing when it sends the kill): it is never chosen again, no longer
  counts as serving, but still counts towards the total until it is terminal (it holds its
  resources until then).

Right after applying a decision (launch -> in_flight, kill -> TASK_KILLING) the same call asks
for nothing more; it moves again only when an event changes its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from daemons.marathon.model import STAGED_STATES, AppDefinition, Instance

START = "StartApplication"
STOP = "StopApplication"
SCALE = "ScaleApplication"
RESTART = "RestartApplication"

RUNNING = "TASK_RUNNING"
KILLING = "TASK_KILLING"
UNREACHABLE = "TASK_UNREACHABLE"


@dataclass(frozen=True)
class StepDecision:
    launch: int = 0  # new instances of the target version to launch now
    kill: tuple[str, ...] = ()  # task ids to kill now, in kill order
    done: bool = False  # this app's action in the step is complete


@dataclass(frozen=True)
class Capacity:
    """A rolling restart's bounds: serving instances kept, instances (old + new) allowed."""

    min_healthy: int
    max_total: int


def capacity(app: AppDefinition) -> Capacity:
    """Marathon's `TaskReplaceActor.computeRestartStrategy` for a non-resident app:

        minHealthy = ceil(n * minimumHealthCapacity)
        maxTotal   = floor(n * (1 + maximumOverCapacity))   (Scala `.toInt` truncates)
        if minHealthy == maxTotal: maxTotal += 1            ("one instance is always started
                                                             above the maxCapacity")

    The products are rounded to 1e-9 first so that binary floats do not shift a bound by one
    (10 * 0.7 is 7.000000000000001 in floating point; ceil would make it 8, and Marathon has
    that bug). Marathon adds the extra instance only when all n old ones are running; this
    function has no memory of the start, so it always does: with fewer old ones the rule
    "kill an old one only while serving stays >= minHealthy" would otherwise wait forever.
    """
    n = app.instances
    strategy = app.upgrade_strategy
    min_healthy = math.ceil(round(n * strategy.minimum_health_capacity, 9))
    max_total = math.floor(round(n * (1 + strategy.maximum_over_capacity), 9))
    if min_healthy == max_total:
        max_total += 1
    return Capacity(min_healthy, max_total)


def next_actions(
    action: str,
    target: AppDefinition,
    instances: Sequence[Instance],
    *,
    in_flight: int,
    health_required: bool,
    target_version: float | None = None,
) -> StepDecision:
    """The launches and kills `target` needs now for `action`, and whether it is done.

    `target` is the app after the deployment (for StopApplication: the app being stopped);
    `instances` are all of its instances the caller tracks. An instance is "new" when its
    `version` equals `target_version` (default `target.version`: pass the version the caller
    stamps on launches when that is another one) and "old" otherwise. `health_required`: the
    app has health checks, so a new instance is ready only once `healthy is True`.
    """
    version = target.version if target_version is None else target_version
    if action == START:
        return StepDecision(done=True)  # Start creates the app with 0 instances: nothing to run
    if action == SCALE:
        return _scale(target, instances, in_flight, health_required)
    if action == RESTART:
        return _restart(target, instances, in_flight, health_required, version)
    if action == STOP:
        return _stop(target, instances, in_flight, health_required)
    raise ValueError(f"unknown deployment action {action!r}")


def kill_order(
    instances: Sequence[Instance], kill_selection: str, *, health_required: bool
) -> list[Instance]:
    """Instances in the order to kill them (Marathon's ScalingProposition).

    The least useful go first: unreachable, then staging, starting, running but unhealthy,
    and only then the serving ones; within a class, by `killSelection` on `staged_at`
    (YOUNGEST_FIRST: latest first; OLDEST_FIRST: earliest first), task id breaking ties.
    """
    oldest_first = kill_selection == "OLDEST_FIRST"

    def key(i: Instance) -> tuple[int, float, str]:
        return (
            _uselessness_rank(i, health_required),
            i.staged_at if oldest_first else -i.staged_at,
            i.task_id,
        )

    return sorted(instances, key=key)


def _uselessness_rank(i: Instance, health_required: bool) -> int:
    if i.state == UNREACHABLE:
        return 0
    if i.state in STAGED_STATES:
        return 1 if i.state == "TASK_STAGING" else 2
    if i.state != RUNNING or (health_required and i.healthy is False):
        return 3
    return 4


def _ready(i: Instance, health_required: bool) -> bool:
    """Healthy-and-ready: running, and healthy when the app has health checks."""
    return i.state == RUNNING and (i.healthy is True or not health_required)


def _scale(
    app: AppDefinition, instances: Sequence[Instance], in_flight: int, health_required: bool
) -> StepDecision:
    """Launch up to `instances` (counting launches in flight), kill the surplus in kill order.

    Instances being killed are on their way out: they do not count towards the target, and
    the step is done only when they are gone and exactly n instances are ready.
    """
    n = app.instances
    live = [i for i in instances if i.is_active]
    staying = [i for i in live if i.state != KILLING]
    surplus = len(staying) - n
    kill = (
        kill_order(staying, app.kill_selection, health_required=health_required)[:surplus]
        if surplus > 0
        else []
    )
    done = (
        in_flight == 0
        and len(live) == n
        and len(staying) == n
        and all(_ready(i, health_required) for i in live)
    )
    return StepDecision(
        launch=max(0, n - len(staying) - in_flight),
        kill=tuple(i.task_id for i in kill),
        done=done,
    )


def _restart(
    app: AppDefinition,
    instances: Sequence[Instance],
    in_flight: int,
    health_required: bool,
    version: float,
) -> StepDecision:
    """Rolling replacement of the old instances by n new ones (TaskReplaceActor).

    Invariants: serving = ready new + running old never drops below minHealthy because
    of a kill here, and old + new + in flight never exceeds maxTotal because of a launch here.
    An old instance counts as serving while running and not known to be unhealthy (Marathon
    counts every running old instance; one whose checks fail serves nobody, so killing it
    costs nothing). New instances beyond n (left by an earlier deployment) are shed the same
    way as old ones.
    """
    cap = capacity(app)
    n = app.instances
    live = [i for i in instances if i.is_active]
    old = [i for i in live if i.version != version]
    new = [i for i in live if i.version == version]
    new_left = [i for i in new if i.state != KILLING]
    old_left = [i for i in old if i.state != KILLING]

    def serving(i: Instance) -> bool:
        if i.version == version:
            return _ready(i, health_required)
        return i.state == RUNNING and i.healthy is not False

    order = app.kill_selection
    # The least useful new ones beyond n go, like old ones.
    surplus = max(0, len(new_left) - n)
    surplus_new = kill_order(new_left, order, health_required=health_required)[:surplus]
    doomed = kill_order(old_left + surplus_new, order, health_required=health_required)
    now_serving = sum(1 for i in old_left + new_left if serving(i))
    kill: list[str] = []
    for i in doomed:
        if not serving(i):
            kill.append(i.task_id)
        elif now_serving - 1 >= cap.min_healthy:
            kill.append(i.task_id)
            now_serving -= 1

    total = len(old) + len(new) + in_flight
    launch = max(0, min(n - len(new_left) - in_flight, cap.max_total - total))
    done = (
        not old
        and in_flight == 0
        and len(new) == n
        and all(i.state != KILLING and _ready(i, health_required) for i in new)
    )
    return StepDecision(launch=launch, kill=tuple(kill), done=done)


def _stop(
    app: AppDefinition, instances: Sequence[Instance], in_flight: int, health_required: bool
) -> StepDecision:
    """Kill every instance; done once none is left and no launch can still land."""
    live = [i for i in instances if i.is_active]
    to_kill = [i for i in live if i.state != KILLING]
    order = kill_order(to_kill, app.kill_selection, health_required=health_required)
    return StepDecision(kill=tuple(i.task_id for i in order), done=not live and in_flight == 0)
