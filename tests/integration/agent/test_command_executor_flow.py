"""The command executor process against a fake agent on 127.0.0.1 (stdlib http.server, HTTP/1.1,
chunked RecordIO): launch, updates, kill, shutdown, reconnect and resend, recovery timeout.

A fake *agent* is right here: the executor is the real program, run as the agent runs it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import daemons.agent.executors
from daemons.agent import builtin_executors
from daemons.agent.config import AgentConfig

pytestmark = pytest.mark.integration

SCRIPT = Path(daemons.agent.executors.__file__).parent / "command.py"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
JSON = dict[str, Any]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Killed executors reset their connections: expected here, not worth a traceback."""


class FakeAgent:
    """Accepts SUBSCRIBE (answers SUBSCRIBED, then whatever `send` queues) and UPDATE (202)."""

    def __init__(self, port: int = 0) -> None:
        self.subscribes: list[JSON] = []
        self.statuses: list[JSON] = []
        self.cond = threading.Condition()
        self._stream: queue.SimpleQueue[JSON | None] | None = None
        self._connections: set[socket.socket] = set()
        agent = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                agent._connections.add(self.connection)

            def do_POST(self) -> None:
                call = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert call["executor_id"] == {"value": "ex-1"}
                assert call["framework_id"] == {"value": "fw-1"}
                if call["type"] == "SUBSCRIBE":
                    agent._serve_stream(self, call)
                    return
                with agent.cond:
                    agent.statuses.append(call["update"]["status"])
                    agent.cond.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _QuietServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _serve_stream(self, handler: BaseHTTPRequestHandler, call: JSON) -> None:
        events: queue.SimpleQueue[JSON | None] = queue.SimpleQueue()
        agent_info = {"id": {"value": "agent-1"}, "hostname": "localhost"}
        events.put({"type": "SUBSCRIBED", "subscribed": {"agent_info": agent_info}})
        with self.cond:  # SUBSCRIBED is queued before a test can queue anything else
            self.subscribes.append(call["subscribe"])
            self._stream = events
            self.cond.notify_all()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        while (event := events.get()) is not None:
            data = json.dumps(event).encode()
            record = b"%d\n%s" % (len(data), data)
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(record), record))
            handler.wfile.flush()
        handler.close_connection = True  # no final chunk: the stream just breaks

    def send(self, event: JSON) -> None:
        assert self._stream is not None
        self._stream.put(event)

    def ack(self, status: JSON) -> None:
        self.send(
            {
                "type": "ACKNOWLEDGED",
                "acknowledged": {"task_id": status["task_id"], "uuid": status["uuid"]},
            }
        )

    def states(self) -> list[str]:
        with self.cond:
            return [s["state"] for s in self.statuses]

    def handled_so_far(self, marker: str) -> JSON:
        """Wait until the executor has handled every event sent before, and return the proof.

        An executor handles its events one at a time, in order, and answers a LAUNCH it refuses
        -- a second task to the command executor, any LAUNCH to the default executor -- with a
        TASK_FAILED for that task at once. That update (left unacknowledged) comes after
        whatever the earlier events made the executor do, and exists only if it still runs."""
        command = {"value": "true"}
        launch = {"task_id": {"value": marker}, "name": marker, "command": command}
        self.send({"type": "LAUNCH", "launch": {"task": launch}})
        self.wait_for(lambda: any(s["task_id"] == {"value": marker} for s in self.statuses))
        with self.cond:
            refused = next(s for s in self.statuses if s["task_id"] == {"value": marker})
        assert refused["state"] == "TASK_FAILED", refused
        return refused

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), (self.statuses, self.subscribes)

    def wait_states(self, *states: str) -> list[JSON]:
        self.wait_for(lambda: [s["state"] for s in self.statuses][: len(states)] == list(states))
        return self.statuses[: len(states)]

    def close(self) -> None:
        """Like a killed agent: the listener and every open connection go away."""
        if self._stream is not None:
            self._stream.put(None)
        self.server.shutdown()
        self.server.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def agent() -> Iterator[FakeAgent]:
    fake = FakeAgent()
    yield fake
    fake.close()


