"""A small fake master speaking docs/agent-protocol.md, for the agent's integration tests.

Not a test module by itself (it holds no tests): the agent tests import `FakeMaster`, the task
builders and the `work_dir`/`master`/`agent` fixtures from here. The fake serves
`POST /api/v1/agent` on 127.0.0.1: SUBSCRIBE gets a chunked
RecordIO stream (SUBSCRIBED first, HEARTBEATs when idle, then whatever the test `send`s); other
calls need the stream's `Mesos-Stream-Id` and are recorded. UPDATEs carrying a uuid are
acknowledged from delivery number `ack_on_delivery` on (1: at once; 2: from the first retry;
0: never).
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools import processes

JSON = dict[str, Any]
FRAMEWORK_ID = "FAKE-0000"
FRAMEWORK_INFO: JSON = {
    "id": {"value": FRAMEWORK_ID},
    "user": "root",
    "name": "agent-tests",
    "checkpoint": True,
    "capabilities": [{"type": "TASK_KILLING_STATE"}],
}
_END = object()


def record(event: JSON) -> bytes:
    data = json.dumps(event, separators=(",", ":")).encode()
    return str(len(data)).encode() + b"\n" + data


def scalar(name: str, value: float) -> JSON:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}, "role": "*"}


def command_task(
    task_id: str, command: str, agent_id: str, cpus: float = 0.1, mem: float = 32.0
) -> JSON:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "resources": [scalar("cpus", cpus), scalar("mem", mem)],
        "command": {"value": command, "shell": True},
    }


def run_task(task: JSON) -> JSON:
    return {"type": "RUN_TASK", "run_task": {"framework_info": FRAMEWORK_INFO, "task": task}}


def kill_task(task_id: str) -> JSON:
    return {
        "type": "KILL_TASK",
        "kill_task": {"framework_id": {"value": FRAMEWORK_ID}, "task_id": {"value": task_id}},
    }


class FakeMaster:
    def __init__(
        self, *, ack_on_delivery: int = 1, heartbeat: float = 1.0, redirect_to: str | None = None
    ) -> None:
        self.ack_on_delivery = ack_on_delivery
        self.redirect_to = redirect_to  # a standby: SUBSCRIBE answers 307 to this host:port
        self.heartbeat = heartbeat
        self.cond = threading.Condition()
        self.calls: list[JSON] = []
        self.subscriptions: list[JSON] = []
        self.deliveries: Counter[str] = Counter()
        self.stream_id: str | None = None
        self._queue: queue.Queue[Any] | None = None
        self._next_agent = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.master = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def master_info(self) -> JSON:
        """MasterInfo as masters publish it in ZooKeeper (`json.info_` nodes)."""
        return {
            "id": f"fake-{self.port}",
            "hostname": "127.0.0.1",
            "port": self.port,
            "pid": f"master@127.0.0.1:{self.port}",
            "version": "1.11.0",
            "address": {"hostname": "127.0.0.1", "ip": "127.0.0.1", "port": self.port},
        }

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.end_stream()
        self.server.shutdown()
        self.server.server_close()

    # --- test side ---------------------------------------------------------------------

    def send(self, event: JSON) -> None:
        with self.cond:
            assert self._queue is not None, "the agent has not subscribed"
            self._queue.put(event)

    def end_stream(self) -> None:
        """Close the current event stream (the agent should re-subscribe)."""
        with self.cond:
            if self._queue is not None:
                self._queue.put(_END)
                self._queue = None

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; calls so far: {self.summary()}")
                self.cond.wait(min(remaining, 0.2))

    def wait_subscribed(self, count: int = 1, timeout: float = 30.0) -> JSON:
        self.wait_for(lambda: len(self.subscriptions) >= count and self._queue, timeout)
        return self.subscriptions[count - 1]

    def updates(self, task_id: str | None = None) -> list[JSON]:
        out = []
        for call in self.calls:
            if call["type"] == "UPDATE":
                status = call["update"]["status"]
                if task_id is None or status["task_id"]["value"] == task_id:
                    out.append(status)
        return out

    def states(self, task_id: str) -> list[str]:
        """Distinct states of a task's updates in arrival order (retries collapsed)."""
        seen: list[str] = []
        uuids: set[str] = set()
        for status in self.updates(task_id):
            if status.get("uuid") not in uuids:
                uuids.add(status.get("uuid", ""))
                seen.append(status["state"])
        return seen

    def wait_state(self, task_id: str, state: str, timeout: float = 30.0) -> JSON:
        def found() -> JSON | None:
            for status in self.updates(task_id):
                if status["state"] == state:
                    return status
            return None

        result: JSON = self.wait_for(found, timeout)
        return result

    def calls_of(self, kind: str) -> list[JSON]:
        return [c for c in self.calls if c["type"] == kind]

    def summary(self) -> str:
        parts = []
        for call in self.calls:
            if call["type"] == "UPDATE":
                s = call["update"]["status"]
                parts.append(f"UPDATE({s['task_id']['value']},{s['state']},{s.get('reason')})")
            else:
                parts.append(call["type"])
        return f"subscriptions={len(self.subscriptions)} " + " ".join(parts)

    # --- server side -------------------------------------------------------------------

    def _subscribe(self, handler: _Handler, call: JSON) -> None:
        agent_id = (call.get("agent_id") or {}).get("value")
        if not agent_id:
            agent_id = f"FAKE-S{self._next_agent}"
            self._next_agent += 1
        events: queue.Queue[Any] = queue.Queue()
        with self.cond:
            if self._queue is not None:
                self._queue.put(_END)
            self._queue = events
            self.stream_id = str(uuid.uuid4())
            stream_id = self.stream_id
            self.subscriptions.append(call)
            self.cond.notify_all()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Mesos-Stream-Id", stream_id)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        subscribed = {
            "type": "SUBSCRIBED",
            "subscribed": {
                "agent_id": {"value": agent_id},
                "heartbeat_interval_seconds": self.heartbeat,
                "master_info": {"id": "fake", "hostname": "127.0.0.1", "port": self.port},
            },
        }
        try:
            handler.write_chunk(record(subscribed))
            while True:
                try:
                    item = events.get(timeout=self.heartbeat)
                except queue.Empty:
                    item = {"type": "HEARTBEAT"}
                if item is _END:
                    handler.write_chunk(b"")
                    return
                handler.write_chunk(record(item))
        except OSError:
            return

    def _call(self, call: JSON) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()
            if call["type"] != "UPDATE":
                return
            status = call["update"]["status"]
            if "uuid" not in status:
                return
            self.deliveries[status["uuid"]] += 1
            if self.ack_on_delivery and self.deliveries[status["uuid"]] >= self.ack_on_delivery:
                ack = {
                    "type": "ACKNOWLEDGE",
                    "acknowledge": {
                        "framework_id": call["update"]["framework_id"],
                        "task_id": status["task_id"],
                        "uuid": status["uuid"],
                    },
                }
                if self._queue is not None:
                    self._queue.put(ack)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        master: FakeMaster = self.server.master  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        call = json.loads(self.rfile.read(length))
        if self.path != "/api/v1/agent":
            self._answer(404)
        elif master.redirect_to is not None:
            with master.cond:
                master.calls.append(call)
                master.cond.notify_all()
            self.send_response(307)
            self.send_header("Location", f"//{master.redirect_to}/api/v1/agent")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif call.get("type") == "SUBSCRIBE":
            self.close_connection = True
            master._subscribe(self, call)
        elif self.headers.get("Mesos-Stream-Id") != master.stream_id:
            self._answer(400, b'{"message":"wrong Mesos-Stream-Id"}')
        else:
            master._call(call)
            self._answer(202)


