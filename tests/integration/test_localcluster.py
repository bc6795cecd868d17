"""`make local` / `make local-stop` start and stop a whole cluster and leave nothing behind.

Each test runs the cluster from its own state folder on free ports (`LOCAL_ARGS`), so it never
touches a developer's `.local/` cluster on the default ports.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.dns_client import dig
from tools import localcluster, processes

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_base_port() -> int:
    """A base port such that the master, agents, DNS proxy, Marathon and Metronome ports are free.

    The DNS proxy, Marathon and Metronome sit at base+3003/3004, base+3030 and base+3950; all
    stay below the agents' task ports (31000-33000).
    """
    offsets = (
        0,
        1,
        2,
        *(localcluster.FRAMEWORK_PORTS[name] - 5050 for name in ("marathon", "metronome")),
        *(port - 5050 for port in localcluster.DNS_PROXY_PORTS.values()),
        localcluster.MESOS_DNS_HTTP_PORT - 5050,  # and its DNS port, the one after
        localcluster.MESOS_DNS_HTTP_PORT - 5050 + 1,
        *(port - 5050 for port in localcluster.FRONT_DOOR_PORTS.values()),
        localcluster.DIAGNOSTICS_PORT - 5050,
    )
    for _ in range(200):
        base = random.randrange(20000, 27000)
        socks = []
        try:
            for port in (base + offset for offset in offsets):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free base port")


@dataclass
class LocalRun:
    state_dir: Path
    base_port: int
    zk_port: int

    @property
    def args(self) -> str:
        return f"--state-dir {self.state_dir} --base-port {self.base_port} --zk-port {self.zk_port}"

    @property
    def cluster(self) -> localcluster.Cluster:
        return localcluster.Cluster(self.state_dir, self.base_port, self.zk_port)

    def make(self, target: str, timeout: float = 240.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", target, f"LOCAL_ARGS={self.args}"],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def recorded_pids(self) -> dict[str, int]:
        out = {}
        for name in self.cluster.components:
            path = self.cluster.pid_file(name)
            if path.exists():
                out[name] = int(path.read_text())
        return out

    def assert_nothing_left(self) -> None:
        cluster = self.cluster
        for name in cluster.components:
            assert localcluster.running_pid(cluster, name) is None, f"{name} still runs"
            assert not processes.port_in_use("127.0.0.1", cluster.port(name)), name
        assert localcluster.strays(cluster) == []
        for agent in localcluster.AGENTS:
            assert processes.cgroups_named(cluster.cgroups_root(agent)) == []


@pytest.fixture
def local_run(tmp_path: Path) -> Iterator[LocalRun]:
    run = LocalRun(tmp_path / "local", _free_base_port(), processes.free_port())
    try:
        yield run
    finally:
        localcluster.main(["down", "--state-dir", str(run.state_dir)])


def _active_agents(master_url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{master_url}/master/slaves", timeout=5) as resp:
        body = json.load(resp)
    return [a for a in body["slaves"] if a.get("active")]


def _get(url: str) -> tuple[int, object]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, json.load(resp)


def _nft_tables() -> str:
    return subprocess.run(
        ["nft", "list", "tables"], capture_output=True, text=True, check=True
    ).stdout


def _run_framework(*args: str) -> str:
    """Run a framework program to completion; its stdout (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_local_up_twice_then_stop_leaves_nothing(local_run: LocalRun) -> None:
    started = local_run.make("local")
    assert started.returncode == 0, started.stdout + started.stderr
    master_url = f"http://127.0.0.1:{local_run.base_port}"
    assert master_url in started.stdout
    assert len(_active_agents(master_url)) == 2
    pids = local_run.recorded_pids()
    assert set(pids) == {
        "zookeeper", "master", "dns-proxy", "minuteman", "agent-1", "agent-2", "mesos-dns",
        "marathon", "metronome", "iam", "adminrouter-auth", "ui-backend", "adminrouter",
        "diagnostics",
    }  # fmt: skip

    # Diagnostics reports every component healthy by its pid file.
    health_url = local_run.cluster.url("diagnostics") + "/system/health/v1"
    assert health_url in started.stdout
    # Its own pid file is written once it answers: the next reading (each second) has it.
    deadline = time.monotonic() + 10
    while True:
        _, health = _get(health_url)
        units = {u["id"]: u["health"] for u in health["units"]}  # type: ignore[index]
        if all(h == 0 for h in units.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert units == {
        "dcos-zookeeper.service": 0, "dcos-mesos-master.service": 0, "dcos-dns-proxy.service": 0,
        "dcos-minuteman.service": 0, "dcos-mesos-agent-1.service": 0,
        "dcos-mesos-agent-2.service": 0, "dcos-mesos-dns.service": 0, "dcos-marathon.service": 0,
        "dcos-metronome.service": 0, "dcos-iam.service": 0, "dcos-diagnostics.service": 0,
        "dcos-adminrouter-auth.service": 0, "dcos-ui-backend.service": 0,
        "dcos-adminrouter.service": 0,
    }  # fmt: skip

    # Marathon and Metronome lead (one instance each), registered with the master.
    marathon = local_run.cluster.url("marathon")
    metronome = local_run.cluster.url("metronome")
    assert marathon in started.stdout and metronome in started.stdout
    status_code, info = _get(f"{marathon}/v2/info")
    assert status_code == 200 and isinstance(info, dict)
    assert info["elected"] is True, info
    assert info["leader"] == marathon.removeprefix("http://"), info
    status_code, jobs = _get(f"{metronome}/v1/jobs")
    assert status_code == 200 and jobs == [], jobs
    _, leader = _get(f"{metronome}/leader")
    assert leader == {"leader": metronome.removeprefix("http://")}
    _, state = _get(f"{master_url}/master/state")
    assert isinstance(state, dict)
    assert {"marathon", "metronome"} <= {f["name"] for f in state["frameworks"]}

    # Mesos-DNS answers the dig the README shows (on this cluster's DNS port), the
    # frameworks' names included.
    mesos_dns = local_run.cluster.mesos_dns_ports[0]
    assert f"dig @127.0.0.1 -p {mesos_dns} leader.mesos" in started.stdout
    for name in ("leader.mesos", "marathon.mesos", "metronome.mesos"):
        assert [rr[4] for rr in dig(mesos_dns, name).answer] == ["127.0.0.1"], name

    again = local_run.make("local")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("already running") == len(local_run.cluster.components)
    assert local_run.recorded_pids() == pids

    status = local_run.make("local-status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"marathon {marathon}: leader " in status.stdout

    # The DNS proxy answers the README's dig: its local zones, and the master's leader from
    # the master's state (read every second).
    dns_port = local_run.cluster.dns_proxy_port
    assert f"dig @127.0.0.1 -p {dns_port} leader.dcos.thisdcos.directory" in started.stdout
    assert dig(dns_port, "ready.spartan").answer == [
        ["ready.spartan.", "5", "IN", "A", "127.0.0.1"]]  # fmt: skip
    leader = dig(dns_port, "leader.dcos.thisdcos.directory")
    assert leader.answer == [["leader.dcos.thisdcos.directory.", "5", "IN", "A", "127.0.0.1"]]
    # .mesos through the proxy: answered by Mesos-DNS.
    assert [rr[4] for rr in dig(dns_port, "leader.mesos").answer] == ["127.0.0.1"]

    # Frameworks run tasks on it: the example one (our client), pymesos and mesoshttp.
    address = master_url.removeprefix("http://")
    example = _run_framework(
        "examples/sleep_framework.py", "--master", address, "--tasks", "2", "--sleep", "0.2"
    )
    assert example.count("state=TASK_FINISHED") == 2, example
    assert "TASK_FINISHED" in _run_framework("-m", "tests.integration.e2e.pymesos_once", address)
    mesoshttp = _run_framework("-m", "tests.integration.e2e.mesoshttp_once", master_url)
    assert "TASK_FINISHED" in mesoshttp

    # Minuteman follows the master with its table in this machine's nftables: the README's
    # VIP, a Marathon app's port labelled VIP_0 "/web:80", named by the proxy and answering.
    minuteman = local_run.cluster.url("minuteman")
    assert f"{minuteman}/v1/vips" in started.stdout
    assert _get(f"{minuteman}/v1/vips") == (200, [])
    assert "table ip dcos_l4lb" in _nft_tables()
    app = {
        "id": "/web",
        "cmd": "python3 -m http.server $PORT0 --bind 0.0.0.0",
        "cpus": 0.1,
        "mem": 48,
        "portDefinitions": [{"port": 0, "labels": {"VIP_0": "/web:80"}}],
    }
    request = urllib.request.Request(
        f"{marathon}/v2/apps", json.dumps(app).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as created:
        assert created.status == 201
    deadline = time.monotonic() + 60
    while not (vip := dig(dns_port, "web.marathon.l4lb.thisdcos.directory").answer):
        assert time.monotonic() < deadline, "the proxy never named the VIP"
        time.sleep(0.2)
    address = vip[0][4]
    assert address.startswith("198.19."), vip
    while True:  # the server listens a moment after its task runs
        try:
            with urllib.request.urlopen(f"http://{address}/", timeout=5) as page:
                assert page.headers["Server"].startswith("SimpleHTTP")
                break
        except urllib.error.HTTPError as answer:  # the server answered (its cwd, a sandbox)
            assert answer.headers["Server"].startswith("SimpleHTTP")
            break
        except OSError:
            assert time.monotonic() < deadline, f"nothing answered through the VIP {address}"
            time.sleep(0.5)

    # The front door: login through Admin Router, then the master's state with the token (the
    # curl the README shows), and nothing without one.
    door = local_run.cluster.url("adminrouter")
    assert f"Admin Router: {door}/" in started.stdout
    login = urllib.request.Request(
        f"{door}/acs/api/v1/auth/login",
        json.dumps({"uid": "bootstrapuser", "password": "deleteme"}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=30) as answer:
        token = json.load(answer)["token"]
    state = urllib.request.Request(
        f"{door}/mesos/master/state", headers={"Authorization": f"token={token}"}
    )
    with urllib.request.urlopen(state, timeout=10) as answer:
        assert len(json.load(answer)["slaves"]) == 2
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{door}/mesos/master/state", timeout=10)
    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"] == "acsjwt"
    # Component health through the door, from this cluster's diagnostics (its port moves
    # with the base port, as the route's upstream does).
    health = urllib.request.Request(
        f"{door}/system/health/v1/units", headers={"Authorization": f"token={token}"}
    )
    with urllib.request.urlopen(health, timeout=10) as answer:
        assert "dcos-mesos-master.service" in {u["id"] for u in json.load(answer)["units"]}
    # The web UI's page, and its backend's summary of this cluster through the door.
    with urllib.request.urlopen(f"{door}/", timeout=10) as answer:
        assert b'src="js/main.js"' in answer.read()
    summary = urllib.request.Request(
        f"{door}/ui/api/v1/summary", headers={"Authorization": f"token={token}"}
    )
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(summary, timeout=10) as answer:
            found = json.load(answer)["summary"]
        if found and found["dashboard"]["nodes"]["total"] == 2:
            break
        assert time.monotonic() < deadline, found
        time.sleep(0.5)

    stopped = local_run.make("local-stop", timeout=120)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    local_run.assert_nothing_left()
    assert local_run.recorded_pids() == {}
    # A node keeps the table through restarts; a stopped local cluster leaves neither it nor
    # the route of the VIP range.
    assert "dcos_l4lb" not in _nft_tables()
    routes = subprocess.run(
        ["ip", "route", "show", "table", "local"], capture_output=True, text=True, check=True
    )
    assert "198.19.0.0/16" not in routes.stdout


def test_local_stop_cleans_up_after_a_failed_start(local_run: LocalRun) -> None:
    # The master's port is taken, so `up` starts ZooKeeper and then fails with a clear message.
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", local_run.base_port))
        blocker.listen()
        failed = local_run.make("local")
    assert failed.returncode != 0
    assert f"port 127.0.0.1:{local_run.base_port} is already in use" in failed.stderr
    assert "zookeeper" in local_run.recorded_pids()

    stopped = local_run.make("local-stop", timeout=120)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    local_run.assert_nothing_left()


def test_local_stop_with_nothing_running_is_a_no_op(local_run: LocalRun) -> None:
    stopped = local_run.make("local-stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    status = local_run.make("local-status")
    assert status.returncode != 0  # make reports the 3 ("not running") as a failure
    assert "stopped" in status.stdout