@contextlib.contextmanager
def executor_starter(
    agent: FakeAgent, tmp_path: Path, script: Path
) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts executors (`script`) against `agent`; kills them and their tasks at the end."""
    started: list[subprocess.Popen[str]] = []

    def run(**env: str) -> subprocess.Popen[str]:
        environment = {
            "PATH": "/usr/bin:/bin",
            "MESOS_AGENT_ENDPOINT": f"127.0.0.1:{agent.port}",
            "MESOS_FRAMEWORK_ID": "fw-1",
            "MESOS_EXECUTOR_ID": "ex-1",
            "MESOS_SANDBOX": str(tmp_path),
            "MESOS_DIRECTORY": str(tmp_path),
            "MESOS_CHECKPOINT": "1",
            "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "5secs",
            "MESOS_RECOVERY_TIMEOUT": "15mins",
            "MESOS_SUBSCRIPTION_BACKOFF_MAX": "200ms",
            **env,
        }
        process = subprocess.Popen(
            [PYTHON, "-I", "-S", str(script)], env=environment, text=True, start_new_session=True
        )
        started.append(process)
        agent.wait_for(lambda: bool(agent.subscribes))
        return process

    try:
        yield run
    finally:
        _stop_all(started, agent)


def _stop_all(started: list[subprocess.Popen[str]], agent: FakeAgent) -> None:
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, 9)
        process.wait()
    _kill_tasks_of(f"MESOS_AGENT_ENDPOINT=127.0.0.1:{agent.port}".encode())


@pytest.fixture
def start(agent: FakeAgent, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    with executor_starter(agent, tmp_path, SCRIPT) as run:
        yield run


def _kill_tasks_of(marker: bytes) -> None:
    """Tasks run in sessions of their own: find the ones a failed test left by their env."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), 9)
        except (OSError, ProcessLookupError):
            continue


def task(command: JSON, **extra: Any) -> JSON:
    return {"type": "LAUNCH", "launch": {"task": {"task_id": {"value": "t-1"}, "name": "t",
                                                  "command": command, **extra}}}  # fmt: skip


def test_a_task_that_succeeds(agent: FakeAgent, start: Callable[..., Any]) -> None:
    executor = start()
    agent.send(task({"value": "exit 0"}))
    statuses = agent.wait_states("TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED")
    for status in statuses:
        assert status["task_id"] == {"value": "t-1"}
        assert status["source"] == "SOURCE_EXECUTOR"
        assert status["executor_id"] == {"value": "ex-1"}
        assert status["agent_id"] == {"value": "agent-1"}
        assert len(base64.b64decode(status["uuid"])) == 16
        assert abs(status["timestamp"] - time.time()) < 60
    assert statuses[-1]["message"] == "Command exited with status 0"
    for status in statuses[:2]:
        agent.ack(status)
    agent.handled_so_far("marker")  # both ACKNOWLEDGEDs too: an exit on them would have come
    assert executor.poll() is None  # waits for the terminal update's acknowledgement
    agent.ack(statuses[2])
    assert executor.wait(10) == 0


def test_a_failing_plain_command_with_its_environment(
    agent: FakeAgent, start: Callable[..., Any], tmp_path: Path
) -> None:
    executor = start()
    command = {
        "shell": False,
        "value": "/bin/sh",
        "arguments": ["sh", "-c", 'echo "$GREETING" > out; exit 3'],
        "environment": {"variables": [{"name": "GREETING", "value": "hello"}]},
    }
    agent.send(task(command))
    statuses = agent.wait_states("TASK_STARTING", "TASK_RUNNING", "TASK_FAILED")
    assert statuses[-1]["message"] == "Command exited with status 3"
    assert (tmp_path / "out").read_text() == "hello\n"  # ran in the sandbox
    agent.ack(statuses[-1])
    assert executor.wait(10) == 0


