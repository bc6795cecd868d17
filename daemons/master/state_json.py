"""Renderers of the master's records into the operator JSON clients read.

Two families: the flat "state" JSON (`/master/state`, `/master/state-summary`, `/master/tasks`,
ids as strings, resources as maps, as Mesos 1.x renders them) and the v1 operator objects
(`/api/v1` GET_*, nested ids and resource lists). Call them under the master's lock.

A pure core over the records: it reads a `view.MasterView` (the `Master` is one), never the
`Master` itself. It may import the records (`model`), the view, `rawjson` and the wire layer;
not Flask, threading, the clock, the configuration module or anything that acts.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping
from typing import Any

from daemons.master.model import VERSION, Agent, Executor, Framework, Offer, Task
from daemons.master.rawjson import Raw
from daemons.master.registry import GONE, UNREACHABLE, Entry
from daemons.master.view import ConfigView, MasterView
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.ids import id_json
from daemons.protocols.models import AgentInfo, TaskInfo, TaskStatus

BUILD = {"build_date": "2026-11-25", "build_time": 1795996800.0, "build_user": "pydcos"}


def _state_map(value: res.Resources) -> JSON:
    return res.to_state_map(value)


def flags(c: ConfigView) -> dict[str, str]:
    return {
        "allocation_interval": f"{c.allocation_interval}secs",
        "cluster": c.cluster,
        "hostname": c.advertised_hostname,
        "ip": c.ip,
        "port": str(c.port),
        "offer_timeout": f"{c.offer_timeout}secs" if c.offer_timeout else "",
        "work_dir": c.work_dir,
        "zk": c.zk.split("@")[-1],
        "min_allocatable_resources": c.min_allocatable_resources,
        "agent_reregister_timeout": f"{c.agent_reregister_timeout}secs",
    }


def task_json(task: Task) -> JSON:
    if task.json_cache is None:
        task.json_cache = _render_task(task)
    return task.json_cache


def task_json_bytes(task: Task) -> bytes:
    if task.json_bytes is None:
        task.json_bytes = json.dumps(task_json(task), separators=(",", ":")).encode()
    return task.json_bytes


def _tasks(tasks: Iterable[Task], raw: bool) -> Any:
    """A task list, as dicts or (for `rawjson.dumps`) as the tasks' cached bytes."""
    if raw:
        return Raw([task_json_bytes(t) for t in tasks])
    return [task_json(t) for t in tasks]


# The parts of a task the state JSON shows as its framework sent them.
_ECHOED = ("labels", "discovery", "container", "health_check", "kill_policy")


def status_json(status: TaskStatus) -> JSON:
    """One entry of a task's `statuses` (Mesos' state JSON of a TaskStatus): its state and
    time, and what the update said of the container, the health and the labels (as Mesos
    renders a Labels message: its list; Mesos-DNS reads its IP labels from it)."""
    body: JSON = {"state": status.state, "timestamp": status.timestamp}
    if status.container_status is not None:
        body["container_status"] = status.container_status.raw
    if status.healthy is not None:
        body["healthy"] = status.healthy
    labels = status.raw.get("labels")
    if isinstance(labels, dict):
        labels = labels.get("labels", [])
    if labels is not None:
        body["labels"] = labels
    return body


def _render_task(task: Task) -> JSON:
    body: JSON = {
        "id": task.task_id,
        "name": task.name,
        "framework_id": task.framework_id,
        "executor_id": task.executor_id,
        "slave_id": task.agent_id,
        "state": task.state,
        "resources": _state_map(task.resources),
        "role": task.role,
        "statuses": [status_json(s) for s in task.statuses],
    }
    info = task.info
    for key in _ECHOED:  # as the framework sent them
        if key in info.raw:
            body[key] = info.raw[key]
    if isinstance(body.get("labels"), dict):  # a Labels message: the state shows its list
        body["labels"] = body["labels"].get("labels", [])
    if isinstance(info, TaskInfo):
        user = info.command.user if info.command is not None else None
    else:
        user = info.user  # a task its agent reported
    if user:
        body["user"] = user
    if task.unreachable_time is not None:
        body["unreachable_time"] = {"nanoseconds": int(task.unreachable_time * 1e9)}
    return body


def executor_json(executor: Executor) -> JSON:
    info = executor.info
    command = info.command
    return {
        "executor_id": executor.executor_id,
        "name": info.name or "",
        "framework_id": executor.framework_id,
        "command": {
            "shell": command.shell if command else True,
            "value": (command.value if command else None) or "",
            "argv": list(command.arguments) if command else [],
            "uris": command.raw.get("uris", []) if command else [],
        },
        "resources": _state_map(executor.resources),
        "role": executor.role,
        "labels": (info.raw.get("labels") or {}).get("labels", []),
        "type": info.type or "CUSTOM",
        "slave_id": executor.agent_id,
    }


