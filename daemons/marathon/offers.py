"""Matching one offer against one app, and the TaskInfo launched from a match. Pure.

Follows Marathon's `ResourceMatcher` (which roles an app may use, the reasons an offer does not
match) and `TaskBuilder` (the TaskInfo of a host-networking command task: environment, labels,
discovery, kill policy, the one executor-side health check). No clock and no randomness: the
task id and the version label come in, and dynamic host ports are the lowest free ones (Marathon
picks them at random; the lowest keeps plans reproducible and tests exact).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from daemons.common.resources import EMPTY, UNRESERVED, Range, Resources, by_role_to_v1
from daemons.marathon.constraints import Placement, satisfied
from daemons.marathon.model import AppDefinition, Constraint, HealthCheck
from daemons.mesos_client.events import Offer
from daemons.mesos_client.tasks import command_task

JSON = dict[str, Any]

# Marathon's NoOfferMatchReason names, in its "funnel" order (the first is the one it reports).
UNFULFILLED_ROLE = "UnfulfilledRole"
UNFULFILLED_CONSTRAINT = "UnfulfilledConstraint"
INSUFFICIENT_CPUS = "InsufficientCpus"
INSUFFICIENT_MEMORY = "InsufficientMemory"
INSUFFICIENT_DISK = "InsufficientDisk"
INSUFFICIENT_GPUS = "InsufficientGpus"
INSUFFICIENT_PORTS = "InsufficientPorts"

_SCALARS = (
    ("cpus", INSUFFICIENT_CPUS),
    ("mem", INSUFFICIENT_MEMORY),
    ("disk", INSUFFICIENT_DISK),
    ("gpus", INSUFFICIENT_GPUS),
)

# EnvironmentHelper: label variables longer than this are left out (an env var size limit).
_MAX_ENV_LENGTH = 512
_LABEL_PREFIX = "MARATHON_APP_LABEL_"
_NOT_ENV_NAME = re.compile(r"[^a-zA-Z0-9_]+")
_NANOS = 1_000_000_000


@dataclass(frozen=True)
class Match:
    """A launch: the TaskInfo to ACCEPT, and what it takes from the offer (to subtract)."""

    task_info: JSON
    host_ports: tuple[int, ...]
    consumed: Mapping[str, Resources]  # reservation role -> quantities taken
    agent_id: str
    hostname: str


@dataclass(frozen=True)
class NoMatch:
    reasons: tuple[str, ...]  # Marathon's NoOfferMatchReason names, funnel order
    constraint: Constraint | None = None  # the first violated one, for the log


def match(
    app: AppDefinition,
    offer: Offer,
    placed: Sequence[Placement],
    *,
    task_id: str,
    available: Mapping[str, Resources] | None = None,
    version_label: str,
) -> Match | NoMatch:
    """Launch one instance of `app` from `offer`, or say why not.

    `available` is what is left of the offer after earlier launches from it in the same round;
    `placed` are the app's instances that count for its constraints (including those just
    launched from this round's offers).
    """
    remaining = offer.resources if available is None else available
    roles = usable_roles(app)
    reasons: list[str] = []
    if not any(not r.is_empty() for role, r in offer.resources.items() if role in roles):
        reasons.append(UNFULFILLED_ROLE)
    region, zone = fault_domain(offer)
    violated = satisfied(
        app.constraints, offer.hostname, offer.attributes, placed, region=region, zone=zone
    )
    if violated is not None:
        reasons.append(UNFULFILLED_CONSTRAINT)
    order = _role_order(roles, remaining)
    taken: dict[str, dict[str, float]] = {}
    for name, reason in _SCALARS:
        by_role = _take_scalar(_required(app, name), name, order, remaining)
        if by_role is None:
            reasons.append(reason)
        else:
            for role, amount in by_role.items():
                taken.setdefault(role, {})[name] = amount
    if reasons:
        return NoMatch(tuple(reasons), violated)
    # As in Marathon, ports are looked at only once everything else fits.
    ports = pick_ports(app, {role: remaining[role].ranges.get("ports", ()) for role in order})
    if ports is None:
        return NoMatch((INSUFFICIENT_PORTS,))
    consumed = _consumed(taken, ports)
    host_ports = tuple(port for port, _ in ports)
    task_info = build_task_info(
        app,
        task_id=task_id,
        agent_id=offer.agent_id,
        hostname=offer.hostname,
        consumed=consumed,
        host_ports=host_ports,
        allocation_role=offer.allocation_role,
        version_label=version_label,
    )
    return Match(task_info, host_ports, consumed, offer.agent_id, offer.hostname)


def subtract(
    available: Mapping[str, Resources], consumed: Mapping[str, Resources]
) -> dict[str, Resources]:
    """What is left of an offer after a launch; roles left with nothing are dropped."""
    left = {role: res - consumed.get(role, EMPTY) for role, res in available.items()}
    return {role: res for role, res in left.items() if not res.is_empty()}


def usable_roles(app: AppDefinition) -> frozenset[str]:
    """Reservation roles the app may launch on.

    `acceptedResourceRoles`, when set, is the whole list ("*" only if it is listed); otherwise
    unreserved resources and, for an app with a role, the resources reserved for that role.
    """
    if app.accepted_resource_roles is not None:
        return frozenset(app.accepted_resource_roles)
    return frozenset({UNRESERVED, app.role})


def fault_domain(offer: Offer) -> tuple[str | None, str | None]:
    """(region, zone) of the offering agent: `domain.fault_domain.{region,zone}.name`."""
    domain = offer.raw.get("domain")
    fault = domain.get("fault_domain") if isinstance(domain, dict) else None
    if not isinstance(fault, dict):
        return None, None
    return _name_of(fault.get("region")), _name_of(fault.get("zone"))


def _name_of(raw: Any) -> str | None:
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) else None


def _required(app: AppDefinition, name: str) -> float:
    return {"cpus": app.cpus, "mem": app.mem, "disk": app.disk, "gpus": float(app.gpus)}[name]


def _role_order(roles: frozenset[str], available: Mapping[str, Resources]) -> list[str]:
    """Usable roles present in the offer, reservations first: a role's reservation was made
    for apps like this one, unreserved resources are everybody's."""
    present = [role for role in available if role in roles]
    return sorted(present, key=lambda role: (role == UNRESERVED, role))


