"""Matching one offer against one app (the TaskInfo of a match is built in `task_info`). Pure.

Follows Marathon's `ResourceMatcher` (which roles an app may use, the reasons an offer does not
match) and `TaskBuilder` (the TaskInfo of a host-networking command task: environment, labels,
discovery, kill policy, the one executor-side health check). No clock and no randomness: the
task id and the version label come in, and dynamic host ports are the lowest free ones (Marathon
picks them at random; the lowest keeps plans reproducible and tests exact).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from daemons.marathon.constraints import Placement, satisfied
from daemons.marathon.model import AppDefinition, Constraint
from daemons.marathon.task_info import build_task_info
from daemons.protocols import JSON
from daemons.protocols.models import Offer
from daemons.protocols.resources import EMPTY, UNRESERVED, Range, Resources

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
