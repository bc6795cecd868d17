"""A record set as the DNS zone the kit serves, and where queries for other names go. Pure.

`zone_of(records, config)` gives the `daemons.kit.dns.zone.Zone` of the Mesos domain: every A,
AAAA and SRV record with Mesos-DNS's TTL (`ttl`) and SRV weight (`srvRecordDefaultWeight`,
priority 0), the SOA of the config with the record set's serial, and `SOAMname` as the name
server. A record whose name the wire cannot carry (a label over 63 bytes, a name over 255, a
character outside ASCII: a raw DiscoveryInfo name can hold any) is left out and counted, never
fatal to the rest; so is a record outside the domain (an `SOAMname` in another zone).

Built again for a new record set, the zone is patched: only the answers of the names whose
records changed (and of the SRV names pointing at them) are built again, the rest is kept
(`_patched`); a 10,000-task zone takes seconds to build whole, and one task changes a few names.

`forwarding(config).forward_for(qname)` is Mesos-DNS's forwarding rule: the resolvers of
the longest `zoneResolvers` zone the name is in, else `resolvers`; none when `externalon` is
false.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from daemons.kit.dns import wire
from daemons.kit.dns import zone as dns
from daemons.kit.dns.upstream import Forward, parse_upstream
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import RecordSet

_V = TypeVar("_V")


@dataclass(frozen=True)
class Built:
    """A zone, the record set it was built from, and the records this build left out."""

    zone: dns.Zone
    records: RecordSet
    skipped: int


def _fits(name: str, apex: bytes) -> bool:
    try:
        return wire.in_zone(wire.name_to_wire(name), apex)
    except ValueError:
        return False


def _soa(records: RecordSet, config: MesosDnsConfig) -> dns.SOA:
    return dns.SOA(
        config.soa_mname,
        config.soa_rname,
        records.serial,
        config.soa_refresh,
        config.soa_retry,
        config.soa_expire,
        config.soa_minttl,
    )


class _Selection:
    """The records of some names (all: `names` None) as the kit's records, in the order a full
    build reads them (every A, then AAAA, then SRV), counting those the wire cannot carry."""

    def __init__(self, records: RecordSet, config: MesosDnsConfig, apex: bytes) -> None:
        self.records = records
        self.config = config
        self.apex = apex
        self.skipped = 0
        self._fits: dict[str, bool] = {}

    def ok(self, name: str) -> bool:
        good = self._fits.get(name)
        if good is None:
            good = self._fits[name] = _fits(name, self.apex)
        return good

    def of(self, names: Iterable[str] | None) -> Iterator[dns.Record]:
        rs = self.records
        for table, make in ((rs.a, dns.A), (rs.aaaa, dns.AAAA)):
            chosen = table.items() if names is None else _pick(table, names)
            for name, ips in chosen:
                if self.ok(name):
                    yield from (make(name, ip) for ip in ips)
                else:
                    self.skipped += len(ips)
        weight = self.config.srv_record_default_weight
        chosen_srv = rs.srv.items() if names is None else _pick(rs.srv, names)
        for name, targets in chosen_srv:
            for t in targets:
                if self.ok(name) and self.ok(t.target):
                    yield dns.SRV(name, t.target, t.port, 0, weight)
                else:
                    self.skipped += 1


def _pick(table: Mapping[str, _V], names: Iterable[str]) -> Iterator[tuple[str, _V]]:
    for name in names:
        values = table.get(name)
        if values is not None:
            yield name, values


def _build(selection: _Selection, names: Iterable[str] | None, records: RecordSet) -> dns.Zone:
    config = selection.config
    nameservers = [config.soa_mname] if _fits(config.soa_mname, selection.apex) else []
    return dns.build_zone(
        config.domain,
        _soa(records, config),
        selection.of(names),
        ttl=config.ttl,
        nameservers=nameservers,
        recursion_available=config.recurse_on,
    )


def zone_of(records: RecordSet, config: MesosDnsConfig, previous: Built | None = None) -> Built:
    """The Mesos domain's zone (`config.domain`) for `records`; with `previous` (the zone of an
    earlier record set, same config), built by changing only what differs (`_patched`)."""
    apex = wire.name_to_wire(config.domain)
    selection = _Selection(records, config, apex)
    if previous is None:
        return Built(_build(selection, None, records), records, selection.skipped)
    return Built(_patched(previous, selection), records, selection.skipped)


def _changed(old: RecordSet, new: RecordSet) -> set[str]:
    """The names whose A, AAAA or SRV values differ (order included), or that come or go."""
    changed: set[str] = set()
    for before, after in ((old.a, new.a), (old.aaaa, new.aaaa), (old.srv, new.srv)):
        for name, values in after.items():
            if before.get(name) != values:
                changed.add(name)
        changed.update(name for name in before if name not in after)
    return changed


def _patched(previous: Built, selection: _Selection) -> dns.Zone:
    """The zone of `selection.records`, from `previous`'s answers with those of the changed
    names built again.

    What an answer depends on: its owner's records (the answer of each type, and ANY), and for
    an SRV answer (and the apex's NS) the addresses of its targets, which go in its additional
    section. So the names built again are the changed ones and the SRV owners that point at a
    changed name; their targets' (and the name server's) addresses are passed to the build too,
    and only the answers of the rebuilt owners (and the apex: its SOA carries the new serial)
    are taken from it. A test checks the result against a full build, answer for answer."""
    records, config, apex = selection.records, selection.config, selection.apex
    changed = _changed(previous.records, records)
    owners = set(changed)
    targets: set[str] = {config.soa_mname}
    for owner, srvs in records.srv.items():
        pointed = {t.target for t in srvs}
        if owner in changed or not pointed.isdisjoint(changed):
            owners.add(owner)
            targets |= pointed
    sub = _build(selection, [*owners, *(targets - owners)], records)
    rebuilt = {apex}
    for name in owners:
        if selection.ok(name):
            rebuilt.add(wire.name_to_wire(name))
    answers = {
        key: answer for key, answer in previous.zone.answers.items() if key[0] not in rebuilt
    }
    answers.update((key, answer) for key, answer in sub.answers.items() if key[0] in rebuilt)
    old_owners = {key[0] for key in previous.zone.answers if key[0] in rebuilt}
    new_owners = {key[0] for key in answers if key[0] in rebuilt}
    if old_owners <= new_owners:  # nothing went: the names only grow, if at all
        names = previous.zone.names | dns.with_ancestors(new_owners - old_owners, apex)
    else:  # an owner went: which of its ancestors still have names below them?
        names = frozenset(dns.with_ancestors({key[0] for key in answers}, apex))
    return dns.Zone(apex, answers, frozenset(names), sub.nodata, sub.nxdomain)


@dataclass(frozen=True)
class Forwarding:
    """Where each zone's queries go (wire-form apex, longest first), and all others."""

    zones: tuple[tuple[bytes, Forward], ...]
    default: Forward

    def forward_for(self, qname: bytes) -> Forward:
        """Where a query for wire-form `qname` goes (no upstream: answer REFUSED)."""
        for apex, forward in self.zones:
            if wire.in_zone(qname, apex):
                return forward
        return self.default

    @property
    def upstreams(self) -> bool:
        """Whether any query may be forwarded at all."""
        return bool(self.default.upstreams) or any(f.upstreams for _, f in self.zones)


def forwarding(config: MesosDnsConfig) -> Forwarding:
    if not config.external_on:
        return Forwarding((), Forward(()))
    zones = sorted(
        (
            (wire.name_to_wire(zone), Forward(tuple(parse_upstream(r) for r in resolvers)))
            for zone, resolvers in config.zone_resolvers.items()
        ),
        key=lambda item: -len(item[0]),
    )
    return Forwarding(tuple(zones), Forward(tuple(parse_upstream(r) for r in config.resolvers)))