def framework_json(framework: Framework, full: bool = True, raw: bool = False) -> JSON:
    info = framework.info
    used, offered = framework.used(), framework.offered()
    body: JSON = {
        "id": framework.framework_id,
        "name": info.name,
        "pid": None,
        "used_resources": _state_map(used),
        "offered_resources": _state_map(offered),
        "resources": _state_map(used + offered),
        "capabilities": sorted(framework.capabilities),
        "hostname": info.hostname or "",
        "webui_url": info.webui_url or "",
        "active": framework.active,
        "connected": framework.connected,
        "recovered": framework.recovered,
        "user": info.user,
        "failover_timeout": info.failover_timeout,
        "checkpoint": info.checkpoint,
        "registered_time": framework.registered_time,
        "unregistered_time": framework.unregistered_time or 0,
        "principal": info.principal,
        "labels": (info.raw.get("labels") or {}).get("labels", []),
    }
    if info.principal is None:
        del body["principal"]
    if framework.reregistered_time is not None:
        body["reregistered_time"] = framework.reregistered_time
    if "MULTI_ROLE" in framework.capabilities:
        body["roles"] = list(framework.roles)
    else:
        body["role"] = framework.roles[0]
    if not full:
        return body
    tasks = [t for t in framework.tasks.values() if t.state != "TASK_UNREACHABLE"]
    body["tasks"] = _tasks(tasks, raw)
    body["unreachable_tasks"] = _tasks(
        (t for t in framework.tasks.values() if t.state == "TASK_UNREACHABLE"), raw
    )
    body["completed_tasks"] = _tasks(framework.completed_tasks, raw)
    body["offers"] = [
        {
            "id": o.offer_id,
            "framework_id": o.framework_id,
            "slave_id": o.agent_id,
            "resources": _state_map(o.resources),
        }
        for o in framework.offers.values()
    ]
    body["executors"] = [executor_json(e) for e in framework.executors.values()]
    return body


def _attributes(info: AgentInfo) -> JSON:
    """The agent's attributes as a flat map, their values as the agent sent them (the text,
    the number, the set's items in order) and ranges as Mesos writes them."""
    out: JSON = {}
    for attribute in info.raw.get("attributes") or []:
        name, kind = attribute["name"], attribute.get("type", "TEXT")
        if kind == "SCALAR":
            out[name] = attribute["scalar"].get("value")
        elif kind == "RANGES":
            out[name] = res.format_ranges(_ranges(info.attributes[name]))
        elif kind == "SET":
            out[name] = "{" + ",".join(str(i) for i in attribute["set"].get("item") or []) + "}"
        else:
            out[name] = attribute["text"]["value"]
    return out


def _ranges(value: object) -> tuple[res.Range, ...]:
    return value if isinstance(value, tuple) else ()


def _offered(agent: Agent, offers: Mapping[str, Offer]) -> res.Resources:
    return res.total(offers[o].resources for o in agent.offers if o in offers)


def agent_json(agent: Agent, offers: Mapping[str, Offer]) -> JSON:
    total = res.flatten(agent.total)
    used = agent.used()
    offered = _offered(agent, offers)
    reserved = {r: _state_map(v) for r, v in agent.total.items() if r != res.UNRESERVED}
    body: JSON = {
        "id": agent.agent_id,
        "hostname": agent.hostname,
        "port": agent.port,
        "pid": agent.pid,
        "attributes": _attributes(agent.info),
        "registered_time": agent.registered_time,
        "resources": _state_map(total),
        "used_resources": _state_map(used),
        "offered_resources": _state_map(offered),
        "reserved_resources": reserved,
        "unreserved_resources": _state_map(agent.total.get(res.UNRESERVED, res.EMPTY)),
        "active": agent.active,
        "deactivated": False,
        "version": agent.version or VERSION,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
    }
    if agent.reregistered_time is not None:
        body["reregistered_time"] = agent.reregistered_time
    return body


