"""A whole PyDCOS cluster per test: ZooKeeper, one master and N agents, real clients on top.

    def test_x(cluster):
        c = cluster(agents=2)                      # master + 2 registered agents
        c.agent_ids()                              # in start order

Agents' work dirs live under one 0755 directory in /var/tmp (tasks run as `nobody`, who cannot
enter pytest's 0700 tmp dirs); it is removed after the daemons are stopped and their cgroups
killed (the `daemons` fixture does both, and prints the daemons' logs when the test failed).
Intervals are short so that offers, heartbeats and update retries take a second, not fifteen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_cluster import AGENT_CONFIG, MASTER_CONFIG, Cluster

ClusterFactory = Callable[..., Cluster]


@pytest.fixture
def cluster(work_root: Path, start_master: Any, start_agent: Any) -> ClusterFactory:
    """`cluster(agents=1, **agent_config)`: a master and registered agents.

    `work_root` comes first among the arguments so that it is set up before, and removed after,
    the `daemons` fixture behind `start_master`/`start_agent`.
    """

    def start(agents: int = 1, **agent_config: Any) -> Cluster:
        c = Cluster(start_master(**MASTER_CONFIG))
        for i in range(agents):
            work_dir = work_root / f"agent-{i + 1}"
            work_dir.mkdir(mode=0o755)
            work_dir.chmod(0o755)
            config = {**AGENT_CONFIG, "work_dir": str(work_dir), **agent_config}
            c.agents.append(start_agent(**config))
        c.wait_registered(agents)
        return c

    return start
