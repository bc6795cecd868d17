"""Asking a DNS server on loopback as clients do: `dig` (Debian bind9-dnsutils) with its output
parsed into sections, and raw UDP/TCP exchanges for what dig will not send (garbage, truncated
packets, 65,535-byte messages). Shared by the DNS kit's and the DNS proxy's wire tests."""

from __future__ import annotations

import random
import re
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass

import dnslib

DIG = shutil.which("dig")


@dataclass
class Dig:
    status: str
    flags: set[str]
    answer: list[list[str]]
    authority: list[list[str]]
    additional: list[list[str]]
    seconds: float
    transport: str


def dig(port: int, *args: str, timeout: int = 2, server: str = "127.0.0.1") -> Dig:
    """`dig @server -p port args`, one try; fails (never skips) when dig is missing."""
    assert DIG is not None, "dig is not installed (scripts/bootstrap.sh installs bind9-dnsutils)"
    started = time.monotonic()
    out = subprocess.run(
        [DIG, f"@{server}", "-p", str(port), f"+time={timeout}", "+tries=1", "+nocookie", *args],
        capture_output=True, text=True, timeout=timeout + 10, check=False,
    ).stdout  # fmt: skip
    seconds = time.monotonic() - started
    header = re.search(r"status: (\w+)", out)
    flags = re.search(r";; flags: ([^;]*);", out)
    transport = re.search(r";; SERVER: .*\((UDP|TCP)\)", out)
    assert header and flags and transport, out

    def section(name: str) -> list[list[str]]:
        found = re.search(rf";; {name} SECTION:\n(.*?)(?:\n\n|\Z)", out, re.S)
        return [line.split() for line in found.group(1).splitlines()] if found else []

    sections = (section("ANSWER"), section("AUTHORITY"), section("ADDITIONAL"))
    return Dig(header.group(1), set(flags.group(1).split()), *sections, seconds, transport.group(1))


def udp_exchange(
    port: int, data: bytes, timeout: float = 0.5, server: str = "127.0.0.1"
) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(data, (server, port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def tcp_exchange(port: int, data: bytes, server: str = "127.0.0.1") -> bytes:
    with socket.create_connection((server, port), timeout=5) as sock:
        sock.sendall(struct.pack("!H", len(data)) + data)
        size = struct.unpack("!H", sock.recv(2, socket.MSG_WAITALL))[0]
        return sock.recv(size, socket.MSG_WAITALL)


def query(name: str = "app.marathon.mesos", qtype: str = "A", ident: int = 777) -> bytes:
    record = dnslib.DNSRecord.question(name, qtype)
    record.header.id = ident
    return bytes(record.pack())


def header_of(data: bytes | None) -> tuple[int, int, int]:
    """(ID, QR, RCODE) of a reply."""
    assert data is not None
    ident, flags = struct.unpack_from("!HH", data)
    return ident, flags >> 15, flags & 0xF


# -- bad queries any of our DNS servers must survive (the caller checks it still answers) --------

FORMERR = 1
HEADER = struct.Struct("!HHHHHH")


def assert_garbage_is_formerr(port: int, rng: random.Random, count: int = 50) -> None:
    """Junk after a header claiming 2 or more questions: FORMERR with the ID echoed."""
    for _ in range(count):
        junk = struct.pack("!HHH", 0xBEEF, 0, rng.randrange(2, 65536)) + rng.randbytes(40)
        assert header_of(udp_exchange(port, junk)) == (0xBEEF, 1, FORMERR)


def assert_truncated_is_formerr(port: int, packet: bytes) -> None:
    """`packet` cut at every length: nothing below 12 bytes (no ID to answer), else FORMERR."""
    ident = HEADER.unpack_from(packet)[0]
    for size in range(len(packet)):
        reply = udp_exchange(port, packet[:size], timeout=0.2 if size < 12 else 2)
        if size < 12:
            assert reply is None, size
        else:
            assert header_of(reply) == (ident, 1, FORMERR), size


def assert_65535_byte_messages(port: int, good: bytes, rdata: list[str]) -> None:
    """Over TCP: a good query padded to 65,535 bytes is answered (`rdata`); a 65,535-byte
    name is FORMERR."""
    reply = dnslib.DNSRecord.parse(tcp_exchange(port, good + bytes(65535 - len(good))))
    ident = HEADER.unpack_from(good)[0]
    assert (reply.header.id, reply.header.rcode, [str(rr.rdata) for rr in reply.rr]) == (
        ident, 0, rdata,
    )  # fmt: skip
    long_name = HEADER.pack(778, 0, 1, 0, 0, 0) + b"\x01x" * ((65535 - 12) // 2) + b"\x00"
    assert len(long_name) == 65535
    assert header_of(tcp_exchange(port, long_name)) == (778, 1, FORMERR)


def assert_200_questions_are_formerr(port: int, good: bytes) -> None:
    """One packet with `good`'s question 200 times, over UDP and TCP."""
    packet = HEADER.pack(779, 0x0100, 200, 0, 0, 0) + good[12:] * 200
    assert header_of(udp_exchange(port, packet)) == (779, 1, FORMERR)
    assert header_of(tcp_exchange(port, packet)) == (779, 1, FORMERR)