def agent_json_bytes(agent: Agent, offers: Mapping[str, Offer]) -> bytes:
    """`agent_json` serialised, reused while everything it shows is the very same: the agent's
    info (replaced whole on an update), its used sum (`Agent.used()` keeps the same object while
    the same tasks are live), its outstanding offers' resources, and its plain fields. At
    10,000 agents rendering them all was most of the time `/master/state` held the lock."""
    agent.used()
    shared = (
        agent.info,
        agent.used_memo,
        *[offers[o].resources for o in agent.offers if o in offers],
    )
    plain = (
        agent.active,
        agent.registered_time,
        agent.reregistered_time,
        agent.version,
        agent.address_ip,
    )
    memo = agent.json_memo
    if (
        memo is not None
        and len(memo[0]) == len(shared)
        and all(map(operator.is_, memo[0], shared))
        and memo[1] == plain
    ):
        return memo[2]
    data = json.dumps(agent_json(agent, offers), separators=(",", ":")).encode()
    agent.json_memo = (shared, plain, data)
    return data


def _agents(agents: Iterable[Agent], offers: Mapping[str, Offer], raw: bool) -> Any:
    if raw:
        return Raw([agent_json_bytes(a, offers) for a in agents])
    return [agent_json(a, offers) for a in agents]


def _leader(master: MasterView) -> tuple[str, JSON]:
    info = master.leader_info or (master.master_info if master.is_leader else None)
    if not info:
        return "", {}
    leader_info = {
        "id": info.get("id"),
        "pid": info.get("pid"),
        "port": info.get("port"),
        "hostname": info.get("hostname"),
    }
    return str(info.get("pid", "")), leader_info


def state(master: MasterView, raw: bool = False) -> JSON:
    """`/master/state`; with `raw`, the agent and task lists are `Raw` (serialise with
    `rawjson.dumps`)."""
    c = master.config
    leader, leader_info = _leader(master)
    registered = [a for a in master.agents.values() if a.unreachable_since is None]
    return {
        "version": VERSION,
        **BUILD,
        "start_time": master.start_time,
        "elected_time": master.elected_time or 0,
        "id": master.master_id,
        "pid": f"master@{c.ip}:{c.port}",
        "hostname": c.advertised_hostname,
        "capabilities": ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
        "activated_slaves": sum(1 for a in registered if a.active),
        "deactivated_slaves": sum(1 for a in registered if not a.active),
        "unreachable_slaves": sum(1 for a in master.agents.values() if a.unreachable_since),
        "leader": leader,
        "leader_info": leader_info,
        "cluster": c.cluster,
        "flags": flags(c),
        "slaves": _agents(registered, master.offers, raw),
        "recovered_slaves": [],
        "frameworks": [framework_json(f, raw=raw) for f in master.frameworks.values()],
        "completed_frameworks": [framework_json(f, raw=raw) for f in master.completed_frameworks],
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    }


def _task_counts(tasks: Any) -> dict[str, int]:
    counts = {s: 0 for s in _SUMMARY_STATES}
    for task in tasks:
        if task.state in counts:
            counts[task.state] += 1
    return counts


_SUMMARY_STATES = (
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_KILLED",
    "TASK_FAILED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_UNREACHABLE",
)


def removed_agent_json(agent_id: str, entry: Entry) -> JSON:
    """An agent the registry holds as unreachable or gone, from the info it was admitted with:
    enough for a nodes table to show it (the host, its public or private role) and when it was
    removed. An info that no longer parses still gives the id, the state and the time."""
    body: JSON = {"id": agent_id, "state": entry.state, "time": entry.time}
    try:
        info = AgentInfo.parse(entry.info)
    except (KeyError, TypeError, ValueError):  # ProtocolError is a ValueError
        return body
    body.update(
        hostname=info.hostname,
        port=info.port,
        attributes=_attributes(info),
        resources=_state_map(res.flatten(info.resources)),
        reserved_resources={
            r: _state_map(v) for r, v in info.resources.items() if r != res.UNRESERVED
        },
    )
    return body


def removed_agents(master: MasterView) -> list[JSON]:
    """The agents the registry marks unreachable or gone, oldest removal first (PyDCOS: Mesos
    shows them nowhere but in its registry)."""
    found = [
        (entry.time, agent_id, entry)
        for agent_id, entry in master.registry_state.agents.items()
        if entry.state in (UNREACHABLE, GONE)
    ]
    return [removed_agent_json(agent_id, entry) for _, agent_id, entry in sorted(found)]


def state_summary(master: MasterView) -> JSON:
    """`/master/state-summary`: the registered agents and the frameworks with their task counts
    (Mesos), and `removed_slaves`, the unreachable and gone agents (PyDCOS)."""
    slaves = []
    for agent in master.agents.values():
        if agent.unreachable_since is not None:
            continue
        body = agent_json(agent, master.offers)
        body.update(_task_counts(agent.tasks.values()))
        body["framework_ids"] = sorted({t.framework_id for t in agent.tasks.values()})
        slaves.append(body)
    frameworks = []
    for framework in master.frameworks.values():
        body = framework_json(framework, full=False)
        body.update(_task_counts([*framework.tasks.values(), *framework.completed_tasks]))
        body["slave_ids"] = sorted({t.agent_id for t in framework.tasks.values()})
        frameworks.append(body)
    return {
        "hostname": master.config.advertised_hostname,
        "cluster": master.config.cluster,
        "slaves": slaves,
        "frameworks": frameworks,
        "removed_slaves": removed_agents(master),
    }


