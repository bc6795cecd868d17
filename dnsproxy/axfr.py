"""`mesos.thisdcos.directory`: a copy of Mesos-DNS's records, read from its `GET /v1/axfr`
body, every name's `.<domain>.` suffix replaced by `.mesos.thisdcos.directory.` (SRV targets
too), as dcos-net copies them. Pure.

The body (services-api.md §1.5): `{"Domain": "mesos", "Records": {"As": {name: [ip, …]},
"AAAAs": {…}, "SRVs": {name: ["target:port", …]}}, …}`. A name outside the domain, an address
that is not an IP literal and an SRV value that is not `target:port` are left out one by one;
a body that is not that shape at all raises `ValueError` (keep the previous copy).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from daemons.kit.dns import zone
from dnsproxy.tasks import address_record

APEX = "mesos.thisdcos.directory"


def mesos_records(body: Any) -> tuple[zone.Record, ...]:
    """The records of `mesos.thisdcos.directory` from a parsed `/v1/axfr` body."""
    return tuple(dict.fromkeys(iter_mesos_records(body)))


def iter_mesos_records(body: Any) -> Iterator[zone.Record]:
    """The same records, one at a time (repeats included), for a zone built without a list
    of them (each record is garbage as soon as the zone has taken it). The body's shape is
    checked before this returns: ValueError."""
    if not isinstance(body, Mapping):
        raise ValueError("the /v1/axfr body is not an object")
    domain, records = body.get("Domain"), body.get("Records")
    if not isinstance(domain, str) or not domain or not isinstance(records, Mapping):
        raise ValueError("the /v1/axfr body has no Domain or no Records")
    return _records(records, _Renamed(f".{domain.strip('.').lower()}."))


def digest(body: Mapping[str, Any]) -> bytes:
    """A digest of a checked body's domain and records: equal digests, the same copy."""
    text = json.dumps([body["Domain"], body["Records"]], sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class _Renamed(dict[object, str | None]):
    """`app.marathon.mesos.` -> `app.marathon.mesos.thisdcos.directory`; None outside the
    domain (`suffix`). Each name renamed once: a name is an owner several times and the target
    of SRV records, and its records then share one string (10,000 tasks: ≈ 160,000 uses of
    ≈ 70,000 names)."""

    def __init__(self, suffix: str) -> None:
        super().__init__()
        self.suffix = suffix

    def __missing__(self, name: object) -> str | None:
        renamed = self[name] = _renamed(name, self.suffix)
        return renamed


def _renamed(name: object, suffix: str) -> str | None:
    if not isinstance(name, str):
        return None
    name = name.lower()
    if not name.endswith("."):
        name += "."
    if not name.endswith(suffix):
        return None
    return name[: -len(suffix)] + "." + APEX


def _values(table: object) -> Iterator[tuple[str, str]]:
    if not isinstance(table, Mapping):
        return
    for name, values in table.items():
        if isinstance(values, list):
            yield from ((name, value) for value in values if isinstance(value, str))


def _records(records: Mapping[str, Any], renamed: _Renamed) -> Iterator[zone.Record]:
    for key in ("As", "AAAAs"):
        for name, ip in _values(records.get(key)):
            owner = renamed[name]
            record = address_record(owner, ip) if owner else None
            if record is not None:
                yield record
    for name, value in _values(records.get("SRVs")):
        owner = renamed[name]
        target, _, port = value.rpartition(":")
        renamed_target = renamed[target]
        if owner and renamed_target and port.isdigit() and int(port) < 65536:
            yield zone.SRV(owner, renamed_target, int(port))
