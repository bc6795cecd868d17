"""The nftables program of a VIP table (`minuteman.ruleset`). The text is checked here; that
the kernel takes it, and what the traffic then does, is checked in tests/integration/minuteman."""

from __future__ import annotations

import ipaddress

from minuteman.ruleset import chain_name, changes, expected, full, parse_listing, vip_rule
from minuteman.table import Backend, Service, Vip, VipTable

A = ipaddress.IPv4Address("198.19.0.5")
WEB = Service(A, "tcp", 80)
DNS = Service(A, "udp", 53)


def vip(service: Service, *backends: tuple[str, int, int]) -> Vip:
    return Vip(service, (), tuple(Backend(*b) for b in backends))


def table(*vips: Vip) -> VipTable:
    return VipTable({v.service: v for v in vips})


def test_a_vips_chain_picks_a_backend_by_weight() -> None:
    rule = vip_rule(vip(WEB, ("10.0.0.1", 1, 1), ("10.0.0.2", 2, 0), ("10.0.0.3", 3, 2)))
    assert rule == (
        "meta l4proto tcp dnat ip to numgen random mod 3 "
        "map { 0 : 10.0.0.1 . 1, 1-2 : 10.0.0.3 . 3 }"
    )


def test_a_vip_with_no_backend_taking_connections_refuses_them() -> None:
    assert vip_rule(vip(WEB, ("10.0.0.1", 1, 0))) == "reject with tcp reset"
    assert vip_rule(vip(DNS)) == "reject"


def test_the_full_program_replaces_the_table_in_one_transaction() -> None:
    text = full(table(vip(WEB, ("10.0.0.1", 1, 1)), vip(DNS, ("10.0.0.2", 2, 1))))
    lines = text.splitlines()
    assert lines[:3] == ["table ip dcos_l4lb", "delete table ip dcos_l4lb", "table ip dcos_l4lb {"]
    assert f"    chain {chain_name(WEB)} {{" in lines
    assert lines[-2] == (
        "add element ip dcos_l4lb services { 198.19.0.5 . tcp . 80 : goto vip_198_19_0_5_tcp_80, "
        "198.19.0.5 . udp . 53 : goto vip_198_19_0_5_udp_53 }"
    )
    assert lines[-1] == "add element ip dcos_l4lb vip_addresses { 198.19.0.5 }"


def test_no_change_is_no_transaction() -> None:
    t = table(vip(WEB, ("10.0.0.1", 1, 1)))
    assert changes(t, table(vip(WEB, ("10.0.0.1", 1, 1)))) == ""


def test_a_changed_vip_rewrites_only_its_chain() -> None:
    old = table(vip(WEB, ("10.0.0.1", 1, 1)), vip(DNS, ("10.0.0.2", 2, 1)))
    new = table(vip(WEB, ("10.0.0.1", 1, 1), ("10.0.0.9", 9, 1)), vip(DNS, ("10.0.0.2", 2, 1)))
    assert changes(old, new).splitlines() == [
        "flush chain ip dcos_l4lb vip_198_19_0_5_tcp_80",
        "add rule ip dcos_l4lb vip_198_19_0_5_tcp_80 " + vip_rule(new.vips[WEB]),
    ]


def test_a_new_vip_is_added_with_its_element_and_address() -> None:
    new = table(vip(WEB, ("10.0.0.1", 1, 1)))
    assert changes(table(), new).splitlines() == [
        "add chain ip dcos_l4lb vip_198_19_0_5_tcp_80",
        "add rule ip dcos_l4lb vip_198_19_0_5_tcp_80 " + vip_rule(new.vips[WEB]),
        "add element ip dcos_l4lb services { 198.19.0.5 . tcp . 80 : goto vip_198_19_0_5_tcp_80 }",
        "add element ip dcos_l4lb vip_addresses { 198.19.0.5 }",
    ]


def test_a_gone_vip_leaves_its_address_while_another_vip_uses_it() -> None:
    old = table(vip(WEB, ("10.0.0.1", 1, 1)), vip(DNS, ("10.0.0.2", 2, 1)))
    assert changes(old, table(vip(DNS, ("10.0.0.2", 2, 1)))).splitlines() == [
        "delete element ip dcos_l4lb services { 198.19.0.5 . tcp . 80 }",
        "flush chain ip dcos_l4lb vip_198_19_0_5_tcp_80",
        "delete chain ip dcos_l4lb vip_198_19_0_5_tcp_80",
    ]
    assert changes(old, table()).splitlines()[-1] == (
        "delete element ip dcos_l4lb vip_addresses { 198.19.0.5 }"
    )


LISTING = """\
table ip dcos_l4lb {
\tmap services {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\telements = { 198.19.0.5 . udp . 53 : goto vip_198_19_0_5_udp_53,
\t\t\t     198.19.0.5 . tcp . 80 : goto vip_198_19_0_5_tcp_80 }
\t}

\tset vip_addresses {
\t\ttype ipv4_addr
\t\telements = { 198.19.0.5 }
\t}

\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tip daddr @vip_addresses meta mark set meta mark | 0x4c340000
\t\tip daddr . meta l4proto . th dport vmap @services
\t}

\tchain output {
\t\ttype nat hook output priority -100; policy accept;
\t\tip daddr . meta l4proto . th dport vmap @services
\t}

\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tmeta mark & 0x4c340000 == 0x4c340000 masquerade
\t\toifname != "lo" ip saddr @vip_addresses masquerade
\t}

\tchain vip_198_19_0_5_tcp_80 {
\t\tmeta l4proto tcp dnat ip to numgen random mod 3 map { 0 : 10.0.0.1 . 1, 1-2 : 10.0.0.3 . 3 }
\t}

\tchain vip_198_19_0_5_udp_53 {
\t\treject
\t}
}
"""


def test_a_listing_of_exactly_our_program_is_what_the_table_expects() -> None:
    want = table(vip(WEB, ("10.0.0.1", 1, 1), ("10.0.0.3", 3, 2)), vip(DNS))
    assert parse_listing(LISTING) == expected(want)


def test_a_listing_that_differs_anywhere_is_not() -> None:
    want = table(vip(WEB, ("10.0.0.1", 1, 1), ("10.0.0.3", 3, 2)), vip(DNS))
    edits = [
        LISTING.replace("1-2 : 10.0.0.3", "1-2 : 10.0.0.4"),
        LISTING.replace("\t\treject\n", "\t\treject\n\t\tcounter packets 0 bytes 0\n"),
        LISTING.replace("{ 198.19.0.5 }", "{ 198.19.0.5, 198.19.0.6 }"),
        LISTING.replace(",\n\t\t\t     198.19.0.5 . tcp . 80 : goto vip_198_19_0_5_tcp_80", ""),
        LISTING.replace("\t\toifname", "\t\t# oifname"),
    ]
    for text in edits:
        assert text != LISTING
        assert parse_listing(text) != expected(want)
