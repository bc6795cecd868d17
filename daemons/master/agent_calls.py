"""Agent-side calls (docs/agent-protocol.md), applied to the `Master` under its lock."""

from __future__ import annotations

import logging
from typing import Any

from daemons.kit.errors import BadRequest, Forbidden
from daemons.kit.streams import EventStream
from daemons.master import state_json
from daemons.master.agent_removal import mark_gone
from daemons.master.master import Master
from daemons.master.model import Agent, Executor, Framework, Task, id_json
from daemons.master.registry import ADMITTED, GONE, Entry
from daemons.master.validation import call_payload, parse_id, parse_resources
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.states import ALL_TASK_STATES

log = logging.getLogger(__name__)


def _agent_info(payload: JSON) -> tuple[JSON, dict[str, res.Resources]]:
    info = payload.get("agent_info")
    if not isinstance(info, dict):
        raise BadRequest("Failed to validate call: Expecting 'agent_info' to be present")
    if not isinstance(info.get("hostname"), str) or not info["hostname"]:
        raise BadRequest("Failed to validate call: 'agent_info.hostname' is required")
    port = info.get("port", 5051)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise BadRequest("Failed to validate call: 'agent_info.port' must be a port number")
    try:
        total = res.from_v1(info.get("resources") or [])
    except ValueError as err:
        raise BadRequest(f"Failed to validate call: agent resources: {err}") from None
    return info, total


def _recovered_framework(master: Master, info: JSON, framework_id: str) -> Framework:
    framework = master.frameworks.get(framework_id)
    if framework is not None:
        return framework
    roles = tuple(info.get("roles") or [info.get("role") or "*"])
    capabilities = frozenset(
        str(c.get("type")) for c in info.get("capabilities") or [] if isinstance(c, dict)
    )
    framework = Framework(
        framework_id=framework_id,
        info=dict(info, id=id_json(framework_id)) if info else {"id": id_json(framework_id)},
        roles=roles,
        capabilities=capabilities,
        registered_time=master.clock(),
        recovered=True,
        disconnected_at=master.clock(),
    )
    master.frameworks[framework_id] = framework
    master.allocator.add_framework(framework_id, roles, active=False)
    return framework


def _task_from_agent(raw: JSON, agent_id: str) -> Task | None:
    try:
        task_id = parse_id(raw.get("task_id"), "task_id", required=True)
        framework_id = parse_id(raw.get("framework_id"), "framework_id", required=True)
        resources = parse_resources(raw.get("resources"))
    except (BadRequest, ValueError):
        return None
    role = "*"
    for item in raw.get("resources") or []:
        allocation = item.get("allocation_info") if isinstance(item, dict) else None
        if isinstance(allocation, dict) and isinstance(allocation.get("role"), str):
            role = allocation["role"]
            break
    state = raw.get("state", "TASK_STAGING")
    executor = raw.get("executor_id")
    info = {k: v for k, v in raw.items() if k not in ("state", "statuses", "status_update_uuid")}
    task = Task(
        task_id=task_id,
        framework_id=framework_id,
        agent_id=agent_id,
        executor_id=executor.get("value", "") if isinstance(executor, dict) else "",
        name=str(raw.get("name", "")),
        role=role,
        resources=resources,
        info=info,
        state=state if state in ALL_TASK_STATES else "TASK_STAGING",
    )
    statuses = raw.get("statuses")
    task.statuses = list(statuses) if isinstance(statuses, list) else [{"state": task.state}]
    task.latest_status = task.statuses[-1] if task.statuses else None
    return task


