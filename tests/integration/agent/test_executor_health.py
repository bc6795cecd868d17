"""Mesos health checks (TaskInfo.health_check) run by the built-in command executor.

First the probes and the checker on loopback, without a cluster; then end to end: a real master
and agent, the project's SchedulerClient, the real command executor, and what the scheduler sees:

- an HTTP check against `python3 -m http.server` on a port from the offer: TASK_RUNNING with
  healthy=true and REASON_TASK_HEALTH_CHECK_STATUS_UPDATED;
- a TCP check: healthy=true;
- a COMMAND check failing 3 times in a row: healthy=false, then (healthy=false again) the kill,
  TASK_KILLED with healthy=false;
- a COMMAND check run in the task's sandbox going unhealthy -> healthy when a file appears.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from daemons.agent.executors import health_probes as hp
from daemons.agent.executors.health_checks import HealthCheck, Transition
from daemons.mesos_client import (
    Event,
    Offer,
    Offers,
    SchedulerClient,
    TaskStatus,
    Update,
    command_task,
)
from tests.integration.e2e.e2e_cluster import AGENT_CONFIG, MASTER_CONFIG, Cluster, wait_for

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
REASON = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"


# --- the probes and the checker, on loopback ----------------------------------------------------


class _Codes(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response({"/ok": 200, "/moved": 302, "/missing": 404}.get(self.path, 500))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Codes)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_http_probe_is_healthy_on_2xx_and_3xx(http_port: int) -> None:
    def probe(path: str, port: int = http_port) -> str:
        return hp.probe_http(HealthCheck("HTTP", port=port, path=path), 5.0)

    assert probe("/ok") == "" and probe("/moved") == ""
    assert probe("/missing").endswith("answered 404")
    assert "failed" in probe("/ok", closed_port())


def test_tcp_probe_is_healthy_when_a_connection_opens(http_port: int) -> None:
    assert hp.probe_tcp(HealthCheck("TCP", port=http_port), 5.0) == ""
    assert "failed" in hp.probe_tcp(HealthCheck("TCP", port=closed_port()), 5.0)


def test_checker_runs_http_probes_in_a_thread_and_reports_through_the_inbox(
    http_port: int,
) -> None:
    inbox: queue.SimpleQueue[tuple[str, int, str]] = queue.SimpleQueue()
    check = HealthCheck("HTTP", port=http_port, path="/ok", delay=0.0, interval=5.0)
    checker = hp.HealthChecker(check, {}, 0.0, inbox.put, (), lambda _: None)
    assert checker.deadlines() == [0.0]  # delay 0: due at the start
    assert checker.on_timers(0.0) is None  # started, the thread answers later
    kind, seq, error = inbox.get(timeout=10)
    assert (kind, error) == ("health", "")
    assert checker.on_result(seq, error, 1.0) == Transition(healthy=True)
    assert checker.deadlines() == [6.0]  # the next probe, an interval after the result
    assert checker.on_result(seq, error, 1.5) is None  # a stale or repeated result is dropped


def test_a_check_mesos_would_refuse_leaves_the_task_unchecked() -> None:
    logged: list[str] = []
    refused = {"type": "HTTP", "http": {"port": 80, "path": "no-slash"}}
    assert hp.start_checker(refused, {}, 0.0, print, (), logged.append) is None
    assert "not health checking" in logged[0]


def test_a_command_probe_past_its_timeout_is_killed_and_counts_as_a_failure() -> None:
    timing: Any = {"delay": 0.0, "timeout": 0.2, "grace_period": 0.0}
    check = HealthCheck("COMMAND", value="sleep 30", consecutive_failures=1, **timing)
    logged: list[str] = []
    checker = hp.HealthChecker(check, dict(os.environ), 0.0, print, (), logged.append)
    assert checker.on_timers(0.0) is None
    pid = checker.pid
    assert pid is not None and os.getpgid(pid) == pid  # a session (and process group) of its own
    assert checker.on_timers(0.2) == Transition(healthy=False, kill=True)
    _, status = os.waitpid(pid, 0)  # the executor's reaper does this
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert checker.on_exit(pid, status, 0.3) is None  # already counted at the timeout
    assert "timed out" in logged[-1]


def test_a_command_probe_exit_status_is_its_verdict(tmp_path: Path) -> None:
    check = HealthCheck("COMMAND", value="test -f flag", delay=0.0, interval=0.0, grace_period=0)
    checker = hp.HealthChecker(check, dict(os.environ), 0.0, print, (), print)
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the executor runs in the sandbox, and so do its probes
    try:
        outcomes = []
        for step in range(2):
            checker.on_timers(float(step))
            assert checker.pid is not None and checker.owns(checker.pid)
            pid, status = os.waitpid(checker.pid, 0)
            outcomes.append(checker.on_exit(pid, status, float(step)))
            (tmp_path / "flag").touch()
    finally:
        os.chdir(cwd)
    assert outcomes == [Transition(healthy=False), Transition(healthy=True)]


# --- end to end: a master, an agent, the scheduler client -----------------------------------------


@pytest.fixture
def cluster(work_root: Path, start_master: Any, start_agent: Any) -> Cluster:
    """A master and one agent; `work_root` first, so that it is removed after the daemons."""
    c = Cluster(start_master(**MASTER_CONFIG))
    work_dir = work_root / "agent"
    work_dir.mkdir(mode=0o755)
    work_dir.chmod(0o755)
    c.agents.append(start_agent(**{**AGENT_CONFIG, "work_dir": str(work_dir)}))
    c.wait_registered(1)
    return c


def free_offered_port(offer: Offer) -> int:
    """A port of the offer that nothing on this host listens on now (other tests' clusters
    offer the same range)."""
    offered = [p for b, e in offer.resources["*"].ranges["ports"] for p in range(b, e + 1)]
    for candidate in random.sample(offered, len(offered)):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise AssertionError("no offered port is free")


class Framework:
    """A SchedulerClient keeping every update it received (and acknowledged) and the offers."""

    def __init__(self, cluster: Cluster) -> None:
        self.offers: queue.SimpleQueue[Offer] = queue.SimpleQueue()
        self.updates: list[TaskStatus] = []
        self.lock = threading.Lock()
        info = {"user": "root", "name": "health-check-test", "failover_timeout": 0.0}
        self.client = SchedulerClient(f"127.0.0.1:{cluster.master.port}", info, on_event=self.seen)

    def seen(self, event: Event) -> None:
        if isinstance(event, Offers):
            for offer in event.offers:
                self.offers.put(offer)
        elif isinstance(event, Update):
            with self.lock:
                self.updates.append(event.status)

    def launch(self, task_id: str, command: str, health_check: JSON, port: bool = False) -> str:
        """Run `command` with `health_check`; `{port}` in either is a port of the offer."""
        offer = self.offers.get(timeout=20)
        ports = []
        if port:
            chosen = free_offered_port(offer)
            ports = [chosen]
            command = command.format(port=chosen)
            for section in ("http", "tcp"):
                if section in health_check:
                    health_check[section]["port"] = chosen
        task = command_task(task_id, task_id, offer.agent_id, 0.1, 64, command, ports=ports)
        task["health_check"] = health_check
        self.client.launch([offer.id], [task], refuse_seconds=0.0)
        return offer.agent_id

    def seen_for(self, task_id: str) -> list[tuple[str, bool | None, str | None]]:
        """(state, healthy, reason) of each update, TASK_KILLING left out (capability-dependent)."""
        with self.lock:
            return [
                (s.state, s.healthy, s.reason)
                for s in self.updates
                if s.task_id == task_id and s.state != "TASK_KILLING"
            ]

    def last(self, task_id: str) -> TaskStatus:
        with self.lock:
            return [s for s in self.updates if s.task_id == task_id][-1]

    def wait(self, task_id: str, count: int, timeout: float = 30.0) -> list[Any]:
        seen: list[Any] = wait_for(
            lambda: (s := self.seen_for(task_id))[count - 1 :] and s, timeout, f"{count} updates"
        )
        return seen


@pytest.fixture
def framework(cluster: Cluster) -> Iterator[Framework]:
    fw = Framework(cluster)
    fw.client.start()
    try:
        assert fw.client.wait_subscribed(20)
        yield fw
    finally:
        fw.client.close(teardown=True)


def fast(kind: str, section: JSON, **overrides: float) -> JSON:
    """A health check probing at once and every 0.3 s (Mesos' defaults would take 15 s)."""
    timing = {"delay_seconds": 0, "interval_seconds": 0.3, "timeout_seconds": 2}
    return {"type": kind, kind.lower(): section, **timing, **overrides}


HTTP_SERVER = "exec python3 -m http.server {port} --bind 127.0.0.1"


def probes_served(work_dir: Path, task_id: str) -> int:
    """The GETs the task's `http.server` logged: it logs each request to its stderr, which is
    the sandbox's `stderr` (`slaves/*/frameworks/*/executors/<id>/runs/<container>/`)."""
    pattern = f"slaves/*/frameworks/*/executors/{task_id}/runs/*/stderr"
    logs = {path.resolve() for path in work_dir.glob(pattern)}
    return sum(path.read_text(errors="replace").count('"GET / HTTP/1.1"') for path in logs)


def test_an_http_check_against_the_tasks_server_reports_healthy(
    framework: Framework, work_root: Path
) -> None:
    check = fast("HTTP", {"scheme": "http", "port": 0, "path": "/"}, grace_period_seconds=20)
    agent_id = framework.launch("web", HTTP_SERVER, check, port=True)
    healthy = [
        ("TASK_STARTING", None, None),
        ("TASK_RUNNING", None, None),
        ("TASK_RUNNING", True, REASON),  # the server's first answer (earlier failures: grace)
    ]
    assert framework.wait("web", 3)[:3] == healthy
    # More probes pass: nothing more is sent. A probe starts an interval after the executor has
    # handled the previous result, so two more GETs at the server mean at least one more passing
    # result handled, and any update for it sent to the agent then.
    served = probes_served(work_root / "agent", "web")
    wait_for(lambda: probes_served(work_root / "agent", "web") >= served + 2, 15, "two probes")
    framework.client.kill("web", agent_id)
    # The agent forwards a task's updates one at a time, in order: one sent before the kill's
    # TASK_KILLED reaches the scheduler before it.
    assert framework.wait("web", 4) == [*healthy, ("TASK_KILLED", None, None)]


def test_a_tcp_check_reports_healthy(framework: Framework) -> None:
    check = fast("TCP", {"port": 0}, grace_period_seconds=20)
    agent_id = framework.launch("tcp", HTTP_SERVER, check, port=True)
    assert framework.wait("tcp", 3)[2] == ("TASK_RUNNING", True, REASON)
    assert framework.last("tcp").executor_id == "tcp"
    framework.client.kill("tcp", agent_id)
    assert framework.wait("tcp", 4)[3][0] == "TASK_KILLED"


def test_a_command_check_failing_three_times_kills_the_task(framework: Framework) -> None:
    command = {"shell": True, "value": "test -f /nonexistent/health"}
    check = fast("COMMAND", command, grace_period_seconds=0, consecutive_failures=3)
    framework.launch("sick", "exec sleep 600", check)
    assert framework.wait("sick", 5) == [
        ("TASK_STARTING", None, None),
        ("TASK_RUNNING", None, None),
        ("TASK_RUNNING", False, REASON),  # the first failure: healthy -> unhealthy
        ("TASK_RUNNING", False, REASON),  # the third in a row: said again, then the kill
        ("TASK_KILLED", False, None),  # as Mesos: healthy false, no reason
    ]
    last = framework.last("sick")
    assert last.message == "Command terminated with signal Terminated (killed: health check failed)"


def test_a_command_check_runs_in_the_sandbox_and_sees_the_task_recover(
    framework: Framework,
) -> None:
    command = {"value": "test -f ready"}  # relative: the sandbox is the probe's cwd
    check = fast("COMMAND", command, grace_period_seconds=0, consecutive_failures=1000)
    agent_id = framework.launch("slow", "sleep 1.5; touch ready; exec sleep 600", check)
    assert framework.wait("slow", 4)[2:] == [
        ("TASK_RUNNING", False, REASON),
        ("TASK_RUNNING", True, REASON),
    ]
    framework.client.kill("slow", agent_id)
    assert framework.wait("slow", 5)[4] == ("TASK_KILLED", None, None)
