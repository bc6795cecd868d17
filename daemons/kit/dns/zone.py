"""A zone: plain records in, every answer precomputed as bytes. Pure: no I/O, no clock; the
randomness that shuffles answers comes in as an argument.

A `Zone` is built once per change of the records (off the hot path) and never changed: a new
record set is a new `Zone`, swapped in whole by whoever serves it. For each (name, type) it
holds the answer section as one chunk per resource record, and the authority and additional
sections as ready bytes, so serving a query is a dict lookup, a shuffle and a join.

Why any order of the chunks is a valid message: every answer RR is owned by the question's
name, written as a compression pointer to offset 12 (0xC00C), where the echoed question always
starts; every other name (SRV targets, SOA and NS names, additional and authority owners) is
written out in full. No chunk points into another, so chunks can be shuffled or dropped
(truncation) freely. The cost is a few bytes per RR against full compression.

The answers (RFC 1034/2308, with Mesos-DNS's choices where it has one):
- a name with records of the type: those records, AA set, RA as configured;
- a name that exists (has records of other types, or has names below it) but none of the
  type: NOERROR/NODATA with the SOA in the authority section;
- a name in the zone that does not exist: NXDOMAIN with the SOA in the authority section;
- ANY: every record of the name; SRV answers carry their targets' A and AAAA records in the
  additional section; the apex answers SOA and NS, NS with the name servers' addresses;
- a class other than IN (or ANY): REFUSED.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, TypeVar

from daemons.kit.dns import wire
from daemons.kit.dns.wire import AA, NOERROR, NXDOMAIN, RA, REFUSED, Query

_RR = struct.Struct("!HHIH")
_SRV = struct.Struct("!HHH")
_SOA = struct.Struct("!IIIII")
_QUESTION_NAME = b"\xc0\x0c"
_T = TypeVar("_T")


class Sampler(Protocol):
    """What shuffles answers: `random.Random` (its `sample` returns a new permuted list)."""

    def sample(self, population: Sequence[_T], k: int) -> list[_T]: ...


@dataclass(frozen=True, slots=True)
class A:
    name: str
    ip: str


@dataclass(frozen=True, slots=True)
class AAAA:
    name: str
    ip: str


@dataclass(frozen=True, slots=True)
class SRV:
    """Priority 0 and weight 1 are Mesos-DNS's defaults (`srvRecordDefaultWeight`)."""

    name: str
    target: str
    port: int
    priority: int = 0
    weight: int = 1


@dataclass(frozen=True, slots=True)
class SOA:
    """Mesos-DNS's defaults, but for the names and the serial (the Unix time of the last load)."""

    mname: str
    rname: str
    serial: int
    refresh: int = 60
    retry: int = 600
    expire: int = 86400
    minimum: int = 60


Record = A | AAAA | SRV
# Every type a name can own in a zone, ANY (several types) first.
OWNED_TYPES = (wire.ANY, wire.A, wire.AAAA, wire.SRV, wire.SOA, wire.NS)


@dataclass(frozen=True, slots=True)
class Answer:
    """A precomputed reply body: `flags` carries AA, RA and the RCODE."""

    flags: int
    records: tuple[bytes, ...] = ()
    authority: bytes = b""
    nscount: int = 0
    additional: bytes = b""
    arcount: int = 0


@dataclass(frozen=True, slots=True)
class Zone:
    """Every answer of one zone. Build it with `build_zone`."""

    apex: bytes
    answers: Mapping[tuple[bytes, int], Answer]
    names: frozenset[bytes]
    nodata: Answer
    nxdomain: Answer

    def covers(self, qname: bytes) -> bool:
        """Whether the zone is authoritative for wire-form `qname` (else: forward it)."""
        return wire.in_zone(qname, self.apex)

    def lookup(self, qname: bytes, qtype: int) -> Answer | None:
        """The answer for a lowercased wire-form name; None when the name is outside the zone."""
        answer = self.answers.get((qname, qtype))
        if answer is not None:
            return answer
        if qtype == wire.ANY:
            # An owner of one type answers ANY with that type's answer, not kept twice (≈ 7
            # MiB of a 70,000-name zone); an owner of several has an ANY answer of its own.
            answer = self.owned(qname)
            if answer is not None:
                return answer
        if qname in self.names:
            return self.nodata
        if wire.in_zone(qname, self.apex):
            return self.nxdomain
        return None

    def owned(self, qname: bytes) -> Answer | None:
        """The ANY answer of a name that owns records; None for a name that owns none."""
        answers = self.answers
        for qtype in OWNED_TYPES:
            answer = answers.get((qname, qtype))
            if answer is not None:
                return answer
        return None

    def reply(self, query: Query, rng: Sampler) -> bytes | None:
        """The reply to `query`, answers in a random order; None when the zone does not cover
        the name (the caller forwards it)."""
        answer = self.answers.get((query.qname, query.qtype))
        if answer is None:
            answer = self.lookup(query.qname, query.qtype)
            if answer is None:
                return None
        if query.qclass != wire.IN and query.qclass != wire.ANY:
            return wire.rcode_reply(query, REFUSED, self.nodata.flags & RA)
        records = answer.records
        if len(records) > 1:
            records = tuple(rng.sample(records, len(records)))
        return wire.compose(
            query,
            answer.flags,
            records,
            answer.authority,
            answer.nscount,
            answer.additional,
            answer.arcount,
        )


