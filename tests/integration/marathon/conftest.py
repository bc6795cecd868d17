"""Fixtures of the Marathon integration tests: `marathon_cluster(marathons=1, **config)`."""

from __future__ import annotations

import functools
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).parent))
from marathon_cluster import EventStream, MarathonCluster, start_cluster

from tests.integration.conftest import HOST, ZooKeeperServer, free_port
from tools import processes, zookeeper


@pytest.fixture
def marathon_cluster(
    work_root: Path, daemons: Any, start_master: Any, start_agent: Any, zk_url: str
) -> Callable[..., MarathonCluster]:
    return functools.partial(start_cluster, work_root, daemons, start_master, start_agent, zk_url)


@pytest.fixture
def event_stream() -> Iterator[Callable[..., EventStream]]:
    """`event_stream(url, **params)`: a /v2/events reader, closed at teardown."""
    opened: list[EventStream] = []

    def open_stream(url: str, **params: Any) -> EventStream:
        opened.append(EventStream(url, **params))
        return opened[-1]

    yield open_stream
    for stream in opened:
        stream.close()


class FastZooKeeper(ZooKeeperServer):
    """A ZooKeeper ticking every 500 ms (the reliability test profile). The shared one ticks
    every 2 s, and ZooKeeper expires sessions on tick boundaries: a 4 s session of a killed
    leader ends 4 to 6 s after its last heartbeat, too coarse to time a failover against 6 s."""

    def start(self) -> None:
        config = zookeeper.write_config(self.state_dir, self.port)
        config.write_text(config.read_text().replace("tickTime=2000", "tickTime=500"))
        command = zookeeper.command(config, self.log_path.parent)
        self.pid = processes.spawn(command, self.log_path, env=zookeeper.env())
        if not zookeeper.wait_ok(HOST, self.port, 30.0, self.pid):
            self.stop()
            raise RuntimeError(f"ZooKeeper did not start:\n{processes.log_tail(self.log_path)}")


@pytest.fixture(scope="session")
def fast_zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastZooKeeper]:
    server = FastZooKeeper(tmp_path_factory.mktemp("zookeeper-fast"), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fast_marathon_zk(fast_zookeeper: FastZooKeeper) -> str:
    """A fresh `zk://…/marathon-XXXXXXXX` on the fast ZooKeeper: pass it as
    `marathon_cluster(zk=fast_marathon_zk)` to time leader failovers."""
    fast_zookeeper.ensure_running()
    return fast_zookeeper.url(f"/marathon-{uuid.uuid4().hex[:8]}")
