"""The leading master's `/master/state-summary` turned into what the UI shows: the dashboard's
numbers, one row per node, and a sample for the ring. Pure.

The master's JSON is read defensively (a missing or non-numeric field counts as 0, a node
without an id is skipped): the UI shows what it can rather than nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daemons.protocols.states import ALL_TASK_STATES
from daemons.ui.ring import Sample

JSON = dict[str, Any]

RESOURCES = ("cpus", "mem", "disk", "gpus")
# Every task state, in the order Mesos declares them (the master counts each per framework).
TASK_STATES = ALL_TASK_STATES
# The states of a task that still holds its resources on a node.
LIVE_STATES = ("TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING")
# DC/OS marks a public agent by reserving its resources to this role.
PUBLIC_ROLE = "slave_public"


class SummaryProblem(ValueError):
    """The master answered something that is not a state-summary."""


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


def _count(value: Any) -> int:
    return int(_number(value))


def _resources(value: Any) -> dict[str, float]:
    found = value if isinstance(value, Mapping) else {}
    return {name: _number(found.get(name)) for name in RESOURCES}


def _list(summary: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    if not isinstance(summary, Mapping):
        raise SummaryProblem("expected a JSON object")
    items = summary.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise SummaryProblem(f"{key}: expected a list")
    return [item for item in items if isinstance(item, Mapping)]


def _ip_of(pid: Any) -> str:
    """`slave(1)@10.0.0.5:5051` -> `10.0.0.5`."""
    if not isinstance(pid, str) or "@" not in pid:
        return ""
    return pid.rsplit("@", 1)[1].rsplit(":", 1)[0]


def is_public(agent: Mapping[str, Any]) -> bool:
    reserved = agent.get("reserved_resources")
    if isinstance(reserved, Mapping) and PUBLIC_ROLE in reserved:
        return True
    attributes = agent.get("attributes")
    return isinstance(attributes, Mapping) and str(attributes.get("public_ip")).lower() == "true"


def node_row(agent: Mapping[str, Any]) -> JSON | None:
    """One row of the nodes table; None for an entry without an id."""
    agent_id = agent.get("id")
    if not isinstance(agent_id, str) or not agent_id:
        return None
    total = _resources(agent.get("resources"))
    used = _resources(agent.get("used_resources"))
    active = agent.get("active") is not False
    hostname = agent.get("hostname")
    return {
        "id": agent_id,
        "hostname": hostname if isinstance(hostname, str) else "",
        "ip": _ip_of(agent.get("pid")),
        "type": "public" if is_public(agent) else "private",
        "status": "active" if active else "inactive",
        "tasks": sum(_count(agent.get(state)) for state in LIVE_STATES),
        **{name: {"used": used[name], "total": total[name]} for name in RESOURCES},
    }


def nodes(summary: Mapping[str, Any]) -> list[JSON]:
    """The nodes table's rows, sorted by hostname then id."""
    rows = [row for agent in _list(summary, "slaves") if (row := node_row(agent)) is not None]
    rows.sort(key=lambda r: (r["hostname"], r["id"]))
    return rows


def dashboard(summary: Mapping[str, Any], node_rows: list[JSON] | None = None) -> JSON:
    """Allocated vs total resources, the nodes by status and type, frameworks, and tasks by
    state (over every framework, finished ones included, as the master counts them)."""
    rows = nodes(summary) if node_rows is None else node_rows
    frameworks = _list(summary, "frameworks")
    tasks = {state: sum(_count(f.get(state)) for f in frameworks) for state in TASK_STATES}
    cluster = summary.get("cluster")
    hostname = summary.get("hostname")
    return {
        "cluster": cluster if isinstance(cluster, str) else "",
        "leader": hostname if isinstance(hostname, str) else "",
        "resources": {
            name: {
                "used": round(sum(r[name]["used"] for r in rows), 3),
                "total": round(sum(r[name]["total"] for r in rows), 3),
            }
            for name in RESOURCES
        },
        "nodes": {
            "total": len(rows),
            "active": sum(1 for r in rows if r["status"] == "active"),
            "inactive": sum(1 for r in rows if r["status"] != "active"),
            "public": sum(1 for r in rows if r["type"] == "public"),
            "private": sum(1 for r in rows if r["type"] == "private"),
        },
        "frameworks": len(frameworks),
        "tasks": tasks,
    }


def sample(t: float, board: Mapping[str, Any]) -> Sample:
    """The ring's sample of a dashboard taken at `t`."""
    used = {name: board["resources"][name]["used"] for name in RESOURCES}
    total = {name: board["resources"][name]["total"] for name in RESOURCES}
    return Sample(
        t=t,
        cpus_used=used["cpus"],
        cpus_total=total["cpus"],
        mem_used=used["mem"],
        mem_total=total["mem"],
        disk_used=used["disk"],
        disk_total=total["disk"],
        gpus_used=used["gpus"],
        gpus_total=total["gpus"],
        nodes=board["nodes"]["total"],
        tasks_running=board["tasks"]["TASK_RUNNING"],
    )