def test_kill_sends_killing_then_killed_after_the_grace(
    agent: FakeAgent, start: Callable[..., Any], tmp_path: Path
) -> None:
    executor = start(MESOS_TASK_KILLING_STATE="1")
    agent.send(task({"value": "trap '' TERM; touch ready; sleep 60"}))  # needs the SIGKILL
    agent.wait_states("TASK_STARTING", "TASK_RUNNING")
    deadline = time.monotonic() + 10
    while not (tmp_path / "ready").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    begin = time.monotonic()
    policy = {"grace_period": {"nanoseconds": 300_000_000}}
    agent.send({"type": "KILL", "kill": {"task_id": {"value": "t-1"}, "kill_policy": policy}})
    statuses = agent.wait_states("TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED")
    assert time.monotonic() - begin >= 0.3
    assert statuses[-1]["message"] == "Command terminated with signal Killed"
    agent.ack(statuses[-1])
    assert executor.wait(10) == 0


def test_kill_without_the_killing_capability(agent: FakeAgent, start: Callable[..., Any]) -> None:
    executor = start()
    agent.send(task({"value": "sleep 60"}))
    agent.wait_states("TASK_STARTING", "TASK_RUNNING")
    agent.send({"type": "KILL", "kill": {"task_id": {"value": "t-1"}}})
    statuses = agent.wait_states("TASK_STARTING", "TASK_RUNNING", "TASK_KILLED")
    assert statuses[-1]["message"] == "Command terminated with signal Terminated"
    agent.ack(statuses[-1])
    assert executor.wait(10) == 0


def test_agent_restart_resubscribes_and_resends(
    agent: FakeAgent, start: Callable[..., Any], tmp_path: Path
) -> None:
    executor = start()
    agent.send(task({"value": "while [ ! -e go ]; do sleep 0.05; done"}))
    first = agent.wait_states("TASK_STARTING", "TASK_RUNNING")
    port = agent.port
    agent.close()  # the agent dies: stream broken, connections refused for a while
    time.sleep(0.5)  # how long it stays down (a fault's duration): re-subscriptions back off
    restarted = FakeAgent(port)
    try:
        restarted.wait_for(lambda: bool(restarted.subscribes))
        subscribe = restarted.subscribes[-1]
        assert [t["task_id"] for t in subscribe["unacknowledged_tasks"]] == [{"value": "t-1"}]
        assert [u["status"]["uuid"] for u in subscribe["unacknowledged_updates"]] == [
            s["uuid"] for s in first
        ]
        resent = restarted.wait_states("TASK_STARTING", "TASK_RUNNING")
        assert [s["uuid"] for s in resent] == [s["uuid"] for s in first]
        for status in resent:
            restarted.ack(status)
        (tmp_path / "go").touch()
        final = restarted.wait_states("TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED")[-1]
        restarted.ack(final)
        assert executor.wait(10) == 0
    finally:
        restarted.close()


def test_no_agent_within_the_recovery_timeout_kills_the_task(
    agent: FakeAgent, start: Callable[..., Any], tmp_path: Path
) -> None:
    executor = start(MESOS_RECOVERY_TIMEOUT="1secs")
    agent.send(task({"value": "echo $$ > pid; exec sleep 60"}))
    agent.wait_states("TASK_STARTING", "TASK_RUNNING")
    agent.close()
    assert executor.wait(10) == 1
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped before the executor exits
        os.kill(pid, 0)


def test_a_non_checkpointing_framework_stops_with_the_agent(
    agent: FakeAgent, start: Callable[..., Any]
) -> None:
    executor = start(MESOS_CHECKPOINT="0")
    agent.send(task({"value": "sleep 60"}))
    agent.wait_states("TASK_STARTING", "TASK_RUNNING")
    agent.close()
    assert executor.wait(10) == 0


