"""The bodies of the HTTP API, over the local zones' records (`dnsproxy.zones.Records`). Pure.

Shapes as Mesos-DNS's (services-api.md §1.5), which dcos-net's API copies: names lowercase with
their trailing dot; a lookup that finds nothing answers one all-empty object. Only local zones
are listed: a `.mesos` name is Mesos-DNS's to answer (its own API, port 8123).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from daemons.kit.dns import zone
from dnsproxy.zones import Records

Body = list[dict[str, str]]


def _all(records: Records) -> Iterator[zone.Record]:
    for rrs in records.values():
        yield from rrs


def fqdn(name: str) -> str:
    """`Ready.Spartan` -> `ready.spartan.`"""
    name = name.lower()
    return name if name.endswith(".") else name + "."


def all_records(records: Records) -> Body:
    """`GET /v1/records`: every record, `{"name", "host", "rtype"}` (SRV host `target:port`)."""
    out: Body = []
    for record in _all(records):
        if isinstance(record, zone.SRV):
            host, rtype = f"{fqdn(record.target)}:{record.port}", "SRV"
        else:
            host, rtype = record.ip, "A" if isinstance(record, zone.A) else "AAAA"
        out.append({"name": fqdn(record.name), "host": host, "rtype": rtype})
    return out


def _addresses(records: Records) -> Mapping[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in _all(records):
        if not isinstance(record, zone.SRV):
            found.setdefault(fqdn(record.name), []).append(record.ip)
    return found


def hosts(records: Records, host: str) -> Body:
    """`GET /v1/hosts/{host}`: `[{"host", "ip"}]`, or `[{"host": "", "ip": ""}]`."""
    name = fqdn(host)
    ips = _addresses(records).get(name, [])
    return [{"host": name, "ip": ip} for ip in ips] or [{"host": "", "ip": ""}]


def services(records: Records, service: str) -> Body:
    """`GET /v1/services/{service}`: `[{"service", "host", "ip", "port"}]` (the target's first
    address), or one all-empty object."""
    name = fqdn(service)
    addresses = _addresses(records)
    out: Body = []
    for record in _all(records):
        if isinstance(record, zone.SRV) and fqdn(record.name) == name:
            target = fqdn(record.target)
            ip = (addresses.get(target) or [""])[0]
            out.append({"service": service, "host": target, "ip": ip, "port": str(record.port)})
    return out or [{"service": "", "host": "", "ip": "", "port": ""}]
