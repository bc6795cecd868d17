"""The cluster the end-to-end tests run on: configs, the `Cluster` handle and polling helpers.

Fixtures are in this folder's conftest.py; test modules import these names from here (a module
named `conftest` is ambiguous on sys.path, since every test folder has one).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tools import processes

JSON = dict[str, Any]

MASTER_CONFIG: JSON = {"allocation_interval": 0.2, "heartbeat_interval": 1.0}
AGENT_CONFIG: JSON = {
    "resources": "cpus:2;mem:2048;disk:4096;ports:[31000-31999]",
    "heartbeat_interval": 1.0,
    "registration_backoff_max": 1.0,
    "status_update_retry_initial": 0.5,
    "status_update_retry_max": 2.0,
    "executor_registration_timeout": 30.0,
    "executor_reregistration_timeout": 5.0,
    "executor_shutdown_grace_period": 2.0,
    "threads": 64,
}


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or predicate}")
        time.sleep(0.1)


def get_json(url: str, **params: Any) -> Any:
    response = requests.get(url, params=params, timeout=10)
    response.raise_for_status()
    return response.json()


@dataclass
class Cluster:
    """A master and its agents (`DaemonProcess` objects from the integration conftest)."""

    master: Any
    agents: list[Any] = field(default_factory=list)

    @property
    def master_address(self) -> str:
        """`127.0.0.1:PORT`, the form pymesos wants."""
        return f"127.0.0.1:{self.master.port}"

    def slaves(self) -> list[JSON]:
        slaves: list[JSON] = get_json(f"{self.master.url}/master/slaves")["slaves"]
        return slaves

    def state(self) -> JSON:
        state: JSON = get_json(f"{self.master.url}/master/state")
        return state

    def agent_id(self, agent: Any) -> str:
        """The id the master gave `agent` (matched by port)."""
        for slave in self.slaves():
            if slave["port"] == agent.port:
                return str(slave["id"])
        raise AssertionError(f"agent on port {agent.port} is not registered")

    def agent_ids(self) -> list[str]:
        return [self.agent_id(a) for a in self.agents]

    def wait_registered(self, count: int, timeout: float = 30.0) -> list[JSON]:
        def active() -> list[JSON]:
            slaves = [s for s in self.slaves() if s["active"]]
            return slaves if len(slaves) >= count else []

        slaves: list[JSON] = wait_for(active, timeout, f"{count} active agents")
        return slaves

    def agent_for(self, agent_id: str) -> Any:
        ports = {s["id"]: s["port"] for s in self.slaves()}
        return next(a for a in self.agents if a.port == ports[agent_id])


# --- processes of an agent's containers ----------------------------------------------------

CGROUPS = Path("/sys/fs/cgroup")
PIDS_HIERARCHY = CGROUPS / "pids"
V1_CONTROLLERS = ("cpu", "cpuacct", "memory", "pids", "freezer")


def container_pids(cgroups_root: str) -> dict[int, list[str]]:
    """pid -> argv of every process in the agent's containers (cgroups v1 `pids` hierarchy,
    `/sys/fs/cgroup/pids/<cgroups_root>/<container_id>/...`)."""
    top = PIDS_HIERARCHY / cgroups_root
    out: dict[int, list[str]] = {}
    for dirpath, _, filenames in os.walk(top):
        if "cgroup.procs" not in filenames:
            continue
        try:
            pids = [int(p) for p in (Path(dirpath) / "cgroup.procs").read_text().split()]
        except OSError:  # the container went away while we walked
            continue
        for pid in pids:
            argv = processes.cmdline(pid)
            if argv:
                out[pid] = argv
    return out


def pids_running(cgroups_root: str, *argv: str) -> list[int]:
    """Pids in the agent's containers whose command line is exactly `argv`."""
    return sorted(p for p, a in container_pids(cgroups_root).items() if a == list(argv))


def container_cgroups(cgroups_root: str) -> list[Path]:
    """The containers' cgroup directories (`<hierarchy>/<cgroups_root>/<container_id>`) that
    exist in any v1 hierarchy the agent uses."""
    out: list[Path] = []
    for controller in V1_CONTROLLERS:
        top = CGROUPS / controller / cgroups_root
        if top.is_dir():
            out.extend(p for p in top.iterdir() if p.is_dir())
    return sorted(out)
