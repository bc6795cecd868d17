"""Scheduling as a plan: which deployment steps are done, what to kill, what to launch. Pure.

Every event the leader handles (an offer round, a status update, the tick, a health verdict, a
kill through the API) is answered the same way: the runtime takes a read-only `State` of what it
knows, a function of this module turns it and `now` into a `Plan`, and one applier
(`Marathon.apply`) carries the plan out. It stores what must be durable first (a deployment's
progress; the instances of a launch, before the launch is sent), then sends the kills, launches
and declines. A query (the launch queue) is the plan of the current state, not applied.

Who needs launches, and how many, is decided here and only here: the step a running deployment
is on (`rolling.next_actions`), or else the app's target count (`launch_queue.wanted`). An app
whose launch delay still runs stays in the queue but launches nothing (`Plan.launch`). Kills
come from the deployment steps, from apps over their target that no deployment handles
(`launch_queue.surplus`, e.g. an unreachable instance that came back after its replacement),
and, on the tick, from launches that timed out, unreachable instances past expungeAfterSeconds,
instances whose app is gone, and kills not yet confirmed (sent again: a kill may be lost).

Each deployment's steps are evaluated once per plan: a step found done is advanced and the next
one evaluated in the same pass, and the decisions of the first step not done are the plan's (a
done step asks for no launch and no kill). `rolling.next_actions` is told about every kill the
plan has already chosen, as the applier will mark it (an instance being killed is
TASK_KILLING), so a plan is what applying its decisions one by one would have done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field

from daemons.marathon import backoff, deployment, launch_queue, rolling
from daemons.marathon.model import (
    STAGED_STATES,
    AppDefinition,
    DeploymentAction,
    DeploymentPlan,
    DeploymentStep,
    Instance,
    with_state,
)
from daemons.protocols import JSON
from daemons.protocols.models import AttributeValue, Offer

# A kill not confirmed by a terminal status is sent again after this long (Mesos may lose one).
KILL_RETRY_SECONDS = 30.0

KILLING = "TASK_KILLING"


@dataclass(frozen=True)
class State:
    """What a plan reads. The runtime hands out views of its own tables (valid while it holds
    its lock and applies nothing); tests build one directly."""

    apps: Mapping[str, AppDefinition]
    instances: Mapping[str, Instance]
    deployments: Mapping[str, DeploymentPlan] = field(default_factory=dict)
    delays: Mapping[str, backoff.Delay] = field(default_factory=dict)
    killing: Mapping[str, float] = field(default_factory=dict)  # task id -> when the kill went
    wipe: Set[str] = frozenset()  # killed tasks to forget at once (wipe=true)
    # agent id -> (hostname, attributes), as last offered: where existing instances run.
    agents: Mapping[str, tuple[str, Mapping[str, AttributeValue]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Kill:
    task_id: str
    agent_id: str | None  # None: the master finds the task's agent itself
    grace_period_seconds: int | None = None  # the app's taskKillGracePeriodSeconds
    wipe: bool = False  # forget the instance without waiting for its terminal update
    reason: str = ""  # logged by the applier when set


@dataclass(frozen=True)
class Progress:
    """A deployment moved on: `deployment` is its new state (stored, or deleted once finished),
    `done` the steps completed on the way, in order (one `deployment_step_success` each)."""

    deployment: DeploymentPlan
    done: tuple[DeploymentStep, ...]

    @property
    def finished(self) -> bool:
        return deployment.finished(self.deployment)


@dataclass(frozen=True)
class Launch:
    """ACCEPT one offer with these tasks; the instances are stored before it is sent."""

    offer_id: str
    instances: tuple[Instance, ...]
    task_infos: tuple[JSON, ...]


@dataclass(frozen=True)
class Decline:
    offer_id: str
    refuse_seconds: float


@dataclass(frozen=True)
class OfferUse:
    """One attempt to launch an instance of an app from an offer (the queue's offer summary):
    it fitted, or the offer did not, for `reasons` (Marathon's NoOfferMatchReason names)."""

    app_id: str
    reasons: tuple[str, ...] = ()
    offer: Offer | None = field(default=None, compare=False)  # the queue's lastUnusedOffers

    @property
    def used(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Plan:
    """What to do, in the order it is done: store the progress, kill, answer the offers."""

    progress: tuple[Progress, ...] = ()
    kills: tuple[Kill, ...] = ()
    # App id -> instances still to launch (the launch queue), delayed apps included.
    queue: Mapping[str, int] = field(default_factory=dict)
    delayed: frozenset[str] = frozenset()  # apps whose launch delay still runs
    # An offer round's answers, in offer order (`placement.place`), and its attempts.
    answers: tuple[Launch | Decline, ...] = ()
    offer_uses: tuple[OfferUse, ...] = ()

    @property
    def launch(self) -> dict[str, int]:
        """App id -> instances to launch now: the queue without the delayed apps."""
        return {a: n for a, n in self.queue.items() if a not in self.delayed}

    @property
    def launches(self) -> tuple[Launch, ...]:
        return tuple(a for a in self.answers if isinstance(a, Launch))

    def unplaced(self) -> dict[str, int]:
        """App id -> launches wanted now that the offer round did not place."""
        placed: dict[str, int] = {}
        for launch in self.launches:
            for inst in launch.instances:
                placed[inst.app_id] = placed.get(inst.app_id, 0) + 1
        left = {a: n - placed.get(a, 0) for a, n in self.launch.items()}
        return {a: n for a, n in left.items() if n > 0}


def plan(state: State, now: float) -> Plan:
    """The deployments' progress, the kills and the launch queue for `state` at `now`."""
    active = _active_by_app(state)
    killed: set[str] = set()
    kills: list[Kill] = []

    def kill(inst: Instance) -> None:
        kills.append(_kill(state, inst))
        killed.add(inst.task_id)
        active[inst.app_id][inst.task_id] = with_state(inst, KILLING)

    progress: list[Progress] = []
    queue: dict[str, int] = {}
    delayed: set[str] = set()
    in_deployment: set[str] = set()
    for current in state.deployments.values():
        moved, done, decisions = _work_on(current, active)
        if done:
            progress.append(Progress(moved, done))
        for action, decision in decisions:
            in_deployment.add(action.app)
            if decision is None:
                continue
            for task_id in decision.kill:
                inst = state.instances.get(task_id)
                if inst is not None and task_id not in state.killing and task_id not in killed:
                    kill(inst)
            app = state.apps.get(action.app)
            if decision.launch > 0 and app is not None:
                queue[app.id] = decision.launch
                if _delayed(state, app, now):
                    delayed.add(app.id)
    for app in state.apps.values():
        if app.id in in_deployment:
            continue
        for inst in launch_queue.surplus(app, _of(active, app.id), now):
            kill(inst)
        wanted = launch_queue.wanted(app, _of(active, app.id), 0, now)
        if wanted > 0:
            queue[app.id] = wanted
            if _delayed(state, app, now):
                delayed.add(app.id)
    return Plan(
        progress=tuple(progress), kills=tuple(kills), queue=queue, delayed=frozenset(delayed)
    )


def tick(state: State, now: float, *, launch_timeout: float) -> Plan:
    """The periodic plan: kills of launches that timed out, of unreachable instances past
    expungeAfterSeconds (wiped), of instances whose app is gone and that no deployment stops,
    and again of kills not confirmed within KILL_RETRY_SECONDS; then `plan` of the state with
    those kills marked (a deployment step replaces a killed instance in the same plan)."""
    kills: list[Kill] = []
    for inst in state.instances.values():
        if inst.task_id in state.killing:
            continue
        app = state.apps.get(inst.app_id)
        if app is None:
            # Its app is gone and no deployment stops it (e.g. after a forced cancel).
            if not any(inst.app_id in d.affected_apps for d in state.deployments.values()):
                kills.append(_kill(state, inst))
            continue
        if inst.state in STAGED_STATES and now - inst.staged_at > launch_timeout:
            kills.append(_kill(state, inst, reason="launch timed out"))
    by_app = _by_app(state.instances.values())
    for app in state.apps.values():
        for inst in launch_queue.expunge(app, by_app.get(app.id, []), now):
            if inst.task_id not in state.killing:
                kills.append(_kill(state, inst, wipe=True))
    for task_id, sent in state.killing.items():
        unconfirmed = state.instances.get(task_id)
        if unconfirmed is not None and now - sent > KILL_RETRY_SECONDS:
            kills.append(_kill(state, unconfirmed, wipe=task_id in state.wipe))
    marked = dataclasses.replace(
        state,
        killing={**state.killing, **{k.task_id: now for k in kills}},
        wipe=frozenset(state.wipe) | {k.task_id for k in kills if k.wipe},
    )
    rest = plan(marked, now)
    return dataclasses.replace(rest, kills=(*kills, *rest.kills))


def kill(
    state: State, instances: Iterable[Instance], *, wipe: bool = False, reason: str = ""
) -> Plan:
    """Kill these instances (the API's kills, an unhealthy task), with their apps' grace."""
    return Plan(kills=tuple(_kill(state, i, wipe=wipe, reason=reason) for i in instances))


def _kill(state: State, inst: Instance, *, wipe: bool = False, reason: str = "") -> Kill:
    app = state.apps.get(inst.app_id)
    grace = app.task_kill_grace_period_seconds if app is not None else None
    return Kill(inst.task_id, inst.agent_id, grace, wipe=wipe, reason=reason)


def _by_app(instances: Iterable[Instance]) -> dict[str, list[Instance]]:
    out: dict[str, list[Instance]] = {}
    for inst in instances:
        out.setdefault(inst.app_id, []).append(inst)
    return out


def _active_by_app(state: State) -> dict[str, dict[str, Instance]]:
    """App id -> task id -> instance, as the rolling core needs them: one we asked to kill is
    TASK_KILLING (it still counts towards the total until it ends, but is never picked again)."""
    out: dict[str, dict[str, Instance]] = {}
    for i in state.instances.values():
        marked = with_state(i, KILLING) if i.task_id in state.killing else i
        out.setdefault(i.app_id, {})[i.task_id] = marked
    return out


def _of(active: Mapping[str, Mapping[str, Instance]], app_id: str) -> list[Instance]:
    return list(active.get(app_id, {}).values())


def _delayed(state: State, app: AppDefinition, now: float) -> bool:
    delay = state.delays.get(app.id)
    return (
        delay is not None and backoff.is_current(delay, app) and backoff.time_left(delay, now) > 0
    )


def _work_on(
    current: DeploymentPlan, active: Mapping[str, Mapping[str, Instance]]
) -> tuple[
    DeploymentPlan,
    tuple[DeploymentStep, ...],
    list[tuple[DeploymentAction, rolling.StepDecision | None]],
]:
    """The deployment past every step that is done, those steps, and the decisions of the
    first step not done (none once the deployment is finished). A None decision: the action's
    app is in neither the original nor the target (nothing to do for it)."""
    done: list[DeploymentStep] = []
    while not deployment.finished(current):
        decisions = [(a, _decide(current, a, active)) for a in deployment.current_actions(current)]
        if not all(d is None or d.done for _, d in decisions):
            return current, tuple(done), decisions
        done.append(current.steps[current.current_step])
        current = deployment.advance(current)
    return current, tuple(done), []


def _decide(
    current: DeploymentPlan,
    action: DeploymentAction,
    active: Mapping[str, Mapping[str, Instance]],
) -> rolling.StepDecision | None:
    target = current.target.get(action.app) or current.original.get(action.app)
    if target is None:
        return None
    return rolling.next_actions(
        action.action,
        target,
        _of(active, action.app),
        in_flight=0,
        health_required=bool(target.health_checks),
        # Launches are stamped with the config version (`placement`): scaling keeps it.
        target_version=target.last_config_change_at,
    )
