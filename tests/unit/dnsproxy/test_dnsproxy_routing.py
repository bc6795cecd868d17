"""The routing table over the local zones: which route each name takes, and the replies of
the local zones (TTL 5, dcos-net's SOA), parsed back with dnslib."""

from __future__ import annotations

import random

import dnslib
import pytest

from daemons.kit.dns import wire, zone
from daemons.kit.dns.upstream import Forward, Upstream
from dnsproxy import zones
from dnsproxy.routing import RoutingTable, build_table

MASTERS = ["10.0.4.11", "10.0.4.12", "10.0.4.13"]
MESOS_DNS = [Upstream(ip, 61053) for ip in MASTERS]
UPSTREAMS = [Upstream("192.0.2.53")]
CORP = {"corp.example": [Upstream("192.0.2.60")], "a.mesos": [Upstream("192.0.2.61")]}
TASKS = (
    zone.A("web.marathon.autoip.dcos.thisdcos.directory", "10.0.6.21"),
    zone.A("web.marathon.autoip.dcos.thisdcos.directory", "10.0.6.22"),
)
L4LB = zone.build_zone(
    "l4lb.thisdcos.directory", zones.SOA, [zone.A("vip.marathon.l4lb.thisdcos.directory",
                                                  "11.0.0.1")], ttl=5)  # fmt: skip


def table(extra: dict[str, zone.Zone] | None = None) -> RoutingTable:
    built = zones.build_zones(zones.local_records(MASTERS, TASKS))
    return build_table({**built, **(extra or {})}, MESOS_DNS, UPSTREAMS, CORP)


def ask(t: RoutingTable, name: str, qtype: str = "A") -> dnslib.DNSRecord | Forward:
    question = dnslib.DNSRecord.question(name, qtype)
    result = t.resolve(wire.parse(bytes(question.pack())), random.Random(1))
    return result if isinstance(result, Forward) else dnslib.DNSRecord.parse(result)


def answers(reply: dnslib.DNSRecord | Forward) -> list[tuple[str, int, str]]:
    assert isinstance(reply, dnslib.DNSRecord)
    return sorted((str(rr.rname), rr.ttl, str(rr.rdata)) for rr in reply.rr)


@pytest.mark.parametrize(
    ("name", "upstreams"),
    [
        ("leader.mesos", MESOS_DNS),
        ("Web.Marathon.MESOS", MESOS_DNS),
        ("mesos", MESOS_DNS),
        ("x.a.mesos", CORP["a.mesos"]),  # a longer forward zone wins over .mesos
        ("host.corp.example", CORP["corp.example"]),
        ("example.com", UPSTREAMS),
        ("xmesos", UPSTREAMS),  # on label boundaries only
        ("spartan.example", UPSTREAMS),
        (".", UPSTREAMS),
    ],
)
def test_forwarded_names(name: str, upstreams: list[Upstream]) -> None:
    assert ask(table(), name) == Forward(tuple(upstreams))


def test_ready_spartan_and_ns_spartan() -> None:
    t = table()
    assert answers(ask(t, "ready.spartan")) == [("ready.spartan.", 5, "127.0.0.1")]
    assert answers(ask(t, "ns.spartan")) == [("ns.spartan.", 5, "198.51.100.1")]


def test_zk_names_repeat_the_masters_to_five() -> None:
    t = table()
    got = [answers(ask(t, f"zk-{n}.zk"))[0][2] for n in range(1, 6)]
    assert got == [*MASTERS, MASTERS[0], MASTERS[1]]
    assert ask(t, "zk-6.zk").header.rcode == dnslib.RCODE.NXDOMAIN  # type: ignore[union-attr]
    one = build_table(zones.build_zones(zones.local_records(["10.0.4.11"])), [], [])
    assert [answers(ask(one, f"zk-{n}.zk"))[0][2] for n in range(1, 6)] == ["10.0.4.11"] * 5


