"""What the Metronome tests run on: a real dcos-metronome process beside the e2e cluster (real
ZooKeeper, master and agents), plus helpers to read its state over plain HTTP.

Fixtures are in this folder's conftest.py; test modules import these names from here.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import requests

from tests.integration.conftest import HOST, DaemonProcess, Daemons, free_port
from tools import processes

JSON = dict[str, Any]

# Short intervals for a 2-core test box: a killed daemon's ZooKeeper session (and leadership)
# is gone after 4 s (ZooKeeper's minimum with its default tickTime).
METRONOME_CONFIG: JSON = {
    "zk_session_timeout": 4.0,
    "failover_timeout": 600.0,
    "reconciliation_interval": 30.0,
    "threads": 16,
}


class MetronomeProcess(DaemonProcess):
    """One dcos-metronome (the shared `DaemonProcess`: `.url`, `.pid`, `.kill()`, `.stop()`,
    `.log_tail()`), counted as started once it leads and has loaded its state
    (`GET /v1/jobs` answers 200), or, with `wait_leading=False`, once `/ping` answers."""

    def __init__(self, name: str, config: JSON, state_dir: Path) -> None:
        super().__init__(name, "daemons.metronome.main", config, state_dir)

    @property
    def address(self) -> str:
        return f"{self.config['ip']}:{self.config['port']}"

    def start(self, timeout: float = 40.0, wait_leading: bool = True) -> None:
        processes.write_toml(self.config_path, self.config)
        argv = processes.daemon_argv(self.module, self.config_path)
        self.pid = processes.spawn(argv, self.log_path)
        path = "/v1/jobs" if wait_leading else "/ping"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _status(self.url + path) == 200:
                return
            if processes.exited(self.pid):
                break
            time.sleep(0.1)
        self.stop()
        raise processes.StartFailed(f"dcos-metronome did not come up:\n{self.log_tail()}")


def start_metronome(daemons: Daemons, zk_url: str, name: str = "metronome-1") -> MetronomeProcess:
    """One dcos-metronome on the test's ZooKeeper (its own chroot) and master, returned once it
    leads; stopped by the `daemons` fixture at teardown."""
    state_dir = daemons.tmp_path / name
    state_dir.mkdir(parents=True)
    settings = {
        "zk": zk_url.replace("/mesos-", "/metronome-"),
        "master": zk_url,
        "ip": HOST,
        "port": free_port(),
        **METRONOME_CONFIG,
    }
    process = MetronomeProcess(name, settings, state_dir)
    daemons.started.append(process)
    process.start()
    return process


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as err:
        return err.code
    except (OSError, ValueError):
        return None


def get(url: str, **params: Any) -> Any:
    response = requests.get(url, params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def job_history(metronome: MetronomeProcess, job_id: str) -> JSON:
    history: JSON = get(f"{metronome.url}/v1/jobs/{job_id}", embed="history")["history"]
    return history


def master_tasks(master_url: str) -> dict[str, str]:
    """task id -> state of every task (running or completed) of every framework."""
    state = get(f"{master_url}/master/state")
    out: dict[str, str] = {}
    for framework in state["frameworks"] + state.get("completed_frameworks", []):
        for task in framework.get("tasks", []) + framework.get("completed_tasks", []):
            out[task["id"]] = task["state"]
    return out


def frameworks_named(master_url: str, name: str) -> list[JSON]:
    state = get(f"{master_url}/master/state")
    return [f for f in state["frameworks"] if f["name"] == name]
