"""Building TaskInfo JSON for the common case: a shell command with cpus/mem/disk/ports. Pure.

Marathon and Metronome build their tasks with it; frameworks written with `daemons.mesos_client`
import it from there."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from daemons.protocols import JSON
from daemons.protocols.models import (
    CommandInfo,
    CommandURI,
    EnvironmentVariable,
    TaskInfo,
    labels_from,
)
from daemons.protocols.resources import UNRESERVED, Resources, to_v1


def _wanted(cpus: float, mem: float, disk: float, ports: Iterable[int]) -> Resources:
    return Resources.of(
        scalars={"cpus": cpus, "mem": mem, "disk": disk},
        ranges={"ports": [(p, p) for p in ports]},
    )


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
    return to_v1(_wanted(cpus, mem, disk, ports), role, allocation_role)


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
    return TaskInfo(
        task_id=task_id,
        name=name,
        agent_id=agent_id,
        resources={role: _wanted(cpus, mem, disk, ports)},
        allocation_role=allocation_role,
        command=CommandInfo(
            value=command,
            shell=shell,
            arguments=tuple(arguments),
            environment=tuple(
                EnvironmentVariable(k, v) for k, v in sorted((environment or {}).items())
            ),
            uris=tuple(CommandURI(u) for u in uris),
            user=user,
        ),
        labels=labels_from(labels or {}),
    ).to_json()
