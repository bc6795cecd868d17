"""The masters' aggregation across three dcos-diagnostics processes on loopback
(127.0.0.1-3, one port), each watching its components by pid file (no systemd here): the
first aggregates (`masters` = the three), polls every 0.5 s; it lists every node and unit, an
unhealthy unit on one node makes the unit unhealthy cluster-wide, and a node whose daemon is
stopped becomes unknown (3) with the units it had, its others untouched; it comes back healthy
once started again. Unknown units and nodes are 404 with a message."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tools import processes

pytestmark = pytest.mark.integration

IPS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


class Node:
    def __init__(self, tmp: Path, ip: str, port: int, aggregate: bool) -> None:
        self.ip, self.port = ip, port
        self.dir = tmp / ip
        self.dir.mkdir()
        self.config = self.dir / "diagnostics.toml"
        self.log = self.dir / "diagnostics.log"
        self.pid: int | None = None
        pid_files = {
            "dcos-shared.service": str(self.dir / "shared.pid"),
            f"dcos-only-{ip.rsplit('.', 1)[1]}.service": str(self.dir / "only.pid"),
        }
        settings: dict[str, Any] = {
            "role": "master",
            "node_ip": ip,
            "pid_files": pid_files,
            "check_interval": 0.0,
            "ip": ip,
            "port": port,
            "node_port": port,
        }
        if aggregate:
            settings |= {
                "aggregate": True,
                "masters": list(IPS),
                # No Mesos master here: agent discovery fails and the masters remain.
                "master_port": processes.free_port(),
                "poll_interval": 0.5,
                "poll_timeout": 0.5,
            }
        processes.write_toml(self.config, settings)

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}/system/health/v1"

    def start(self) -> None:
        argv = [sys.executable, "-m", "daemons.diagnostics.main", "--config", str(self.config)]
        self.pid = processes.spawn(argv, self.log)
        if not processes.wait_healthy(self.url, self.pid, 20):
            pytest.fail(f"{self.ip} did not start:\n{processes.log_tail(self.log)}")

    def stop(self) -> None:
        if self.pid is not None:
            processes.stop_pid(self.pid)
            self.pid = None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[list[Node], list[subprocess.Popen[bytes]]]]:
    port = processes.free_port()
    nodes = [Node(tmp_path, ip, port, aggregate=i == 0) for i, ip in enumerate(IPS)]
    # Live processes for the pid files: one per node and unit; node 2's "only" unit is dead.
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for node in nodes:
            for name in ("shared", "only"):
                worker = subprocess.Popen(["sleep", "300"])
                workers.append(worker)
                pid = worker.pid
                if node.ip == IPS[1] and name == "only":
                    worker.kill()
                    worker.wait()
                (node.dir / f"{name}.pid").write_text(f"{pid}\n")
        for node in nodes:
            node.start()
        yield nodes, workers
    finally:
        for node in nodes:
            node.stop()
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"not within {timeout} s: {last!r}")


def get(node: Node, path: str, status: int = 200) -> Any:
    answer = requests.get(node.url + path, timeout=5)
    assert answer.status_code == status, answer.text
    return answer.json()


def test_aggregation_with_a_node_stopped(cluster: tuple[list[Node], Any]) -> None:
    nodes, _ = cluster
    master = nodes[0]

    def all_answered() -> Any:
        body = get(master, "/nodes")
        return (
            body
            if len(body["nodes"]) == 3 and all(n["health"] != 3 for n in body["nodes"])
            else None
        )

    assert wait_for(all_answered) == {
        "nodes": [
            {"host_ip": "127.0.0.1", "health": 0, "role": "master"},
            {"host_ip": "127.0.0.2", "health": 1, "role": "master"},
            {"host_ip": "127.0.0.3", "health": 0, "role": "master"},
        ]
    }
    units = {u["id"]: u["health"] for u in get(master, "/units")["units"]}
    assert units == {
        "dcos-only-1.service": 0,
        "dcos-only-2.service": 1,
        "dcos-only-3.service": 0,
        "dcos-shared.service": 0,
    }
    assert get(master, "/units/dcos-shared.service/nodes") == {
        "nodes": [
            {"host_ip": "127.0.0.1", "health": 0, "role": "master"},
            {"host_ip": "127.0.0.2", "health": 0, "role": "master"},
            {"host_ip": "127.0.0.3", "health": 0, "role": "master"},
        ]
    }
    dead = get(master, "/units/dcos-only-2.service/nodes/127.0.0.2")
    assert dead["health"] == 1 and "is not running" in dead["output"]
    assert [u["id"] for u in get(master, "/nodes/127.0.0.3/units")["units"]] == [
        "dcos-only-3.service",
        "dcos-shared.service",
    ]
    report = get(master, "/report")
    assert report["Units"]["dcos-only-2.service"]["Health"] == 1 and report["UpdatedTime"]

    # Node 3's daemon stops: unknown, with the units it had; the others unchanged.
    nodes[2].stop()

    def node3_unknown() -> Any:
        body = get(master, "/nodes/127.0.0.3")
        return body if body["health"] == 3 else None

    assert wait_for(node3_unknown) == {"host_ip": "127.0.0.3", "health": 3, "role": "master"}
    unit3 = get(master, "/nodes/127.0.0.3/units/dcos-only-3.service")
    assert unit3["health"] == 3 and "did not answer" in unit3["output"]
    units = {u["id"]: u["health"] for u in get(master, "/units")["units"]}
    # Unknown on one node, healthy elsewhere: unknown; unhealthy anywhere stays unhealthy.
    assert units == {
        "dcos-only-1.service": 0,
        "dcos-only-2.service": 1,
        "dcos-only-3.service": 3,
        "dcos-shared.service": 3,
    }
    assert get(master, "/nodes/127.0.0.1")["health"] == 0

    # Back: healthy again at the next poll.
    nodes[2].start()
    wait_for(lambda: get(master, "/nodes/127.0.0.3")["health"] == 0)


def test_bad_input_is_404_with_a_message(cluster: tuple[list[Node], Any]) -> None:
    nodes, _ = cluster
    master = nodes[0]
    wait_for(lambda: len(get(master, "/nodes")["nodes"]) == 3)
    for path, message in (
        ("/units/dcos-none.service", "Unit dcos-none.service not found"),
        ("/units/dcos-none.service/nodes", "Unit dcos-none.service not found"),
        ("/nodes/10.9.9.9", "Node 10.9.9.9 not found"),
        ("/nodes/10.9.9.9/units", "Node 10.9.9.9 not found"),
        ("/nodes/127.0.0.2/units/dcos-only-1.service", "Unit dcos-only-1.service not found"),
        ("/units/dcos-shared.service/nodes/10.9.9.9", "Node 10.9.9.9 not found"),
    ):
        assert get(master, path, 404) == {"message": message}
    assert get(master, "/nothing", 404)["message"]
    # A node that does not aggregate answers the cluster views for itself alone.
    assert get(nodes[1], "/nodes") == {
        "nodes": [{"host_ip": "127.0.0.2", "health": 1, "role": "master"}]
    }
    # A write is refused, the daemon unchanged.
    refused = requests.post(master.url, data=b"x" * 100, timeout=5)
    assert refused.status_code == 405
    assert get(master, "")["ip"] == "127.0.0.1"
