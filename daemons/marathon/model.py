"""Marathon's typed values: app definitions, instances (tasks), health, deployments. Pure.

Every value is frozen. Apps are kept in the normalised, absolute form (`/group/app`), with
every default filled in by `appdef.parse_app`; `appdef.app_json` turns one back into the JSON
marathon-python accepts. Timestamps are seconds since the epoch (floats); `timestamps` formats
them the Marathon way (`2015-09-29T15:59:51.164Z`). `instance_stored` is an instance's form in
ZooKeeper, so that a new leader knows the version of every task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON

# Mesos task states Marathon counts as "running" (instance alive at the agent).
ACTIVE_STATES = frozenset({"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"})
STAGED_STATES = frozenset({"TASK_STAGING", "TASK_STARTING"})


@dataclass(frozen=True)
class PortDefinition:
    port: int  # 0 = Marathon picks a service port
    protocol: str = "tcp"  # tcp | udp | udp,tcp
    name: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Constraint:
    field: str  # hostname / @hostname / @region / @zone / an agent attribute
    operator: str  # UNIQUE CLUSTER GROUP_BY LIKE UNLIKE MAX_PER IS
    value: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    protocol: str = "HTTP"  # HTTP HTTPS TCP COMMAND MESOS_HTTP MESOS_HTTPS MESOS_TCP
    path: str | None = None
    port_index: int | None = None
    port: int | None = None
    command: str | None = None
    grace_period_seconds: int = 300
    interval_seconds: int = 60
    timeout_seconds: int = 20
    max_consecutive_failures: int = 3
    delay_seconds: int = 15
    ignore_http1xx: bool = False

    @property
    def is_marathon_side(self) -> bool:
        """Probed by Marathon itself (HTTP/HTTPS/TCP); the others run in the executor."""
        return self.protocol in ("HTTP", "HTTPS", "TCP")


@dataclass(frozen=True)
class UpgradeStrategy:
    minimum_health_capacity: float = 1.0
    maximum_over_capacity: float = 1.0


@dataclass(frozen=True)
class UnreachableStrategy:
    """`None` values mean "disabled": unreachable instances are never replaced."""

    inactive_after_seconds: int | None = 0
    expunge_after_seconds: int | None = 0

    @property
    def disabled(self) -> bool:
        return self.inactive_after_seconds is None


@dataclass(frozen=True)
class AppDefinition:
    id: str  # absolute PathId, e.g. "/prod/web"
    cmd: str | None = None
    args: tuple[str, ...] | None = None
    cpus: float = 1.0
    mem: float = 128.0
    disk: float = 0.0
    gpus: int = 0
    instances: int = 1
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    accepted_resource_roles: tuple[str, ...] | None = None
    role: str = "*"
    port_definitions: tuple[PortDefinition, ...] = ()
    require_ports: bool = False
    health_checks: tuple[HealthCheck, ...] = ()
    dependencies: tuple[str, ...] = ()
    upgrade_strategy: UpgradeStrategy = UpgradeStrategy()
    backoff_seconds: float = 1.0
    backoff_factor: float = 1.15
    max_launch_delay_seconds: float = 300.0
    kill_selection: str = "YOUNGEST_FIRST"  # or OLDEST_FIRST
    unreachable_strategy: UnreachableStrategy = UnreachableStrategy(0, 0)
    task_kill_grace_period_seconds: int | None = None
    user: str | None = None
    fetch: tuple[Mapping[str, Any], ...] = ()
    # Version: when this definition was stored (a deployment's time), and the two
    # versionInfo times: the last change of anything but `instances`, the last scaling.
    version: float = 0.0
    last_config_change_at: float = 0.0
    last_scaling_at: float = 0.0

    def same_config(self, other: AppDefinition) -> bool:
        """Equal but for instances and versions: scaling needs no restart."""
        ignore = {"instances", "version", "last_config_change_at", "last_scaling_at"}
        return all(
            getattr(self, f) == getattr(other, f)
            for f in self.__dataclass_fields__
            if f not in ignore
        )


@dataclass(frozen=True)
class HealthResult:
    """One health check's view of one task (Marathon's HealthCheckResult)."""

    alive: bool = False
    consecutive_failures: int = 0
    first_success: float | None = None
    last_success: float | None = None
    last_failure: float | None = None
    last_failure_cause: str | None = None


@dataclass(frozen=True)
class Instance:
    """One task of an app, as Marathon tracks it (Marathon 1.x: one task per instance)."""

    task_id: str
    app_id: str
    version: float  # the app version (config) it was launched with
    agent_id: str
    host: str
    ports: tuple[int, ...] = ()
    service_ports: tuple[int, ...] = ()
    state: str = "TASK_STAGING"
    staged_at: float = 0.0
    started_at: float | None = None
    # None: no health check or no result yet; the per-check results are in `health`.
    healthy: bool | None = None
    health: tuple[HealthResult, ...] = ()
    unreachable_since: float | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES or self.state == "TASK_UNREACHABLE"


def with_state(inst: Instance, state: str) -> Instance:
    """`inst` in `state`: what `dataclasses.replace` gives, without its per-field work. A plan
    marks every instance being killed on every event, and with `replace` that made a scale-down
    of 1,000 instances take seconds of CPU."""
    copy = object.__new__(Instance)
    copy.__dict__.update(inst.__dict__)
    copy.__dict__["state"] = state
    return copy


@dataclass(frozen=True)
class DeploymentAction:
    action: str  # StartApplication StopApplication ScaleApplication RestartApplication
    app: str


@dataclass(frozen=True)
class DeploymentStep:
    actions: tuple[DeploymentAction, ...]


@dataclass(frozen=True)
class DeploymentPlan:
    """What a deployment changes: the apps before and after, and the ordered steps."""

    id: str
    version: float
    original: Mapping[str, AppDefinition]  # app id -> app before (absent = new)
    target: Mapping[str, AppDefinition]  # app id -> app after (absent = removed)
    steps: tuple[DeploymentStep, ...]
    current_step: int = 0  # index into steps of the step being worked on

    @property
    def affected_apps(self) -> tuple[str, ...]:
        seen = {a.app for s in self.steps for a in s.actions}
        return tuple(sorted(seen))


# --- an instance as kept in ZooKeeper (instances/<task id>) ------------------------------------


def instance_stored(inst: Instance) -> JSON:
    return {
        "taskId": inst.task_id,
        "appId": inst.app_id,
        "version": inst.version,
        "agentId": inst.agent_id,
        "host": inst.host,
        "ports": list(inst.ports),
        "servicePorts": list(inst.service_ports),
        "state": inst.state,
        "stagedAt": inst.staged_at,
        "startedAt": inst.started_at,
        "unreachableSince": inst.unreachable_since,
    }


def instance_from_stored(raw: Mapping[str, Any]) -> Instance:
    return Instance(
        task_id=raw["taskId"],
        app_id=raw["appId"],
        version=float(raw["version"]),
        agent_id=raw["agentId"],
        host=raw["host"],
        ports=tuple(raw.get("ports", ())),
        service_ports=tuple(raw.get("servicePorts", ())),
        state=raw.get("state", "TASK_STAGING"),
        staged_at=float(raw.get("stagedAt", 0.0)),
        started_at=raw.get("startedAt"),
        unreachable_since=raw.get("unreachableSince"),
    )
