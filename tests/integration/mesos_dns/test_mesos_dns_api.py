"""dcos-mesos-dns's HTTP API (services-api.md §1.5), its forwarding of other names (§1.3), and
bad queries on the wire, against a real master and agent on loopback.

Bad queries (reliability.md's list): garbage bytes, truncated packets, a compression-pointer
loop, 200 questions in one packet, a 65,535-byte message over TCP and an unknown type each get
FORMERR or an answer (nothing below 12 bytes, which carry no ID), and the server keeps serving.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import dnslib
import pytest
import requests
from mesos_dns_cluster import dig, status_of, wait_until

HEADER = struct.Struct("!HHHHHH")


def udp(port: int, packet: bytes, timeout: float = 2.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, ("127.0.0.1", port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def tcp(port: int, packet: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(struct.pack("!H", len(packet)) + packet)
        size = struct.unpack("!H", sock.recv(2))[0]
        data = b""
        while len(data) < size:
            data += sock.recv(size - len(data))
        return data


def rcode(reply: bytes | None) -> int | None:
    return None if reply is None else reply[3] & 0x0F


def query(name: str = "leader.mesos", qtype: str = "A") -> bytes:
    return bytes(dnslib.DNSRecord.question(name, qtype).pack())


# -- the HTTP API -----------------------------------------------------------------------------


def test_the_http_api_answers_as_mesos_dns(mesos_dns_cluster: Any) -> None:
    env = mesos_dns_cluster()
    dns = env.dns
    port = env.cluster.master.port
    framework = env.framework("dnstest")
    task_id = framework.launch("api", port=0)
    framework.wait(task_id, "TASK_RUNNING")
    wait_until(lambda: dns.answers("api.dnstest.mesos") == ["127.0.0.1"], 5.0)

    assert dns.http("/v1/version") == {
        "Service": "Mesos-DNS",
        "Version": "0.8.0-pydcos",
        "URL": "https://github.com/mesosphere/mesos-dns",
    }
    config = dns.http("/v1/config")
    assert config["Zk"].startswith("zk://127.0.0.1:") and config["Masters"] == []
    assert (
        config["RefreshSeconds"] == 60 and config["HttpPort"] == dns.config["mesos_dns"]["httpport"]
    )
    assert config["SOASerial"] > 0 and config["DnsOn"] is True and config["Domain"] == "mesos"
    assert dns.http("/v1/hosts/leader.mesos") == [{"host": "leader.mesos.", "ip": "127.0.0.1"}]
    assert dns.http("/v1/hosts/LEADER.mesos.") == [{"host": "leader.mesos.", "ip": "127.0.0.1"}]
    assert dns.http("/v1/hosts/nothing.mesos") == [{"host": "", "ip": ""}]
    assert dns.http("/v1/services/_leader._tcp.mesos") == [
        {"service": "_leader._tcp.mesos", "host": "leader.mesos.", "ip": "127.0.0.1",
         "port": str(port)},
    ]  # fmt: skip
    (service,) = dns.http("/v1/services/_api._tcp.dnstest.mesos")
    assert service["host"].startswith("api-") and service["ip"] == "127.0.0.1"
    assert dns.http("/v1/services/_none._tcp.mesos") == [
        {"service": "", "host": "", "ip": "", "port": ""}
    ]
    frameworks = {f["name"]: f for f in dns.http("/v1/enumerate")["frameworks"]}
    (task,) = frameworks["dnstest"]["tasks"]
    assert task["name"] == "api" and task["id"] == task_id
    assert {"name": "api.dnstest.mesos.", "host": "127.0.0.1", "rtype": "A"} in task["records"]
    axfr = dns.http("/v1/axfr")
    assert list(axfr) == ["TTL", "Serial", "RefreshSeconds", "Mname", "Rname", "Domain", "Records"]
    assert (axfr["TTL"], axfr["Mname"], axfr["Rname"]) == (5, "ns1.mesos.", "root.ns1.mesos.")
    assert axfr["Records"]["As"]["leader.mesos."] == ["127.0.0.1"]
    assert axfr["Records"]["SRVs"]["_leader._tcp.mesos."] == [f"leader.mesos.:{port}"]
    ports = requests.get(f"{dns.url}/v1/hosts/leader.mesos/ports", timeout=5)
    assert ports.status_code == 501 and ports.json() == {"message": "To be implemented..."}
    # The DNS answer's SOA serial is the API's.
    soa = dns.answers("mesos", "SOA")
    assert int(soa[2]) == dns.http("/v1/axfr")["Serial"]


def test_without_enumeration_there_is_no_enumerate_or_axfr(mesos_dns_cluster: Any) -> None:
    env = mesos_dns_cluster(EnumerationOn=False)
    for path in ("/v1/enumerate", "/v1/axfr"):
        assert requests.get(env.dns.url + path, timeout=5).status_code == 404
    assert env.dns.http("/v1/hosts/leader.mesos")[0]["ip"] == "127.0.0.1"


# -- forwarding ------------------------------------------------------------------------------


class Upstream:
    """A resolver on 127.0.0.2 (UDP and TCP) answering every A query with 192.0.2.7."""

    def __init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.2", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.2", self.port))
        self.tcp.listen(8)
        threading.Thread(target=self._serve_udp, daemon=True).start()
        threading.Thread(target=self._serve_tcp, daemon=True).start()

    @staticmethod
    def answer(data: bytes) -> bytes:
        request = dnslib.DNSRecord.parse(data)
        reply = request.reply()
        reply.add_answer(dnslib.RR(request.q.qname, rdata=dnslib.A("192.0.2.7"), ttl=7))
        return bytes(reply.pack())

    def _serve_udp(self) -> None:
        while True:
            try:
                data, client = self.udp.recvfrom(65535)
            except OSError:
                return
            if not data:
                return
            self.udp.sendto(self.answer(data), client)

    def _serve_tcp(self) -> None:
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                size = struct.unpack("!H", conn.recv(2))[0]
                data = b""
                while len(data) < size:
                    data += conn.recv(size - len(data))
                reply = self.answer(data)
                conn.sendall(struct.pack("!H", len(reply)) + reply)

    def close(self) -> None:
        for sock in (self.udp, self.tcp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    try:
        yield server
    finally:
        server.close()


def test_other_names_go_to_the_resolvers(
    mesos_dns_cluster: Any, upstream: Upstream, free_port: Any
) -> None:
    env = mesos_dns_cluster()
    forwarding = env.start_mesos_dns(resolvers=[f"127.0.0.2:{upstream.port}"])
    assert forwarding.answers("example.com") == ["192.0.2.7"]
    assert forwarding.dig("example.com", "A", "+tcp", "+short").split() == ["192.0.2.7"]
    assert forwarding.answers("leader.mesos") == ["127.0.0.1"]  # ours, never forwarded
    assert status_of(forwarding.dig("nothing.mesos")) == "NXDOMAIN"
    # An upstream that fails (nothing listens on its port): SERVFAIL.
    failing = env.start_mesos_dns(resolvers=[f"127.0.0.3:{free_port()}"])
    assert status_of(failing.dig("example.com")) == "SERVFAIL"
    # externalon false: nothing is forwarded, REFUSED.
    off = env.start_mesos_dns(resolvers=[f"127.0.0.2:{upstream.port}"], externalon=False)
    assert status_of(off.dig("example.com")) == "REFUSED"


# -- bad queries -----------------------------------------------------------------------------


def test_bad_queries_get_formerr_or_an_answer_and_the_server_keeps_serving(
    mesos_dns_cluster: Any,
) -> None:
    env = mesos_dns_cluster()
    port = env.dns.dns_port
    good = query()
    # Garbage: a header and then random bytes (QDCOUNT 1, a question that is not one).
    garbage = HEADER.pack(4242, 0x0100, 1, 0, 0, 0) + os.urandom(40)
    assert rcode(udp(port, garbage)) in (1, 0, 3)  # FORMERR, or it happened to parse
    for size in (12, 13, 20, len(good) - 1):
        assert rcode(udp(port, good[:size])) == 1, size  # truncated: FORMERR
    assert udp(port, good[:5], timeout=0.5) is None  # no ID to answer: nothing
    # A compression pointer looping onto itself in the question.
    loop = HEADER.pack(4243, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    assert rcode(udp(port, loop)) == 1
    # 200 questions in one packet.
    question = good[12:]
    many = HEADER.pack(4244, 0x0100, 200, 0, 0, 0) + question * 200
    assert rcode(udp(port, many)) == 1
    # A 65,535-byte message over TCP: the query, then padding nobody reads.
    padded = good + bytes(65535 - len(good))
    assert rcode(tcp(port, padded)) == 0
    # A name of 65,000 bytes: over 255, FORMERR.
    long_name = HEADER.pack(4245, 0, 1, 0, 0, 0) + b"\x01x" * ((65535 - 12) // 2) + b"\x00"
    assert rcode(tcp(port, long_name[:65535])) == 1
    # An unknown type in the zone: NOERROR, no data, the SOA.
    output = dig(port, "leader.mesos", "TYPE65280")
    assert status_of(output) == "NOERROR" and "ANSWER: 0" in output
    # And the server still answers.
    assert env.dns.answers("leader.mesos") == ["127.0.0.1"]
    assert env.dns.running()
