"""What the Mesos-DNS tests run on: a real `dcos-mesos-dns` beside a real master and agent (and
ZooKeeper), asked with `dig` (Debian bind9-dnsutils) and over HTTP; a small framework of our
Mesos client that launches named tasks. Upstream resolvers are responders the tests start on
127.0.0.2/127.0.0.3. Nothing leaves loopback.

Fixtures are in this folder's conftest.py; test modules import these names from here.
"""

from __future__ import annotations

import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import dnslib
import requests

from daemons.mesos_client import (
    Backoff,
    Event,
    Offer,
    Offers,
    SchedulerClient,
    Update,
    command_task,
)
from tests.integration.conftest import HOST, DaemonProcess
from tools import processes

JSON = dict[str, Any]

DIG = shutil.which("dig")
# Short intervals for a 2-core box: the safety-net refresh is long on purpose, so that a test
# of freshness sees the events at work, not the refresh.
MESOS_DNS_CONFIG: JSON = {
    "refreshSeconds": 60,
    "ttl": 5,
    "timeout": 2,
    "zkDetectionTimeout": 30,
    "IPSources": ["host", "netinfo"],
}


class MesosDnsProcess(DaemonProcess):
    """One dcos-mesos-dns (`.dns_port`, `.http`), started once its API answers and it has
    loaded records (`/v1/hosts/leader.mesos` names the leader)."""

    def __init__(self, name: str, config: JSON, state_dir: Path) -> None:
        super().__init__(name, "daemons.mesos_dns.main", config, state_dir)

    @property
    def url(self) -> str:
        settings = self.config["mesos_dns"]
        return f"http://{settings['HTTPListener']}:{settings['httpport']}"

    @property
    def dns_port(self) -> int:
        return int(self.config["mesos_dns"]["port"])

    def start(self, timeout: float = 40.0, wait_loaded: bool = True) -> None:
        processes.write_toml(self.config_path, self.config)
        argv = processes.daemon_argv(self.module, self.config_path)
        self.pid = processes.spawn(argv, self.log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if processes.exited(self.pid):
                break
            try:
                hosts = requests.get(f"{self.url}/v1/hosts/leader.mesos", timeout=2).json()
            except (requests.RequestException, ValueError):
                hosts = None
            loaded = isinstance(hosts, list) and hosts[0]["ip"]
            if hosts is not None and (not wait_loaded or loaded):
                return
            time.sleep(0.1)
        self.stop()
        raise processes.StartFailed(f"dcos-mesos-dns did not come up:\n{self.log_tail()}")

    def http(self, path: str) -> Any:
        response = requests.get(self.url + path, timeout=10)
        response.raise_for_status()
        return response.json()

    def dig(self, name: str, qtype: str = "A", *options: str) -> str:
        return dig(self.dns_port, name, qtype, *options)

    def answers(self, name: str, qtype: str = "A") -> list[str]:
        """`dig +short`: the answers' data, one per line."""
        return self.dig(name, qtype, "+short").split()


def dig(port: int, name: str, qtype: str = "A", *options: str, server: str = HOST) -> str:
    assert DIG is not None, "dig is not installed (scripts/bootstrap.sh installs bind9-dnsutils)"
    argv = [DIG, f"@{server}", "-p", str(port), "+tries=1", "+time=2", *options, name, qtype]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    return done.stdout


def status_of(output: str) -> str:
    """The RCODE dig prints (`status: NXDOMAIN`)."""
    for line in output.splitlines():
        if "status:" in line:
            return line.split("status:")[1].split(",")[0].strip()
    return "NO REPLY"


class Framework:
    """A framework of our Mesos client that launches `sleep` tasks by name and records the
    moment it learns of each state (time.monotonic())."""

    def __init__(self, master: str, name: str = "dnstest", failover_timeout: float = 0.0) -> None:
        """`master`: `host:port`, or a `zk://` URL to follow the leader (with a failover
        timeout, the master keeps the tasks while the framework moves to a new leader)."""
        self.offers: queue.SimpleQueue[Offer] = queue.SimpleQueue()
        self.seen: dict[tuple[str, str], float] = {}  # (task id, state) -> when
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        info = {
            "user": "root",
            "name": name,
            "hostname": HOST,
            "failover_timeout": failover_timeout,
        }
        self.client = SchedulerClient(
            master, info, on_event=self._on_event, backoff=Backoff(initial=0.2, maximum=1.0)
        )

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Offers):
            for offer in event.offers:
                self.offers.put(offer)
        elif isinstance(event, Update):
            with self.changed:
                self.seen.setdefault((event.status.task_id, event.status.state), time.monotonic())
                self.changed.notify_all()

    def start(self) -> None:
        self.client.start()
        assert self.client.wait_subscribed(20), "the framework did not subscribe"

    def launch(self, name: str, port: int | None = None) -> str:
        """Launch `sleep` as task `name` (with one offered port when `port` is asked: the
        first of the offer's range); its task id."""
        offer = self.offers.get(timeout=20)
        ports = [_first_port(offer)] if port is not None else []
        task_id = f"{name}.{uuid.uuid4().hex[:8]}"
        task = command_task(name, task_id, offer.agent_id, 0.1, 32, "exec sleep 600", ports=ports)
        self.client.launch([offer.id], [task])
        return task_id

    def wait(self, task_id: str, state: str, timeout: float = 30.0) -> float:
        """When the framework learned that `task_id` reached `state`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while (task_id, state) not in self.seen:
                left = deadline - time.monotonic()
                assert left > 0, f"{task_id} did not reach {state}: {sorted(self.seen)}"
                self.changed.wait(left)
            return self.seen[(task_id, state)]

    def kill(self, task_id: str, agent_id: str | None = None) -> None:
        self.client.kill(task_id, agent_id)

    def close(self) -> None:
        self.client.close(teardown=True)


def _first_port(offer: Offer) -> int:
    for resource in offer.raw.get("resources", []):
        if resource.get("name") == "ports":
            return int(resource["ranges"]["range"][0]["begin"])
    raise AssertionError("the offer has no ports")


class Poller:
    """Asks `name` (A, UDP) every `interval` seconds from a thread of its own, and keeps each
    reply's RCODE and answers (None: no reply within a second)."""

    def __init__(self, port: int, name: str, interval: float = 0.05) -> None:
        self.port = port
        self.name = name
        self.interval = interval
        self.results: list[tuple[int | None, tuple[str, ...]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(1.0)
            while not self._stop.wait(self.interval):
                query = dnslib.DNSRecord.question(self.name, "A")
                sock.sendto(query.pack(), (HOST, self.port))
                try:
                    reply = dnslib.DNSRecord.parse(sock.recv(65535))
                except (TimeoutError, OSError):
                    self.results.append((None, ()))
                    continue
                answers = tuple(str(rr.rdata) for rr in reply.rr)
                self.results.append((reply.header.rcode, answers))


def wait_until(check: Any, timeout: float, step: float = 0.02) -> float:
    """Poll `check()` until true; the seconds it took (AssertionError after `timeout`)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"not true within {timeout}s: {check}"
        time.sleep(step)
    return time.monotonic() - start


def agent_registered(master_url: str) -> bool:
    """The master at `master_url` knows an agent and a running task (an agent registered with
    it again after a failover)."""
    try:
        state = requests.get(f"{master_url}/master/state", timeout=2).json()
    except (requests.RequestException, ValueError):
        return False
    tasks = [t for f in state.get("frameworks", []) for t in f.get("tasks", [])]
    return bool(state.get("slaves")) and any(t["state"] == "TASK_RUNNING" for t in tasks)


def fail_over_with_a_slow_agent(env: Any) -> None:
    """Issue 13's F24 failover: the agent is stopped (its task runs on), the leading master
    killed; once the second master leads (Mesos-DNS's `_leader._tcp`) and its state, which does
    not know the agent yet, was read, the agent goes on and registers with it again."""
    first, second = env.masters
    (agent,) = env.cluster.agents
    agent.kill(signal.SIGSTOP)
    first.kill(signal.SIGKILL)
    try:
        wait_until(
            lambda: env.dns.answers("_leader._tcp.mesos", "SRV")[2:3] == [str(second.port)],
            40.0,
            0.2,
        )
        time.sleep(2.0)
    finally:
        agent.kill(signal.SIGCONT)
    wait_until(lambda: agent_registered(second.url), 30.0, 0.2)
    time.sleep(2.0)
