"""Fixtures of the Mesos-DNS tests: `mesos_dns_cluster(masters=1, **mesos_dns_config)` starts
ZooKeeper's chroot, the masters and one agent (the integration conftest's factories) and a
dcos-mesos-dns following them through ZooKeeper; `env.framework()` adds a framework;
`start_dns_proxy(env, **config)` a dcos-dns-proxy beside them (the leader from ZooKeeper,
`.mesos` forwarded to that Mesos-DNS)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).parent))
from e2e_cluster import AGENT_CONFIG, MASTER_CONFIG, Cluster
from mesos_dns_cluster import MESOS_DNS_CONFIG, Framework, MesosDnsProcess

from tests.integration.conftest import HOST, DaemonProcess, free_port

pytestmark = pytest.mark.integration


@dataclass
class MesosDnsEnv:
    cluster: Cluster
    masters: list[Any]
    start_mesos_dns: Callable[..., MesosDnsProcess]
    zk_url: str
    frameworks: list[Framework] = field(default_factory=list)
    mesos_dns: MesosDnsProcess | None = None

    @property
    def dns(self) -> MesosDnsProcess:
        assert self.mesos_dns is not None
        return self.mesos_dns

    def framework(self, name: str = "dnstest", master: str = "", **options: Any) -> Framework:
        """A framework on the first master (or `master`: a `zk://` URL follows the leader)."""
        framework = Framework(master or f"{HOST}:{self.cluster.master.port}", name, **options)
        self.frameworks.append(framework)
        framework.start()
        return framework


@pytest.fixture
def mesos_dns_cluster(
    work_root: Path, start_master: Any, start_agent: Any, daemons: Any, zk_url: str
) -> Iterator[Callable[..., MesosDnsEnv]]:
    names = itertools.count(1)
    envs: list[MesosDnsEnv] = []

    def start_mesos_dns(wait_loaded: bool = True, **config: Any) -> MesosDnsProcess:
        name = f"mesos-dns-{next(names)}"
        state_dir = daemons.tmp_path / name
        state_dir.mkdir(parents=True)
        settings = {
            "zk": zk_url,
            "listener": HOST,
            "port": free_port(),
            "HTTPListener": HOST,
            "httpport": free_port(),
            "resolvers": [],
            **MESOS_DNS_CONFIG,
            **config,
        }
        process = MesosDnsProcess(name, {"mesos_dns": settings, "threads": 4}, state_dir)
        daemons.started.append(process)  # stopped by PID, its log shown on failure
        process.start(wait_loaded=wait_loaded)
        return process

    def start(masters: int = 1, agents: int = 1, **config: Any) -> MesosDnsEnv:
        started = [start_master(**MASTER_CONFIG) for _ in range(masters)]
        cluster = Cluster(started[0])
        for i in range(agents):
            work_dir = work_root / f"agent-{i + 1}"
            work_dir.mkdir(mode=0o755)
            work_dir.chmod(0o755)
            cluster.agents.append(start_agent(**{**AGENT_CONFIG, "work_dir": str(work_dir)}))
        cluster.wait_registered(agents)
        env = MesosDnsEnv(cluster, started, start_mesos_dns, zk_url)
        envs.append(env)
        env.mesos_dns = start_mesos_dns(**config)
        return env

    try:
        yield start
    finally:
        for env in envs:
            for framework in env.frameworks:
                framework.close()


@pytest.fixture
def start_dns_proxy(daemons: Any) -> Callable[..., DaemonProcess]:
    """`start_dns_proxy(env, **config)`: a dcos-dns-proxy on HOST (`.config["listen"]`'s port)
    following `env`'s masters through ZooKeeper (`zk=""` and `master_port`: the static
    masters), started once its DNS answers (`/health`)."""
    names = itertools.count(1)

    def start(env: MesosDnsEnv, **config: Any) -> DaemonProcess:
        name = f"dns-proxy-{next(names)}"
        state_dir = daemons.tmp_path / name
        state_dir.mkdir(parents=True)
        settings = {
            "listen": [f"{HOST}:{free_port()}"],
            "ip": HOST,
            "port": free_port(),
            "masters": [HOST],
            "zk": env.zk_url,
            "master_port": env.cluster.master.port,
            "mesos_dns_port": env.dns.dns_port,
            "mesos_dns_http_port": int(env.dns.config["mesos_dns"]["httpport"]),
            "upstream_timeout": 1.0,
            "timeout": 2.0,
            **config,
        }
        process = DaemonProcess(name, "dnsproxy.main", settings, state_dir)
        daemons.started.append(process)  # stopped by PID, its log shown on failure
        process.start()
        return process

    return start
