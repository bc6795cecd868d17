"""The stream hub under real gunicorn (`daemons.kit.serve`): subscriptions are served without a
thread each, byte for byte as `EventStream.records()` writes them, and end the way clients
expect (a terminating chunk on close and at the daemon's stop, `on_close` when a client goes)."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemons.kit import streams
from daemons.protocols.recordio import Decoder
from tools.processes import free_port, signal_pid, spawn, stop_pid, wait_exit, wait_healthy

APP = Path(__file__).with_name("hub_app.py")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    pid = spawn([sys.executable, str(APP), str(port)], tmp_path / "hub.log")
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}/health", pid, 30)
        yield port, pid
    finally:
        stop_pid(pid)


def call(port: int, method: str, path: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        conn.close()


def subscribe(port: int, name: str, heartbeat: float = 15.0) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", f"/subscribe/{name}?heartbeat={heartbeat}")
    response = conn.getresponse()
    assert response.status == 200
    return conn, response


def wait_closed(port: int, name: str, timeout: float = 5.0) -> bool:
    """Whether the app's `on_close` has run for stream `name` within `timeout`."""
    deadline = time.monotonic() + timeout
    while name not in call(port, "GET", "/status")["closed"]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def read_events(response: Any, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    decoder, events = Decoder(), []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        data = response.read1(65536)
        if not data:
            break
        events += [json.loads(r) for r in decoder.decode(data)]
    return events


def test_a_subscription_reads_as_records_writes_it(server: tuple[int, int]) -> None:
    port, _ = server
    conn, response = subscribe(port, "a")
    assert response.getheader("Stream-Name") == "a"
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert conn.sock is not None  # not `Connection: close`: http.client keeps the socket
    call(port, "POST", "/send/a?count=3")
    got = read_events(response, 6)
    while len([e for e in got if e["type"] == "EVENT"]) < 3:
        more = read_events(response, 1)
        assert more, got
        got += more
    # records(): the first event and a heartbeat, then the events in order, each burst (the
    # hub may wake between two sends) ending with a heartbeat.
    assert got[:2] == [{"type": "SUBSCRIBED", "name": "a"}, streams.HEARTBEAT]
    assert [e for e in got if e["type"] == "EVENT"] == [
        {"type": "EVENT", "i": i, "pad": ""} for i in range(3)
    ]
    assert got[-1] == streams.HEARTBEAT
    assert all(e["type"] in ("EVENT", "HEARTBEAT") for e in got[2:])
    conn.close()


def test_an_idle_stream_gets_heartbeats(server: tuple[int, int]) -> None:
    port, _ = server
    conn, response = subscribe(port, "idle", heartbeat=0.3)
    started = time.monotonic()
    got = read_events(response, 5)
    assert [e["type"] for e in got] == ["SUBSCRIBED"] + ["HEARTBEAT"] * 4
    # The first heartbeat rides with SUBSCRIBED; three more take about 3 intervals.
    assert 0.6 < time.monotonic() - started < 5
    conn.close()


def test_many_streams_hold_no_thread_each(server: tuple[int, int]) -> None:
    port, _ = server
    held = [subscribe(port, f"s{i}") for i in range(300)]
    for _, response in held[::50]:
        assert read_events(response, 1)[0]["type"] == "SUBSCRIBED"
    deadline = time.monotonic() + 5  # a stream is attached just after its first event is sent
    while (status := call(port, "GET", "/status"))["hub_streams"] < 300:
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["hub_streams"] == 300
    assert status["threads"] < 60  # a thread per stream would be over 300
    call(port, "POST", "/send/s299?count=2")
    # SUBSCRIBED and its heartbeat, then the two events, in one burst or two, each burst
    # ending with a heartbeat.
    events = read_events(held[-1][1], 5)
    if len([e for e in events if e["type"] == "EVENT"]) < 2:
        events += read_events(held[-1][1], 1)
    assert [e.get("i") for e in events if e["type"] == "EVENT"] == [0, 1]
    assert events[-1] == streams.HEARTBEAT
    for conn, _ in held:
        conn.close()


def test_a_client_that_goes_away_closes_its_stream(server: tuple[int, int]) -> None:
    port, _ = server
    conn, response = subscribe(port, "leaver")
    assert read_events(response, 1)
    conn.close()
    response.close()
    assert wait_closed(port, "leaver")
    assert call(port, "GET", "/status")["hub_streams"] == 0


def test_a_closed_stream_ends_with_the_last_chunk(server: tuple[int, int]) -> None:
    port, _ = server
    conn, response = subscribe(port, "ending")
    call(port, "POST", "/send/ending?count=1")
    call(port, "POST", "/close/ending")
    body = response.read()  # http.client raises IncompleteRead without the terminating chunk
    events = [json.loads(r) for r in Decoder().decode(body)]
    assert events[-2:] == [{"type": "EVENT", "i": 0, "pad": ""}, streams.HEARTBEAT]
    # on_close runs on the hub's closer thread, just after the last chunk has gone out.
    assert wait_closed(port, "ending")
    conn.close()


def test_a_client_that_reads_nothing_is_dropped(server: tuple[int, int]) -> None:
    port, _ = server
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"POST /subscribe/stuck HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    time.sleep(0.3)
    for _ in range(16):  # 16 MiB for a client that reads none of it (socket buffers: ~4 MiB)
        call(port, "POST", "/send/stuck?count=256&size=4096")
    assert wait_closed(port, "stuck", timeout=10)
    assert call(port, "GET", "/health") == {"ok": True}  # and the daemon serves on
    sock.close()


def test_a_stopping_daemon_ends_every_stream(server: tuple[int, int]) -> None:
    port, pid = server
    held = [subscribe(port, f"t{i}") for i in range(5)]
    for _, response in held:
        assert read_events(response, 1)
    assert signal_pid(pid, signal.SIGTERM)
    for conn, response in held:
        # http.client raises IncompleteRead when a chunked body ends without its last chunk.
        assert response.read() == b""
        conn.close()
    assert wait_exit(pid, 15)
