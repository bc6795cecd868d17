"""The query parser and reply composer (daemons/kit/dns/wire.py), checked against dnslib."""

from __future__ import annotations

import struct

import dnslib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.kit.dns import wire
from daemons.kit.dns.wire import BadQuery, Unanswerable


def question(name: str, qtype: str = "A", edns: int | None = None, ident: int = 0x1234) -> bytes:
    record = dnslib.DNSRecord.question(name, qtype)
    record.header.id = ident
    if edns is not None:
        record.add_ar(dnslib.EDNS0(udp_len=edns))
    return bytes(record.pack())


def with_header(packet: bytes, **fields: int) -> bytes:
    """`packet` with header fields replaced (flags, qd, an, ns, ar)."""
    ident, flags, qd, an, ns, ar = wire.HEADER.unpack_from(packet)
    values = {"flags": flags, "qd": qd, "an": an, "ns": ns, "ar": ar} | fields
    head = wire.HEADER.pack(ident, values["flags"], values["qd"], values["an"], values["ns"],
                            values["ar"])  # fmt: skip
    return head + packet[12:]


def test_a_query_is_parsed_with_its_name_lowercased_and_its_question_kept_as_sent() -> None:
    packet = question("App.Marathon.MESOS", "SRV")
    query = wire.parse(packet)
    assert query.id == 0x1234
    assert query.flags & wire.RD
    assert query.qname == b"\x03app\x08marathon\x05mesos\x00"
    assert query.question == b"\x03App\x08Marathon\x05MESOS\x00\x00\x21\x00\x01"
    assert (query.qtype, query.qclass) == (wire.SRV, wire.IN)
    assert query.name == "app.marathon.mesos."
    assert (query.edns_size, query.max_size, query.tcp) == (None, 512, False)
    assert query.packet == packet


@pytest.mark.parametrize(
    ("edns", "tcp", "max_size"),
    [(4096, False, 4096), (1232, False, 1232), (100, False, 512), (None, True, 65535),
     (4096, True, 65535)],
)  # fmt: skip
def test_the_reply_limit_follows_edns0_and_the_transport(
    edns: int | None, tcp: bool, max_size: int
) -> None:
    query = wire.parse(question("a.mesos", edns=edns), tcp=tcp)
    assert query.edns_size == edns
    assert query.max_size == max_size


def test_the_root_name_is_a_query_too() -> None:
    query = wire.parse(question(".", "NS"))
    assert query.qname == b"\x00"
    assert query.name == "."


@pytest.mark.parametrize("size", range(12))
def test_fewer_than_12_bytes_get_nothing(size: int) -> None:
    with pytest.raises(Unanswerable):
        wire.parse(question("a.mesos")[:size])


def test_a_response_is_ignored() -> None:
    with pytest.raises(Unanswerable, match="response"):
        wire.parse(with_header(question("a.mesos"), flags=wire.QR | wire.RD))


@pytest.mark.parametrize("opcode", [1, 2, 4, 5, 15])
def test_an_opcode_other_than_query_is_notimp_echoing_id_and_opcode(opcode: int) -> None:
    packet = with_header(question("a.mesos"), flags=(opcode << 11) | wire.RD)
    with pytest.raises(BadQuery) as bad:
        wire.parse(packet)
    assert bad.value.rcode == wire.NOTIMP
    reply = dnslib.DNSRecord.parse(wire.error_reply(packet, bad.value.rcode, wire.RA))
    assert reply.header.id == 0x1234
    assert (reply.header.qr, reply.header.opcode, reply.header.rd, reply.header.ra) == (
        1, opcode, 1, 1,
    )  # fmt: skip
    assert reply.header.rcode == dnslib.RCODE.NOTIMP
    assert (reply.header.q, reply.header.a, reply.header.auth, reply.header.ar) == (0, 0, 0, 0)


@pytest.mark.parametrize("qdcount", [0, 2, 200])
def test_a_question_count_other_than_one_is_formerr(qdcount: int) -> None:
    packet = with_header(question("a.mesos"), qd=qdcount)
    with pytest.raises(BadQuery, match=f"{qdcount} questions") as bad:
        wire.parse(packet)
    assert bad.value.rcode == wire.FORMERR
    reply = dnslib.DNSRecord.parse(wire.error_reply(packet, wire.FORMERR))
    assert (reply.header.id, reply.header.rcode, reply.header.q) == (0x1234, 1, 0)


def test_every_cut_of_a_question_is_formerr() -> None:
    packet = question("app.marathon.mesos", edns=1232)
    end_of_question = 12 + len(b"\x03app\x08marathon\x05mesos\x00") + 4
    for size in range(12, len(packet)):
        with pytest.raises(BadQuery) as bad:
            wire.parse(packet[:size])
        assert bad.value.rcode == wire.FORMERR, size
        assert "cut short" in str(bad.value), (size, end_of_question)