def test_task_names_with_ttl_5_and_aa() -> None:
    reply = ask(table(), "web.marathon.autoip.dcos.thisdcos.directory")
    assert isinstance(reply, dnslib.DNSRecord)
    assert reply.header.aa == 1
    assert answers(reply) == [
        ("web.marathon.autoip.dcos.thisdcos.directory.", 5, "10.0.6.21"),
        ("web.marathon.autoip.dcos.thisdcos.directory.", 5, "10.0.6.22"),
    ]


def test_negative_answers_carry_dcos_nets_soa() -> None:
    reply = ask(table(), "nope.marathon.autoip.dcos.thisdcos.directory")
    assert isinstance(reply, dnslib.DNSRecord)
    assert (reply.header.rcode, reply.rr) == (dnslib.RCODE.NXDOMAIN, [])
    (soa,) = reply.auth
    assert (str(soa.rname), soa.ttl) == ("dcos.thisdcos.directory.", 5)
    assert str(soa.rdata).split() == [
        "ns.spartan.", "support.mesosphere.com.", "1", "60", "180", "86400", "1"]  # fmt: skip
    nodata = ask(table(), "ready.spartan", "AAAA")
    assert isinstance(nodata, dnslib.DNSRecord)
    assert (nodata.header.rcode, nodata.rr, len(nodata.auth)) == (dnslib.RCODE.NOERROR, [], 1)


def test_ns_of_a_zone_has_ttl_3600() -> None:
    reply = ask(table(), "spartan", "NS")
    assert answers(reply) == [("spartan.", 3600, "ns.spartan.")]


def test_global_alias_answers_as_the_directory_zone() -> None:
    reply = ask(table(), "web.marathon.autoip.dcos.thisdcos.global")
    assert answers(reply) == [
        ("web.marathon.autoip.dcos.thisdcos.global.", 5, "10.0.6.21"),
        ("web.marathon.autoip.dcos.thisdcos.global.", 5, "10.0.6.22"),
    ]
    missing = ask(table(), "nope.dcos.thisdcos.global")
    assert missing.header.rcode == dnslib.RCODE.NXDOMAIN  # type: ignore[union-attr]


def test_dclb_is_l4lb_when_that_zone_exists_and_nxdomain_until_then() -> None:
    for name in ("vip.marathon.dclb.thisdcos.directory", "vip.marathon.dclb.thisdcos.global"):
        assert ask(table(), name).header.rcode == dnslib.RCODE.NXDOMAIN  # type: ignore[union-attr]
        assert answers(ask(table({"l4lb.thisdcos.directory": L4LB}), name)) == [
            (name + ".", 5, "11.0.0.1")
        ]


def test_unknown_names_under_thisdcos_directory_are_nxdomain_locally() -> None:
    for name in ("x.l4lb.thisdcos.directory", "thisdcos.directory", "a.b.thisdcos.global"):
        reply = ask(table(), name)
        assert isinstance(reply, dnslib.DNSRecord), name
        assert reply.header.rcode in (dnslib.RCODE.NXDOMAIN, dnslib.RCODE.NOERROR), name
        assert reply.rr == [], name


def test_localhost() -> None:
    assert answers(ask(table(), "localhost")) == [("localhost.", 5, "127.0.0.1")]
    assert answers(ask(table(), "localhost", "AAAA")) == [("localhost.", 5, "::1")]


def test_a_forward_zone_named_like_a_local_zone_loses_to_it() -> None:
    built = zones.build_zones(zones.local_records(MASTERS))
    t = build_table(built, MESOS_DNS, UPSTREAMS, {"spartan": [Upstream("192.0.2.70")]})
    assert answers(ask(t, "ready.spartan")) == [("ready.spartan.", 5, "127.0.0.1")]


def test_no_upstreams_forward_to_nobody() -> None:
    t = build_table(zones.build_zones(zones.local_records(MASTERS)), [], [])
    assert ask(t, "example.com") == Forward(())
    assert ask(t, "leader.mesos") == Forward(())
