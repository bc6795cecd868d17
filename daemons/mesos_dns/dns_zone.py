"""A record set as the DNS zone the kit serves, and where queries for other names go. Pure.

`zone_of(records, config)` gives the `daemons.kit.dns.zone.Zone` of the Mesos domain: every A,
AAAA and SRV record with Mesos-DNS's TTL (`ttl`) and SRV weight (`srvRecordDefaultWeight`,
priority 0), the SOA of the config with the record set's serial, and `SOAMname` as the name
server. A record whose name the wire cannot carry (a label over 63 bytes, a name over 255, a
character outside ASCII: a raw DiscoveryInfo name can hold any) is left out and counted, never
fatal to the rest; so is a record outside the domain (an `SOAMname` in another zone).

`forwarding(config).upstreams_for(qname)` is Mesos-DNS's forwarding rule: the resolvers of
the longest `zoneResolvers` zone the name is in, else `resolvers`; none when `externalon` is
false.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from daemons.kit.dns import wire
from daemons.kit.dns import zone as dns
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import RecordSet


@dataclass(frozen=True)
class Built:
    """A zone and the number of records it could not hold."""

    zone: dns.Zone
    skipped: int


def _fits(name: str, apex: bytes) -> bool:
    try:
        return wire.in_zone(wire.name_to_wire(name), apex)
    except ValueError:
        return False


def zone_of(records: RecordSet, config: MesosDnsConfig) -> Built:
    """The Mesos domain's zone (`config.domain`) for `records`."""
    apex = wire.name_to_wire(config.domain)
    skipped = 0
    fits: dict[str, bool] = {}

    def ok(name: str) -> bool:
        good = fits.get(name)
        if good is None:
            good = fits[name] = _fits(name, apex)
        return good

    def all_records() -> Iterator[dns.Record]:
        nonlocal skipped
        for name, ips in records.a.items():
            if ok(name):
                yield from (dns.A(name, ip) for ip in ips)
            else:
                skipped += len(ips)
        for name, ips in records.aaaa.items():
            if ok(name):
                yield from (dns.AAAA(name, ip) for ip in ips)
            else:
                skipped += len(ips)
        weight = config.srv_record_default_weight
        for name, targets in records.srv.items():
            for t in targets:
                if ok(name) and ok(t.target):
                    yield dns.SRV(name, t.target, t.port, 0, weight)
                else:
                    skipped += 1

    soa = dns.SOA(
        config.soa_mname,
        config.soa_rname,
        records.serial,
        config.soa_refresh,
        config.soa_retry,
        config.soa_expire,
        config.soa_minttl,
    )
    nameservers = [config.soa_mname] if _fits(config.soa_mname, apex) else []
    zone = dns.build_zone(
        config.domain,
        soa,
        all_records(),
        ttl=config.ttl,
        nameservers=nameservers,
        recursion_available=config.recurse_on,
    )
    return Built(zone, skipped)


# A resolver: (IP literal, port).
Upstream = tuple[str, int]


def _upstream(text: str) -> Upstream:
    """`ip`, `ip:port` or `[v6]:port`, as the config accepts resolvers (no port: 53)."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return host, int(port or 53)
    host, sep, port = text.rpartition(":")
    if not sep or ":" in host:
        return text, 53
    return host, int(port)


@dataclass(frozen=True)
class Forwarding:
    """The upstreams of every zone, wire-form apex -> resolvers, longest zone first."""

    zones: tuple[tuple[bytes, tuple[Upstream, ...]], ...]
    default: tuple[Upstream, ...]

    def upstreams_for(self, qname: bytes) -> tuple[Upstream, ...]:
        """Where a query for wire-form `qname` goes (empty: answer REFUSED)."""
        for apex, upstreams in self.zones:
            if wire.in_zone(qname, apex):
                return upstreams
        return self.default


def forwarding(config: MesosDnsConfig) -> Forwarding:
    if not config.external_on:
        return Forwarding((), ())
    zones = sorted(
        (
            (wire.name_to_wire(zone), tuple(_upstream(r) for r in resolvers))
            for zone, resolvers in config.zone_resolvers.items()
        ),
        key=lambda item: -len(item[0]),
    )
    return Forwarding(tuple(zones), tuple(_upstream(r) for r in config.resolvers))
