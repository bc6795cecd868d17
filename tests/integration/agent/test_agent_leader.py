"""Finding the master: leader detection in real ZooKeeper, leader changes and 307 redirects.

Fake masters publish MasterInfo as `json.info_` sequential nodes the way masters do; the agent
must subscribe to the lowest one, follow a standby's 307, and re-subscribe with the same agent id
when the leading node goes away.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_agent_fake_master import (  # noqa: F401  (fixtures)
    FakeMaster,
    running_agent,
    work_dir_fixture,
)

from daemons.kit import zk

AgentFactory = Callable[..., Any]


@pytest.fixture
def zk_client(zk_url: str) -> Iterator[Any]:
    hosts, _ = zk.parse_zk_url(zk_url)
    client = zk.connect(hosts)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def publish(client: Any, zk_url: str, master: FakeMaster) -> str:
    _, path = zk.parse_zk_url(zk_url)
    client.ensure_path(path)
    node: str = client.create(
        f"{path}/{zk.INFO_PREFIX}",
        json.dumps(master.master_info).encode(),
        ephemeral=True,
        sequence=True,
    )
    return node


@pytest.fixture
def masters() -> Iterator[list[FakeMaster]]:
    started: list[FakeMaster] = []
    try:
        yield started
    finally:
        for master in started:
            master.close()


def test_agent_follows_the_leader_through_a_change(
    start_agent: AgentFactory,
    zk_url: str,
    zk_client: Any,
    work_dir: Path,
    masters: list[FakeMaster],
) -> None:
    first, second = FakeMaster(), FakeMaster()
    masters.extend([first, second])
    leader_node = publish(zk_client, zk_url, first)
    publish(zk_client, zk_url, second)
    with running_agent(start_agent, zk_url, work_dir):
        first.wait_subscribed()
        assert second.subscriptions == []
        zk_client.delete(leader_node)  # the leader is gone: `second` leads now
        again = second.wait_subscribed()
        assert again["agent_id"] == {"value": "FAKE-S0"}
        assert again["subscribe"]["agent_info"]["id"] == {"value": "FAKE-S0"}


def test_agent_follows_a_standby_redirect_to_the_leader(
    start_agent: AgentFactory,
    zk_url: str,
    zk_client: Any,
    work_dir: Path,
    masters: list[FakeMaster],
) -> None:
    leader = FakeMaster()
    standby = FakeMaster(redirect_to=leader.address)
    masters.extend([leader, standby])
    publish(zk_client, zk_url, standby)  # ZK says the standby (a stale view): it answers 307
    with running_agent(start_agent, zk_url, work_dir):
        leader.wait_subscribed()
        assert [c["type"] for c in standby.calls][:1] == ["SUBSCRIBE"]


def test_agent_waits_while_there_is_no_leader(
    start_agent: AgentFactory,
    zk_url: str,
    zk_client: Any,
    work_dir: Path,
    masters: list[FakeMaster],
) -> None:
    master = FakeMaster()
    masters.append(master)
    with running_agent(start_agent, zk_url, work_dir):
        publish(zk_client, zk_url, master)  # appears after the agent started
        master.wait_subscribed()
