"""Fixtures of the Minuteman daemon's tests: a Marathon cluster (tests/integration/marathon) and
`start_minuteman(**config)`, the daemon following its master.

The daemon programs this machine's own nftables (the table `ip dcos_l4lb`) and routes the VIP
range `local` on lo, as on a node: the tasks it sends connections to run here, on loopback.
The fixture refuses to start when the table is already there (something else is using it) and
removes both at the end."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).parents[1] / "marathon"))
from marathon_cluster import MarathonCluster, start_cluster

from tests.integration.conftest import HOST, DaemonProcess, free_port
from tests.integration.minuteman import minuteman_daemon
from tests.integration.minuteman.minuteman_daemon import POOL


@pytest.fixture
def vip_cluster(
    work_root: Path, daemons: Any, start_master: Any, start_agent: Any, zk_url: str
) -> Callable[..., MarathonCluster]:
    def start(**config: Any) -> MarathonCluster:
        return start_cluster(work_root, daemons, start_master, start_agent, zk_url, **config)

    return start


@pytest.fixture
def start_minuteman(daemons: Any) -> Iterator[Callable[..., DaemonProcess]]:
    minuteman_daemon.guard()

    started: list[DaemonProcess] = []

    def start(**config: Any) -> DaemonProcess:
        name = f"minuteman-{len(started) + 1}"
        process = minuteman_daemon.minuteman_process(daemons, name, **config)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:  # first, or its reconcile would load the table again
            process.stop()
        minuteman_daemon.clean()


@pytest.fixture
def start_dns_proxy(daemons: Any) -> Callable[[MarathonCluster], DaemonProcess]:
    """A dcos-dns-proxy on loopback following the cluster's master (the static master: no
    ZooKeeper needed); no Mesos-DNS (its `.mesos` names are not asked here)."""

    def start(cluster: MarathonCluster) -> DaemonProcess:
        settings = {
            "listen": [f"{HOST}:{free_port()}"],
            "ip": HOST,
            "port": free_port(),
            "masters": [HOST],
            "master_port": cluster.master.port,
            "mesos_dns_port": free_port(),
            "mesos_dns_http_port": free_port(),
            "l4lb_named_ip_range": POOL,
        }
        state_dir = daemons.tmp_path / "dns-proxy"
        state_dir.mkdir(parents=True)
        process = DaemonProcess("dns-proxy", "dnsproxy.main", settings, state_dir)
        daemons.started.append(process)
        process.start()
        return process

    return start