def build_zone(
    apex: str,
    soa: SOA,
    records: Iterable[Record],
    ttl: int,
    nameservers: Sequence[str] = (),
    soa_ttl: int | None = None,
    ns_ttl: int | None = None,
    recursion_available: bool = True,
) -> Zone:
    """Precompute every answer of the zone `apex` (`mesos`, `spartan`).

    `ttl` is every A, AAAA and SRV record's (Mesos-DNS: `ttl`, 60 s; dcos-net: 5 s); the SOA
    and NS records take `soa_ttl` and `ns_ttl` when given (dcos-net: 5 s and 3,600 s).
    ValueError for a name outside the zone, a bad name or a bad address."""
    apex_wire = wire.name_to_wire(apex)
    flags = AA | (RA if recursion_available else 0)
    # Every record as (owner, type, rdata), deduplicated in order; the key of each rrset is
    # also its answer's. What is only needed while building is kept small (a 10,000-task
    # Mesos-DNS zone holds ≈ 28 MiB, and every MiB its build touches stays in the daemon's
    # RSS): an owner's types are one int (most have one), not a list of its rrsets.
    rrsets: dict[tuple[bytes, int], list[bytes]] = {}
    types_of: dict[bytes, int | list[int]] = {}  # owner -> its types, in order

    def add(owner: bytes, rtype: int, rdata: bytes) -> None:
        rrset = rrsets.get((owner, rtype))
        if rrset is None:
            if not wire.in_zone(owner, apex_wire):
                raise ValueError(f"{wire.wire_to_name(owner)} is not in the zone {apex}")
            rrsets[(owner, rtype)] = [rdata]
            types = types_of.get(owner)
            if types is None:
                types_of[owner] = rtype
            elif isinstance(types, int):
                types_of[owner] = [types, rtype]
            else:
                types.append(rtype)
        elif rdata not in rrset:
            rrset.append(rdata)

    def types(owner: bytes) -> list[int]:
        found = types_of.get(owner)
        if found is None:
            return []
        return [found] if isinstance(found, int) else found

    # Each name encoded once per build: a name owns several records and is the target of
    # others (a 10,000-task Mesos-DNS zone has ~5 records per name).
    encoded: dict[str, bytes] = {}

    def encode(name: str) -> bytes:
        found = encoded.get(name)
        if found is None:
            found = encoded[name] = wire.name_to_wire(name)
        return found

    for record in records:
        owner = encode(record.name)
        if isinstance(record, A):
            add(owner, wire.A, _packed_v4(record.ip))
        elif isinstance(record, AAAA):
            add(owner, wire.AAAA, _packed_v6(record.ip))
        else:
            rdata = _SRV.pack(record.priority, record.weight, record.port)
            add(owner, wire.SRV, rdata + encode(record.target))
    soa_rdata = (
        wire.name_to_wire(soa.mname)
        + wire.name_to_wire(soa.rname)
        + _SOA.pack(soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum)
    )
    add(apex_wire, wire.SOA, soa_rdata)
    for ns in nameservers:
        add(apex_wire, wire.NS, wire.name_to_wire(ns))

    def ttl_of(rtype: int) -> int:
        if rtype == wire.SOA and soa_ttl is not None:
            return soa_ttl
        if rtype == wire.NS and ns_ttl is not None:
            return ns_ttl
        return ttl

    # A target's A and AAAA RRs written in full, made for the names that are targets only.
    targets: dict[bytes, list[bytes]] = {}

    def addresses_of(name: bytes) -> list[bytes]:
        found = targets.get(name)
        if found is None:
            found = targets[name] = [
                _rr(name, rtype, ttl, rdata)
                for rtype in types(name)
                if rtype in (wire.A, wire.AAAA)
                for rdata in rrsets[(name, rtype)]
            ]
        return found

    def additional_for(rtype: int, rdatas: list[bytes]) -> list[bytes]:
        # SRV: its targets' addresses; NS: the name servers' (glue). Each target once.
        if rtype == wire.SRV:
            names = [rdata[_SRV.size :] for rdata in rdatas]
        elif rtype == wire.NS:
            names = list(rdatas)
        else:
            return []
        out: list[bytes] = []
        for name in dict.fromkeys(names):
            out.extend(addresses_of(name))
        return out

    # Equal answer records are one bytes object: owned by the question, a record is the same
    # under every name (an agent's address answers for each task on it).
    chunk_of: dict[tuple[int, bytes], bytes] = {}

    def chunk(rtype: int, rdata: bytes) -> bytes:
        found = chunk_of.get((rtype, rdata))
        if found is None:
            found = chunk_of[(rtype, rdata)] = _rr(_QUESTION_NAME, rtype, ttl_of(rtype), rdata)
        return found

    answers: dict[tuple[bytes, int], Answer] = {}
    shared: dict[Answer, Answer] = {}
    for key, rdatas in rrsets.items():
        rtype = key[1]
        chunks = tuple(chunk(rtype, rdata) for rdata in rdatas)
        extra = additional_for(rtype, rdatas)
        # The answer holds no name of its owner: names with the same records share it (the
        # agent's address of every task on it; an app's _tcp and _udp SRV names).
        answer = Answer(flags, chunks, b"", 0, b"".join(extra), len(extra))
        answers[key] = shared.setdefault(answer, answer)
    for owner, found in types_of.items():
        if isinstance(found, int):  # ANY is its one type's answer: found there (`lookup`)
            continue
        chunks = tuple(c for rtype in found for c in answers[(owner, rtype)].records)
        extra = [c for rtype in found for c in additional_for(rtype, rrsets[(owner, rtype)])]
        extra = list(dict.fromkeys(extra))
        answers[(owner, wire.ANY)] = Answer(flags, chunks, b"", 0, b"".join(extra), len(extra))

    soa_rr = _rr(apex_wire, wire.SOA, ttl_of(wire.SOA), soa_rdata)
    return Zone(
        apex=apex_wire,
        answers=answers,
        names=frozenset(with_ancestors(types_of, apex_wire)),
        nodata=Answer(flags | NOERROR, (), soa_rr, 1),
        nxdomain=Answer(flags | NXDOMAIN, (), soa_rr, 1),
    )


