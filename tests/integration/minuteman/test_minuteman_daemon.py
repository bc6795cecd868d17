"""The Minuteman daemon with a real master, two agents and Marathon on this machine: a Marathon
app's `VIP_0: "/web:80"` becomes a VIP whose connections reach both instances; a killed
instance's backend goes within a second of its status; the DNS proxy names the VIP with the
address programmed; drift is repaired by the reconcile;
a restart keeps the rules (and rewrites nothing); malformed labels program nothing and are
counted. The VIP's address is the one every node computes (`named_ips`)."""

from __future__ import annotations

import http.client
import re
import time
from typing import Any

import requests
from marathon_cluster import MarathonCluster

from daemons.kit.l4lb.named_ips import allocate
from tests.integration.conftest import DaemonProcess
from tests.integration.dns_client import dig

WEB = allocate(["web.marathon"]).addresses["web.marathon"]
# Answers its task's id (the sandbox is not the test's to write in).
SERVER = """import http.server as s, os
class H(s.BaseHTTPRequestHandler):
    def do_GET(self):
        b = os.environ['MESOS_TASK_ID'].encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s.ThreadingHTTPServer(('0.0.0.0', int(os.environ['PORT0'])), H).serve_forever()"""


def app(app_id: str, vip: str, instances: int = 2) -> dict[str, Any]:
    """An HTTP server answering its own task id, on one port labelled with `vip`."""
    return {
        "id": app_id,
        "cmd": f'exec python3 -c "{SERVER}"',
        "cpus": 0.1,
        "mem": 64,
        "instances": instances,
        "portDefinitions": [{"port": 0, "protocol": "tcp", "labels": {"VIP_0": vip}}],
        # Marathon's own probe (not a Mesos check: the backends' weight stays 1), so that
        # "healthy" means the server listens.
        "healthChecks": [
            {
                "protocol": "HTTP",
                "path": "/",
                "portIndex": 0,
                "intervalSeconds": 1,
                "timeoutSeconds": 2,
                "gracePeriodSeconds": 30,
                "maxConsecutiveFailures": 3,
            }
        ],
    }


def vips(minuteman: DaemonProcess) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(f"{minuteman.url}/v1/vips", timeout=5).json()
    return found


def backends(minuteman: DaemonProcess, name: str) -> list[tuple[str, int]]:
    for vip in vips(minuteman):
        if vip["vip"] == name:
            return sorted((b["ip"], b["port"]) for b in vip["backend"])
    return []


def metric(minuteman: DaemonProcess, name: str) -> float:
    text = requests.get(f"{minuteman.url}/metrics", timeout=5).text
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not in /metrics"
    return float(found.group(1))


def ask_vip(times: int) -> list[str]:
    """`times` new connections to the VIP; who answered each."""
    answers = []
    for _ in range(times):
        connection = http.client.HTTPConnection(str(WEB), 80, timeout=3)
        connection.request("GET", "/", headers={"Connection": "close"})
        answers.append(connection.getresponse().read().decode())
        connection.close()
    return answers


