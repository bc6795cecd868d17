"""The nftables program of a VIP table (`minuteman.ruleset`). The text is checked here; that
the kernel takes it, and what the traffic then does, is checked in tests/integration/minuteman."""

from __future__ import annotations

import ipaddress

from daemons.kit.l4lb.table import Backend, Service, Vip, VipTable
from minuteman.ruleset import (
    PICKS,
    changes,
    expected,
    full,
    parse_listing,
    slot_elements,
    verdict,
)

A = ipaddress.IPv4Address("198.19.0.5")
WEB = Service(A, "tcp", 80)
DNS = Service(A, "udp", 53)


def vip(service: Service, *backends: tuple[str, int, int]) -> Vip:
    return Vip(service, (), tuple(Backend(*b) for b in backends))


def table(*vips: Vip) -> VipTable:
    return VipTable({v.service: v for v in vips})


def test_a_backend_owns_as_many_slots_as_its_weight() -> None:
    web = vip(WEB, ("10.0.0.1", 1, 1), ("10.0.0.2", 2, 0), ("10.0.0.3", 3, 2))
    assert verdict(web) == "goto pick_3"
    assert slot_elements(web) == [
        "198.19.0.5 . tcp . 80 . 0 : 10.0.0.1 . 1",
        "198.19.0.5 . tcp . 80 . 1 : 10.0.0.3 . 3",
        "198.19.0.5 . tcp . 80 . 2 : 10.0.0.3 . 3",
    ]


def test_a_vip_with_no_backend_taking_connections_is_refused() -> None:
    assert verdict(vip(WEB, ("10.0.0.1", 1, 0))) == "goto refuse"
    assert slot_elements(vip(DNS)) == []


def test_the_full_program_replaces_the_table_in_one_transaction() -> None:
    text = full(table(vip(WEB, ("10.0.0.1", 1, 1)), vip(DNS, ("10.0.0.2", 2, 1))))
    lines = text.splitlines()
    assert lines[:3] == ["table ip dcos_l4lb", "delete table ip dcos_l4lb", "table ip dcos_l4lb {"]
    assert f"    chain pick_{PICKS} {{" in lines and "    chain pick_65 {" not in lines
    assert lines[-3:] == [
        "add element ip dcos_l4lb services { 198.19.0.5 . tcp . 80 : goto pick_1, "
        "198.19.0.5 . udp . 53 : goto pick_1 }",
        "add element ip dcos_l4lb backends { 198.19.0.5 . tcp . 80 . 0 : 10.0.0.1 . 1, "
        "198.19.0.5 . udp . 53 . 0 : 10.0.0.2 . 2 }",
        "add element ip dcos_l4lb vip_addresses { 198.19.0.5 }",
    ]


def test_no_change_is_no_transaction() -> None:
    t = table(vip(WEB, ("10.0.0.1", 1, 1)))
    assert changes(t, table(vip(WEB, ("10.0.0.1", 1, 1)))) == ""


def test_a_changed_vip_rewrites_only_its_own_elements() -> None:
    old = table(vip(WEB, ("10.0.0.1", 1, 1)), vip(DNS, ("10.0.0.2", 2, 1)))
    new = table(vip(WEB, ("10.0.0.1", 1, 1), ("10.0.0.9", 9, 1)), vip(DNS, ("10.0.0.2", 2, 1)))
    assert changes(old, new).splitlines() == [
        "delete element ip dcos_l4lb backends { 198.19.0.5 . tcp . 80 . 0 }",
        "delete element ip dcos_l4lb services { 198.19.0.5 . tcp . 80 }",
        "add element ip dcos_l4lb services { 198.19.0.5 . tcp . 80 : goto pick_2 }",
        "add element ip dcos_l4lb backends { 198.19.0.5 . tcp . 80 . 0 : 10.0.0.1 . 1, "
        "198.19.0.5 . tcp . 80 . 1 : 10.0.0.9 . 9 }",
    ]


def test_a_new_vip_is_added_with_its_address_and_a_gone_one_leaves_it_while_used() -> None:
    new = table(vip(WEB, ("10.0.0.1", 1, 1)))
    assert changes(table(), new).splitlines()[-1] == (
        "add element ip dcos_l4lb vip_addresses { 198.19.0.5 }"
    )
    both = table(vip(WEB, ("10.0.0.1", 1, 1)), vip(DNS, ("10.0.0.2", 2, 1)))
    assert "vip_addresses" not in changes(both, table(vip(DNS, ("10.0.0.2", 2, 1))))
    assert changes(both, table()).splitlines()[-1] == (
        "delete element ip dcos_l4lb vip_addresses { 198.19.0.5 }"
    )


def test_a_weight_over_the_standing_picks_gets_its_chain_while_it_is_needed() -> None:
    many = table(vip(WEB, *((f"10.0.0.{i}", 1000 + i, 1) for i in range(PICKS + 2))))
    # Added with the whole table (nft 1.0.6 cannot add it alone, tests/integration/minuteman).
    assert changes(table(), many) == full(many)
    assert f"    chain pick_{PICKS + 2} {{" in full(many)
    assert changes(many, table()).splitlines()[-2] == f"delete chain ip dcos_l4lb pick_{PICKS + 2}"


LISTING = """\
table ip dcos_l4lb {
\tmap services {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\telements = { 198.19.0.5 . udp . 53 : goto refuse,
\t\t\t     198.19.0.5 . tcp . 80 : goto pick_3 }
\t}

\tmap backends {
\t\ttypeof ip daddr . meta l4proto . th dport . numgen random mod 64 : ip daddr . th dport
\t\telements = { 198.19.0.5 . tcp . 80 . 0 : 10.0.0.1 . 1,
\t\t\t     198.19.0.5 . tcp . 80 . 1 : 10.0.0.3 . 3,
\t\t\t     198.19.0.5 . tcp . 80 . 2 : 10.0.0.3 . 3 }
\t}

\tset vip_addresses {
\t\ttype ipv4_addr
\t\telements = { 198.19.0.5 }
\t}
CHAINS}
"""


def listing(chains: dict[str, tuple[str, ...]]) -> str:
    text = "".join(
        f"\n\tchain {name} {{\n" + "".join(f"\t\t{line}\n" for line in body) + "\t}\n"
        for name, body in chains.items()
    )
    return LISTING.replace("CHAINS", text)


WANT = table(vip(WEB, ("10.0.0.1", 1, 1), ("10.0.0.3", 3, 2)), vip(DNS))


def test_a_listing_of_exactly_our_program_is_what_the_table_expects() -> None:
    assert parse_listing(listing(expected(WANT).chains)) == expected(WANT)


def test_a_listing_that_differs_anywhere_is_not() -> None:
    text = listing(expected(WANT).chains)
    edits = [
        text.replace("2 : 10.0.0.3 . 3 }", "2 : 10.0.0.4 . 3 }"),
        text.replace("\t\treject\n", "\t\treject\n\t\tcounter packets 0 bytes 0\n"),
        text.replace("{ 198.19.0.5 }", "{ 198.19.0.5, 198.19.0.6 }"),
        text.replace("goto pick_3", "goto pick_2"),
        text.replace("\t\toifname", "\t\t# oifname"),
        text.replace("mod 64 :", "mod 32 :"),
        text.replace("\tchain pick_7 {", "\tchain pick_77 {"),
    ]
    for edited in edits:
        assert edited != text
        assert parse_listing(edited) != expected(WANT)
