"""The registry in real ZooKeeper: fencing by the election's version, and a paused leader (F3)
that must neither act nor write once it resumes."""

from __future__ import annotations

import json
import signal
import time

import pytest
import requests

from daemons.kit import zk
from daemons.kit.errors import Fenced, StoreUnavailable
from daemons.master.registry import ADMITTED, UNREACHABLE, Entry
from daemons.master.zk_registry import ZkRegistry
from tests.integration.master.test_master_leadership import wait_for_leader


@pytest.fixture
def clients(zk_url):
    hosts, path = zk.parse_zk_url(zk_url)
    made = [zk.connect(hosts, 4.0) for _ in range(2)]
    yield path, made
    for client in made:
        client.stop()
        client.close()


def test_a_new_leaders_recovery_fences_every_write_of_the_old_one(clients):
    path, (one, two) = clients
    old = ZkRegistry(one, path)
    assert old.recover("m1").agents == {}
    old.put_agent("S1", Entry(ADMITTED, {"hostname": "10.0.0.1"}, 1.0))
    old.put_agent("S1", Entry(UNREACHABLE, {"hostname": "10.0.0.1"}, 2.0))  # set, not create
    new = ZkRegistry(two, path)
    state = new.recover("m2")
    assert state.agents["S1"] == Entry(UNREACHABLE, {"hostname": "10.0.0.1"}, 2.0)
    with pytest.raises(Fenced, match="fenced"):
        old.put_agent("S2", Entry(ADMITTED, {}, 3.0))
    with pytest.raises(Fenced, match="fenced"):
        old.remove_agent("S1")
    # Nothing of the fenced writes reached ZooKeeper; the new leader writes as usual.
    assert one.get_children(f"{path}/registry/agents") == ["S1"]
    new.put_framework("F1", Entry("active", {"name": "marathon", "failover_timeout": 1e6}, 4.0))
    data, _ = one.get(f"{path}/registry/frameworks/F1")
    assert json.loads(data)["info"]["failover_timeout"] == 1e6
    new.remove_agent("S1")
    assert one.get_children(f"{path}/registry/agents") == []


def test_an_unreadable_entry_stops_recovery_instead_of_being_skipped(clients):
    path, (one, _) = clients
    one.ensure_path(f"{path}/registry/agents")
    one.create(f"{path}/registry/agents/S9", b"not json")
    with pytest.raises(StoreUnavailable, match="S9"):
        ZkRegistry(one, path).recover("m1")


def _elected(master) -> float | None:
    try:
        metrics = requests.get(f"{master.url}/metrics/snapshot", timeout=1).json()
    except requests.RequestException:
        return None
    return metrics["master/elected"]


def test_a_paused_leader_stops_acting_when_it_resumes(start_master, zk_url):
    """F3: SIGSTOP the leader for 2x the session timeout; a standby takes over; when the old
    one resumes it accepts nothing and is no leader within a second."""
    first = start_master(zk_session_timeout=4.0, agent_ping_timeout=1.0)
    second = start_master(zk_session_timeout=4.0, agent_ping_timeout=1.0)
    assert wait_for_leader([first, second]) == [first]
    hosts, path = zk.parse_zk_url(zk_url)
    observer = zk.connect(hosts, 4.0)
    try:
        _, before = observer.get(f"{path}/registry/epoch")
        first.kill(signal.SIGSTOP)
        stopped = time.monotonic()
        assert wait_for_leader([second], timeout=20) == [second]
        _, after = observer.get(f"{path}/registry/epoch")
        assert after.version > before.version  # the new leader fenced the old one
        time.sleep(max(0.0, stopped + 8.0 - time.monotonic()))  # 2x the session timeout
        first.kill(signal.SIGCONT)
        resumed = time.monotonic()
        subscribe = requests.post(
            f"{first.url}/api/v1/scheduler",
            json={"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}},
            headers={"Accept": "application/json"},
            allow_redirects=False,
            timeout=5,
            stream=True,
        )
        assert subscribe.status_code in (307, 503), subscribe.status_code
        subscribe.close()
        while _elected(first) not in (0.0, None) and time.monotonic() - resumed < 5:
            time.sleep(0.05)
        gone_after = time.monotonic() - resumed
        assert gone_after <= 1.0, f"the resumed leader still claimed to lead after {gone_after}s"
        assert wait_for_leader([first, second], timeout=5) == [second]
        assert observer.get_children(f"{path}/registry/frameworks") == []
    finally:
        observer.stop()
        observer.close()


def test_without_zookeeper_the_master_serves_503_and_leads_once_it_is_back(start_master, zookeeper):
    """F5's master side: no quorum means no leader and no stale answers; the master does not
    crash-loop but joins as soon as ZooKeeper answers."""
    with zookeeper.stopped():
        master = start_master(zk_session_timeout=2.0, agent_ping_timeout=1.0)
        response = requests.get(f"{master.url}/master/state", timeout=5)
        assert response.status_code == 503
        assert _elected(master) == 0.0
    back = time.monotonic()
    while _elected(master) != 1.0 and time.monotonic() - back < 20:
        time.sleep(0.1)
    assert _elected(master) == 1.0, master.log_tail()
    assert requests.get(f"{master.url}/master/state", timeout=5).status_code == 200
