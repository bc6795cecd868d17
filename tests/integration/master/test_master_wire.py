"""Malformed HTTP on the wire: a clear 4xx, and the master stays up."""

from __future__ import annotations

import socket

import pytest

SCHED = b"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"

CASES = {
    "bad chunk size": (
        SCHED + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"400",
    ),
    "chunked body with trailers": (
        SCHED + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"400",  # parsed fine; `{}` is not a call
    ),
    "no leading slash": (b"GET master/state HTTP/1.1\r\nHost: x\r\n\r\n", b"400"),
    "empty path": (b"GET  HTTP/1.1\r\nHost: x\r\n\r\n", b"400"),
    "bad percent-encoding": (b"GET /master/state%zz HTTP/1.1\r\nHost: x\r\n\r\n", b"400"),
    "header over 8 KiB": (
        b"GET /health HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n",
        b"431",
    ),
    "body longer than Content-Length": (
        SCHED + b"Content-Length: 1\r\n\r\n{}",
        b"400",
    ),
}


def exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        return sock.recv(65536)


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_requests_get_4xx_and_the_master_stays_up(start_master, case):
    master = start_master()
    raw, status = CASES[case]
    reply = exchange(master.port, raw)
    assert reply.split(b"\r\n", 1)[0].split(b" ")[1] == status, reply[:300]
    healthy = exchange(master.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert healthy.startswith(b"HTTP/1.1 200")
    assert master.running()
