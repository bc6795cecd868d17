"""Test hosts for real: two systemd-nspawn nodes on bridge dcosbr0 (tools/testhosts.py).

The module boots cluster `tht-itest` at 198.18.0.201-.202 through the command line (other clusters
on the bridge are left alone), then, in file order: ssh from here to each node and node to node,
systemd `running`, each node's own hostname and machine-id, a writable cgroup subtree per node,
`up` again changes nothing, stop/start keeps the disk, a node whose nspawn was killed boots again
on `up`, cut/heal, `down` of a half-built node, and finally that `down` leaves no trace. Teardown
destroys the cluster whatever happened. About 15 s.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools import processes, testhosts

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="test hosts need root (mounts, namespaces)"),
    pytest.mark.skipif(
        shutil.which("systemd-nspawn") is None, reason="systemd-nspawn is not installed"
    ),
]

CLUSTER = "tht-itest"
NODES = {"n1": "198.18.0.201", "n2": "198.18.0.202"}
CONTROLLERS = " ".join(testhosts.CGROUP_CONTROLLERS)


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`python -m tools.testhosts ARGS...`, as Ansible and make call it."""
    argv = [sys.executable, "-m", "tools.testhosts", *args]
    done = subprocess.run(
        argv, cwd=processes.REPO_ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done


def ssh(node: str, command: str, check: bool = True) -> str:
    """Run `command` (a shell line) as root on `node`; its stdout, stripped."""
    argv = testhosts.ssh_argv(CLUSTER, NODES[node], command)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if check and done.returncode != 0:
        pytest.fail(f"ssh {node} {command!r} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip()


def status() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(cli("status", "--cluster", CLUSTER).stdout)
    return result


def tcp_open(address: str, port: int = 22, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def node_reaches(node: str, address: str) -> bool:
    """Whether `node` can open a TCP connection to `address`:22."""
    probe = f"timeout 3 bash -c '</dev/tcp/{address}/22' && echo open || echo closed"
    return ssh(node, probe) == "open"


def recorded_cgroups(node: str) -> list[Path]:
    record = testhosts.node_dir(CLUSTER, node) / "cgroups.json"
    return [Path(p) for p in json.loads(record.read_text())]


def up_argv() -> list[str]:
    return ["up", "--cluster", CLUSTER, *(f"{node}={ip}" for node, ip in NODES.items())]


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    cli("down", "--cluster", CLUSTER)  # what an interrupted earlier run left
    output: dict[str, Any] = json.loads(cli(*up_argv()).stdout)
    try:
        yield output
    finally:
        cli("down", "--cluster", CLUSTER, check=False)


def test_up_prints_the_nodes_and_the_key(cluster: dict[str, Any]) -> None:
    assert cluster["nodes"] == NODES
    assert cluster["key"] == str(testhosts.key_path(CLUSTER))
    assert Path(cluster["key"]).stat().st_mode & 0o077 == 0
    assert all(entry["running"] and entry["link_up"] for entry in status().values())


def test_ssh_from_here_and_between_nodes(cluster: dict[str, Any]) -> None:
    for node in NODES:
        assert ssh(node, "hostname") == node
        assert ssh(node, "systemctl is-system-running") == "running"
    assert ssh("n1", f"ssh {NODES['n2']} hostname") == "n2"
    assert ssh("n2", f"ssh {NODES['n1']} hostname") == "n1"


def test_each_node_has_its_own_identity(cluster: dict[str, Any]) -> None:
    ids = {node: ssh(node, "cat /etc/machine-id") for node in NODES}
    assert len(set(ids.values())) == len(NODES)
    assert Path("/etc/machine-id").read_text().strip() not in ids.values()
    keys = {node: ssh(node, "cat /etc/ssh/ssh_host_ed25519_key.pub") for node in NODES}
    assert len(set(keys.values())) == len(NODES)
    assert ssh("n1", "find /work /root/.pyenv -mindepth 1 | wc -l") == "0"  # hidden host dirs


def test_each_node_has_a_writable_cgroup_subtree(cluster: dict[str, Any]) -> None:
    for node in NODES:
        ssh(node, f"for c in {CONTROLLERS}; do mkdir /sys/fs/cgroup/$c/probe; done")
        ssh(node, "echo 100 > /sys/fs/cgroup/pids/probe/pids.max")
        for top in recorded_cgroups(node):
            hierarchy = top.relative_to(testhosts.CGROUP_ROOT).parts[0]
            if hierarchy in testhosts.CGROUP_CONTROLLERS:
                assert (top / "dcos-nodes" / node / "probe").is_dir(), top
        ssh(node, f"for c in {CONTROLLERS}; do rmdir /sys/fs/cgroup/$c/probe; done")


def test_up_again_changes_nothing(cluster: dict[str, Any]) -> None:
    before = status()
    assert json.loads(cli(*up_argv()).stdout) == cluster
    assert status() == before  # same nspawn pids: nothing was booted again


def test_stop_and_start_keep_the_disk(cluster: dict[str, Any]) -> None:
    ssh("n2", "echo kept > /root/marker")
    tops = recorded_cgroups("n2")
    cli("stop", "--cluster", CLUSTER, "n2")
    assert status()["n2"] == {"ip": NODES["n2"], "running": False, "pid": None, "link_up": True}
    assert not tcp_open(NODES["n2"])
    assert not any(top.exists() for top in tops)
    assert str(testhosts.node_dir(CLUSTER, "n2") / "root") not in testhosts.mountpoints()
    assert status()["n1"]["running"]

    cli("start", "--cluster", CLUSTER, "n2")
    assert status()["n2"]["running"]
    assert ssh("n2", "cat /root/marker") == "kept"
    assert ssh("n1", f"ssh {NODES['n2']} hostname") == "n2"


def test_up_boots_a_node_whose_nspawn_died(cluster: dict[str, Any]) -> None:
    pid = status()["n2"]["pid"]
    os.kill(pid, signal.SIGKILL)
    assert processes.wait_exit(pid, 10)
    assert not status()["n2"]["running"]
    cli(*up_argv())
    assert status()["n2"]["running"]
    assert ssh("n2", "cat /root/marker") == "kept"
    assert ssh("n2", "systemctl is-system-running") == "running"


def test_cut_and_heal(cluster: dict[str, Any]) -> None:
    cli("cut", "--cluster", CLUSTER, "n2")
    try:
        assert status()["n2"]["link_up"] is False
        assert not tcp_open(NODES["n2"])
        assert not node_reaches("n1", NODES["n2"])
        assert status()["n2"]["running"]
    finally:
        cli("heal", "--cluster", CLUSTER, "n2")
    assert status()["n2"]["link_up"] is True
    deadline = time.monotonic() + 10
    while not tcp_open(NODES["n2"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert node_reaches("n1", NODES["n2"])
    assert ssh("n2", "hostname") == "n2"


def test_down_tolerates_a_half_built_node(cluster: dict[str, Any]) -> None:
    half = testhosts.node_dir(CLUSTER, "half")
    (half / "upper").mkdir(parents=True)
    netns = testhosts.netns_name(CLUSTER, "half")
    subprocess.run(["ip", "netns", "add", netns], check=True)
    cli("down", "--cluster", CLUSTER, "half")
    assert not half.exists()
    assert not Path("/run/netns", netns).exists()
    assert set(status()) == set(NODES)
    assert all(entry["running"] for entry in status().values())


def test_down_leaves_no_trace(cluster: dict[str, Any]) -> None:
    pids = [entry["pid"] for entry in status().values()]
    cli("down", "--cluster", CLUSTER)
    cli("down", "--cluster", CLUSTER)  # idempotent

    assert not testhosts.cluster_dir(CLUSTER).exists()
    assert all(processes.wait_exit(pid, 10) for pid in pids)
    assert not [m for m in testhosts.mountpoints() if f"/{CLUSTER}/" in m]
    for node in NODES:
        assert not Path("/run/netns", testhosts.netns_name(CLUSTER, node)).exists()
        assert not Path("/sys/class/net", testhosts.veth_name(CLUSTER, node)).exists()
    cgroup_leftovers = [
        Path(dirpath)
        for dirpath, _, _ in os.walk(testhosts.CGROUP_ROOT)
        if f"dcos-testhost.{CLUSTER}." in dirpath
    ]
    assert cgroup_leftovers == []
    others = list(testhosts.BASE.iterdir()) if testhosts.BASE.is_dir() else []
    if not others:  # we were the last cluster on this machine
        assert not Path("/sys/class/net", testhosts.BRIDGE).exists()
        assert str(testhosts.BASE) not in testhosts.mountpoints()
        assert not testhosts.BASE.exists()
    assert cli("status", "--cluster", CLUSTER).stdout.strip() == "{}"
