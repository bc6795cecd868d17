"""The routing table: where a query goes, by the longest zone suffix of its name. Pure: the
randomness that shuffles answers comes in as an argument.

- `mesos`: `Forward` to Mesos-DNS on every master (the forwarder's dual dispatch);
- a local zone (`dnsproxy.zones`): its precomputed answers;
- `<label>.thisdcos.global`: alias of `<label>.thisdcos.directory`, when that zone is local;
- `dclb.thisdcos.directory` and `dclb.thisdcos.global`: aliases of `l4lb.thisdcos.directory`
  when that zone is local (until then `thisdcos.directory`/`thisdcos.global` answer NXDOMAIN);
- a configured forward zone: `Forward` to its resolvers;
- anything else: `Forward` to the upstream resolvers (none: the server answers REFUSED).

The longest suffix wins (`foo.mesos` as a forward zone takes `a.foo.mesos` from Mesos-DNS);
a forward zone named like a local zone loses to it. An alias answers from its target zone as
if the name were asked there: records are owned by the asked name (a pointer to the question),
SRV targets and the SOA of negative answers name the target zone.

Matching is a walk down the name's label boundaries from the full name, one slice and one dict
lookup per suffix (a `dcos.thisdcos.directory` task name takes four); an alias also makes a
renamed copy of the query.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from daemons.kit.dns import wire
from daemons.kit.dns.upstream import Forward, Upstream
from daemons.kit.dns.wire import REFUSED, Query
from daemons.kit.dns.zone import Sampler, Zone

MESOS = "mesos"
ALIASES = {"dclb.thisdcos.directory": "l4lb.thisdcos.directory"}
DIRECTORY_TAIL = ".thisdcos.directory"
GLOBAL_TAIL = ".thisdcos.global"

Result = bytes | Forward


class Route(Protocol):
    def answer(self, query: Query, rng: Sampler) -> Result: ...


@dataclass(frozen=True, slots=True)
class Local:
    """A zone answered here."""

    zone: Zone

    def answer(self, query: Query, rng: Sampler) -> Result:
        reply = self.zone.reply(query, rng)
        # None only for a name outside the zone, which the table never sends here.
        return reply if reply is not None else wire.rcode_reply(query, REFUSED, wire.RA)


@dataclass(frozen=True, slots=True)
class Alias:
    """Names under an alias apex of `cut` wire bytes, answered as the same names in `zone`."""

    cut: int
    zone: Zone

    def answer(self, query: Query, rng: Sampler) -> Result:
        renamed = dataclasses.replace(query, qname=query.qname[: -self.cut] + self.zone.apex)
        reply = self.zone.reply(renamed, rng)
        return reply if reply is not None else wire.rcode_reply(query, REFUSED, wire.RA)


@dataclass(frozen=True, slots=True)
class Forwarded:
    """Names sent on to `forward.upstreams` (none: the server answers REFUSED)."""

    forward: Forward

    def answer(self, query: Query, rng: Sampler) -> Result:
        return self.forward


@dataclass(frozen=True)
class RoutingTable:
    """Wire-form zone apexes to their routes, and the route of every other name."""

    routes: Mapping[bytes, Route]
    default: Route

    def route(self, qname: bytes) -> Route:
        """The route of a lowercased wire-form name: its longest suffix in the table."""
        routes = self.routes
        i = 0
        while qname[i]:
            found = routes.get(qname[i:])
            if found is not None:
                return found
            i += qname[i] + 1
        return routes.get(qname[i:]) or self.default

    def resolve(self, query: Query, rng: Sampler) -> Result:
        """The reply to `query`, or where to forward it (`DnsServer`'s `resolve`)."""
        return self.route(query.qname).answer(query, rng)


def build_table(
    zones: Mapping[str, Zone],
    mesos_dns: Sequence[Upstream],
    upstreams: Sequence[Upstream],
    forward_zones: Mapping[str, Sequence[Upstream]] | None = None,
) -> RoutingTable:
    """The table for the local `zones` (apex -> zone), Mesos-DNS on the masters, the upstream
    resolvers and the forward zones (zone -> its resolvers). ValueError for a bad zone name."""
    routes: dict[bytes, Route] = {}
    for name, resolvers in (forward_zones or {}).items():
        routes[wire.name_to_wire(name)] = Forwarded(Forward(tuple(resolvers)))
    routes[wire.name_to_wire(MESOS)] = Forwarded(Forward(tuple(mesos_dns)))
    aliases = dict(ALIASES)
    for apex in zones:
        if apex.endswith(DIRECTORY_TAIL):
            aliases[apex.removesuffix(DIRECTORY_TAIL) + GLOBAL_TAIL] = apex
    aliases["dclb" + GLOBAL_TAIL] = ALIASES["dclb" + DIRECTORY_TAIL]
    for alias, target in aliases.items():
        if target in zones:
            routes[wire.name_to_wire(alias)] = Alias(len(wire.name_to_wire(alias)), zones[target])
    for apex, zone in zones.items():
        routes[wire.name_to_wire(apex)] = Local(zone)
    return RoutingTable(routes, Forwarded(Forward(tuple(upstreams))))