def subscribe(master: Master, body: JSON, stream: EventStream) -> tuple[Agent | None, JSON]:
    """Register or re-register an agent. The registry is written first when the agent is new
    or was unreachable; an agent marked gone gets an ERROR event instead (None, event)."""
    payload = call_payload(body, "subscribe")
    info, total = _agent_info(payload)
    agent_id = parse_id(info.get("id"), "agent_info.id", required=False) or parse_id(
        body.get("agent_id"), "agent_id", required=False
    )
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
        if not agent_id:
            _replace_restarted(master, info)
        if not agent_id or (
            (agent is None or agent.unreachable_since is not None)
            and agent_id not in master.recovered
        ):
            # New, back from unreachable, or unknown to this registry: admitted before use.
            master.persist_agent(new_id, Entry(ADMITTED, dict(info, id=id_json(new_id)), now))
        if agent is not None:
            if agent.stream is not None and agent.stream is not stream:
                old, agent.stream = agent.stream, None
                old.close()
            master.rescind_offers(agent.offers)
            master.allocator.remove_agent(agent.agent_id)
            agent.reregistered_time = now
        else:
            agent = Agent(
                agent_id=new_id,
                info={},
                hostname=info["hostname"],
                port=int(info.get("port", 5051)),
                total=total,
                registered_time=now,
            )
            if agent_id:
                agent.reregistered_time = now
            master.agents[agent.agent_id] = agent
        # Back: no longer expected after a failover nor waiting for an unreachable mark. The
        # registry lists it as admitted (written above unless it already did so).
        master.recovered.pop(agent.agent_id, None)
        master.missing_agents.pop(agent.agent_id, None)
        master.cancel_removal(agent.agent_id)
        agent.info = dict(info, id=id_json(agent.agent_id))
        agent.hostname = info["hostname"]
        agent.port = int(info.get("port", 5051))
        agent.total = total
        agent.version = str(payload.get("version", ""))
        agent.boot_id = str(payload.get("boot_id", ""))
        agent.stream = stream
        agent.active = True
        agent.disconnected_at = agent.unreachable_since = None
        agent.last_heard = agent.ping_sent = now
        agent.pings_missed = 0
        removed = _adopt(master, agent, payload)
        master.allocator.add_agent(agent.agent_id, total, agent.allocation())
        _resend_shutdowns_and_kills(agent, removed)
        master.send_operators(
            {
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


def _replace_restarted(master: Master, info: JSON) -> None:
    """A new agent (no id) at the address of a known one: that machine rebooted (its boot id
    changed) or its work dir was wiped. The old agent is marked gone in the registry and its
    tasks are reported TASK_GONE (TASK_LOST to frameworks without PARTITION_AWARE)."""
    port = int(info.get("port", 5051))
    known = {a.agent_id: a.info for a in master.agents.values()}
    known.update({k: e.info for k, e in master.recovered.items()})
    for old_id, old_info in sorted(known.items()):
        if old_info.get("hostname") == info["hostname"] and old_info.get("port", 5051) == port:
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


def _adopt(master: Master, agent: Agent, payload: JSON) -> set[str]:
    """Take the agent's word for its frameworks, executors and tasks; lose what it lacks.
    Returns the ids of frameworks already removed that the agent still runs something of."""
    removed_ids = master.removed_frameworks | {f.framework_id for f in master.completed_frameworks}
    removed: set[str] = set()
    infos: dict[str, JSON] = {}
    for info in payload.get("frameworks") or []:
        if isinstance(info, dict) and isinstance(info.get("id"), dict):
            infos[str(info["id"].get("value"))] = info
    reported: set[tuple[str, str]] = set()
    for raw in payload.get("tasks") or []:
        task = _task_from_agent(raw, agent.agent_id) if isinstance(raw, dict) else None
        if task is None:
            continue
        if task.terminal:
            # Ended while we did not hear from the agent; its update (not acknowledged yet)
            # comes again and goes to the framework. Until then it is not missing: take the
            # agent's word now, so its resources come back once and nobody sees TASK_LOST.
            known = agent.tasks.get((task.framework_id, task.task_id))
            if known is not None and not known.terminal:
                reported.add((task.framework_id, task.task_id))
                master.apply_status(known, dict(task.latest_status or {}, state=task.state))
            continue
        if task.framework_id in removed_ids:
            removed.add(task.framework_id)
            continue
        reported.add((task.framework_id, task.task_id))
        framework = _recovered_framework(
            master, infos.get(task.framework_id, {}), task.framework_id
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
    for raw in payload.get("executors") or []:
        if not isinstance(raw, dict):
            continue
        try:
            executor_id = parse_id(raw.get("executor_id"), "executor_id", required=True)
            framework_id = parse_id(raw.get("framework_id"), "framework_id", required=True)
            resources = parse_resources(raw.get("resources"))
        except (BadRequest, ValueError):
            continue
        if framework_id in removed_ids:
            removed.add(framework_id)
            continue
        framework = _recovered_framework(master, infos.get(framework_id, {}), framework_id)
        executor = Executor(
            executor_id, framework_id, agent.agent_id, framework.roles[0], resources, raw
        )
        framework.executors[(agent.agent_id, executor_id)] = executor
        agent.executors[(framework_id, executor_id)] = executor
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


def agent_for_call(master: Master, body: JSON, stream_id: str | None) -> Agent:
    agent_id = parse_id(body.get("agent_id"), "agent_id", required=True)
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
    if kind == "PONG":
        # Without the master's lock: a burst of registrations (each a registry write under the
        # lock) must not hold up the very answers that keep agents from being marked.
        agent_for_call(master, body, stream_id).last_heard = master.clock()
        return
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise BadRequest(f"Failed to validate call: unknown call type '{kind}'")
    with master.lock:
        agent = agent_for_call(master, body, stream_id)
        agent.last_heard = master.clock()  # any call is a sign of life
        handler(master, agent, body)


def _update(master: Master, agent: Agent, body: JSON) -> None:
    _apply_update(master, agent, call_payload(body, "update"))


def _updates(master: Master, agent: Agent, body: JSON) -> None:
    """Many UPDATEs in one call (a burst of launches): validated first, applied in order."""
    payload = call_payload(body, "updates")
    items = payload.get("updates")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadRequest("Failed to validate call: 'updates.updates' must be a list of objects")
    for item in items:
        _validate_update(item)
    for item in items:
        _apply_update(master, agent, item)


def _validate_update(payload: JSON) -> tuple[JSON, str, str]:
    status = payload.get("status")
    if not isinstance(status, dict):
        raise BadRequest("Failed to validate call: Expecting 'update.status' to be present")
    task_id = parse_id(status.get("task_id"), "status.task_id", required=True)
    if status.get("state") not in ALL_TASK_STATES:
        raise BadRequest(f"Failed to validate call: unknown task state {status.get('state')!r}")
    framework_id = parse_id(payload.get("framework_id"), "update.framework_id", required=True)
    return status, task_id, framework_id


def _apply_update(master: Master, agent: Agent, payload: JSON) -> None:
    status, task_id, framework_id = _validate_update(payload)
    status = dict(status, agent_id=id_json(agent.agent_id))
    framework = master.frameworks.get(framework_id)
    task = framework.tasks.get(task_id) if framework is not None else None
    if task is not None and task.agent_id == agent.agent_id:
        master.apply_status(task, status)
    master.count("status_updates_received")
    master.forward_update(framework, status)


def _message(master: Master, agent: Agent, body: JSON) -> None:
    payload = call_payload(body, "message")
    framework_id = parse_id(payload.get("framework_id"), "message.framework_id", required=True)
    executor_id = parse_id(payload.get("executor_id"), "message.executor_id", required=True)
    framework = master.frameworks.get(framework_id)
    if framework is not None:
        master.send_framework(
            framework,
            {
                "type": "MESSAGE",
                "message": {
                    "agent_id": id_json(agent.agent_id),
                    "executor_id": id_json(executor_id),
                    "data": payload.get("data", ""),
                },
            },
        )


def _exited_executor(master: Master, agent: Agent, body: JSON) -> None:
    payload = call_payload(body, "exited_executor")
    framework_id = parse_id(payload.get("framework_id"), "framework_id", required=True)
    executor_id = parse_id(payload.get("executor_id"), "executor_id", required=True)
    status: Any = payload.get("status", 0)
    framework = master.frameworks.get(framework_id)
    if framework is None:
        return
    master.release_executor(framework, agent.agent_id, executor_id)
    failure: JSON = {"agent_id": id_json(agent.agent_id), "executor_id": id_json(executor_id)}
    failure["status"] = status if isinstance(status, int) else 0
    master.send_framework(framework, {"type": "FAILURE", "failure": failure})


_HANDLERS: dict[str, Any] = {
    "UPDATE": _update,
    "UPDATES": _updates,
    "MESSAGE": _message,
    "EXITED_EXECUTOR": _exited_executor,
}