# --- v1 operator objects ----------------------------------------------------------------------


def _nanos(seconds: float | None) -> JSON:
    return {"nanoseconds": int((seconds or 0.0) * 1e9)}


# What a task's v1 object does not echo of what its framework (or agent) sent: it carries its
# own ids, state and statuses, and the executor and command are the agent's business.
_NOT_ECHOED = frozenset(
    {"slave_id", "executor", "command", "state", "statuses", "status_update_uuid"}
)


def v1_task(task: Task) -> JSON:
    body: JSON = {k: v for k, v in task.info.raw.items() if k not in _NOT_ECHOED}
    body.update(
        {
            "name": task.name,
            "task_id": id_json(task.task_id),
            "framework_id": id_json(task.framework_id),
            "agent_id": id_json(task.agent_id),
            "state": task.state,
            "resources": res.to_v1(task.resources, allocation_role=task.role),
            "statuses": [_v1_status(task.task_id, s) for s in task.statuses],
        }
    )
    if task.executor_id:
        body["executor_id"] = id_json(task.executor_id)
    return body


def _v1_status(task_id: str, status: TaskStatus) -> JSON:
    body: JSON = {"task_id": id_json(task_id), "state": status.state, "timestamp": status.timestamp}
    if status.healthy is not None:
        body["healthy"] = status.healthy
    if status.container_status is not None:
        body["container_status"] = status.container_status.raw
    return body


def v1_framework(framework: Framework) -> JSON:
    return {
        "framework_info": framework.info.raw,
        "active": framework.active,
        "connected": framework.connected,
        "recovered": framework.recovered,
        "registered_time": _nanos(framework.registered_time),
        "reregistered_time": _nanos(framework.reregistered_time),
        "unregistered_time": _nanos(framework.unregistered_time),
        "offers": [],
        "inverse_offers": [],
        "allocated_resources": res.to_v1(framework.used()),
        "offered_resources": res.to_v1(framework.offered()),
    }


def v1_agent(agent: Agent, offers: Mapping[str, Offer]) -> JSON:
    offered = _offered(agent, offers)
    return {
        "agent_info": agent.info.raw,
        "active": agent.active,
        "deactivated": False,
        "version": agent.version or VERSION,
        "pid": agent.pid,
        "registered_time": _nanos(agent.registered_time),
        "reregistered_time": _nanos(agent.reregistered_time),
        "total_resources": res.by_role_to_v1(agent.total),
        "allocated_resources": res.to_v1(agent.used()),
        "offered_resources": res.to_v1(offered),
        "capabilities": [{"type": "MULTI_ROLE"}, {"type": "HIERARCHICAL_ROLE"}],
    }


def get_agents(master: MasterView) -> JSON:
    return {
        "agents": [v1_agent(a, master.offers) for a in master.agents.values()],
        "recovered_agents": [],
    }


def get_frameworks(master: MasterView) -> JSON:
    return {
        "frameworks": [v1_framework(f) for f in master.frameworks.values()],
        "completed_frameworks": [v1_framework(f) for f in master.completed_frameworks],
    }


def get_tasks(master: MasterView) -> JSON:
    tasks: list[JSON] = []
    unreachable: list[JSON] = []
    completed: list[JSON] = []
    for framework in [*master.frameworks.values(), *master.completed_frameworks]:
        for task in framework.tasks.values():
            (unreachable if task.state == "TASK_UNREACHABLE" else tasks).append(v1_task(task))
        completed.extend(v1_task(t) for t in framework.completed_tasks)
    return {"tasks": tasks, "unreachable_tasks": unreachable, "completed_tasks": completed}


def get_executors(master: MasterView) -> JSON:
    executors = [
        {"executor_info": e.info.raw, "agent_id": id_json(e.agent_id)}
        for f in master.frameworks.values()
        for e in f.executors.values()
    ]
    return {"executors": executors}


def get_state(master: MasterView) -> JSON:
    return {
        "get_tasks": get_tasks(master),
        "get_executors": get_executors(master),
        "get_frameworks": get_frameworks(master),
        "get_agents": get_agents(master),
    }


def version_info() -> JSON:
    return {"version": VERSION, **BUILD}