def wait(check: Any, timeout: float, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(step)


def test_a_marathon_apps_vip_reaches_its_instances_and_follows_them(
    vip_cluster: Any, start_minuteman: Any, start_dns_proxy: Any
) -> None:
    cluster: MarathonCluster = vip_cluster()
    minuteman = start_minuteman(masters=["127.0.0.1"], master_port=cluster.master.port)
    name = "web.marathon.l4lb.thisdcos.directory:80"
    created = requests.post(f"{cluster.url}/v2/apps", json=app("/web", "/web:80"), timeout=10)
    assert created.status_code == 201, created.text
    running = {**cluster.wait_running("/web", 2, healthy=True), "_master": cluster.master.url}
    tasks = {t["id"]: t["ports"][0] for t in running["tasks"]}
    gone, kept = sorted(tasks)
    wait(lambda: len(backends(minuteman, name)) == 2, 5.0)
    # Each task's agent address (the agents are 127.0.0.1 and 127.0.0.2) and host port.
    at = {task_id: (host, port) for task_id, (host, port) in _addresses(running).items()}
    assert backends(minuteman, name) == sorted(at.values())

    # Both instances answer through the VIP (a new connection each, chosen at random).
    answers = ask_vip(40)
    assert set(answers) == set(tasks), answers

    # The DNS proxy, following the same master, names the VIP with the address programmed.
    proxy = start_dns_proxy(cluster)
    port = int(proxy.config["listen"][0].rpartition(":")[2])
    for alias in ("l4lb.thisdcos.directory", "dclb.thisdcos.directory"):
        wait(lambda a=alias: dig(port, f"web.marathon.{a}", "A").answer, 5.0, 0.1)
        assert [r[-1] for r in dig(port, f"web.marathon.{alias}", "A").answer] == [str(WEB)]

    # One instance killed: its backend goes within a second of the status.
    killed = requests.delete(f"{cluster.url}/v2/apps/web/tasks/{gone}?scale=true", timeout=10)
    assert killed.status_code == 200, killed.text
    ended = wait(lambda: _ended_at(cluster, gone), 20.0)
    wait(lambda: backends(minuteman, name) == [at[kept]], 5.0)
    removed = time.time()
    assert removed - ended <= 1.0, f"backend removed {removed - ended:.2f} s after the status"
    assert set(ask_vip(10)) == {kept}

    # Drift (the backends emptied by hand) is repaired by the reconcile (every second here).
    repairs = metric(minuteman, "minuteman_drift_repairs")
    subprocess_nft("flush map ip dcos_l4lb backends")
    wait(lambda: metric(minuteman, "minuteman_drift_repairs") > repairs, 5.0, 0.1)
    assert set(ask_vip(5)) == {kept}

    # Restarted: the VIP answers while it is down, and nothing is loaded again after.
    minuteman.stop()
    assert set(ask_vip(5)) == {kept}
    minuteman.start()
    assert metric(minuteman, "minuteman_full_loads") == 0
    assert metric(minuteman, "minuteman_vips") == 1


def test_malformed_vip_labels_program_nothing_and_are_counted(
    vip_cluster: Any, start_minuteman: Any
) -> None:
    cluster: MarathonCluster = vip_cluster()
    minuteman = start_minuteman(masters=["127.0.0.1"], master_port=cluster.master.port)
    for app_id, vip in (("/bad-port", "/web:notaport"), ("/bad-ip", "1.2.3:80"),
                        ("/too-long", "/" + "a" * 300 + ":80")):  # fmt: skip
        created = requests.post(f"{cluster.url}/v2/apps", json=app(app_id, vip, 1), timeout=10)
        assert created.status_code == 201, created.text
    for app_id in ("/bad-port", "/bad-ip", "/too-long"):
        cluster.wait_running(app_id, 1)
    wait(lambda: metric(minuteman, "minuteman_vip_label_problems") == 3, 5.0, 0.1)
    assert vips(minuteman) == []
    assert metric(minuteman, "minuteman_vips") == 0
    assert requests.get(f"{minuteman.url}/health", timeout=5).status_code == 200


def _addresses(app: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """Each task's backend: its agent's address (of the agent's pid) and its host port."""
    state = requests.get(f"{app['_master']}/master/state", timeout=5).json()
    agents = {a["id"]: a["pid"].partition("@")[2].rpartition(":")[0] for a in state["slaves"]}
    return {t["id"]: (agents[t["slaveId"]], t["ports"][0]) for t in app["tasks"]}


def _ended_at(cluster: MarathonCluster, task_id: str) -> float | None:
    """When the master recorded `task_id`'s terminal status (its timestamp), once it has."""
    state = requests.get(f"{cluster.master.url}/master/state", timeout=5).json()
    for framework in state.get("frameworks", []):
        for task in framework.get("completed_tasks", []):
            if task["id"] == task_id and task.get("statuses"):
                return float(task["statuses"][-1]["timestamp"])
    return None


def subprocess_nft(command: str) -> None:
    import subprocess

    subprocess.run(["nft", *command.split()], check=True)
