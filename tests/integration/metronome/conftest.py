"""Fixtures: a PyDCOS cluster (ZooKeeper, master, agents) with a real dcos-metronome on it.

    def test_x(metronome_cluster):
        env = metronome_cluster()              # master + 1 agent + dcos-metronome
        client = env.client()                  # the unmodified dcos-metronome 0.3.0 client

Agents' work dirs live under one 0755 directory in /var/tmp (tasks run as `nobody`); the
`daemons` fixture stops every process by PID (dcos-metronome included) and prints their logs
when a test failed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from metronome_cluster import METRONOME_CONFIG, MetronomeProcess

from tests.clients import metronome_module
from tests.integration.e2e.e2e_cluster import AGENT_CONFIG, MASTER_CONFIG, Cluster

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated create function")


@dataclass
class MetronomeEnv:
    cluster: Cluster
    metronomes: list[MetronomeProcess] = field(default_factory=list)
    start_metronome: Callable[..., MetronomeProcess] | None = None

    @property
    def metronome(self) -> MetronomeProcess:
        return self.metronomes[0]

    @property
    def master_url(self) -> str:
        return str(self.cluster.master.url)

    def client(self, metronome: MetronomeProcess | None = None) -> Any:
        module = metronome_module()
        return module.MetronomeClient((metronome or self.metronome).url)


@pytest.fixture
def metronome_cluster(
    work_root: Path,
    start_master: Any,
    start_agent: Any,
    daemons: Any,
    zk_url: str,
    free_port: Callable[[], int],
) -> Callable[..., MetronomeEnv]:
    """`metronome_cluster(agents=1, **metronome_config)`."""
    names = itertools.count(1)

    def start_metronome(wait_leading: bool = True, **config: Any) -> MetronomeProcess:
        name = f"metronome-{next(names)}"
        state_dir = daemons.tmp_path / name
        state_dir.mkdir(parents=True)
        settings = {
            "zk": zk_url.replace("/mesos-", "/metronome-"),
            "master": zk_url,
            "ip": "127.0.0.1",
            "port": free_port(),
            **METRONOME_CONFIG,
            **config,
        }
        process = MetronomeProcess(name, settings, state_dir)
        daemons.started.append(process)  # stopped (by PID) and its log shown like the others
        process.start(wait_leading=wait_leading)
        return process

    def start(agents: int = 1, **config: Any) -> MetronomeEnv:
        cluster = Cluster(start_master(**MASTER_CONFIG))
        for i in range(agents):
            work_dir = work_root / f"agent-{i + 1}"
            work_dir.mkdir(mode=0o755)
            work_dir.chmod(0o755)
            cluster.agents.append(start_agent(**{**AGENT_CONFIG, "work_dir": str(work_dir)}))
        cluster.wait_registered(agents)
        env = MetronomeEnv(cluster, start_metronome=start_metronome)
        env.metronomes.append(start_metronome(**config))
        return env

    return start
