"""The web UI's test cluster: a master, two agents and Marathon (tests/integration/marathon),
optionally dcos-metronome (tests/integration/metronome), the UI backend, and the real Admin
Router in front of them (tests/integration/adminrouter: nginx with the role's rendered config,
dcos-adminrouter-auth and dcos-iam over the test's ZooKeeper), serving the UI's own static
files at `/`. Everything on loopback, stopped by PID at teardown. Fixtures are in conftest.py;
tests import these names from here."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.integration.adminrouter.front_door import FrontDoor
from tests.integration.conftest import HOST, DaemonProcess, Daemons, free_port
from tools import processes

CHROMIUM = "/usr/bin/chromium"
LOGIN = "/acs/api/v1/auth/login"
AUTH_COOKIE = "dcos-acs-auth-cookie"
INFO_COOKIE = "dcos-acs-info-cookie"


@dataclass
class UiStack:
    cluster: Any  # marathon_cluster.MarathonCluster
    door: FrontDoor
    backend: DaemonProcess
    diagnostics: int | None = None  # its pid, when started
    minuteman: DaemonProcess | None = None  # when started

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.door.port}"

    def login_cookies(self, uid: str, password: str) -> list[dict[str, Any]]:
        """The cookies a login through the door sets, in Playwright's form."""
        response = requests.post(
            self.url + LOGIN, json={"uid": uid, "password": password}, timeout=30
        )
        response.raise_for_status()
        return [
            {"name": c.name, "value": c.value or "", "url": self.url}
            for c in response.cookies
            if c.name in (AUTH_COOKIE, INFO_COOKIE)
        ]

    def backend_status(self) -> dict[str, Any]:
        found: dict[str, Any] = requests.get(
            self.backend.url + "/ui/api/v1/status", timeout=10
        ).json()
        return found


def start_backend(daemons: Daemons, zk_url: str, **config: Any) -> DaemonProcess:
    settings = {"master": zk_url, "ip": HOST, "port": free_port(), "sample_interval": 1.0}
    backend = daemons.add("ui-backend", "daemons.ui.main", {**settings, **config})
    backend.start()
    return backend


def upstreams(
    cluster: Any, backend: DaemonProcess, metronome: Any = None, diagnostics_port: int = 0
) -> dict[str, str]:
    """Admin Router's upstreams: the real Marathon, backend and (when started) Metronome and
    dcos-diagnostics (without it, nothing listens there and its route answers 502); nothing
    listens where Minuteman would (`/net/v1/vips` answers 502: Minuteman programs the host's
    own nftables, which other suites on this machine use)."""
    found = {
        "marathon": f"{HOST}:{cluster.marathons[0].port}",
        "ui_backend": f"{HOST}:{backend.port}",
        "diagnostics": f"{HOST}:{diagnostics_port or free_port()}",
        "minuteman": f"{HOST}:{free_port()}",
    }
    if metronome is not None:
        found["metronome"] = metronome.address
    return found


# The stack's components as dcos-diagnostics names them. Without systemd units here it watches
# each process by its pid file, as under `make local` (docs/diagnostics.md); Exhibitor does not
# run in this stack, so its unit has no pid and is reported unhealthy.
ABSENT_UNIT = "dcos-exhibitor.service"


def stack_units(cluster: Any, door: FrontDoor, backend: DaemonProcess) -> dict[str, int | None]:
    units: dict[str, int | None] = {
        "dcos-mesos-master.service": cluster.master.pid,
        "dcos-marathon.service": cluster.marathons[0].pid,
        "dcos-iam.service": door.iam.pid,
        "dcos-adminrouter-auth.service": door.auth_daemon.pid,
        "dcos-adminrouter.service": door.nginx_pid,
        "dcos-ui-backend.service": backend.pid,
        ABSENT_UNIT: None,
    }
    for i, agent in enumerate(cluster.agents):
        units[f"dcos-mesos-agent-{i + 1}.service"] = agent.pid
    return units


def start_diagnostics(state_dir: Path, port: int, units: dict[str, int | None]) -> int:
    """dcos-diagnostics on `port` for this one node (the master role, not aggregating),
    watching `units` by pid file; its pid, once `/system/health/v1` answers."""
    state_dir.mkdir(parents=True)
    pid_files = {}
    for unit, pid in units.items():
        path = state_dir / f"{unit}.pid"
        if pid is not None:
            path.write_text(f"{pid}\n")
        pid_files[unit] = str(path)
    config = state_dir / "diagnostics.toml"
    settings = {"role": "master", "node_ip": HOST, "pid_files": pid_files, "check_interval": 0.0}
    processes.write_toml(config, {**settings, "ip": HOST, "port": port, "node_port": port})
    argv = [sys.executable, "-m", "daemons.diagnostics.main", "--config", str(config)]
    log = state_dir / "diagnostics.log"
    pid = processes.spawn(argv, log)
    if not processes.wait_healthy(f"http://{HOST}:{port}/system/health/v1", pid, 20):
        processes.stop_pid(pid)
        raise AssertionError(f"dcos-diagnostics did not start:\n{processes.log_tail(log)}")
    return pid
