"""The DNS kit on the wire: a `DnsServer` in this process on 127.0.0.1, asked with `dig`
(Debian bind9-dnsutils) and with raw sockets; upstream resolvers are tiny responders this
module starts on 127.0.0.2 and 127.0.0.3. Nothing leaves loopback."""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dnslib
import pytest

from daemons.kit.dns import wire, zone
from daemons.kit.dns.counters import Counters
from daemons.kit.dns.forward import COMPACT_SLACK, Forward, Forwarder, Upstream
from daemons.kit.dns.server import DnsServer
from daemons.kit.dns.wire import Query
from tests.integration.dns_client import (
    DIG,
    assert_200_questions_are_formerr,
    assert_65535_byte_messages,
    assert_garbage_is_formerr,
    assert_truncated_is_formerr,
    dig,
    header_of,
    query,
    tcp_exchange,
)

pytestmark = pytest.mark.integration

if DIG is None:
    pytest.skip("dig is not installed (scripts/bootstrap.sh installs bind9-dnsutils)",
                allow_module_level=True)  # fmt: skip

SOA = zone.SOA("ns1.mesos", "root.ns1.mesos", 1700000000)
RECORDS: list[zone.Record] = [
    zone.A("app.marathon.mesos", "10.0.0.1"),
    zone.SRV("_app._tcp.marathon.mesos", "app-ab12c-s1.marathon.slave.mesos", 31000),
    zone.A("app-ab12c-s1.marathon.slave.mesos", "192.0.2.1"),
    *(zone.A("big.marathon.mesos", f"10.1.0.{n}") for n in range(1, 101)),
]
UPSTREAM_TIMEOUT, TIMEOUT = 1.0, 2.0


# -- upstream resolvers this module runs ------------------------------------------------------