def _take_scalar(
    required: float, name: str, order: Sequence[str], available: Mapping[str, Resources]
) -> dict[str, float] | None:
    """Role -> amount covering `required` (split across roles if need be), None if short."""
    left = round(required, 3)
    out: dict[str, float] = {}
    for role in order:
        if left <= 0:
            break
        take = min(available[role].scalar(name), left)
        if take > 0:
            out[role] = take
            left = round(left - take, 3)
    return out if left <= 0 else None


def pick_ports(
    app: AppDefinition, ranges_by_role: Mapping[str, tuple[Range, ...]]
) -> list[tuple[int, str]] | None:
    """(host port, role) per port definition, or None if the offer cannot provide them.

    With requirePorts each non-zero declared port must itself be offered; every other
    definition gets the lowest free offered port. Host ports are always distinct.
    """
    definitions = app.port_definitions
    chosen: dict[int, tuple[int, str]] = {}
    for index, definition in enumerate(definitions):
        if app.require_ports and definition.port != 0:
            role = _role_offering(definition.port, ranges_by_role)
            if role is None or any(p == definition.port for p, _ in chosen.values()):
                return None
            chosen[index] = (definition.port, role)
    free = _free_ports(ranges_by_role, {port for port, _ in chosen.values()})
    for index in range(len(definitions)):
        if index not in chosen:
            picked = next(free, None)
            if picked is None:
                return None
            chosen[index] = picked
    return [chosen[index] for index in range(len(definitions))]


def _role_offering(port: int, ranges_by_role: Mapping[str, tuple[Range, ...]]) -> str | None:
    for role, ranges in ranges_by_role.items():
        if any(begin <= port <= end for begin, end in ranges):
            return role
    return None


def _free_ports(
    ranges_by_role: Mapping[str, tuple[Range, ...]], taken: set[int]
) -> Iterator[tuple[int, str]]:
    """Offered ports in ascending order, lazily (a range can hold thousands)."""
    seen = set(taken)
    spans = sorted((b, e, role) for role, ranges in ranges_by_role.items() for b, e in ranges)
    for begin, end, role in spans:
        for port in range(begin, end + 1):
            if port not in seen:
                seen.add(port)
                yield port, role


