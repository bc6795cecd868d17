"""The DNS message wire (RFC 1035, EDNS0 of RFC 6891) for the query hot path. Pure: no I/O.

`parse` reads a query's header and its one question without building a message object: the
QNAME is walked label by label with bounds checks and kept twice, lowercased in wire form (the
lookup key: DNS names compare case-insensitively in ASCII only, which is what `bytes.lower`
does) and exactly as sent (echoed in the reply, so a client that randomises its case, 0x20
style, sees its own). A compression pointer in a question is refused: no client sends one, and
refusing it removes pointer loops from the question path entirely.

What is refused, and how (the same choices as the miekg/dns server Mesos-DNS runs on):
- fewer than 12 bytes: no ID to answer, so nothing is sent (`Unanswerable`);
- a response (QR set): ignored, so two servers can never bounce replies at each other;
- an opcode other than QUERY: NOTIMP;
- QDCOUNT other than 1, a question cut short, a bad label, a name over 255 bytes, a second
  OPT record: FORMERR, echoing the ID, the opcode and RD.

A reply is built from parts the caller keeps ready: a patched header, the client's own question
bytes and a body of resource records encoded elsewhere (`daemons.kit.dns.zone`).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

HEADER = struct.Struct("!HHHHHH")
_U16 = struct.Struct("!H")
_TYPE_CLASS = struct.Struct("!HH")

# RCODEs (RFC 1035 4.1.1).
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
# Header flag bits, in the 16-bit flags word.
QR, AA, TC, RD, RA = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080
OPCODE_MASK = 0x7800
# Types and classes the kit knows by name.
A, NS, SOA, AAAA, SRV, OPT, ANY = 1, 2, 6, 28, 33, 41, 255
IN = 1

# RFC 1035's UDP limit; an EDNS0 size below it counts as 512 (RFC 6891 6.2.5).
UDP_LIMIT = 512
TCP_LIMIT = 65535
MAX_NAME = 255
MAX_LABEL = 63
# The OPT record the kit puts in a reply to a query that had one: root owner, the size we
# accept, no extended RCODE, version 0, no flags, no options (11 bytes).
EDNS_SIZE = 1232
OPT_RECORD = b"\x00" + struct.pack("!HHIH", OPT, EDNS_SIZE, 0, 0)


class Unanswerable(Exception):
    """Nothing is to be sent back: a packet too short to carry an ID, or itself a response."""


class BadQuery(Exception):
    """A query answered with an error RCODE and no question (FORMERR, NOTIMP)."""

    def __init__(self, rcode: int, reason: str) -> None:
        super().__init__(reason)
        self.rcode = rcode


@dataclass(frozen=True, slots=True)
class Query:
    """One parsed query.

    `qname` is the wire-form name lowercased (the key zones are built on); `question` the
    question's bytes as the client sent them (QNAME, QTYPE, QCLASS). `max_size` is what a reply
    may weigh: 65,535 over TCP, else the client's EDNS0 size (at least 512) or 512. `packet` is
    the whole message as received, for forwarding."""

    id: int
    flags: int
    qname: bytes
    qtype: int
    qclass: int
    question: bytes
    edns_size: int | None
    max_size: int
    tcp: bool
    packet: bytes

    @property
    def name(self) -> str:
        """The QNAME as dotted text, lowercased, with the trailing dot (`app.marathon.mesos.`)."""
        return wire_to_name(self.qname)


def parse(packet: bytes, tcp: bool = False) -> Query:
    """Parse a query; raise `Unanswerable` (send nothing) or `BadQuery` (send `error_reply`)."""
    size = len(packet)
    if size < 12:
        raise Unanswerable("shorter than a header")
    ident, flags, qdcount, ancount, nscount, arcount = HEADER.unpack_from(packet)
    if flags & QR:
        raise Unanswerable("a response, not a query")
    if flags & OPCODE_MASK:
        raise BadQuery(NOTIMP, "opcode is not QUERY")
    if qdcount != 1:
        raise BadQuery(FORMERR, f"{qdcount} questions")
    # QNAME: length-prefixed labels ending in the root label.
    i = 12
    while True:
        if i >= size:
            raise BadQuery(FORMERR, "question cut short")
        length = packet[i]
        if length == 0:
            break
        if length > MAX_LABEL:
            raise BadQuery(FORMERR, "compression pointer or bad label in the question")
        i += length + 1
    end = i + 5  # the root label, QTYPE, QCLASS
    if end > size:
        raise BadQuery(FORMERR, "question cut short")
    if i + 1 - 12 > MAX_NAME:
        raise BadQuery(FORMERR, "name longer than 255 bytes")
    qtype, qclass = _TYPE_CLASS.unpack_from(packet, i + 1)
    edns_size = None
    if arcount:
        edns_size = _edns_size(packet, end, ancount + nscount, arcount)
    if tcp:
        max_size = TCP_LIMIT
    elif edns_size is None or edns_size < UDP_LIMIT:
        max_size = UDP_LIMIT
    else:
        max_size = edns_size
    return Query(
        ident,
        flags,
        bytes(packet[12 : i + 1]).lower(),
        qtype,
        qclass,
        packet[12:end],
        edns_size,
        max_size,
        tcp,
        packet,
    )


def _skip_name(packet: bytes, i: int) -> int:
    """The offset after a name that may end in a compression pointer (never followed)."""
    size = len(packet)
    while True:
        if i >= size:
            raise BadQuery(FORMERR, "record cut short")
        length = packet[i]
        if length == 0:
            return i + 1
        if length & 0xC0 == 0xC0:
            return i + 2
        if length > MAX_LABEL:
            raise BadQuery(FORMERR, "bad label")
        i += length + 1


def _edns_size(packet: bytes, i: int, skip: int, arcount: int) -> int | None:
    """Walk past `skip` records to the additional section; the OPT record's UDP size, if any.
    Every step moves forward by at least 11 bytes, so the walk ends with the packet."""
    size = len(packet)
    found: int | None = None
    for n in range(skip + arcount):
        owner = i
        i = _skip_name(packet, i)
        if i + 10 > size:
            raise BadQuery(FORMERR, "record cut short")
        rtype, rclass = _TYPE_CLASS.unpack_from(packet, i)
        i += 10 + _U16.unpack_from(packet, i + 8)[0]
        if i > size:
            raise BadQuery(FORMERR, "record data cut short")
        if n >= skip and rtype == OPT:
            if found is not None or packet[owner] != 0:
                raise BadQuery(FORMERR, "a second OPT record or one not owned by the root")
            found = rclass
    return found


def header(query: Query, flags: int, counts: tuple[int, int, int, int]) -> bytes:
    """A reply header for `query`: its ID, its RD bit, the given flags (QR is always set)."""
    return HEADER.pack(query.id, QR | flags | (query.flags & RD), *counts)


def error_reply(packet: bytes, rcode: int, flags: int = 0) -> bytes:
    """The reply to a packet that could not be parsed as a query: its ID, opcode and RD echoed,
    no sections (the question may be what was wrong)."""
    ident, qflags = HEADER.unpack_from(packet)[:2]
    return HEADER.pack(ident, QR | flags | (qflags & (OPCODE_MASK | RD)) | rcode, 0, 0, 0, 0)


def rcode_reply(query: Query, rcode: int, flags: int = 0) -> bytes:
    """A reply with the question and no records (REFUSED, SERVFAIL); `flags` adds RA or AA."""
    if query.edns_size is None:
        return header(query, flags | rcode, (1, 0, 0, 0)) + query.question
    return header(query, flags | rcode, (1, 0, 0, 1)) + query.question + OPT_RECORD


def compose(
    query: Query,
    flags: int,
    records: Sequence[bytes],
    authority: bytes = b"",
    nscount: int = 0,
    additional: bytes = b"",
    arcount: int = 0,
) -> bytes:
    """A reply of `records` (answer RRs, each self-contained: owner names are a pointer to the
    question at offset 12 or written out, so any order is a valid message) with the
    authority and additional sections as ready bytes. `flags` carries AA, RA and the RCODE.

    Too big for `query.max_size`: TC is set, the additional section goes, then answers from the
    end until the rest fits; the authority section stays (a SOA in a negative answer is never
    the part that is large)."""
    opt = b""
    if query.edns_size is not None:
        opt = OPT_RECORD
        arcount += 1
    answer = b"".join(records)
    size = 12 + len(query.question) + len(answer) + len(authority) + len(additional) + len(opt)
    if size > query.max_size:
        flags |= TC
        arcount = 1 if opt else 0
        additional = b""
        room = query.max_size - (12 + len(query.question) + len(authority) + len(opt))
        kept: list[bytes] = []
        for record in records:
            room -= len(record)
            if room < 0:
                break
            kept.append(record)
        answer = b"".join(kept)
        counts = (1, len(kept), nscount, arcount)
    else:
        counts = (1, len(records), nscount, arcount)
    return header(query, flags, counts) + query.question + answer + authority + additional + opt


def name_to_wire(name: str) -> bytes:
    """`app.marathon.mesos` (trailing dot optional) in wire form, lowercased; ValueError for an
    empty label, a label over 63 bytes or a name over 255."""
    text = name.rstrip(".").lower() if name not in ("", ".") else ""
    out = bytearray()
    if text:
        for label in text.split("."):
            raw = label.encode("ascii")
            if not 0 < len(raw) <= MAX_LABEL:
                raise ValueError(f"bad label {label!r} in {name!r}")
            out.append(len(raw))
            out += raw
    out.append(0)
    if len(out) > MAX_NAME:
        raise ValueError(f"name longer than 255 bytes: {name!r}")
    return bytes(out)


def wire_to_name(wire: bytes) -> str:
    """Wire form (no pointers) to dotted text with the trailing dot; bytes outside printable
    ASCII are escaped as `\\DDD`, as in zone files."""
    labels: list[str] = []
    i = 0
    while wire[i]:
        raw = wire[i + 1 : i + 1 + wire[i]]
        labels.append(
            "".join(chr(b) if 0x21 <= b <= 0x7E and b != 0x2E else f"\\{b:03d}" for b in raw)
        )
        i += wire[i] + 1
    return ".".join(labels) + "."


def in_zone(qname: bytes, apex: bytes) -> bool:
    """Whether wire-form `qname` is `apex` or below it, on label boundaries (`xmesos.` is not
    under `mesos.`)."""
    if not qname.endswith(apex):
        return False
    cut = len(qname) - len(apex)
    i = 0
    while i < cut:
        i += qname[i] + 1
    return i == cut


def rcode_of(reply: bytes) -> int:
    return reply[3] & 0x0F
