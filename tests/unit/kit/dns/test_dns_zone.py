"""Precomputed answers (daemons/kit/dns/zone.py): every reply parsed back with dnslib."""

from __future__ import annotations

import itertools
import random

import dnslib
import pytest

from daemons.kit.dns import wire, zone
from daemons.kit.dns.forward import Upstream, choose

SOA = zone.SOA("ns1.mesos", "root.ns1.mesos", 1700000000)
RECORDS: list[zone.Record] = [
    zone.A("app.marathon.mesos", "10.0.0.1"),
    zone.A("app.marathon.mesos", "10.0.0.2"),
    zone.A("app.marathon.mesos", "10.0.0.3"),
    zone.A("app.marathon.mesos", "10.0.0.3"),  # a duplicate is served once
    zone.AAAA("app.marathon.mesos", "fd01::1"),
    zone.SRV("_app._tcp.marathon.mesos", "app-ab12c-s1.marathon.slave.mesos", 31000),
    zone.SRV("_app._tcp.marathon.mesos", "app-de34f-s2.marathon.slave.mesos", 31001),
    zone.A("app-ab12c-s1.marathon.slave.mesos", "192.0.2.1"),
    zone.A("app-de34f-s2.marathon.slave.mesos", "192.0.2.2"),
    zone.A("ns1.mesos", "198.18.0.10"),
]


def mesos(**kwargs: object) -> zone.Zone:
    return zone.build_zone("mesos", SOA, RECORDS, ttl=60, nameservers=["ns1.mesos"], **kwargs)  # type: ignore[arg-type]


def ask(
    table: zone.Zone,
    name: str,
    qtype: str = "A",
    edns: int | None = None,
    tcp: bool = False,
    rng: random.Random | None = None,
) -> dnslib.DNSRecord:
    record = dnslib.DNSRecord.question(name, qtype)
    if edns is not None:
        record.add_ar(dnslib.EDNS0(udp_len=edns))
    data = table.reply(wire.parse(bytes(record.pack()), tcp), rng or random.Random(0))
    assert data is not None
    reply = dnslib.DNSRecord.parse(data)
    assert reply.header.id == record.header.id
    assert len(data) <= (65535 if tcp else max(512, edns or 512))
    return reply


def rdata(rrs: list[dnslib.RR]) -> list[str]:
    return sorted(str(rr.rdata) for rr in rrs)


def test_an_a_query_answers_every_address_authoritatively_in_the_clients_case() -> None:
    reply = ask(mesos(), "App.Marathon.Mesos")
    assert (reply.header.aa, reply.header.ra, reply.header.rcode, reply.header.tc) == (1, 1, 0, 0)
    assert rdata(reply.rr) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert {str(rr.rname) for rr in reply.rr} == {"App.Marathon.Mesos."}
    assert {(rr.ttl, rr.rclass, rr.rtype) for rr in reply.rr} == {(60, 1, dnslib.QTYPE.A)}
    assert reply.auth == [] and reply.ar == []


def test_ra_is_configurable() -> None:
    assert ask(mesos(recursion_available=False), "app.marathon.mesos").header.ra == 0


def test_aaaa() -> None:
    reply = ask(mesos(), "app.marathon.mesos", "AAAA")
    assert rdata(reply.rr) == ["fd01::1"]


def test_srv_answers_carry_their_targets_addresses() -> None:
    reply = ask(mesos(), "_app._tcp.marathon.mesos", "SRV")
    assert sorted((rr.rdata.priority, rr.rdata.weight, rr.rdata.port, str(rr.rdata.target))
                  for rr in reply.rr) == [
        (0, 1, 31000, "app-ab12c-s1.marathon.slave.mesos."),
        (0, 1, 31001, "app-de34f-s2.marathon.slave.mesos."),
    ]  # fmt: skip
    assert sorted((str(rr.rname), str(rr.rdata)) for rr in reply.ar) == [
        ("app-ab12c-s1.marathon.slave.mesos.", "192.0.2.1"),
        ("app-de34f-s2.marathon.slave.mesos.", "192.0.2.2"),
    ]


