"""The Marathon leader's scheduling: offers, status updates and the periodic tick that moves
deployments, kills unhealthy or stuck tasks and replaces unreachable ones.

Each function takes the `Marathon` state, works under its lock, queues calls to the master
and sends them after releasing it. Who needs launches, and how many, is decided in one place
(`launch_budget`): the rolling step of a running deployment (`rolling.next_actions`), or else
the app's target count (`launch_queue.wanted`), and never while the app's launch delay runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from daemons.marathon import (
    appdef,
    backoff,
    constraints,
    deployment,
    health,
    launch_queue,
    offers,
    rolling,
)
from daemons.marathon.marathon import Driver, Marathon, OfferStats, instance_stored
from daemons.marathon.model import AppDefinition, Instance
from daemons.marathon.store import Delete, Put, Write, key_of
from daemons.marathon.timestamps import marathon_ts
from daemons.mesos_client.events import Offer, TaskStatus
from daemons.protocols.states import TERMINAL_STATES

log = logging.getLogger(__name__)

# A declined offer comes back after this long while some app still waits for resources.
SHORT_REFUSE = 5.0


def _active(m: Marathon, app_id: str) -> list[Instance]:
    """The app's instances as the rolling core needs them: one we asked to kill is
    TASK_KILLING (it still counts towards the total until it ends, but is never picked again)."""
    return [
        replace(i, state="TASK_KILLING") if i.task_id in m.killing else i
        for i in m.instances_of(app_id)
    ]


def _delayed(m: Marathon, app: AppDefinition, now: float) -> bool:
    delay = m.delays.get(app.id)
    return (
        delay is not None and backoff.is_current(delay, app) and backoff.time_left(delay, now) > 0
    )


def launch_budget_view(m: Marathon, now: float) -> dict[str, int]:
    """What the launch queue holds (delayed apps included), changing nothing."""
    return launch_budget(m, now, act=False)


def launch_budget(m: Marathon, now: float, *, act: bool = True) -> dict[str, int]:
    """App id -> how many new instances to launch now; with `act`, also send the kills the
    deployment steps decide and those of instances over the target of an app no deployment
    handles (`launch_queue.surplus`), and leave out apps whose launch delay still runs."""
    budget: dict[str, int] = {}
    in_deployment: set[str] = set()
    for plan in list(m.deployments.values()):
        if plan.current_step >= len(plan.steps):
            continue
        for action in plan.steps[plan.current_step].actions:
            in_deployment.add(action.app)
            target = plan.target.get(action.app) or plan.original.get(action.app)
            if target is None:
                continue
            decision = rolling.next_actions(
                action.action,
                target,
                _active(m, action.app),
                in_flight=0,
                health_required=bool(target.health_checks),
                target_version=target.last_config_change_at,
            )
            for task_id in decision.kill if act else ():
                inst = m.instances.get(task_id)
                if inst is not None and task_id not in m.killing:
                    m._kill(inst)
            app = m.apps.get(action.app)
            delayed = act and app is not None and _delayed(m, app, now)
            if decision.launch > 0 and app is not None and not delayed:
                budget[action.app] = decision.launch
    for app in m.apps.values():
        if app.id in in_deployment:
            continue
        for inst in launch_queue.surplus(app, _active(m, app.id), now) if act else ():
            m._kill(inst)  # e.g. an unreachable instance came back after its replacement
        if act and _delayed(m, app, now):
            continue
        wanted = launch_queue.wanted(app, _active(m, app.id), 0, now)
        if wanted > 0:
            budget[app.id] = wanted
    return budget


def advance_deployments(m: Marathon) -> None:
    """Move every deployment whose current step is done to its next step (or finish it)."""
    for plan in list(m.deployments.values()):
        while plan.current_step < len(plan.steps):
            step = plan.steps[plan.current_step]
            done = True
            for action in step.actions:
                target = plan.target.get(action.app) or plan.original.get(action.app)
                if target is None:
                    continue
                decision = rolling.next_actions(
                    action.action,
                    target,
                    _active(m, action.app),
                    in_flight=0,
                    health_required=bool(target.health_checks),
                    target_version=target.last_config_change_at,
                )
                done = done and decision.done
            if not done:
                break
            step_json = m.step_json(plan)
            plan = replace(plan, current_step=plan.current_step + 1)
            if plan.current_step < len(plan.steps):
                m.commit(
                    [Put("deployments", plan.id, deployment.stored_json(plan, appdef.stored_json))]
                )
                m.deployments[plan.id] = plan
                m.bus.publish(
                    "deployment_step_success", plan=m.plan_json(plan), currentStep=step_json
                )
                continue
            m.commit([Delete("deployments", plan.id)])
            m.deployments.pop(plan.id, None)
            m.bus.publish("deployment_step_success", plan=m.plan_json(plan), currentStep=step_json)
            m.bus.publish("deployment_success", id=plan.id, plan=m.plan_json(plan))
            for app_id in plan.affected_apps:
                if app_id not in m.apps:
                    m.bus.publish("app_terminated_event", appId=app_id)
            log.info("deployment finished id=%s", plan.id)


def _placements(m: Marathon, app_id: str) -> list[constraints.Placement]:
    out = []
    for inst in m.instances_of(app_id):
        host, attributes = m.agents.get(inst.agent_id, (inst.host, {}))
        out.append(constraints.Placement(host, attributes))
    return out


def handle_offers(m: Marathon, incoming: Iterable[Offer]) -> None:
    with m.lock:
        now = m.now()
        advance_deployments(m)
        budget = launch_budget(m, now)
        launched_any = False
        for offer in incoming:
            m.agents[offer.agent_id] = (offer.hostname, dict(offer.attributes))
            available = offer.resources
            tasks: list[dict[str, object]] = []
            new: list[Instance] = []
            for app_id in sorted(budget):
                app = m.apps.get(app_id)
                if app is None:
                    continue
                stats = m.offer_stats.setdefault(app_id, OfferStats())
                while budget[app_id] > 0 and len(tasks) < m.config.max_instances_per_offer:
                    stats.processed += 1
                    placed = _placements(m, app_id) + [
                        constraints.Placement(offer.hostname, dict(offer.attributes))
                        for i in new
                        if i.app_id == app_id
                    ]
                    task_id = f"{key_of(app_id)}.{m.new_id()}"
                    found = offers.match(
                        app,
                        offer,
                        placed,
                        task_id=task_id,
                        available=available,
                        version_label=marathon_ts(app.version),
                    )
                    if isinstance(found, offers.NoMatch):
                        stats.unused += 1
                        stats.last_unused_at = now
                        for reason in found.reasons:
                            stats.reasons[reason] = stats.reasons.get(reason, 0) + 1
                        break
                    stats.last_used_at = now
                    available = offers.subtract(available, found.consumed)
                    tasks.append(found.task_info)
                    new.append(
                        Instance(
                            task_id=task_id,
                            app_id=app_id,
                            version=app.last_config_change_at,
                            agent_id=offer.agent_id,
                            host=offer.hostname,
                            ports=found.host_ports,
                            service_ports=tuple(p.port for p in app.port_definitions),
                            state="TASK_STAGING",
                            staged_at=now,
                        )
                    )
                    budget[app_id] -= 1
            offer_id = offer.id
            if tasks:
                # Durable before the launch: a new leader knows what this one started.
                m.commit([Put("instances", i.task_id, instance_stored(i)) for i in new])
                for inst in new:
                    m.instances[inst.task_id] = inst
                m.send(_launch_call(offer_id, list(tasks)))
                launched_any = True
            else:
                refuse = SHORT_REFUSE if any(budget.values()) else m.config.decline_offer_duration
                m.send(_decline_call(offer_id, refuse))
        idle = not launched_any and not any(budget.values()) and not m.deployments
        if idle and not m.suppressed:
            m.suppressed = True
            m.send(lambda d: d.suppress())
    m.flush()


def _launch_call(offer_id: str, task_infos: list[dict[str, object]]) -> Callable[[Driver], None]:
    return lambda d: d.launch([offer_id], task_infos)


def _decline_call(offer_id: str, refuse: float) -> Callable[[Driver], None]:
    return lambda d: d.decline([offer_id], refuse_seconds=refuse)


def handle_update(m: Marathon, status: TaskStatus) -> None:
    with m.lock:
        now = m.now()
        inst = m.instances.get(status.task_id)
        if inst is None:
            if status.state not in TERMINAL_STATES:
                # Not ours (a wiped task, or one an old leader started): kill it.
                task_id, agent_id = status.task_id, status.agent_id
                m.send(lambda d: d.kill(task_id, agent_id))
            else:
                m.bus.publish(
                    "unknown_instance_terminated_event",
                    instanceId=status.task_id,
                    runSpecId=None,
                    condition=status.state,
                )
        else:
            _apply_update(m, inst, status, now)
        advance_deployments(m)
        launch_budget(m, now)  # kills a step now wants go out at once
    m.flush()


def _apply_update(m: Marathon, inst: Instance, status: TaskStatus, now: float) -> None:
    app = m.apps.get(inst.app_id)
    writes: list[Write] = []
    if status.state in TERMINAL_STATES:
        writes.append(Delete("instances", inst.task_id))
        killed_by_us = inst.task_id in m.killing
        delay = None
        if app is not None and not killed_by_us and backoff.counts_as_failure(status.state):
            delay = backoff.on_failure(m.delays.get(app.id), app, now)
            writes.append(Put("delays", key_of(app.id), backoff.stored_json(delay)))
        m.commit(writes)
        m.instances.pop(inst.task_id, None)
        m.killing.pop(inst.task_id, None)
        m.wipe.discard(inst.task_id)
        for key in [k for k in m.health_due if k[0] == inst.task_id]:
            m.health_due.pop(key)
        if delay is not None:
            m.delays[delay.app_id] = delay
        if (status.state != "TASK_KILLED" and status.state != "TASK_FINISHED") or delay:
            m.last_failures[inst.app_id] = {
                "appId": inst.app_id,
                "host": inst.host,
                "message": status.message or "",
                "state": status.state,
                "taskId": inst.task_id,
                "instanceId": inst.task_id,
                "slaveId": inst.agent_id,
                "timestamp": marathon_ts(now),
                "version": marathon_ts(app.version if app else inst.version),
            }
        new_state = status.state
        updated = inst
    else:
        updated = replace(inst, state=status.state)
        if status.state == "TASK_RUNNING" and inst.started_at is None:
            updated = replace(updated, started_at=now)
        if status.state == "TASK_UNREACHABLE" and inst.unreachable_since is None:
            updated = replace(updated, unreachable_since=now)
        elif status.state != "TASK_UNREACHABLE":
            updated = replace(updated, unreachable_since=None)
        if status.agent_id and status.agent_id != inst.agent_id:
            updated = replace(updated, agent_id=status.agent_id)
        if updated != inst:
            m.commit([Put("instances", inst.task_id, instance_stored(updated))])
        if status.healthy is not None and app is not None:
            updated = _mesos_health(m, app, updated, status.healthy, now)
        m.instances[inst.task_id] = updated
        new_state = status.state
    m.bus.publish(
        "status_update_event",
        slaveId=inst.agent_id,
        taskId=inst.task_id,
        taskStatus=new_state,
        message=status.message or "",
        appId=inst.app_id,
        host=inst.host,
        ipAddresses=[],
        ports=list(inst.ports),
        version=marathon_ts(app.version if app else inst.version),
    )
    m.bus.publish(
        "instance_changed_event",
        instanceId=inst.task_id,
        slaveId=inst.agent_id,
        condition=_condition(new_state),
        host=inst.host,
        runSpecId=inst.app_id,
        runSpecVersion=marathon_ts(app.version if app else inst.version),
    )


def _condition(state: str) -> str:
    name = state.removeprefix("TASK_").lower()
    return name[:1].upper() + name[1:]


def _mesos_health(m: Marathon, app: AppDefinition, inst: Instance, healthy: bool, now: float):  # type: ignore[no-untyped-def]
    """An executor-side check's verdict (TaskStatus.healthy) for the app's Mesos check."""
    index = next((i for i, c in enumerate(app.health_checks) if not c.is_marathon_side), None)
    if index is None:
        return inst
    results = list(inst.health) or [health.initial(c) for c in app.health_checks]
    while len(results) < len(app.health_checks):
        results.append(health.initial(app.health_checks[len(results)]))
    before = results[index].alive
    results[index] = health.from_mesos(
        app.health_checks[index], results[index], healthy=healthy, now=now
    )
    updated = replace(inst, health=tuple(results), healthy=health.instance_healthy(results))
    if before != results[index].alive:
        m.bus.publish(
            "health_status_changed_event",
            appId=app.id,
            instanceId=inst.task_id,
            taskId=inst.task_id,
            version=marathon_ts(app.version),
            alive=results[index].alive,
        )
    return updated


def tick(m: Marathon) -> None:
    """Once a second: launch timeouts, unreachable replacement and expunge, kills that did not
    finish, deployment progress."""
    with m.lock:
        now = m.now()
        for inst in list(m.instances.values()):
            app = m.apps.get(inst.app_id)
            if inst.task_id in m.killing:
                continue
            if app is None:
                # Its app is gone and no deployment stops it (e.g. after a forced cancel).
                if not any(inst.app_id in p.affected_apps for p in m.deployments.values()):
                    m._kill(inst)
                continue
            if (
                inst.state in ("TASK_STAGING", "TASK_STARTING")
                and now - inst.staged_at > m.config.task_launch_timeout
            ):
                log.warning("launch timed out task=%s", inst.task_id)
                m._kill(inst)
        for app in list(m.apps.values()):
            for inst in launch_queue.expunge(app, m.instances_of(app.id), now):
                if inst.task_id not in m.killing:
                    m._kill(inst, wipe=True)
        # Kills re-sent every 30 s until the task is gone (a kill may be lost, Mesos says).
        for task_id, sent in list(m.killing.items()):
            killed = m.instances.get(task_id)
            if killed is None:
                m.killing.pop(task_id)
            elif now - sent > 30.0:
                m._kill(killed, wipe=task_id in m.wipe)
        advance_deployments(m)
        budget = launch_budget(m, now)
        if any(budget.values()):
            m.want_offers()
    m.flush()


def forget_wiped(m: Marathon) -> None:
    """wipe=true: forget killed instances at once instead of waiting for the terminal update."""
    with m.lock:
        gone = [t for t in m.wipe if t in m.instances]
        if gone:
            m.commit([Delete("instances", t) for t in gone])
            for t in gone:
                m.instances.pop(t, None)


def reconcile(m: Marathon) -> None:
    """After every (re)subscription and periodically: ask about every task we know, then
    implicitly about the rest (unknown running ones are killed in `handle_update`)."""
    with m.lock:
        known = [(i.task_id, i.agent_id) for i in m.instances.values()]
        m.suppressed = False
        m.send(lambda d: d.reconcile(known))
        m.send(lambda d: d.reconcile([]))
        m.send(lambda d: d.revive())
    m.flush()