def _consumed(
    scalars: Mapping[str, Mapping[str, float]], ports: Sequence[tuple[int, str]]
) -> dict[str, Resources]:
    port_ranges: dict[str, list[Range]] = {}
    for port, role in ports:
        port_ranges.setdefault(role, []).append((port, port))
    roles = set(scalars) | set(port_ranges)
    return {
        role: Resources.of(scalars.get(role), {"ports": port_ranges.get(role, [])})
        for role in roles
    }


# --- the TaskInfo ---------------------------------------------------------------------------


def task_name(app_id: str) -> str:
    """Marathon's `PathId.toHostname`: the path reversed, dot-joined ("/prod/web" -> "web.prod")."""
    return ".".join(reversed([s for s in app_id.split("/") if s]))


def build_task_info(
    app: AppDefinition,
    *,
    task_id: str,
    agent_id: str,
    hostname: str,
    consumed: Mapping[str, Resources],
    host_ports: Sequence[int],
    allocation_role: str | None,
    version_label: str,
) -> JSON:
    """The v1 TaskInfo of a command task on host networking (Marathon's TaskBuilder)."""
    if app.args:
        value, shell, arguments = app.args[0], False, app.args
    else:
        value, shell, arguments = app.cmd or "", app.cmd is not None, ()
    task = command_task(
        task_name(app.id),
        task_id,
        agent_id,
        app.cpus,
        app.mem,
        value,
        shell=shell,
        arguments=arguments,
        environment=task_env(app, task_id, hostname, host_ports, version_label),
        user=app.user,
        labels=app.labels,
    )
    # command_task takes one role; a match may take from several (reservation + unreserved).
    task["resources"] = by_role_to_v1(consumed, allocation_role)
    if not value:
        del task["command"]["value"]  # Marathon leaves it unset when there is no cmd/args
    uris = [_uri(f) for f in app.fetch if isinstance(f.get("uri"), str)]
    if uris:
        task["command"]["uris"] = uris
    task["discovery"] = discovery_info(app, host_ports)
    if app.task_kill_grace_period_seconds is not None:
        nanos = app.task_kill_grace_period_seconds * _NANOS
        task["kill_policy"] = {"grace_period": {"nanoseconds": nanos}}
    check = mesos_health_check(app.health_checks, host_ports)
    if check is not None:
        task["health_check"] = check
    return task


def _uri(fetch: Mapping[str, Any]) -> JSON:
    uri: JSON = {"value": fetch["uri"]}
    for key in ("executable", "extract", "cache"):  # same names in Marathon and Mesos
        if isinstance(fetch.get(key), bool):
            uri[key] = fetch[key]
    if isinstance(fetch.get("destPath"), str):
        uri["output_file"] = fetch["destPath"]
    return uri


def task_env(
    app: AppDefinition,
    task_id: str,
    host: str,
    host_ports: Sequence[int],
    version_label: str,
) -> dict[str, str]:
    """The environment Marathon gives a task (TaskBuilder.commandInfo, EnvironmentHelper).

    Built in Marathon's order, later entries winning: task context and labels, then ports,
    then HOST, then the app's own `env` (so the app can override any of them).
    """
    env = {
        "MESOS_TASK_ID": task_id,
        "MARATHON_APP_ID": app.id,
        "MARATHON_APP_VERSION": version_label,
        # Scala's Double.toString ("1.0", "0.5") for cpus/mem/disk; gpus is an Int.
        "MARATHON_APP_RESOURCE_CPUS": repr(float(app.cpus)),
        "MARATHON_APP_RESOURCE_MEM": repr(float(app.mem)),
        "MARATHON_APP_RESOURCE_DISK": repr(float(app.disk)),
        "MARATHON_APP_RESOURCE_GPUS": str(app.gpus),
    }
    env.update(label_env(app.labels))
    env.update(ports_env(app, host_ports))
    env["HOST"] = host
    env.update(app.env)
    return env


