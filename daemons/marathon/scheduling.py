"""The Marathon leader's scheduling runtime: offers, status updates and the periodic tick.

Each function takes the `Marathon` state, works under its lock, and answers its event with a
plan (`planning`: deployment progress, kills, launches; `placement` for an offer round) that
`Marathon.apply` carries out; the calls to the master go out once the lock is released. What a
status update changes in the instance table, the backoff and the health results is applied here
directly, before the plan of the new state is made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from daemons.marathon import backoff, health, placement, planning
from daemons.marathon.marathon import Marathon, task_updates_counter
from daemons.marathon.model import AppDefinition, Instance, instance_stored
from daemons.marathon.store import Delete, Put, Write, key_of
from daemons.marathon.timestamps import marathon_ts
from daemons.mesos_client.events import Offer, TaskStatus
from daemons.protocols.states import TERMINAL_STATES

log = logging.getLogger(__name__)


def handle_offers(m: Marathon, incoming: Iterable[Offer]) -> None:
    """Launch what the plan wants from these offers, decline the rest; suppress offers while
    nothing waits and no deployment runs."""
    offers = list(incoming)
    with m.lock:
        now = m.now()
        state = m.state()
        plan = placement.place(
            planning.plan(state, now),
            state,
            offers,
            now=now,
            new_id=m.new_id,
            max_per_offer=m.config.max_instances_per_offer,
            refuse_seconds=m.config.decline_offer_duration,
        )
        for offer in offers:
            m.agents[offer.agent_id] = (offer.hostname, dict(offer.attributes))
        m.apply(plan)
        idle = not plan.launches and not plan.unplaced() and not m.deployments
        if idle and not m.suppressed:
            m.suppressed = True
            m.send(lambda d: d.suppress())
    m.flush()


def handle_update(m: Marathon, status: TaskStatus) -> None:
    """One status update, then the plan of the new state (`record_update`, `replan`)."""
    record_update(m, status)
    replan(m)


def record_update(m: Marathon, status: TaskStatus) -> None:
    """What a status update changes: the instance (stored before the update is acknowledged),
    the backoff, the health results and the events. The plan of the new state is `replan`'s:
    the service's planner makes one for however many updates came in while it made the last
    (a plan looks at every instance, so one per update made 1,000 updates quadratic)."""
    with m.lock:
        now = m.now()
        inst = m.instances.get(status.task_id)
        if inst is None:
            if status.state not in TERMINAL_STATES:
                # Not ours (a wiped task, or one an old leader started): kill it.
                m.apply(planning.Plan(kills=(planning.Kill(status.task_id, status.agent_id),)))
            else:
                m.bus.publish(
                    "unknown_instance_terminated_event",
                    instanceId=status.task_id,
                    runSpecId=None,
                    condition=status.state,
                )
        else:
            _apply_update(m, inst, status, now)
        m.unplanned.append(task_updates_counter(status.state))


def replan(m: Marathon) -> None:
    """The plan of the state the recorded updates left: the kills and deployment progress a
    step now wants go out at once. The updates are counted then (`/metrics`): the calls they
    caused have reached the master by the time a client sees the count."""
    with m.lock:
        counted, m.unplanned = m.unplanned, []
        m.apply(planning.plan(m.state(), m.now()))
    m.flush()
    for name in counted:
        m.count(name)


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


def _mesos_health(
    m: Marathon, app: AppDefinition, inst: Instance, healthy: bool, now: float
) -> Instance:
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
    finish, deployment progress (`planning.tick`)."""
    with m.lock:
        now = m.now()
        for task_id in [t for t in m.killing if t not in m.instances]:
            m.killing.pop(task_id)  # its terminal update came, or it was wiped
        plan = planning.tick(m.state(), now, launch_timeout=m.config.task_launch_timeout)
        m.apply(plan)
        if plan.launch:
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
        m.filtered = False
        m.send(lambda d: d.reconcile(known))
        m.send(lambda d: d.reconcile([]))
        m.send(lambda d: d.revive())
    m.flush()