class Responder:
    """A resolver on (ip, port), UDP and TCP, answering every A query with `address`; `silent`
    reads and never answers (an upstream that is up but lost)."""

    def __init__(self, ip: str, port: int, address: str, silent: bool = False) -> None:
        self.address = address
        self.silent = silent
        self.queries = 0
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((ip, port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((ip, port))
        self.tcp.listen(8)
        self.upstream = Upstream(ip, port)
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    def answer(self, data: bytes) -> bytes:
        self.queries += 1
        request = dnslib.DNSRecord.parse(data)
        reply = request.reply()
        reply.add_answer(dnslib.RR(request.q.qname, rdata=dnslib.A(self.address), ttl=7))
        return bytes(reply.pack())

    def _serve_udp(self) -> None:
        while True:
            try:
                data, client = self.udp.recvfrom(65535)
            except OSError:
                return
            if not data:
                return  # shut down
            if self.silent:
                self.queries += 1
            else:
                self.udp.sendto(self.answer(data), client)

    def _serve_tcp(self) -> None:
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    size = struct.unpack("!H", conn.recv(2))[0]
                    data = b""
                    while len(data) < size:
                        data += conn.recv(size - len(data))
                    if self.silent:
                        conn.recv(1)  # hold the connection until the client gives up
                        continue
                    reply = self.answer(data)
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, struct.error):
                    continue

    def close(self) -> None:
        for sock in (self.udp, self.tcp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked on it
            sock.close()


@dataclass
class Dns:
    port: int
    server: DnsServer
    counters: Counters
    upstreams: list[Upstream]
    zones: list[zone.Zone]  # the one in force last: replace it to change the answers


@pytest.fixture
def dns() -> Iterator[Dns]:
    """A server as the daemons run it: with its answer memo (every test here goes through it;
    a query asked twice is answered from it the second time)."""
    zones = [zone.build_zone("mesos", SOA, RECORDS, ttl=60, nameservers=["ns1.mesos"])]
    rng = random.Random()
    upstreams: list[Upstream] = []

    def resolve(query: Query) -> bytes | Forward:
        reply = zones[-1].reply(query, rng)
        return reply if reply is not None else Forward(tuple(upstreams))

    counters = Counters()
    forwarder = Forwarder(counters, upstream_timeout=UPSTREAM_TIMEOUT, timeout=TIMEOUT)
    forwarder.start()
    server = DnsServer(
        [("127.0.0.1", 0)], resolve, forwarder, tcp_idle_timeout=3.0, generation=lambda: zones[-1]
    )
    server.start()
    try:
        yield Dns(server.bound()[0][1], server, counters, upstreams, zones)
    finally:
        server.stop()
        forwarder.stop()


@pytest.fixture
def responders(free_port: Callable[[], int]) -> Iterator[Callable[..., Responder]]:
    started: list[Responder] = []

    def start(ip: str, address: str, silent: bool = False) -> Responder:
        responder = Responder(ip, free_port(), address, silent)
        started.append(responder)
        return responder

    yield start
    for responder in started:
        responder.close()


# -- dig ----------------------------------------------------------------------------------------


def still_answers(dns: Dns) -> None:
    result = dig(dns.port, "app.marathon.mesos")
    assert (result.status, result.answer) == ("NOERROR", [
        ["app.marathon.mesos.", "60", "IN", "A", "10.0.0.1"]])  # fmt: skip


# -- answers from the zone ----------------------------------------------------------------------


def test_an_a_record(dns: Dns) -> None:
    result = dig(dns.port, "App.Marathon.Mesos", "A")
    assert result.status == "NOERROR"
    assert result.flags == {"qr", "aa", "rd", "ra"}
    assert result.answer == [["App.Marathon.Mesos.", "60", "IN", "A", "10.0.0.1"]]
    assert result.transport == "UDP"


def test_an_srv_record_with_its_target_in_additional(dns: Dns) -> None:
    result = dig(dns.port, "_app._tcp.marathon.mesos", "SRV")
    assert result.status == "NOERROR"
    assert result.answer == [["_app._tcp.marathon.mesos.", "60", "IN", "SRV", "0", "1", "31000",
                              "app-ab12c-s1.marathon.slave.mesos."]]  # fmt: skip
    assert result.additional == [["app-ab12c-s1.marathon.slave.mesos.", "60", "IN", "A",
                                  "192.0.2.1"]]  # fmt: skip


SOA_LINE = ["mesos.", "60", "IN", "SOA", "ns1.mesos.", "root.ns1.mesos.", "1700000000", "60",
            "600", "86400", "60"]  # fmt: skip


def udp_ask(port: int, packet: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        sock.sendto(packet, ("127.0.0.1", port))
        return sock.recv(65535)


def test_the_memo_answers_a_query_again_with_its_id_and_follows_the_zone(dns: Dns) -> None:
    asked = dnslib.DNSRecord.question("App.marathon.mesos", "A")
    asked.header.id = 1
    first = udp_ask(dns.port, asked.pack())
    assert dns.server.memo is not None and len(dns.server.memo) == 1
    asked.header.id = 2
    second = udp_ask(dns.port, asked.pack())
    assert second[:2] == b"\x00\x02" and second[2:] == first[2:]  # its ID, the same answer
    assert dnslib.DNSRecord.parse(second).q.qname == "App.marathon.mesos"  # the case asked
    counts = dns.counters.snapshot()
    assert counts["queries"] == 2 and counts["answers.NOERROR"] == 2
    # A new zone: the memo is dropped with the old one.
    changed = [zone.A("app.marathon.mesos", "10.0.0.9"), *RECORDS[1:]]
    dns.zones.append(zone.build_zone("mesos", SOA, changed, ttl=60, nameservers=["ns1.mesos"]))
    asked.header.id = 3
    third = dnslib.DNSRecord.parse(udp_ask(dns.port, asked.pack()))
    assert third.header.id == 3 and [str(rr.rdata) for rr in third.rr] == ["10.0.0.9"]


def test_answers_the_zone_shuffles_are_not_remembered(dns: Dns) -> None:
    many = [zone.A("three.marathon.mesos", f"10.2.0.{n}") for n in (1, 2, 3)]
    dns.zones.append(zone.build_zone("mesos", SOA, [*RECORDS, *many], ttl=60))
    asked = dnslib.DNSRecord.question("three.marathon.mesos", "A").pack()
    orders = {
        tuple(str(rr.rdata) for rr in dnslib.DNSRecord.parse(udp_ask(dns.port, asked)).rr)
        for _ in range(30)
    }
    assert len(orders) > 1  # still shuffled per query (30 draws of 6 orders)
    assert dns.server.memo is not None and len(dns.server.memo) == 0


def test_nxdomain_with_the_soa(dns: Dns) -> None:
    result = dig(dns.port, "nope.marathon.mesos")
    assert (result.status, result.answer, result.authority) == ("NXDOMAIN", [], [SOA_LINE])
    assert "aa" in result.flags


def test_nodata_with_the_soa(dns: Dns) -> None:
    result = dig(dns.port, "app.marathon.mesos", "AAAA")
    assert (result.status, result.answer, result.authority) == ("NOERROR", [], [SOA_LINE])


def test_over_tcp(dns: Dns) -> None:
    result = dig(dns.port, "+tcp", "_app._tcp.marathon.mesos", "SRV")
    assert (result.transport, result.status, len(result.answer), len(result.additional)) == (
        "TCP", "NOERROR", 1, 1,
    )  # fmt: skip


def test_a_large_answer_is_truncated_over_udp_and_whole_over_tcp(dns: Dns) -> None:
    udp = dig(dns.port, "+noedns", "+ignore", "big.marathon.mesos")
    assert "tc" in udp.flags
    assert len(udp.answer) == 29  # (512 - 12 header - 24 question) // 16 per A record
    tcp = dig(dns.port, "big.marathon.mesos")  # dig retries over TCP on TC
    assert (tcp.transport, "tc" in tcp.flags, len(tcp.answer)) == ("TCP", False, 100)
    assert sorted(line[4] for line in tcp.answer) == sorted(f"10.1.0.{n}" for n in range(1, 101))


# -- forwarding ---------------------------------------------------------------------------------


def test_a_name_outside_the_zone_is_forwarded_over_the_clients_protocol(
    dns: Dns, responders: Callable[..., Responder]
) -> None:
    upstream = responders("127.0.0.2", "192.0.2.53")
    dns.upstreams.append(upstream.upstream)
    for args in ((), ("+tcp",)):
        result = dig(dns.port, *args, "Example.Com")
        assert (result.status, result.answer) == ("NOERROR", [
            ["Example.Com.", "7", "IN", "A", "192.0.2.53"]])  # fmt: skip
    assert upstream.queries == 2
    assert dns.counters.get("forwarded") == 2


def test_dual_dispatch_answers_at_once_when_one_upstream_is_lost(
    dns: Dns, responders: Callable[..., Responder]
) -> None:
    lost = responders("127.0.0.3", "192.0.2.99", silent=True)
    live = responders("127.0.0.2", "192.0.2.53")
    dns.upstreams.extend([lost.upstream, live.upstream])
    for _ in range(3):
        result = dig(dns.port, "example.com")
        assert (result.status, result.answer[0][4]) == ("NOERROR", "192.0.2.53")
        assert result.seconds < 1.0
    assert (lost.queries, live.queries) == (3, 3)  # both were asked every time
    time.sleep(UPSTREAM_TIMEOUT + 0.3)
    # Once a reply has won, the other upstream is no longer waited for: not counted as failed.
    assert dns.server.forwarder is not None
    assert dns.server.forwarder.failures() == {live.upstream: 0}
    assert dns.counters.get("forward_failures") == 0


def test_all_upstreams_lost_is_servfail_within_the_timeout(
    dns: Dns, responders: Callable[..., Responder]
) -> None:
    dns.upstreams.extend(
        [responders(f"127.0.0.{n}", "192.0.2.99", silent=True).upstream for n in (2, 3)]
    )
    for args in ((), ("+tcp",)):
        result = dig(dns.port, *args, "example.com", timeout=5)
        assert result.status == "SERVFAIL"
        assert UPSTREAM_TIMEOUT - 0.1 <= result.seconds < TIMEOUT + 0.5
    assert dns.counters.get("forward_failures") == 2


def test_closed_upstream_ports_are_servfail_at_once(dns: Dns, free_port: Callable[[], int]) -> None:
    # Nothing listens: ICMP port unreachable fails each upstream without waiting.
    dns.upstreams.extend([Upstream("127.0.0.2", free_port()), Upstream("127.0.0.3", free_port())])
    result = dig(dns.port, "example.com", timeout=5)
    assert result.status == "SERVFAIL"
    assert result.seconds < UPSTREAM_TIMEOUT


def test_no_upstream_is_refused(dns: Dns) -> None:
    for args in ((), ("+tcp",)):
        result = dig(dns.port, *args, "example.com")
        assert (result.status, result.answer, "aa" in result.flags) == ("REFUSED", [], False)


# -- bad input ------------------------------------------------------------------------------


def test_garbage_is_formerr_and_the_server_keeps_answering(dns: Dns) -> None:
    assert_garbage_is_formerr(dns.port, random.Random(13))
    still_answers(dns)


def test_truncated_packets_get_formerr_or_nothing_below_12_bytes(dns: Dns) -> None:
    assert_truncated_is_formerr(dns.port, query())
    assert dns.counters.get("dropped") == 12
    still_answers(dns)


def test_65535_byte_messages_over_tcp(dns: Dns) -> None:
    assert_65535_byte_messages(dns.port, query(), ["10.0.0.1"])
    still_answers(dns)


def test_unknown_qtypes_are_nodata_in_the_zone(dns: Dns) -> None:
    result = dig(dns.port, "app.marathon.mesos", "TYPE65280")
    assert (result.status, result.answer, result.authority) == ("NOERROR", [], [SOA_LINE])


def test_200_questions_in_one_packet_are_formerr(dns: Dns) -> None:
    assert_200_questions_are_formerr(dns.port, query())
    still_answers(dns)


def test_several_messages_on_one_tcp_connection(dns: Dns) -> None:
    with socket.create_connection(("127.0.0.1", dns.port), timeout=5) as sock:
        for ident in range(1, 6):
            data = query(ident=ident)
            sock.sendall(struct.pack("!H", len(data)) + data)
            size = struct.unpack("!H", sock.recv(2, socket.MSG_WAITALL))[0]
            assert header_of(sock.recv(size, socket.MSG_WAITALL)) == (ident, 1, 0)


def test_connections_over_the_limit_are_closed_and_idle_ones_time_out() -> None:
    server = DnsServer([("127.0.0.1", 0)], lambda q: wire.rcode_reply(q, wire.NXDOMAIN),
                       max_tcp_connections=2, tcp_idle_timeout=1.0)  # fmt: skip
    server.start()
    port = server.bound()[0][1]
    try:
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as third:
            assert third.recv(2) == b""  # closed at once
        assert server.counters.get("tcp_refused") == 1
        started = time.monotonic()
        assert held[0].recv(2) == b""  # the idle connection is closed at its timeout
        assert 0.5 < time.monotonic() - started < 3.0
        for sock in held:
            sock.close()
        time.sleep(0.2)
        assert header_of(tcp_exchange(port, query())) == (777, 1, wire.NXDOMAIN)
    finally:
        server.stop()


def test_answered_queries_do_not_pile_up_until_their_deadline(
    responders: Callable[..., Responder],
) -> None:
    """Each answered query leaves the deadline queue well before its 5 s deadline (compaction):
    3 x COMPACT_SLACK queries answered one after another leave at most COMPACT_SLACK queued."""
    live = responders("127.0.0.2", "192.0.2.53")
    forwarder = Forwarder(Counters(), upstream_timeout=5.0, timeout=10.0)
    forwarder.start()
    try:
        count = 3 * COMPACT_SLACK
        packet = dnslib.DNSRecord.question("example.com").pack()
        for _ in range(count):
            answered = threading.Event()
            reply = lambda _data, done=answered: done.set()  # noqa: E731
            forwarder.forward_udp(wire.parse(packet), [live.upstream], reply)
            assert answered.wait(2.0)
        assert live.queries == count
        assert forwarder.queued() <= COMPACT_SLACK + 1
    finally:
        forwarder.stop()
