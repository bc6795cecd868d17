"""Health checks from the agent's side: every PING from the master is answered with a PONG."""

from __future__ import annotations

from test_agent_fake_master import (  # noqa: F401  (fixtures)
    FakeMaster,
    agent_fixture,
    master_fixture,
    work_dir_fixture,
)


def test_agent_answers_each_ping_with_a_pong_on_its_stream(agent, master: FakeMaster) -> None:
    master.wait_subscribed()
    agent_id = master.subscriptions[-1].get("agent_id") or {}
    for count in (1, 2, 3):
        master.send({"type": "PING"})
        master.wait_for(lambda n=count: len(master.calls_of("PONG")) >= n, timeout=10)
    pongs = master.calls_of("PONG")
    assert len(pongs) == 3
    assert all(p["agent_id"]["value"].startswith("FAKE-S") for p in pongs), pongs
    assert agent_id == {} or pongs[0]["agent_id"] == agent_id
    assert len(master.subscriptions) == 1  # pings never cost a re-subscription