# --- fixtures the agent tests import ------------------------------------------------------

AgentFactory = Callable[..., Any]

FAST = {
    "status_update_retry_initial": 0.5,
    "status_update_retry_max": 2.0,
    "registration_backoff_max": 1.0,
    "heartbeat_interval": 1.0,
    "executor_registration_timeout": 30.0,
    "executor_reregistration_timeout": 15.0,
    "executor_shutdown_grace_period": 2.0,
    "threads": 64,
    "log_level": "DEBUG",
}


@pytest.fixture(name="work_dir")
def work_dir_fixture() -> Iterator[Path]:
    # Not under pytest's 0700 tmp dirs: tasks run as `nobody` and must reach their sandbox.
    path = Path(tempfile.mkdtemp(prefix="pydcos-agent-test-", dir="/var/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(name="master")
def master_fixture() -> Iterator[FakeMaster]:
    fake = FakeMaster(ack_on_delivery=2)  # every update must be retried once to be acked
    try:
        yield fake
    finally:
        fake.close()


@contextlib.contextmanager
def running_agent(
    start_agent: AgentFactory, master_url: str, work_dir: Path, **config: Any
) -> Iterator[Any]:
    """An agent daemon under its own cgroups root; stopped and its containers killed after."""
    # The containerizer wants a plain cgroups_root name: one per agent, removed at teardown.
    cgroups_root = f"pydcos-agent-test-{uuid.uuid4().hex[:12]}"
    daemon = None
    try:
        daemon = start_agent(
            master=master_url,
            work_dir=str(work_dir),
            cgroups_root=cgroups_root,
            **{**FAST, **config},
        )
        yield daemon
    finally:
        if daemon is not None:
            daemon.stop()
        processes.kill_cgroups(cgroups_root)


@pytest.fixture(name="agent")
def agent_fixture(start_agent: AgentFactory, master: FakeMaster, work_dir: Path) -> Iterator[Any]:
    with running_agent(start_agent, master.address, work_dir) as daemon:
        yield daemon


class SharedAgent:
    """An agent daemon started once for a module (tests that only read or poke its API)."""

    def __init__(self, state_dir: Path, master: FakeMaster, work_dir: Path) -> None:
        self.port = processes.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cgroups_root = f"pydcos-agent-test-{uuid.uuid4().hex[:12]}"
        self.log_path = state_dir / "agent.log"
        config = {
            "master": master.address,
            "ip": "127.0.0.1",
            "hostname": "127.0.0.1",
            "port": self.port,
            "work_dir": str(work_dir),
            "cgroups_root": self.cgroups_root,
            "resources": "cpus:4;mem:4096;disk:10000;ports:[31000-32000]",
            **FAST,
        }
        self.pid = processes.start_daemon(
            "daemons.agent.main", config, state_dir / "agent.toml", self.log_path
        )

    def stop(self) -> None:
        processes.stop_pid(self.pid)
        processes.kill_cgroups(self.cgroups_root)


@pytest.fixture(scope="module", name="shared_agent")
def shared_agent_fixture(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Any, FakeMaster]]:
    """(agent, its fake master), one pair per test module."""
    master = FakeMaster()
    work_dir = Path(tempfile.mkdtemp(prefix="pydcos-agent-test-", dir="/var/tmp"))
    work_dir.chmod(0o755)
    agent = None
    try:
        agent = SharedAgent(tmp_path_factory.mktemp("shared-agent"), master, work_dir)
        yield agent, master
    finally:
        if agent is not None:
            agent.stop()
        master.close()
        shutil.rmtree(work_dir, ignore_errors=True)
