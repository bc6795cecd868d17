"""Real processes on loopback: ZooKeeper (session-wide) and factories for masters and agents.

    def test_offers(start_master, start_agent):
        master = start_master(allocation_interval=0.2)
        agent = start_agent(resources="cpus:2;mem:1024")
        requests.get(f"{master.url}/master/slaves")

Each test gets its own ZooKeeper chroot (`zk_url`), so masters and agents of different tests never
see each other. Daemons write a TOML config and a log under the test's tmp dir, count as started
once `GET /health` answers 200, and are stopped by PID at teardown (SIGTERM, SIGKILL after 10 s),
agents' leftover containers included. When a test fails, the tails of their logs are printed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tools import processes

HOST = "127.0.0.1"
DEFAULT_AGENT_RESOURCES = "cpus:4;mem:4096;disk:10000;ports:[31000-32000]"
# Agents' containers go under cgroups named from this (unique to this pytest run and agent),
# removed at teardown.
TEST_CGROUPS = f"pydcos-test-{os.getpid()}"


def free_port() -> int:
    return processes.free_port(HOST)


class ZooKeeperServer:
    """A standalone ZooKeeper on 127.0.0.1: `.hosts`, `.url(path)`, and faults for tests."""

    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = state_dir
        self.port = port
        self.pid: int | None = None

    @property
    def hosts(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "zookeeper.log"

    def url(self, path: str = "/") -> str:
        return f"zk://{self.hosts}/{path.lstrip('/')}"

    def is_ok(self) -> bool:
        from tools import zookeeper

        return zookeeper.is_ok(HOST, self.port)

    def start(self) -> None:
        self.pid = processes.start_zookeeper(self.state_dir, self.port, self.log_path)

    def stop(self, grace: float = 10.0) -> None:
        if self.pid is not None:
            processes.stop_pid(self.pid, grace)
            self.pid = None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig`; for SIGKILL/SIGTERM wait until the server is gone."""
        if self.pid is None:
            return
        processes.signal_pid(self.pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            processes.wait_exit(self.pid, 15.0)
            self.pid = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def ensure_running(self) -> None:
        if self.pid is None or processes.exited(self.pid) or not self.is_ok():
            self.stop()
            self.start()

    @contextlib.contextmanager
    def stopped(self, sig: int = signal.SIGKILL) -> Iterator[None]:
        """ZooKeeper is down inside the block and always back up after it (same data)."""
        self.kill(sig)
        try:
            yield
        finally:
            self.ensure_running()


@pytest.fixture(scope="session")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooKeeperServer]:
    server = ZooKeeperServer(tmp_path_factory.mktemp("zookeeper"), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def zk_url(zookeeper: ZooKeeperServer) -> str:
    """A fresh `zk://127.0.0.1:PORT/mesos-XXXXXXXX` for this test; ZooKeeper is up."""
    zookeeper.ensure_running()
    return zookeeper.url(f"/mesos-{uuid.uuid4().hex[:8]}")


class DaemonProcess:
    """One master or agent: `.pid`, `.url`, `.log_path`, `.kill(sig)`, `.stop()`, `.restart()`."""

    def __init__(self, name: str, module: str, config: dict[str, Any], state_dir: Path) -> None:
        self.name = name
        self.module = module
        self.config = config
        self.state_dir = state_dir
        self.pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config['ip']}:{self.config['port']}"

    @property
    def port(self) -> int:
        return int(self.config["port"])

    @property
    def config_path(self) -> Path:
        return self.state_dir / f"{self.name}.toml"

    @property
    def log_path(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    def start(self, timeout: float = 30.0) -> None:
        self.pid = processes.start_daemon(
            self.module, self.config, self.config_path, self.log_path, health_timeout=timeout
        )

    def stop(self, grace: float = 10.0) -> None:
        if self.pid is not None:
            processes.stop_pid(self.pid, grace)
            self.pid = None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the daemon (its gunicorn workers too, not its executors or tasks);
        for SIGKILL/SIGTERM wait until it has exited."""
        if self.pid is None:
            return
        processes.kill_family(self.pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self.pid = None

    def restart(self, timeout: float = 30.0) -> None:
        """Stop (if running) and start again with the same config, work dir and port."""
        self.stop()
        self.start(timeout)

    def running(self) -> bool:
        return self.pid is not None and not processes.exited(self.pid)

    def log_tail(self, lines: int = 60) -> str:
        return processes.log_tail(self.log_path, lines)


class Daemons:
    """The daemons a test started, in start order; stopped in reverse order at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[DaemonProcess] = []
        self._ids = itertools.count(1)

    def start(self, kind: str, config: dict[str, Any]) -> DaemonProcess:
        daemon = self.add(kind, f"daemons.{kind}.main", config)
        config.setdefault("work_dir", str(daemon.state_dir / "work"))
        daemon.start()
        return daemon

    def add(self, kind: str, module: str, config: dict[str, Any]) -> DaemonProcess:
        """A daemon of `module` with its own state dir, stopped at teardown; not started yet
        (for a daemon whose config has no `work_dir`, or to start several at once)."""
        name = f"{kind}-{next(self._ids)}"
        state_dir = self.tmp_path / name
        state_dir.mkdir(parents=True)
        daemon = DaemonProcess(name, module, config, state_dir)
        self.started.append(daemon)
        return daemon

    def stop_all(self) -> None:
        for daemon in reversed(self.started):
            daemon.stop()
            if daemon.config.get("cgroups_root"):
                processes.kill_cgroups(daemon.config["cgroups_root"])


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


@pytest.fixture
def daemons(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Daemons]:
    started = Daemons(tmp_path)
    try:
        yield started
    finally:
        if _failed(request):
            for daemon in started.started:
                print(f"\n--- {daemon.name} log ({daemon.log_path}), last lines:")
                print(daemon.log_tail())
        started.stop_all()


MasterFactory = Callable[..., DaemonProcess]
AgentFactory = Callable[..., DaemonProcess]


@pytest.fixture
def start_master(daemons: Daemons, zk_url: str) -> MasterFactory:
    """`start_master(**config)`: zk, ip, port, hostname, work_dir default; others pass through."""

    def start(**config: Any) -> DaemonProcess:
        config = {"zk": zk_url, "ip": HOST, "hostname": HOST, **config}
        config.setdefault("port", free_port())
        return daemons.start("master", config)

    return start


@pytest.fixture
def start_agent(daemons: Daemons, zk_url: str) -> AgentFactory:
    """`start_agent(**config)`: master (ZK URL), ip, port, hostname, work_dir, resources and
    cgroups_root default (set a key to None to leave it out); other keys pass through."""

    def start(**config: Any) -> DaemonProcess:
        defaults: dict[str, Any] = {
            "master": zk_url,
            "ip": HOST,
            "hostname": HOST,
            "resources": DEFAULT_AGENT_RESOURCES,
            "cgroups_root": f"{TEST_CGROUPS}-{uuid.uuid4().hex[:8]}",
        }
        config = {k: v for k, v in {**defaults, **config}.items() if v is not None}
        config.setdefault("port", free_port())
        return daemons.start("agent", config)

    return start


@pytest.fixture
def work_root() -> Iterator[Path]:
    """A 0755 dir under /var/tmp for agents' work dirs (executors run as an unprivileged user
    and pytest's tmp_path is 0700); removed after the daemons stopped, since tests ask for it
    before `daemons`."""
    path = Path(tempfile.mkdtemp(prefix="pydcos-work-", dir="/var/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    """`free_port()`: a TCP port free on 127.0.0.1 right now."""
    return free_port
