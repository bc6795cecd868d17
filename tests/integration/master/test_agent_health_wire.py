"""Health checks end to end: a real master pings a real agent every 0.5 s; PONGs keep it
registered far past the ping budget; a stopped agent is marked unreachable after the budget and
admitted again when it resumes."""

from __future__ import annotations

import signal
import time

import requests


def _agents(master) -> list[dict]:
    return requests.get(f"{master.url}/master/slaves", timeout=5).json()["slaves"]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_pongs_keep_an_agent_and_silence_marks_it_unreachable(start_master, start_agent):
    master = start_master(zk_session_timeout=1.5, agent_ping_timeout=0.5, max_agent_ping_timeouts=4)
    agent = start_agent(zk_session_timeout=1.5)
    _wait(lambda: any(a["active"] for a in _agents(master)), 30, "the agent to register")
    time.sleep(6.0)  # three ping budgets
    (entry,) = _agents(master)
    assert entry["active"], entry
    metrics = requests.get(f"{master.url}/metrics/snapshot", timeout=5).json()
    assert metrics["master/slaves_unreachable"] == 0.0
    agent.kill(signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        _wait(
            lambda: (
                requests.get(f"{master.url}/metrics/snapshot", timeout=5).json()[
                    "master/slaves_unreachable"
                ]
                == 1.0
            ),
            10,
            "the unreachable mark",
        )
        assert 2.0 <= time.monotonic() - stopped <= 4.0  # the budget (2 s) and a tick or two
    finally:
        agent.kill(signal.SIGCONT)
    _wait(lambda: any(a["active"] for a in _agents(master)), 15, "the agent to come back")
    metrics = requests.get(f"{master.url}/metrics/snapshot", timeout=5).json()
    assert metrics["master/slaves_unreachable"] == 0.0
