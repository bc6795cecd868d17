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
# A node's status in the table: registered (active or inactive) or removed by the master.
REMOVED_STATES = ("unreachable", "gone")
STATUSES = ("active", "inactive", *REMOVED_STATES)


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


def removed_row(agent: Mapping[str, Any]) -> JSON | None:
    """One row for an agent the master lists in `removed_slaves`: its status is the registry's
    (unreachable or gone), its resources the total it was admitted with, nothing in use; None
    for an entry without an id."""
    row = node_row({**agent, "used_resources": {}})
    if row is None:
        return None
    state = agent.get("state")
    row["status"] = state if state in REMOVED_STATES else "gone"
    row["tasks"] = 0
    since = agent.get("time")
    row["since"] = _number(since)
    return row


def nodes(summary: Mapping[str, Any]) -> list[JSON]:
    """The nodes table's rows, the registered agents' and the removed ones' (an id listed in
    both is shown as registered), sorted by hostname then id."""
    rows = [row for agent in _list(summary, "slaves") if (row := node_row(agent)) is not None]
    seen = {row["id"] for row in rows}
    for agent in _list(summary, "removed_slaves"):
        row = removed_row(agent)
        if row is not None and row["id"] not in seen:
            seen.add(row["id"])
            rows.append(row)
    rows.sort(key=lambda r: (r["hostname"], r["id"]))
    return rows


def dashboard(summary: Mapping[str, Any], node_rows: list[JSON] | None = None) -> JSON:
    """Allocated vs total resources and the nodes by type (over the registered agents), the
    nodes by status (unreachable and gone included), frameworks, and tasks by state (over every
    framework, finished ones included, as the master counts them)."""
    rows = nodes(summary) if node_rows is None else node_rows
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in STATUSES}
    # The cluster's resources are its registered agents' (removed agents offer nothing).
    pooled = [r for r in rows if r["status"] not in REMOVED_STATES]
    frameworks = _list(summary, "frameworks")
    tasks = {state: sum(_count(f.get(state)) for f in frameworks) for state in TASK_STATES}
    cluster = summary.get("cluster")
    hostname = summary.get("hostname")
    return {
        "cluster": cluster if isinstance(cluster, str) else "",
        "leader": hostname if isinstance(hostname, str) else "",
        "resources": {
            name: {
                "used": round(sum(r[name]["used"] for r in pooled), 3),
                "total": round(sum(r[name]["total"] for r in pooled), 3),
            }
            for name in RESOURCES
        },
        "nodes": {
            "total": len(pooled),
            **counts,
            "public": sum(1 for r in pooled if r["type"] == "public"),
            "private": sum(1 for r in pooled if r["type"] == "private"),
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
