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
Which names changed, the record set says when it was generated from the previous one
(`RecordSet.changes_from`); else every name is compared. The names that exist (owners and
their ancestors: an empty non-terminal answers NODATA) are patched too, with a count of the
names right below each (`Built.children`), so that a patch costs what changed plus copying the
answer table, not a walk of the zone.

`forwarding(config).forward_for(qname)` is Mesos-DNS's forwarding rule: the resolvers of
the longest `zoneResolvers` zone the name is in, else `resolvers`; none when `externalon` is
false.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
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
    # How many names of `zone.names` are right below each name (only names with some).
    children: Mapping[bytes, int]


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
        zone = _build(selection, None, records)
        return Built(zone, records, selection.skipped, _children(zone.names, apex))
    zone, children = _patched(previous, selection)
    return Built(zone, records, selection.skipped, children)


def _parent(name: bytes) -> bytes:
    return name[name[0] + 1 :]


def _children(names: Iterable[bytes], apex: bytes) -> dict[bytes, int]:
    counts: dict[bytes, int] = {}
    for name in names:
        if name != apex:
            parent = _parent(name)
            counts[parent] = counts.get(parent, 0) + 1
    return counts


def _changed(old: RecordSet, new: RecordSet) -> set[str]:
    """The names whose A, AAAA or SRV values differ (order included), or that come or go."""
    changed: set[str] = set()
    for before, after in ((old.a, new.a), (old.aaaa, new.aaaa), (old.srv, new.srv)):
        for name, values in after.items():
            if before.get(name) != values:
                changed.add(name)
        changed.update(name for name in before if name not in after)
    return changed


# Every type an owner can have an answer of (build_zone's), ANY included.
_QTYPES = dns.OWNED_TYPES


def _owns(answers: Mapping[tuple[bytes, int], dns.Answer], name: bytes) -> bool:
    """Whether `name` owns records (an owner of one type has no ANY answer of its own)."""
    return any((name, qtype) in answers for qtype in _QTYPES)


def _patched(previous: Built, selection: _Selection) -> tuple[dns.Zone, dict[bytes, int]]:
    """The zone of `selection.records`, from `previous`'s answers with those of the changed
    names built again; and its `children`.

    What an answer depends on: its owner's records (the answer of each type, and ANY), and for
    an SRV answer (and the apex's NS) the addresses of its targets, which go in its additional
    section. So the names built again are the changed ones and the SRV owners that point at a
    changed name; their targets' (and the name server's) addresses are passed to the build too,
    and only the answers of the rebuilt owners (and the apex: its SOA carries the new serial)
    are taken from it. A test checks the result against a full build, answer for answer."""
    records, config, apex = selection.records, selection.config, selection.apex
    known = records.changes_from(previous.records)
    owners: AbstractSet[str]
    if known is None:
        changed = _changed(previous.records, records)
        pointing = {
            owner for owner, srvs in records.srv.items() if any(t.target in changed for t in srvs)
        }
        owners = changed | pointing
    else:
        owners = known[0] | known[1]
    targets: set[str] = {config.soa_mname}
    for owner in owners:
        targets.update(t.target for t in records.srv.get(owner, ()))
    sub = _build(selection, [*owners, *(targets - owners)], records)
    rebuilt = {apex}
    for name in owners:
        if selection.ok(name):
            rebuilt.add(wire.name_to_wire(name))
    before = previous.zone.answers
    answers = dict(before)  # a C copy; the answers of the names not rebuilt are shared
    for wire_name in rebuilt:
        for qtype in _QTYPES:
            answers.pop((wire_name, qtype), None)
    answers.update((key, answer) for key, answer in sub.answers.items() if key[0] in rebuilt)
    # Which owners came, and which went.
    old_owners = {n for n in rebuilt if _owns(before, n)}
    new_owners = {n for n in rebuilt if _owns(answers, n)}
    names, children = _names(previous, new_owners - old_owners, old_owners - new_owners, answers)
    return dns.Zone(apex, answers, names, sub.nodata, sub.nxdomain), children


def _names(
    previous: Built,
    came: set[bytes],
    went: set[bytes],
    answers: Mapping[tuple[bytes, int], dns.Answer],
) -> tuple[frozenset[bytes], dict[bytes, int]]:
    """The names that exist once owners came and went: a new owner and its missing ancestors
    are added; an owner gone with no name below it goes, and so does each ancestor left with
    no name below it and no record."""
    names, children = previous.zone.names, dict(previous.children)
    if not came and not went:
        return names, children
    apex = previous.zone.apex
    added: set[bytes] = set()
    removed: set[bytes] = set()

    def exists(name: bytes) -> bool:
        return name in added or (name in names and name not in removed)

    for name in came:
        while name != apex and not exists(name):
            added.add(name)
            removed.discard(name)
            parent = _parent(name)
            children[parent] = children.get(parent, 0) + 1
            name = parent
    for name in went:
        while name != apex and exists(name) and not children.get(name) and not _owns(answers, name):
            removed.add(name)
            added.discard(name)
            parent = _parent(name)
            children[parent] -= 1
            if not children[parent]:
                del children[parent]
            name = parent
    # One copy of the (large) set, not two.
    if not removed:
        return names | added, children
    if not added:
        return names - removed, children
    return frozenset(n for n in (*names, *added) if n not in removed), children


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
