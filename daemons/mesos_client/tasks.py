"""Building TaskInfo JSON for the common case: a shell command with cpus/mem/disk/ports. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from daemons.mesos_client.payload import value_of
from daemons.protocols import JSON
from daemons.protocols.resources import UNRESERVED, Resources, to_v1


def task_resources(
    cpus: float,
    mem: float,
    *,
    disk: float = 0.0,
    ports: Iterable[int] = (),
    role: str = UNRESERVED,
    allocation_role: str | None = None,
) -> list[JSON]:
    """v1 Resource list; `allocation_role` must match the offer's for MULTI_ROLE frameworks."""
    wanted = Resources.of(
        scalars={"cpus": cpus, "mem": mem, "disk": disk},
        ranges={"ports": [(p, p) for p in ports]},
    )
    return to_v1(wanted, role, allocation_role)


def command_task(
    name: str,
    task_id: str,
    agent_id: str,
    cpus: float,
    mem: float,
    command: str,
    *,
    disk: float = 0.0,
    ports: Iterable[int] = (),
    role: str = UNRESERVED,
    allocation_role: str | None = None,
    shell: bool = True,
    arguments: Iterable[str] = (),
    environment: Mapping[str, str] | None = None,
    uris: Iterable[str] = (),
    user: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> JSON:
    """A TaskInfo run by the agent's command executor (`/bin/sh -c command` when `shell`)."""
    command_info: JSON = {"value": command, "shell": shell}
    args = list(arguments)
    if args:
        command_info["arguments"] = args
    if environment:
        command_info["environment"] = {
            "variables": [{"name": k, "value": v} for k, v in sorted(environment.items())]
        }
    uri_list = [{"value": u} for u in uris]
    if uri_list:
        command_info["uris"] = uri_list
    if user is not None:
        command_info["user"] = user
    task: JSON = {
        "name": name,
        "task_id": value_of(task_id),
        "agent_id": value_of(agent_id),
        "resources": task_resources(
            cpus, mem, disk=disk, ports=ports, role=role, allocation_role=allocation_role
        ),
        "command": command_info,
    }
    if labels:
        task["labels"] = {"labels": [{"key": k, "value": v} for k, v in sorted(labels.items())]}
    return task