def test_a_missing_name_is_nxdomain_with_the_soa() -> None:
    reply = ask(mesos(), "nope.marathon.mesos")
    assert (reply.header.rcode, reply.header.aa) == (dnslib.RCODE.NXDOMAIN, 1)
    assert reply.rr == []
    [soa] = reply.auth
    assert (str(soa.rname), soa.rtype, soa.ttl) == ("mesos.", dnslib.QTYPE.SOA, 60)
    assert (str(soa.rdata.mname), str(soa.rdata.rname)) == ("ns1.mesos.", "root.ns1.mesos.")
    assert soa.rdata.times == (1700000000, 60, 600, 86400, 60)


@pytest.mark.parametrize(
    ("name", "qtype"),
    [("app.marathon.mesos", "SRV"), ("app.marathon.mesos", "TXT"), ("marathon.mesos", "A"),
     ("slave.mesos", "A"), ("_tcp.marathon.mesos", "SRV"), ("ns1.mesos", "MX")],
)  # fmt: skip
def test_a_name_that_exists_without_the_type_is_nodata_with_the_soa(name: str, qtype: str) -> None:
    # marathon.mesos, slave.mesos and _tcp.marathon.mesos have names below them (RFC 8020).
    reply = ask(mesos(), name, qtype)
    assert (reply.header.rcode, reply.header.aa) == (dnslib.RCODE.NOERROR, 1)
    assert reply.rr == []
    assert [(str(rr.rname), rr.rtype) for rr in reply.auth] == [("mesos.", dnslib.QTYPE.SOA)]


def test_an_unknown_qtype_at_a_known_name_is_nodata() -> None:
    query = wire.parse(wire.HEADER.pack(9, 0, 1, 0, 0, 0) + b"\x05mesos\x00\xfe\xef\x00\x01")
    data = mesos().reply(query, random.Random(0))
    assert data is not None
    reply = dnslib.DNSRecord.parse(data)
    assert (reply.header.rcode, len(reply.rr), len(reply.auth)) == (0, 0, 1)


def test_the_apex_answers_soa_and_ns_with_glue() -> None:
    table = mesos(soa_ttl=5, ns_ttl=3600)
    soa = ask(table, "mesos", "SOA")
    assert [(rr.rtype, rr.ttl) for rr in soa.rr] == [(dnslib.QTYPE.SOA, 5)]
    ns = ask(table, "mesos", "NS")
    assert [(str(rr.rdata), rr.ttl) for rr in ns.rr] == [("ns1.mesos.", 3600)]
    assert [(str(rr.rname), str(rr.rdata)) for rr in ns.ar] == [("ns1.mesos.", "198.18.0.10")]
    nx = ask(table, "nope.mesos")
    assert nx.auth[0].ttl == 5


def test_any_answers_every_record_of_the_name() -> None:
    reply = ask(mesos(), "app.marathon.mesos", "ANY")
    assert sorted(dnslib.QTYPE[rr.rtype] for rr in reply.rr) == ["A", "A", "A", "AAAA"]
    srv = ask(mesos(), "_app._tcp.marathon.mesos", "ANY")
    assert len(srv.rr) == 2 and len(srv.ar) == 2


def test_an_owner_of_one_type_answers_any_with_it_without_a_copy() -> None:
    table = mesos()
    one = wire.name_to_wire("_app._tcp.marathon.mesos")
    two = wire.name_to_wire("app.marathon.mesos")
    assert (one, wire.ANY) not in table.answers  # ≈ 7 MiB of a 70,000-name zone
    assert table.lookup(one, wire.ANY) is table.answers[(one, wire.SRV)]
    assert (two, wire.ANY) in table.answers  # A and AAAA: an answer of its own
    assert table.lookup(two, wire.ANY) is table.answers[(two, wire.ANY)]
    empty = wire.name_to_wire("marathon.mesos")  # exists (names below it), owns nothing
    assert table.owned(empty) is None and table.lookup(empty, wire.ANY) is table.nodata
    assert table.lookup(wire.name_to_wire("nope.mesos"), wire.ANY) is table.nxdomain


