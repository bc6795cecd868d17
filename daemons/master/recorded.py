"""Messages the cluster accepted before, read back: what an agent reports of the frameworks,
executors and tasks it runs when it re-registers, and the FrameworkInfos the registry holds.
Pure: the wire layer only.

They were taken once already — perhaps by an earlier release, which checked less than this one
does — and they stand for work that is running. So they are never refused for a part the master
only echoes: each is parsed as a protocols model when it can be, and otherwise taken with what
identifies it and what it holds (ids, state, resources), its `raw` kept, so that it is still
echoed as it was sent. Only a message without those is left out (`None`).
"""

from __future__ import annotations

from typing import Any

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_json, id_value, opt_id_value
from daemons.protocols.models import ExecutorInfo, FrameworkInfo, TaskStatus
from daemons.protocols.models import Task as ReportedTask
from daemons.protocols.models.parts import read_resources


def framework_info(raw: JSON, where: str) -> FrameworkInfo:
    """A FrameworkInfo; one that does not parse has Mesos' defaults (role "*", no
    capabilities) with the names it gives."""
    try:
        return FrameworkInfo.parse(raw, where)
    except ProtocolError:
        user, name, framework_id = raw.get("user"), raw.get("name"), raw.get("id")
        return FrameworkInfo(
            user=user if isinstance(user, str) else "",
            name=name if isinstance(name, str) else "",
            id=_id(framework_id),
            raw=raw,
        )


def executor_info(raw: JSON, where: str) -> ExecutorInfo | None:
    """An ExecutorInfo with its framework id, or None without its ids or resources."""
    try:
        info = ExecutorInfo.parse(raw, where)
    except ProtocolError:
        try:
            resources, role = read_resources(raw, "resources", where)
            info = ExecutorInfo(
                executor_id=id_value(raw, "executor_id", where),
                framework_id=opt_id_value(raw, "framework_id", where),
                resources=resources,
                allocation_role=role,
                raw=raw,
            )
        except ProtocolError:
            return None
    return info if info.framework_id else None


def task(raw: JSON, where: str) -> ReportedTask | None:
    """A Task as its agent reports it, or None without its ids, state or resources. The
    statuses that parse are kept (one without its task id is the task's)."""
    try:
        return ReportedTask.parse(raw, where)
    except ProtocolError:
        pass
    try:
        resources, role = read_resources(raw, "resources", where)
        task_id = id_value(raw, "task_id", where)
        return ReportedTask(
            task_id=task_id,
            framework_id=id_value(raw, "framework_id", where),
            state=f.string(raw, "state", where),
            name=raw["name"] if isinstance(raw.get("name"), str) else "",
            executor_id=_id(raw.get("executor_id")),
            resources=resources,
            allocation_role=role,
            statuses=tuple(_statuses(raw.get("statuses"), task_id, f"{where}.statuses[]")),
            raw=raw,
        )
    except ProtocolError:
        return None


def _statuses(items: Any, task_id: str, where: str) -> list[TaskStatus]:
    out: list[TaskStatus] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            out.append(TaskStatus.parse({"task_id": id_json(task_id), **item}, where))
        except ProtocolError:
            continue
    return out


def _id(holder: Any) -> str | None:
    value = holder.get("value") if isinstance(holder, dict) else None
    return value if isinstance(value, str) and value else None
