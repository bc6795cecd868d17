"""The Minuteman daemon with a real master, two agents and Marathon on this machine: a Marathon
app's `VIP_0: "/web:80"` becomes a VIP whose connections reach both instances; a killed
instance's backend goes within a second of its status; the DNS proxy names the VIP with the
address programmed; drift is repaired by the reconcile; a restart keeps the rules and the
established connections (and rewrites nothing); malformed labels program nothing and are
counted. The VIP's address is the one every node computes (`named_ips`). Faults (issue 14):
test_minuteman_faults.py."""

from __future__ import annotations

import time
from typing import Any

import requests
from marathon_cluster import MarathonCluster
from minuteman_cluster import (
    WEB,
    KeepAlive,
    addresses,
    app,
    ask_vip,
    backends,
    ended_at,
    metric,
    vips,
    wait,
)

from tests.integration.dns_client import dig


def test_a_marathon_apps_vip_reaches_its_instances_and_follows_them(
    vip_cluster: Any, start_minuteman: Any, start_dns_proxy: Any
) -> None:
    cluster: MarathonCluster = vip_cluster()
    minuteman = start_minuteman(masters=["127.0.0.1"], master_port=cluster.master.port)
    name = "web.marathon.l4lb.thisdcos.directory:80"
    created = requests.post(f"{cluster.url}/v2/apps", json=app("/web", "/web:80"), timeout=10)
    assert created.status_code == 201, created.text
    running = cluster.wait_running("/web", 2, healthy=True)
    tasks = {t["id"]: t["ports"][0] for t in running["tasks"]}
    gone, kept = sorted(tasks)
    wait(lambda: len(backends(minuteman, name)) == 2, 5.0)
    # Each task's agent address (the agents are 127.0.0.1 and 127.0.0.2) and host port.
    at = addresses(running, cluster.master.url)
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
    ended = wait(lambda: ended_at(cluster, gone), 20.0)
    wait(lambda: backends(minuteman, name) == [at[kept]], 5.0)
    removed = time.time()
    assert removed - ended <= 1.0, f"backend removed {removed - ended:.2f} s after the status"
    assert set(ask_vip(10)) == {kept}

    # Drift (the backends emptied by hand) is repaired by the reconcile (every second here).
    repairs = metric(minuteman, "minuteman_drift_repairs")
    subprocess_nft("flush map ip dcos_l4lb backends")
    wait(lambda: metric(minuteman, "minuteman_drift_repairs") > repairs, 5.0, 0.1)
    assert set(ask_vip(5)) == {kept}

    # Restarted (SIGTERM by pid, then started again): the rules stay, so new connections reach
    # the VIP while it is down and a connection established before keeps working throughout
    # (same TCP connection); nothing is loaded again after.
    established = KeepAlive(str(WEB), 80)
    assert established.get() == kept
    minuteman.stop()
    assert set(ask_vip(5)) == {kept}
    assert established.get() == kept
    minuteman.start()
    assert established.get() == kept
    established.close()
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


def subprocess_nft(command: str) -> None:
    import subprocess

    subprocess.run(["nft", *command.split()], check=True)
