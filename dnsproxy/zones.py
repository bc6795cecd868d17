"""The proxy's local zones: their records, and the zones built from them. Pure.

- `spartan`: `ready.spartan` 127.0.0.1 (what resolv.conf generators and watchdogs ask),
  `ns.spartan` 198.51.100.1;
- `zk`: `zk-1.zk` … `zk-5.zk`, the masters' addresses in order, round again when fewer than 5;
- `localhost`: `localhost` 127.0.0.1 and ::1;
- `dcos.thisdcos.directory`: the tasks' and masters' names (`dnsproxy.tasks`);
- `mesos.thisdcos.directory`: the copy of Mesos-DNS's records (`dnsproxy.axfr`);
- `l4lb.thisdcos.directory`: the named VIPs' addresses (`dnsproxy.vips`);
- `thisdcos.directory` and `thisdcos.global`: no records; they answer NXDOMAIN (with their SOA)
  for every name under them that no other zone holds.

Every zone has dcos-net's SOA (`ns.spartan`, `support.mesosphere.com`, serial 1, refresh 60,
retry 180, expire 86400, minimum 1; TTL 5) and NS `ns.spartan` (TTL 3,600); every other record
has TTL 5 (`TTL`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

from daemons.kit.dns import wire, zone
from dnsproxy.tasks import address_record

TTL = 5
SOA_TTL = 5
NS_TTL = 3600
NAMESERVER = "ns.spartan"
SOA = zone.SOA(NAMESERVER, "support.mesosphere.com", 1, 60, 180, 86400, 1)
PROXY_ADDRESS = "198.51.100.1"
ZK_NAMES = 5

SPARTAN = "spartan"
ZK = "zk"
LOCALHOST = "localhost"
DCOS = "dcos.thisdcos.directory"
MESOS = "mesos.thisdcos.directory"
L4LB = "l4lb.thisdcos.directory"
DIRECTORY = "thisdcos.directory"
GLOBAL = "thisdcos.global"

Records = Mapping[str, tuple[zone.Record, ...]]


def spartan_records() -> tuple[zone.Record, ...]:
    return (zone.A("ready.spartan", "127.0.0.1"), zone.A("ns.spartan", PROXY_ADDRESS))


def zk_records(masters: Sequence[str]) -> tuple[zone.Record, ...]:
    """`zk-1.zk` … `zk-5.zk`: always five names, the masters repeated in order when fewer."""
    out: list[zone.Record] = []
    for n in range(ZK_NAMES if masters else 0):
        record = address_record(f"zk-{n + 1}.zk", masters[n % len(masters)])
        if record is not None:
            out.append(record)
    return tuple(out)


def localhost_records() -> tuple[zone.Record, ...]:
    return (zone.A("localhost", "127.0.0.1"), zone.AAAA("localhost", "::1"))


def local_records(
    masters: Sequence[str],
    tasks: Sequence[zone.Record] = (),
    mesos: Sequence[zone.Record] = (),
    vips: Sequence[zone.Record] = (),
) -> Records:
    """Every local zone's records: the fixed ones, the tasks' (`dnsproxy.tasks`), the copy
    of Mesos-DNS's (`dnsproxy.axfr`) and the named VIPs' (`dnsproxy.vips`)."""
    return MappingProxyType(
        {
            SPARTAN: spartan_records(),
            ZK: zk_records(masters),
            LOCALHOST: localhost_records(),
            DCOS: tuple(tasks),
            MESOS: tuple(mesos),
            L4LB: tuple(vips),
            DIRECTORY: (),
            GLOBAL: (),
        }
    )


def valid(records: Iterable[zone.Record]) -> Iterator[zone.Record]:
    """The records whose names (and SRV targets) are valid DNS names, as they come: one bad
    name from the state never costs the others their zone."""
    for record in records:
        try:
            wire.name_to_wire(record.name)
            if isinstance(record, zone.SRV):
                wire.name_to_wire(record.target)
        except (ValueError, UnicodeError):
            continue
        yield record


def build_zones(
    records: Records, previous: tuple[Records, Mapping[str, zone.Zone]] | None = None
) -> dict[str, zone.Zone]:
    """Each zone's precomputed answers (`daemons.kit.dns.zone`), TTL 5, SOA and NS as dcos-net.
    With `previous` (the records and zones of the last build), a zone whose records are the
    same is kept, not built again: a task's change leaves the copy of Mesos-DNS's zone (≈ 30
    MiB and seconds of work at 10,000 tasks) as it was."""
    old_records, old_zones = previous or ({}, {})
    zones: dict[str, zone.Zone] = {}
    for apex, rrs in records.items():
        kept = old_zones.get(apex)
        before = old_records.get(apex)
        if kept is not None and before is not None and (before is rrs or before == rrs):
            zones[apex] = kept
            continue
        zones[apex] = build_zone(apex, rrs)
    return zones


def build_zone(apex: str, records: Iterable[zone.Record]) -> zone.Zone:
    """One local zone of `records` (the valid ones), TTL 5, SOA and NS as dcos-net."""
    return zone.build_zone(
        apex,
        SOA,
        valid(records),
        ttl=TTL,
        nameservers=[NAMESERVER],
        soa_ttl=SOA_TTL,
        ns_ttl=NS_TTL,
    )
