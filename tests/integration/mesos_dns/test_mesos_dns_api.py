"""dcos-mesos-dns's HTTP API (services-api.md §1.5), its forwarding of other names (§1.3), and
bad queries on the wire, against a real master and agent on loopback.

Bad queries (reliability.md's list): garbage bytes, truncated packets, a compression-pointer
loop, 200 questions in one packet, a 65,535-byte message over TCP and an unknown type each get
FORMERR or an answer (nothing below 12 bytes, which carry no ID), and the server keeps serving.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mesos_dns_cluster import status_of, wait_until

from daemons.kit.dns import wire, zone
from daemons.kit.dns.server import DnsServer
from tests.integration.dns_client import (
    FORMERR,
    HEADER,
    assert_200_questions_are_formerr,
    assert_65535_byte_messages,
    assert_garbage_is_formerr,
    assert_truncated_is_formerr,
    dig,
    header_of,
    query,
    udp_exchange,
)

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


def test_axfr_answers_304_while_the_records_are_the_same(mesos_dns_cluster: Any) -> None:
    """`/v1/axfr`'s ETag is a digest of its body: asked again with it, a 304 and no body, until
    the records change (what every node's DNS proxy does every 30 s)."""
    env = mesos_dns_cluster()
    dns = env.dns
    framework = env.framework("etagtest")
    first = framework.launch("one", port=0)
    framework.wait(first, "TASK_RUNNING")
    wait_until(lambda: dns.answers("one.etagtest.mesos") == ["127.0.0.1"], 5.0)
    url = dns.url + "/v1/axfr"
    full = requests.get(url, timeout=5)
    tag = full.headers["ETag"]
    assert full.status_code == 200 and tag.startswith('"') and full.json()["Records"]["As"]
    assert requests.get(url, timeout=5).headers["ETag"] == tag  # the same records, the same tag
    same = requests.get(url, headers={"If-None-Match": tag}, timeout=5)
    assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", tag)
    other = requests.get(url, headers={"If-None-Match": '"another"'}, timeout=5)
    assert other.status_code == 200 and other.json() == full.json()
    second = framework.launch("two", port=0)
    framework.wait(second, "TASK_RUNNING")
    wait_until(lambda: dns.answers("two.etagtest.mesos") == ["127.0.0.1"], 5.0)
    changed = requests.get(url, headers={"If-None-Match": tag}, timeout=5)
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert "two.etagtest.mesos." in changed.json()["Records"]["As"]


def test_without_enumeration_there_is_no_enumerate_or_axfr(mesos_dns_cluster: Any) -> None:
    env = mesos_dns_cluster(EnumerationOn=False)
    for path in ("/v1/enumerate", "/v1/axfr"):
        assert requests.get(env.dns.url + path, timeout=5).status_code == 404
    assert env.dns.http("/v1/hosts/leader.mesos")[0]["ip"] == "127.0.0.1"


# -- forwarding ------------------------------------------------------------------------------


@pytest.fixture
def upstream() -> Iterator[int]:
    """A resolver on 127.0.0.2 (UDP and TCP; the kit's DnsServer) answering example.com with
    192.0.2.7; its port."""
    soa = zone.SOA("ns.example.com", "root.example.com", 1)
    table = zone.build_zone("example.com", soa, [zone.A("example.com", "192.0.2.7")], ttl=7)
    rng = random.Random()

    def resolve(query: wire.Query) -> bytes:
        return table.reply(query, rng) or wire.rcode_reply(query, wire.REFUSED)

    server = DnsServer([("127.0.0.2", 0)], resolve)
    server.start()
    try:
        yield server.bound()[0][1]
    finally:
        server.stop()


def test_other_names_go_to_the_resolvers(
    mesos_dns_cluster: Any, upstream: int, free_port: Any
) -> None:
    env = mesos_dns_cluster()
    forwarding = env.start_mesos_dns(resolvers=[f"127.0.0.2:{upstream}"])
    assert forwarding.answers("example.com") == ["192.0.2.7"]
    assert forwarding.dig("example.com", "A", "+tcp", "+short").split() == ["192.0.2.7"]
    assert forwarding.answers("leader.mesos") == ["127.0.0.1"]  # ours, never forwarded
    assert status_of(forwarding.dig("nothing.mesos")) == "NXDOMAIN"
    # An upstream that fails (nothing listens on its port): SERVFAIL.
    failing = env.start_mesos_dns(resolvers=[f"127.0.0.3:{free_port()}"])
    assert status_of(failing.dig("example.com")) == "SERVFAIL"
    # externalon false: nothing is forwarded, REFUSED.
    off = env.start_mesos_dns(resolvers=[f"127.0.0.2:{upstream}"], externalon=False)
    assert status_of(off.dig("example.com")) == "REFUSED"


# -- bad queries -----------------------------------------------------------------------------


def test_bad_queries_get_formerr_or_an_answer_and_the_server_keeps_serving(
    mesos_dns_cluster: Any,
) -> None:
    env = mesos_dns_cluster()
    port = env.dns.dns_port
    good = query("leader.mesos")
    # Garbage, truncated packets, 65,535-byte messages over TCP, 200 questions: the checks
    # every DNS server of ours passes (tests/integration/dns_client.py).
    assert_garbage_is_formerr(port, random.Random(13))
    assert_truncated_is_formerr(port, good)
    assert_65535_byte_messages(port, good, ["127.0.0.1"])
    assert_200_questions_are_formerr(port, good)
    # A compression pointer looping onto itself in the question.
    loop = HEADER.pack(4243, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    assert header_of(udp_exchange(port, loop)) == (4243, 1, FORMERR)
    # An unknown type in the zone: NOERROR, no data, the SOA.
    unknown = dig(port, "leader.mesos", "TYPE65280")
    assert unknown.status == "NOERROR" and not unknown.answer and unknown.authority
    # And the server still answers.
    assert env.dns.answers("leader.mesos") == ["127.0.0.1"]
    assert env.dns.running()