def test_names_outside_the_zone_are_not_answered() -> None:
    table = mesos()
    for name in ("example.com", "xmesos", "mesos.com"):
        query = wire.parse(bytes(dnslib.DNSRecord.question(name).pack()))
        assert table.reply(query, random.Random(0)) is None
        assert not table.covers(query.qname)
    assert table.covers(wire.name_to_wire("x.y.mesos"))


def test_a_class_other_than_in_is_refused() -> None:
    record = dnslib.DNSRecord.question("app.marathon.mesos", "A", "CH")
    data = mesos().reply(wire.parse(bytes(record.pack())), random.Random(0))
    assert data is not None
    assert dnslib.DNSRecord.parse(data).header.rcode == dnslib.RCODE.REFUSED


def test_every_permutation_of_a_three_record_answer_is_a_valid_message() -> None:
    table = mesos()
    answer = table.lookup(wire.name_to_wire("app.marathon.mesos"), wire.A)
    assert answer is not None and len(answer.records) == 3
    for edns in (None, 1232):
        record = dnslib.DNSRecord.question("APP.marathon.mesos")
        if edns:
            record.add_ar(dnslib.EDNS0(udp_len=edns))
        query = wire.parse(bytes(record.pack()))
        for order in itertools.permutations(answer.records):
            data = wire.compose(query, answer.flags, order)
            reply = dnslib.DNSRecord.parse(data)
            expected = [".".join(str(b) for b in chunk[-4:]) for chunk in order]
            assert [str(rr.rdata) for rr in reply.rr] == expected
            assert {str(rr.rname) for rr in reply.rr} == {"APP.marathon.mesos."}
            assert len(reply.ar) == (1 if edns else 0)


def test_answers_are_shuffled_per_query() -> None:
    table, rng = mesos(), random.Random(7)
    firsts = {str(ask(table, "app.marathon.mesos", rng=rng).rr[0].rdata) for _ in range(60)}
    assert firsts == {"10.0.0.1", "10.0.0.2", "10.0.0.3"}


def big_zone() -> zone.Zone:
    records: list[zone.Record] = [zone.A("big.mesos", f"10.1.0.{n}") for n in range(1, 101)]
    records += [zone.SRV("_big._tcp.mesos", f"t{n}.mesos", 1000 + n) for n in range(30)]
    records += [zone.A(f"t{n}.mesos", f"10.2.0.{n + 1}") for n in range(30)]
    return zone.build_zone("mesos", SOA, records, ttl=60)


def test_a_large_udp_answer_without_edns_is_cut_to_512_with_tc() -> None:
    # 12 header + 15 question + n * 16 per A record <= 512: 30 records fit.
    reply = ask(big_zone(), "big.mesos")
    assert reply.header.tc == 1
    assert len(reply.rr) == 30
    assert len({str(rr.rdata) for rr in reply.rr}) == 30


def test_edns0_raises_the_limit_and_tcp_gets_everything() -> None:
    with_edns = ask(big_zone(), "big.mesos", edns=1232)
    # (1232 - 12 - 15 - 11 opt) // 16 = 74 records.
    assert (with_edns.header.tc, len(with_edns.rr)) == (1, 74)
    assert [rr.rtype for rr in with_edns.ar] == [dnslib.QTYPE.OPT]
    assert (ask(big_zone(), "big.mesos", edns=4096).header.tc, len(
        ask(big_zone(), "big.mesos", edns=4096).rr)) == (0, 100)  # fmt: skip
    tcp = ask(big_zone(), "big.mesos", tcp=True)
    assert (tcp.header.tc, len(tcp.rr)) == (0, 100)


