"""What the Minuteman daemon's tests share: the web app behind `VIP_0: "/web:80"`, its VIP's
address, and readings of the VIP (the daemon's API, the kernel's table, the master's state).
Fixtures are in conftest.py; tests import these names from here."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time
from typing import Any

import requests
from marathon_cluster import MarathonCluster

from daemons.kit.l4lb.named_ips import allocate
from tests.integration.conftest import DaemonProcess
from tests.integration.vip_app import SERVER

WEB = allocate(["web.marathon"]).addresses["web.marathon"]
NAME = "web.marathon.l4lb.thisdcos.directory:80"
# Marathon's own probe (not a Mesos check: the backends' weight stays 1), so that "healthy"
# means the server listens.
MARATHON_CHECK = {
    "protocol": "HTTP",
    "path": "/",
    "portIndex": 0,
    "intervalSeconds": 1,
    "timeoutSeconds": 2,
    "gracePeriodSeconds": 30,
    "maxConsecutiveFailures": 3,
}


def app(app_id: str, vip: str, instances: int = 2, **extra: Any) -> dict[str, Any]:
    """An HTTP server answering its own task id, on one port labelled with `vip`."""
    return {
        "id": app_id,
        "cmd": f'exec python3 -c "{SERVER}"',
        "cpus": 0.1,
        "mem": 64,
        "instances": instances,
        "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": vip}}],
        "healthChecks": [MARATHON_CHECK],
        **extra,
    }


def vips(minuteman: DaemonProcess) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(f"{minuteman.url}/v1/vips", timeout=5).json()
    return found


def backends(minuteman: DaemonProcess, name: str = NAME) -> list[tuple[str, int]]:
    for vip in vips(minuteman):
        if vip["vip"] == name:
            return sorted((b["ip"], b["port"]) for b in vip["backend"])
    return []


def kernel_slots(address: Any = WEB, port: int = 80) -> list[tuple[str, int]]:
    """The kernel's truth: the backend of each slot of the VIP's TCP service in the `backends`
    map of `ip dcos_l4lb` (a backend of weight w has w slots, of weight 0 none), sorted."""
    listed = subprocess.run(
        ["nft", "-j", "list", "map", "ip", "dcos_l4lb", "backends"],
        capture_output=True,
        text=True,
        check=True,
    )
    slots = []
    for item in json.loads(listed.stdout)["nftables"]:
        for key, value in item.get("map", {}).get("elem", ()):
            vip_ip, protocol, vip_port, _slot = key["concat"]
            if (vip_ip, protocol, vip_port) == (str(address), "tcp", port):
                ip, backend_port = value["concat"]
                slots.append((str(ip), int(backend_port)))
    return sorted(slots)


def metric(minuteman: DaemonProcess, name: str) -> float:
    text = requests.get(f"{minuteman.url}/metrics", timeout=5).text
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not in /metrics"
    return float(found.group(1))


def ask(host: str, port: int, path: str = "/", timeout: float = 3.0) -> str:
    """One new connection to host:port, one GET; the answer's body."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def ask_vip(times: int) -> list[str]:
    """`times` new connections to the VIP; who answered each."""
    return [ask(str(WEB), 80) for _ in range(times)]


def wait(check: Any, timeout: float, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(step)


def addresses(app: dict[str, Any], master_url: str) -> dict[str, tuple[str, int]]:
    """Each task's backend: its agent's address (of the agent's pid) and its host port."""
    state = requests.get(f"{master_url}/master/state", timeout=5).json()
    agents = {a["id"]: a["pid"].partition("@")[2].rpartition(":")[0] for a in state["slaves"]}
    return {t["id"]: (agents[t["slaveId"]], t["ports"][0]) for t in app["tasks"]}


def ended_at(cluster: MarathonCluster, task_id: str) -> float | None:
    """When the master recorded `task_id`'s terminal status (its timestamp), once it has."""
    state = requests.get(f"{cluster.master.url}/master/state", timeout=5).json()
    for framework in state.get("frameworks", []):
        for task in framework.get("completed_tasks", []):
            if task["id"] == task_id and task.get("statuses"):
                return float(task["statuses"][-1]["timestamp"])
    return None


class KeepAlive:
    """One HTTP/1.1 connection kept open: `get()` asks on that same TCP connection (never a new
    one: it fails if the connection was lost)."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=3)
        self.connection.connect()
        self.sock = self.connection.sock

    def get(self, path: str = "/") -> str:
        assert self.connection.sock is self.sock, "the connection was opened again"
        self.connection.request("GET", path)
        return self.connection.getresponse().read().decode()

    def close(self) -> None:
        self.connection.close()