def test_shutdown_kills_the_task_and_exits(agent: FakeAgent, start: Callable[..., Any]) -> None:
    executor = start()
    agent.send(task({"value": "sleep 60"}))
    agent.wait_states("TASK_STARTING", "TASK_RUNNING")
    agent.send({"type": "SHUTDOWN"})
    statuses = agent.wait_states("TASK_STARTING", "TASK_RUNNING", "TASK_KILLED")
    agent.ack(statuses[-1])
    assert executor.wait(10) == 0


def test_sigterm_is_a_shutdown_and_heartbeats_are_ignored(
    agent: FakeAgent, start: Callable[..., Any]
) -> None:
    executor = start()
    agent.send({"type": "HEARTBEAT"})
    agent.send({"type": "MESSAGE", "message": {"data": "aGk="}})
    agent.send(task({"value": "sleep 60"}))
    agent.wait_states("TASK_STARTING", "TASK_RUNNING")
    executor.send_signal(15)
    statuses = agent.wait_states("TASK_STARTING", "TASK_RUNNING", "TASK_KILLED")
    agent.ack(statuses[-1])
    assert executor.wait(10) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for cgroups and namespaces")
@pytest.mark.parametrize("launch", ["exec", "fork_server"])
def test_in_a_real_container_as_nobody(agent: FakeAgent, launch: str) -> None:
    """The executor as pid 1 of a container, as the agent runs it (exec'ed, or forked warm by
    the fork server): destroy's SIGTERM is a shutdown, so the task is reported killed before
    the SIGKILL."""
    from daemons.agent.containerizer import Containerizer, ContainerizerConfig, ContainerSpec
    from daemons.agent.containerizer.detection import detect

    root = f"pydcos-test-exec-{os.getpid()}"
    # Run the copy the agent runs (readable by nobody wherever this checkout lives).
    script = builtin_executors.install(Path(AgentConfig.libexec_dir)) / SCRIPT.name
    argv = ["/usr/bin/python3", "-I", "-S", str(script)]
    config = ContainerizerConfig(
        cgroups_root=root, executor_launch=launch, warm_argvs=(tuple(argv),)
    )
    containerizer = Containerizer(config)
    sandbox = Path(tempfile.mkdtemp(prefix="pydcos-exec-"))
    sandbox.chmod(0o755)
    env = {
        "PATH": "/usr/bin:/bin",
        "MESOS_AGENT_ENDPOINT": f"127.0.0.1:{agent.port}",
        "MESOS_FRAMEWORK_ID": "fw-1",
        "MESOS_EXECUTOR_ID": "ex-1",
        "MESOS_SANDBOX": str(sandbox / "run"),
        "MESOS_CHECKPOINT": "1",
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD": "1secs",
    }
    spec = ContainerSpec("exec-1", sandbox / "run", argv, env, "nobody", 0.5, 64, 64)
    try:
        handle = containerizer.launch(spec)
        agent.wait_for(lambda: bool(agent.subscribes))
        agent.send(task({"value": "sleep 60"}))
        agent.wait_states("TASK_STARTING", "TASK_RUNNING")
        assert containerizer.usage("exec-1")["processes"] >= 2  # executor, sh -c (sleep)
        begin = time.monotonic()
        containerizer.destroy("exec-1", grace_period=5)
        assert agent.states()[-1] == "TASK_KILLED"
        assert time.monotonic() - begin < 4  # exits after its 1 s shutdown grace: no SIGKILL
        with pytest.raises(ProcessLookupError):
            os.kill(handle.pid, 0)
    finally:
        containerizer.destroy("exec-1")
        containerizer.close()
        for directory in detect(root).directories("x"):
            os.rmdir(Path(directory).parent)
        shutil.rmtree(sandbox)