@pytest.mark.parametrize(
    ("qname", "reason"),
    [
        (b"\xc0\x0c", "compression pointer"),
        (b"\x01a\xc0\x0c", "compression pointer"),
        (b"\x40" + b"a" * 64 + b"\x00", "bad label"),
        (b"\x80abc\x00", "bad label"),
        ((b"\x3f" + b"a" * 63) * 4 + b"\x00", "longer than 255"),
    ],
)
def test_bad_names_are_formerr(qname: bytes, reason: str) -> None:
    packet = wire.HEADER.pack(7, wire.RD, 1, 0, 0, 0) + qname + b"\x00\x01\x00\x01"
    with pytest.raises(BadQuery, match=reason) as bad:
        wire.parse(packet)
    assert bad.value.rcode == wire.FORMERR


def test_a_name_of_exactly_255_bytes_is_accepted() -> None:
    qname = (b"\x3f" + b"a" * 63) * 3 + b"\x3d" + b"b" * 61 + b"\x00"
    assert len(qname) == 255
    packet = wire.HEADER.pack(7, 0, 1, 0, 0, 0) + qname + b"\x00\x01\x00\x01"
    assert wire.parse(packet).qname == qname


def test_a_second_opt_record_is_formerr() -> None:
    packet = question("a.mesos", edns=1232)
    opt = packet[-11:]
    with pytest.raises(BadQuery, match="second OPT"):
        wire.parse(with_header(packet + opt, ar=2))


def test_records_before_the_opt_record_are_skipped_pointers_included() -> None:
    # An answer RR owned by a pointer to the question, then the OPT record.
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x0a\x00\x00\x01"
    packet = question("a.mesos")
    packet = with_header(packet, an=1, ar=1) + answer + wire.OPT_RECORD
    assert wire.parse(packet).edns_size == wire.EDNS_SIZE


def test_a_record_running_past_the_end_is_formerr() -> None:
    packet = (
        with_header(question("a.mesos"), ar=1) + b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x09"
    )
    with pytest.raises(BadQuery, match="cut short"):
        wire.parse(packet)


def test_refused_and_servfail_echo_the_question_and_the_opt_record() -> None:
    for edns in (None, 4096):
        query = wire.parse(question("Example.COM", "AAAA", edns=edns))
        for rcode in (wire.REFUSED, wire.SERVFAIL):
            data = wire.rcode_reply(query, rcode, wire.RA)
            assert wire.rcode_of(data) == rcode
            reply = dnslib.DNSRecord.parse(data)
            assert reply.header.id == 0x1234
            assert (reply.header.qr, reply.header.aa, reply.header.ra, reply.header.rd) == (
                1, 0, 1, 1,
            )  # fmt: skip
            assert str(reply.q.qname) == "Example.COM."
            assert reply.q.qtype == dnslib.QTYPE.AAAA
            assert len(reply.rr) == 0
            opts = [rr for rr in reply.ar if rr.rtype == dnslib.QTYPE.OPT]
            assert len(opts) == (0 if edns is None else 1)
            if opts:
                assert opts[0].rclass == wire.EDNS_SIZE


def test_rd_is_copied_only_when_the_client_set_it() -> None:
    packet = with_header(question("a.mesos"), flags=0)
    data = wire.rcode_reply(wire.parse(packet), wire.REFUSED)
    assert dnslib.DNSRecord.parse(data).header.rd == 0


def test_names_to_wire_and_back() -> None:
    assert wire.name_to_wire("App.Mesos.") == b"\x03app\x05mesos\x00"
    assert wire.name_to_wire("app.mesos") == b"\x03app\x05mesos\x00"
    assert wire.name_to_wire(".") == b"\x00"
    assert wire.wire_to_name(b"\x03app\x05mesos\x00") == "app.mesos."
    assert wire.wire_to_name(b"\x03a.b\x02\x00c\x00") == "a\\046b.\\000c."
    for bad in ("a..mesos", "x" * 64 + ".mesos", ".".join(["abc"] * 64), "é.mesos"):
        with pytest.raises(ValueError):
            wire.name_to_wire(bad)


def test_in_zone_is_on_label_boundaries() -> None:
    mesos = wire.name_to_wire("mesos")
    assert wire.in_zone(wire.name_to_wire("a.b.mesos"), mesos)
    assert wire.in_zone(mesos, mesos)
    assert not wire.in_zone(wire.name_to_wire("xmesos"), mesos)
    assert not wire.in_zone(wire.name_to_wire("mesos.com"), mesos)
    assert wire.in_zone(wire.name_to_wire("a.mesos"), b"\x00")


@given(st.binary(max_size=600))
def test_any_bytes_parse_or_raise_one_of_the_two_refusals(packet: bytes) -> None:
    try:
        query = wire.parse(packet)
    except Unanswerable:
        assert len(packet) < 12 or packet[2] & 0x80
    except BadQuery as bad:
        assert bad.rcode in (wire.FORMERR, wire.NOTIMP)
        assert wire.error_reply(packet, bad.rcode)[:2] == packet[:2]
    else:
        assert query.question == packet[12 : 12 + len(query.question)]
        assert query.qname == query.question[:-4].lower()
