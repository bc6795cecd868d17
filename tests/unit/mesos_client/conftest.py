"""A tiny fake Mesos master/agent for the client tests: stdlib ThreadingHTTPServer, HTTP/1.1,
SUBSCRIBE answered with a chunked RecordIO stream the test writes to, other calls recorded and
answered 202 with `Content-Length: 0`, a GET answered with the JSON of `pages[path]` (404
without). Loopback only; every server is shut down by its fixture."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from daemons.protocols.recordio import encode_json

JSON = dict[str, Any]


class FakeStream:
    def __init__(self, call: JSON, stream_id: str) -> None:
        self.call = call
        self.stream_id = stream_id
        self._queue: queue.Queue[bytes | None] = queue.Queue()

    def send(self, event: JSON, pieces: int = 1) -> None:
        """Write one event; `pieces` > 1 splits its record over that many HTTP chunks."""
        self.send_raw(encode_json(event), pieces)

    def send_raw(self, data: bytes, pieces: int = 1) -> None:
        size = max(1, -(-len(data) // pieces))
        for start in range(0, len(data), size):
            self._queue.put(data[start : start + size])

    def end(self) -> None:
        self._queue.put(None)

    def next_chunk(self) -> bytes | None:
        return self._queue.get()


class FakeMesos:
    def __init__(self, path: str, first_event: Callable[[JSON], JSON | None]) -> None:
        self.path = path
        self.first_event = first_event
        self.subscribe_script: deque[tuple[int, dict[str, str]]] = deque()
        self.redirect_to: str | None = None  # answer every SUBSCRIBE with 307 to this host:port
        self.call_status = 202
        self.subscribe_attempts: list[JSON] = []
        self.streams: list[FakeStream] = []
        self.calls: list[tuple[JSON, dict[str, str]]] = []
        self.pages: dict[str, Any] = {}
        self.gets: list[str] = []
        self._cond = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def _record(self, action: Callable[[], None]) -> None:
        with self._cond:
            action()
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        with self._cond:
            value = self._cond.wait_for(predicate, timeout)
        assert value, "timed out waiting for the fake"
        return value

    def wait_stream(self, count: int = 1) -> FakeStream:
        self.wait_for(lambda: len(self.streams) >= count)
        return self.streams[count - 1]

    def calls_of(self, kind: str) -> list[tuple[JSON, dict[str, str]]]:
        with self._cond:
            return [c for c in self.calls if c[0]["type"] == kind]

    def wait_call(self, kind: str, count: int = 1) -> tuple[JSON, dict[str, str]]:
        self.wait_for(lambda: len([c for c in self.calls if c[0]["type"] == kind]) >= count)
        return self.calls_of(kind)[count - 1]

    def close(self) -> None:
        for stream in self.streams:
            stream.end()
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: FakeMesos) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            fake._record(lambda: fake.gets.append(self.path))
            page = fake.pages.get(self.path)
            body = json.dumps(page).encode()
            self.send_response(404 if page is None else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            call = json.loads(body)
            headers = {k: v for k, v in self.headers.items()}
            if self.path != fake.path:
                self._empty(404)
                return
            if call["type"] != "SUBSCRIBE":
                fake._record(lambda: fake.calls.append((call, headers)))
                where = {"Location": f"//{fake.address}{fake.path}"}
                self._empty(fake.call_status, where if fake.call_status == 307 else None)
                return
            fake._record(lambda: fake.subscribe_attempts.append(call))
            if fake.redirect_to is not None:
                self._empty(307, {"Location": f"//{fake.redirect_to}{fake.path}"})
                return
            with fake._cond:
                scripted = fake.subscribe_script.popleft() if fake.subscribe_script else None
            if scripted is not None:
                self._empty(*scripted)
                return
            self._stream(FakeStream(call, str(uuid.uuid4())))

        def _stream(self, stream: FakeStream) -> None:
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Mesos-Stream-Id", stream.stream_id)
            self.end_headers()
            first = fake.first_event(stream.call)
            if first is not None:
                stream.send(first)
            fake._record(lambda: fake.streams.append(stream))
            try:
                while (chunk := stream.next_chunk()) is not None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client went away (watchdog, close)

    return Handler


class MasterFake(FakeMesos):
    framework_id = "fw-1"
    heartbeat = 15.0

    def __init__(self) -> None:
        super().__init__("/api/v1/scheduler", self._subscribed)

    def _subscribed(self, call: JSON) -> JSON:
        fid = (call.get("framework_id") or {}).get("value") or self.framework_id
        host, port = self.address.split(":")
        return {
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": {"value": fid},
                "heartbeat_interval_seconds": self.heartbeat,
                "master_info": {
                    "id": "m1",
                    "ip": 0,
                    "port": int(port),
                    "hostname": host,
                    "address": {"hostname": host, "ip": host, "port": int(port)},
                },
            },
        }


class AgentFake(FakeMesos):
    agent_id = "agent-S0"

    def __init__(self) -> None:
        super().__init__("/api/v1/executor", self._subscribed)

    def _subscribed(self, call: JSON) -> JSON:
        return {
            "type": "SUBSCRIBED",
            "subscribed": {
                "executor_info": {"executor_id": call["executor_id"]},
                "framework_info": {"id": call["framework_id"], "user": "root", "name": "f"},
                "agent_info": {"id": {"value": self.agent_id}, "hostname": "localhost"},
                "container_id": {"value": "c-1"},
            },
        }


@pytest.fixture
def master() -> Iterator[MasterFake]:
    fake = MasterFake()
    yield fake
    fake.close()


@pytest.fixture
def standby() -> Iterator[MasterFake]:
    fake = MasterFake()
    yield fake
    fake.close()


@pytest.fixture
def agent() -> Iterator[AgentFake]:
    fake = AgentFake()
    yield fake
    fake.close()
