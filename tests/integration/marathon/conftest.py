"""Fixtures of the Marathon integration tests: `marathon_cluster(marathons=1, **config)`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).parent))
from e2e_cluster import AGENT_CONFIG, MASTER_CONFIG
from marathon_cluster import AGENT_HOSTS, MARATHON_CONFIG, MarathonCluster

from tests.integration.conftest import HOST, DaemonProcess, free_port


@pytest.fixture
def marathon_cluster(
    work_root: Path, daemons: Any, start_master: Any, start_agent: Any, zk_url: str
) -> Callable[..., MarathonCluster]:
    def start(
        marathons: int = 1, master_config: dict[str, Any] | None = None, **config: Any
    ) -> MarathonCluster:
        # `master_config` adds to (or overrides) the master's settings, e.g. a short agent
        # ping budget; everything else is Marathon's.
        master = start_master(**{**MASTER_CONFIG, **(master_config or {})})
        agents = []
        for i, host in enumerate(AGENT_HOSTS):
            work_dir = work_root / f"agent-{i + 1}"
            work_dir.mkdir(mode=0o755)
            agents.append(
                start_agent(
                    **{
                        **AGENT_CONFIG,
                        "work_dir": str(work_dir),
                        "hostname": host,
                        "resources": "cpus:4;mem:4096;disk:4096;"
                        f"ports:[{31000 + 1000 * i}-{31999 + 1000 * i}]",
                    }
                )
            )
        cluster = MarathonCluster(master, agents)
        zk_root = zk_url.rsplit("/", 1)[0]
        marathon_zk = f"{zk_root}/marathon-{zk_url.rsplit('-', 1)[1]}"
        for _ in range(marathons):
            port = free_port()
            settings = {
                **MARATHON_CONFIG,
                "zk": marathon_zk,
                "master": zk_url,
                "ip": HOST,
                "port": port,
                **config,
            }
            name = f"marathon-{len(cluster.marathons) + 1}"
            state_dir = daemons.tmp_path / name
            state_dir.mkdir(parents=True)
            process = DaemonProcess(name, "daemons.marathon.main", settings, state_dir)
            daemons.started.append(process)
            process.start()
            cluster.marathons.append(process)
        cluster.wait_leader()
        return cluster

    return start