def records_of(built: Zone) -> Iterator[Record]:
    """The A, AAAA and SRV records `built` answers, read back from its answers: each owner's
    and type's in the order they were given, duplicates once (the apex's SOA and NS are not
    records). What a holder of a zone needs when it keeps no list of its records."""
    header = len(_QUESTION_NAME) + _RR.size
    for (owner, rtype), answer in built.answers.items():
        if rtype != wire.A and rtype != wire.AAAA and rtype != wire.SRV:
            continue
        name = wire.wire_to_name(owner).rstrip(".")
        for chunk in answer.records:
            rdata = chunk[header:]
            if rtype == wire.A:
                yield A(name, str(ipaddress.IPv4Address(rdata)))
            elif rtype == wire.AAAA:
                yield AAAA(name, str(ipaddress.IPv6Address(rdata)))
            else:
                priority, weight, port = _SRV.unpack_from(rdata)
                target = wire.wire_to_name(rdata[_SRV.size :]).rstrip(".")
                yield SRV(name, target, port, priority, weight)


@lru_cache(maxsize=65536)
def _packed_v4(ip: str) -> bytes:
    """An IPv4 address's 4 bytes (addresses repeat: every task of an agent has the agent's)."""
    return ipaddress.IPv4Address(ip).packed


@lru_cache(maxsize=65536)
def _packed_v6(ip: str) -> bytes:
    return ipaddress.IPv6Address(ip).packed


def _rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + _RR.pack(rtype, wire.IN, ttl, len(rdata)) + rdata


def with_ancestors(owners: Iterable[bytes], apex: bytes) -> set[bytes]:
    """The owners and every name between each and the apex: a name with names below it exists
    (an empty non-terminal answers NODATA, not NXDOMAIN; RFC 8020)."""
    names: set[bytes] = set()
    for owner in owners:
        name = owner
        while name not in names:
            names.add(name)
            if name == apex:
                break
            name = name[name[0] + 1 :]
    return names