def label_env(labels: Mapping[str, str]) -> dict[str, str]:
    """MARATHON_APP_LABELS (escaped names, space-separated; present even when empty) and one
    MARATHON_APP_LABEL_<NAME> per label; oversized labels are skipped, as Marathon does."""
    escaped: dict[str, str] = {}
    for key, value in labels.items():
        if len(key) < _MAX_ENV_LENGTH - len(_LABEL_PREFIX) and len(value) < _MAX_ENV_LENGTH:
            escaped[_NOT_ENV_NAME.sub("_", key).upper()] = value
    env = {"MARATHON_APP_LABELS": " ".join(escaped)}
    env.update({_LABEL_PREFIX + name: value for name, value in escaped.items()})
    return env


def ports_env(app: AppDefinition, host_ports: Sequence[int]) -> dict[str, str]:
    """PORT0..n, PORT_<declared port>, PORT_<NAME>, PORT and PORTS (EnvironmentHelper.portsEnv).

    A declared port 0 has no number of its own: Marathon then names the variable after the
    host port (PORT_31005=31005).
    """
    if not host_ports:
        return {}
    env = {f"PORT{index}": str(port) for index, port in enumerate(host_ports)}
    pairs = list(zip(app.port_definitions, host_ports, strict=False))
    for definition, port in pairs:
        env[f"PORT_{definition.port or port}"] = str(port)
    for definition, port in pairs:
        if definition.name:
            env[f"PORT_{definition.name.upper()}"] = str(port)
    env["PORT"] = str(host_ports[0])
    env["PORTS"] = ",".join(str(p) for p in host_ports)
    return env


def discovery_info(app: AppDefinition, host_ports: Sequence[int]) -> JSON:
    """DiscoveryInfo read by Mesos-DNS (SRV records) and the L4LB (VIP labels on ports).

    One Port per protocol of a definition ("udp,tcp" gives two), numbered with the host port.
    """
    ports: list[JSON] = []
    for definition, number in zip(app.port_definitions, host_ports, strict=False):
        for protocol in definition.protocol.split(","):
            port: JSON = {"number": number, "protocol": protocol}
            if definition.name:
                port["name"] = definition.name
            if definition.labels:
                port["labels"] = _mesos_labels(definition.labels)
            ports.append(port)
    return {"visibility": "FRAMEWORK", "name": task_name(app.id), "ports": {"ports": ports}}


def _mesos_labels(labels: Mapping[str, str]) -> JSON:
    return {"labels": [{"key": k, "value": v} for k, v in sorted(labels.items())]}


def mesos_health_check(checks: Sequence[HealthCheck], host_ports: Sequence[int]) -> JSON | None:
    """The first executor-side check that can be built (Mesos runs at most one per task);
    Marathon-side checks (HTTP, HTTPS, TCP) are probed by Marathon and not sent."""
    for check in checks:
        built = health_check_json(check, host_ports)
        if built is not None:
            return built
    return None


def health_check_json(check: HealthCheck, host_ports: Sequence[int]) -> JSON | None:
    """A v1 HealthCheck, or None for a Marathon-side check or one whose port does not resolve."""
    body: JSON
    if check.protocol == "COMMAND":
        if not check.command:
            return None
        body = {"type": "COMMAND", "command": {"shell": True, "value": check.command}}
    elif check.protocol in ("MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"):
        port = _check_port(check, host_ports)
        if port is None:
            return None
        if check.protocol == "MESOS_TCP":
            body = {"type": "TCP", "tcp": {"port": port}}
        else:
            scheme = "http" if check.protocol == "MESOS_HTTP" else "https"
            http: JSON = {"scheme": scheme, "port": port}
            if check.path is not None:
                http["path"] = check.path
            body = {"type": "HTTP", "http": http}
    else:
        return None
    return {
        **body,
        "delay_seconds": float(check.delay_seconds),
        "interval_seconds": float(check.interval_seconds),
        "timeout_seconds": float(check.timeout_seconds),
        "consecutive_failures": check.max_consecutive_failures,
        "grace_period_seconds": float(check.grace_period_seconds),
    }


def _check_port(check: HealthCheck, host_ports: Sequence[int]) -> int | None:
    """An explicit port, else the host port at portIndex (0 when neither is given, as
    Marathon reads old definitions)."""
    if check.port is not None:
        return check.port
    index = check.port_index if check.port_index is not None else 0
    return host_ports[index] if 0 <= index < len(host_ports) else None
