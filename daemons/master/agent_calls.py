"""Agent-side calls (docs/agent-protocol.md), applied to the `Master` under its lock.

Each call is parsed first, outside the lock (`calls.agent`): a malformed one is refused with
400 and changes nothing; the handlers read only the typed payload.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from daemons.kit.errors import BadRequest, Forbidden
from daemons.kit.streams import EventStream
from daemons.master import state_json
from daemons.master.agent_removal import mark_gone
from daemons.master.calls import agent as calls
from daemons.master.master import Master
from daemons.master.model import Agent, Executor, Framework, Task, flat, with_field, with_id
from daemons.master.registry import ADMITTED, GONE, Entry
from daemons.master.validation import refused
from daemons.protocols import JSON
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_json
from daemons.protocols.models import AgentInfo, FrameworkInfo, TaskStatus
from daemons.protocols.models import Task as ReportedTask
from daemons.protocols.states import ALL_TASK_STATES

log = logging.getLogger(__name__)

# Our agent protocol has no Mesos counterpart to name: its 400s say "Failed to validate call".
CALL = "call"


def _recovered_framework(
    master: Master, info: FrameworkInfo | None, framework_id: str
) -> Framework:
    """The framework of something an agent runs: known, or known from now on (from what the
    agent says of it, if anything), disconnected until it subscribes."""
    framework = master.frameworks.get(framework_id)
    if framework is not None:
        return framework
    if info is None:
        info = FrameworkInfo(user="", name="", id=framework_id, raw={"id": id_json(framework_id)})
    framework = Framework(
        framework_id=framework_id,
        info=with_id(info, "id", framework_id),
        registered_time=master.clock(),
        recovered=True,
        disconnected_at=master.clock(),
    )
    master.frameworks[framework_id] = framework
    master.allocator.add_framework(framework_id, framework.roles, active=False)
    return framework


# What a re-registered task's record does not keep of the JSON its agent reported: the record
# holds the ids, name, state, resources and statuses itself and renders them from there
# (state_json), and a status uuid is the agent's business. The rest (labels, discovery, fields
# this master does not know) is echoed as sent.
_NOT_KEPT = frozenset(
    {
        "task_id",
        "framework_id",
        "agent_id",
        "executor_id",
        "name",
        "state",
        "resources",
        "statuses",
        "status_update_uuid",
    }
)


def _task_from_agent(reported: ReportedTask, agent_id: str, now: float) -> Task:
    """A task as its agent reports it; a status without a time gets `now`.

    After a failover every task of the cluster comes this way, so the record keeps of the
    reported JSON only what it echoes: about 1 KB less per task than all of it
    (bench/master_failover.py's RSS)."""
    statuses = [
        s if s.timestamp is not None else dataclasses.replace(s, timestamp=now)
        for s in reported.statuses
    ]
    state = reported.state
    kept = {k: v for k, v in reported.raw.items() if k not in _NOT_KEPT}
    reported = dataclasses.replace(reported, statuses=(), raw=kept)
    return Task(
        task_id=reported.task_id,
        framework_id=reported.framework_id,
        agent_id=agent_id,
        executor_id=reported.executor_id or "",
        name=reported.name,
        role=reported.allocation_role or "*",
        resources=flat(reported.resources),
        info=reported,
        state=state if state in ALL_TASK_STATES else "TASK_STAGING",
        statuses=statuses,
        latest_status=statuses[-1] if statuses else None,
    )


def subscribe(master: Master, body: JSON, stream: EventStream) -> tuple[Agent | None, JSON]:
    """Register or re-register an agent. The registry is written first when the agent is new
    or was unreachable; an agent marked gone gets an ERROR event instead (None, event)."""
    try:
        call = calls.parse_subscribe(body)
    except ProtocolError as err:
        raise refused(CALL, err) from None
    agent_id = call.agent_id
    with master.lock:
        now = master.clock()
        if agent_id and master.registry_state.agent_in(agent_id, GONE) is not None:
            log.warning("agent marked gone tried to re-register agent=%s", agent_id)
            return None, {
                "type": "ERROR",
                "error": {"message": f"Agent {agent_id} has been marked gone; start it afresh"},
            }
        agent = master.agents.get(agent_id) if agent_id else None
        new_id = agent_id or master.ids.agent_id()
        info = with_id(call.agent_info, "id", new_id)
        if not agent_id:
            _replace_restarted(master, info)
        if not agent_id or (
            (agent is None or agent.unreachable_since is not None)
            and agent_id not in master.recovered
        ):
            # New, back from unreachable, or unknown to this registry: admitted before use.
            master.persist_agent(new_id, Entry(ADMITTED, info.raw, now))
        if agent is not None:
            if agent.stream is not None and agent.stream is not stream:
                old, agent.stream = agent.stream, None
                old.close()
            master.rescind_offers(agent.offers)
            master.allocator.remove_agent(agent.agent_id)
            agent.reregistered_time = now
        else:
            agent = Agent(agent_id=new_id, info=info, registered_time=now)
            if agent_id:
                agent.reregistered_time = now
            master.agents[agent.agent_id] = agent
        # Back: no longer expected after a failover nor waiting for an unreachable mark. The
        # registry lists it as admitted (written above unless it already did so).
        master.recovered.pop(agent.agent_id, None)
        master.missing_agents.pop(agent.agent_id, None)
        master.cancel_removal(agent.agent_id)
        agent.info = info
        agent.address_ip = call.address_ip
        agent.version = call.version
        agent.boot_id = call.boot_id
        agent.stream = stream
        agent.active = True
        agent.disconnected_at = agent.unreachable_since = None
        agent.last_heard = agent.ping_sent = now
        agent.pings_missed = 0
        removed = _adopt(master, agent, call)
        master.allocator.add_agent(agent.agent_id, agent.total, agent.allocation())
        _resend_shutdowns_and_kills(agent, removed)
        master.send_operators(
            lambda: {
                "type": "AGENT_ADDED",
                "agent_added": {"agent": state_json.v1_agent(agent, master.offers)},
            }
        )
        master.count("slave_reregistrations" if agent_id else "slave_registrations")
        master.changed()
        log.info("agent subscribed agent=%s hostname=%s", agent.agent_id, agent.hostname)
        first = {
            "type": "SUBSCRIBED",
            "subscribed": {
                "agent_id": id_json(agent.agent_id),
                "heartbeat_interval_seconds": master.config.heartbeat_interval,
                "agent_ping_timeout_seconds": master.config.agent_ping_timeout,
                "max_agent_ping_timeouts": master.config.max_agent_ping_timeouts,
                "master_info": master.master_info,
            },
        }
        return agent, first


def _replace_restarted(master: Master, info: AgentInfo) -> None:
    """A new agent (no id) at the address of a known one: that machine rebooted (its boot id
    changed) or its work dir was wiped. The old agent is marked gone in the registry and its
    tasks are reported TASK_GONE (TASK_LOST to frameworks without PARTITION_AWARE)."""
    known: dict[str, tuple[object, object, JSON]] = {
        a.agent_id: (a.hostname, a.port, a.info.raw) for a in master.agents.values()
    }
    for old_id, entry in master.recovered.items():  # agents known only from the registry
        known[old_id] = (entry.info.get("hostname"), entry.info.get("port", 5051), entry.info)
    for old_id, (hostname, port, old_info) in sorted(known.items()):
        if hostname == info.hostname and port == info.port:
            mark_gone(
                master,
                old_id,
                old_info,
                "TASK_GONE",
                "REASON_AGENT_RESTARTED",
                "Agent restarted with a new agent ID (its machine rebooted)",
            )


def _resend_shutdowns_and_kills(agent: Agent, removed: set[str]) -> None:
    """What the agent may have missed while away (Mesos' reconcileKnownSlave): shut down the
    frameworks removed meanwhile and kill the tasks a framework asked to kill. These events
    queue behind SUBSCRIBED on the new stream."""
    assert agent.stream is not None
    for framework_id in sorted(removed):
        agent.stream.send(
            {
                "type": "SHUTDOWN_FRAMEWORK",
                "shutdown_framework": {"framework_id": id_json(framework_id)},
            }
        )
    for framework_id, task_id in sorted(agent.killed_tasks):
        if (framework_id, task_id) in agent.tasks:
            agent.stream.send(
                {
                    "type": "KILL_TASK",
                    "kill_task": {
                        "framework_id": id_json(framework_id),
                        "task_id": id_json(task_id),
                    },
                }
            )


def _ended_meanwhile(task: Task) -> TaskStatus:
    """The status that ends a task its agent reports terminal: its latest, in that state."""
    latest = task.latest_status
    if latest is None:
        built = TaskStatus(task_id=task.task_id, state=task.state)
        return dataclasses.replace(built, raw=built.to_json())
    return with_field(latest, "state", task.state, task.state)


def _adopt(master: Master, agent: Agent, call: calls.Subscribe) -> set[str]:
    """Take the agent's word for its frameworks, executors and tasks; lose what it lacks.
    Returns the ids of frameworks already removed that the agent still runs something of."""
    removed_ids = master.removed_frameworks | {f.framework_id for f in master.completed_frameworks}
    removed: set[str] = set()
    reported: set[tuple[str, str]] = set()
    now = master.clock()
    for item in call.tasks:
        task = _task_from_agent(item, agent.agent_id, now)
        if task.terminal:
            # Ended while we did not hear from the agent; its update (not acknowledged yet)
            # comes again and goes to the framework. Until then it is not missing: take the
            # agent's word now, so its resources come back once and nobody sees TASK_LOST.
            known = agent.tasks.get((task.framework_id, task.task_id))
            if known is not None and not known.terminal:
                reported.add((task.framework_id, task.task_id))
                master.apply_status(known, _ended_meanwhile(task))
            continue
        if task.framework_id in removed_ids:
            removed.add(task.framework_id)
            continue
        reported.add((task.framework_id, task.task_id))
        framework = _recovered_framework(
            master, call.frameworks.get(task.framework_id), task.framework_id
        )
        known = framework.tasks.get(task.task_id)
        if known is not None:
            if known.state != task.state and task.state != "TASK_STAGING":
                known.state = task.state
            known.unreachable_time = None
            known.changed()
            agent.tasks[(task.framework_id, task.task_id)] = known
            continue
        framework.tasks[task.task_id] = task
        agent.tasks[(task.framework_id, task.task_id)] = task
    for info in call.executors:
        framework_id = info.framework_id or ""
        if framework_id in removed_ids:
            removed.add(framework_id)
            continue
        framework = _recovered_framework(master, call.frameworks.get(framework_id), framework_id)
        executor = Executor(
            info.executor_id,
            framework_id,
            agent.agent_id,
            framework.roles[0],
            flat(info.resources),
            info,
        )
        framework.executors[(agent.agent_id, info.executor_id)] = executor
        agent.executors[(framework_id, info.executor_id)] = executor
    for key, task in list(agent.tasks.items()):
        if key not in reported and not task.terminal:
            owner = master.frameworks.get(task.framework_id)
            status = master.master_status(
                task.task_id,
                "TASK_LOST" if task.state != "TASK_STAGING" else "TASK_DROPPED",
                "REASON_AGENT_RESTARTED",
                "Task was not reported by its agent when it re-registered",
                agent.agent_id,
            )
            agent.tasks.pop(key, None)
            master.apply_status(task, status)
            master.forward_update(owner, status)
    return removed


def disconnected(master: Master, agent_id: str, stream: EventStream) -> None:
    with master.lock:
        agent = master.agents.get(agent_id)
        if agent is None or agent.stream is not stream:
            return
        log.warning("agent disconnected agent=%s", agent_id)
        agent.stream = None
        agent.active = False
        agent.disconnected_at = master.clock()
        master.allocator.deactivate_agent(agent_id)
        master.rescind_offers(agent.offers)
        master.changed()


def agent_for_call(master: Master, agent_id: str, stream_id: str | None) -> Agent:
    agent = master.agents.get(agent_id)
    if agent is None:
        raise BadRequest("Agent cannot be found")
    if agent.stream is None:
        raise Forbidden("Agent is not subscribed")
    if stream_id is None:
        raise BadRequest("All non-subscribe calls should include the 'Mesos-Stream-Id' header")
    if stream_id != agent.stream.stream_id:
        raise BadRequest(f"The stream ID '{stream_id}' does not match agent {agent_id}'s stream")
    return agent


def handle(master: Master, kind: str, body: JSON, stream_id: str | None) -> None:
    try:
        agent_id, payload = calls.parse(kind, body)
    except ProtocolError as err:
        raise refused(CALL, err) from None
    if kind == "PONG":
        # Without the master's lock: a burst of registrations (each a registry write under the
        # lock) must not hold up the very answers that keep agents from being marked.
        agent_for_call(master, agent_id, stream_id).last_heard = master.clock()
        return
    with master.lock:
        agent = agent_for_call(master, agent_id, stream_id)
        agent.last_heard = master.clock()  # any call is a sign of life
        _HANDLERS[kind](master, agent, payload)


def _updates(master: Master, agent: Agent, call: calls.Updates) -> None:
    """Many UPDATEs in one call (a burst of launches): all were parsed (and so validated)
    before any is applied; applied in order."""
    for update in call.updates:
        _update(master, agent, update)


def _update(master: Master, agent: Agent, update: calls.Update) -> None:
    status = with_id(update.status, "agent_id", agent.agent_id)
    framework = master.frameworks.get(update.framework_id)
    task = framework.tasks.get(status.task_id) if framework is not None else None
    if task is not None and task.agent_id == agent.agent_id:
        master.apply_status(task, status)
    master.count("status_updates_received")
    master.forward_update(framework, status)


def _message(master: Master, agent: Agent, call: calls.Message) -> None:
    framework = master.frameworks.get(call.framework_id)
    if framework is not None:
        master.send_framework(
            framework,
            {
                "type": "MESSAGE",
                "message": {
                    "agent_id": id_json(agent.agent_id),
                    "executor_id": id_json(call.executor_id),
                    "data": call.data,
                },
            },
        )


def _exited_executor(master: Master, agent: Agent, call: calls.ExitedExecutor) -> None:
    framework = master.frameworks.get(call.framework_id)
    if framework is None:
        return
    master.release_executor(framework, agent.agent_id, call.executor_id)
    failure: JSON = {
        "agent_id": id_json(agent.agent_id),
        "executor_id": id_json(call.executor_id),
        "status": call.status,
    }
    master.send_framework(framework, {"type": "FAILURE", "failure": failure})


_HANDLERS: dict[str, Any] = {
    "UPDATE": _update,
    "UPDATES": _updates,
    "MESSAGE": _message,
    "EXITED_EXECUTOR": _exited_executor,
}