def test_truncation_drops_the_additional_section_first() -> None:
    udp = ask(big_zone(), "_big._tcp.mesos", "SRV")
    assert udp.header.tc == 1 and udp.ar == [] and 0 < len(udp.rr) < 30
    tcp = ask(big_zone(), "_big._tcp.mesos", "SRV", tcp=True)
    assert (tcp.header.tc, len(tcp.rr), len(tcp.ar)) == (0, 30, 30)


def test_a_zones_records_are_read_back_from_its_answers() -> None:
    """`records_of`: every A, AAAA and SRV record the zone was built from (duplicates once,
    names as given without the trailing dot, SRV priority and weight kept), none of the
    apex's SOA and NS."""
    given = [
        zone.A("web.marathon.mesos", "10.0.0.1"),
        zone.SRV("_web._tcp.marathon.mesos", "web-a1.marathon.mesos", 31000, 3, 7),
        zone.A("web.marathon.mesos", "10.0.0.2"),
        zone.AAAA("web.marathon.mesos", "fd00::1"),
        zone.A("web-a1.marathon.mesos", "10.0.0.1"),
        zone.A("web.marathon.mesos", "10.0.0.1"),
        zone.SRV("_web._tcp.marathon.mesos", "web-a1.marathon.mesos", 31001),
    ]
    built = zone.build_zone("mesos", SOA, given, ttl=60, nameservers=["ns1.mesos"])
    found = list(zone.records_of(built))
    assert found == [
        zone.A("web.marathon.mesos", "10.0.0.1"),
        zone.A("web.marathon.mesos", "10.0.0.2"),
        zone.SRV("_web._tcp.marathon.mesos", "web-a1.marathon.mesos", 31000, 3, 7),
        zone.SRV("_web._tcp.marathon.mesos", "web-a1.marathon.mesos", 31001),
        zone.AAAA("web.marathon.mesos", "fd00::1"),
        zone.A("web-a1.marathon.mesos", "10.0.0.1"),
    ]


def test_bad_records_are_refused_at_build() -> None:
    with pytest.raises(ValueError, match="not in the zone"):
        zone.build_zone("mesos", SOA, [zone.A("app.example.com", "10.0.0.1")], ttl=60)
    with pytest.raises(ValueError):
        zone.build_zone("mesos", SOA, [zone.A("app.mesos", "10.0.0.300")], ttl=60)
    with pytest.raises(ValueError):
        zone.build_zone("mesos", SOA, [zone.AAAA("app.mesos", "10.0.0.1")], ttl=60)


# -- dual dispatch's choice (daemons/kit/dns/forward.py, pure) ---------------------------------

UPSTREAMS = [Upstream(f"127.0.0.{n}", 53) for n in range(1, 5)]


def test_two_or_fewer_upstreams_are_all_asked() -> None:
    rng = random.Random(0)
    assert choose(UPSTREAMS[:1], {}, rng) == UPSTREAMS[:1]
    assert choose(UPSTREAMS[:2], {UPSTREAMS[0]: 9}, rng) == UPSTREAMS[:2]
    assert choose([], {}, rng) == []


def test_of_three_or_more_two_of_the_least_failed_are_asked() -> None:
    rng = random.Random(0)
    failures = {UPSTREAMS[0]: 3, UPSTREAMS[1]: 0, UPSTREAMS[2]: 0, UPSTREAMS[3]: 1}
    picks = {frozenset(choose(UPSTREAMS, failures, rng)) for _ in range(50)}
    assert picks == {frozenset(UPSTREAMS[1:3])}


def test_a_single_best_upstream_is_paired_with_one_from_the_next_group() -> None:
    rng = random.Random(0)
    failures = {UPSTREAMS[0]: 2, UPSTREAMS[1]: 0, UPSTREAMS[2]: 1, UPSTREAMS[3]: 1}
    picks = [choose(UPSTREAMS, failures, rng) for _ in range(50)]
    assert {p[0] for p in picks} == {UPSTREAMS[1]}
    assert {p[1] for p in picks} == {UPSTREAMS[2], UPSTREAMS[3]}
