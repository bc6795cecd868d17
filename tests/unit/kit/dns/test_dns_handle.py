"""`DnsServer.handle`, one packet at a time, no sockets: what is answered, dropped and counted."""

from __future__ import annotations

import dnslib

from daemons.kit.dns import wire
from daemons.kit.dns.forward import Forward
from daemons.kit.dns.server import DnsServer
from daemons.kit.dns.wire import Query


def packet(name: str = "a.mesos") -> bytes:
    record = dnslib.DNSRecord.question(name)
    record.header.id = 4242
    return bytes(record.pack())


def broken(query: Query) -> bytes:
    raise RuntimeError("a bug in resolve")


def test_a_bug_in_resolve_is_counted_and_answered_servfail() -> None:
    server = DnsServer([], broken)
    reply = server.handle(packet(), False)
    assert reply is not None
    header = dnslib.DNSRecord.parse(reply).header
    assert (header.id, header.rcode, header.qr) == (4242, dnslib.RCODE.SERVFAIL, 1)
    assert server.counters.snapshot() == {"queries": 1, "errors": 1, "answers.SERVFAIL": 1}
    assert server.handle(b"\x00" * 5, False) is None  # too short: nothing, not even an error


def test_forward_without_upstreams_or_forwarder_is_refused() -> None:
    server = DnsServer([], lambda query: Forward(()))
    reply = server.handle(packet("example.com"), False)
    assert reply is not None
    parsed = dnslib.DNSRecord.parse(reply)
    assert (parsed.header.rcode, str(parsed.q.qname)) == (dnslib.RCODE.REFUSED, "example.com.")


def test_bad_packets_are_formerr_or_dropped_and_counted() -> None:
    server = DnsServer([], lambda query: wire.rcode_reply(query, wire.NXDOMAIN))
    assert server.handle(b"\x01\x02\x00\x00" + b"\xff" * 12, False) is not None  # 65,535 questions
    assert server.handle(b"\x01\x02", True) is None
    response = bytearray(packet())
    response[2] |= 0x80
    assert server.handle(bytes(response), False) is None
    reply = server.handle(packet(), False)
    assert reply is not None and wire.rcode_of(reply) == wire.NXDOMAIN
    assert server.counters.snapshot() == {
        "queries": 4, "answers.FORMERR": 1, "dropped": 2, "answers.NXDOMAIN": 1,
    }  # fmt: skip
