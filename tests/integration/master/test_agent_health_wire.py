"""Health checks end to end: a real master pings two real agents every 0.5 s. One is stopped:
it is marked unreachable after the ping budget, and admitted again when it resumes. The other,
registered first and pinged on the same ticks, answers with PONGs and is never marked: had its
PONGs not counted, its own budget would have run out no later than the stopped one's."""

from __future__ import annotations

import signal
import time

import requests


def _slaves(master) -> list[dict]:
    """The agents the master lists: admitted ones (an unreachable one leaves the list)."""
    return requests.get(f"{master.url}/master/slaves", timeout=5).json()["slaves"]


def _active_ports(master) -> set[int]:
    return {a["port"] for a in _slaves(master) if a["active"]}


def _metric(master, name: str) -> float:
    metrics = requests.get(f"{master.url}/metrics/snapshot", timeout=5).json()
    return float(metrics.get(name, 0.0))


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
    answering = start_agent(zk_session_timeout=1.5)
    _wait(lambda: _active_ports(master) == {answering.port}, 30, "the first agent to register")
    silent = start_agent(zk_session_timeout=1.5)
    both = {answering.port, silent.port}
    _wait(lambda: _active_ports(master) == both, 30, "the second agent to register")
    silent.kill(signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        _wait(
            lambda: silent.port not in {a["port"] for a in _slaves(master)},
            10,
            "the stopped agent marked unreachable",
        )
        assert 2.0 <= time.monotonic() - stopped <= 4.0  # the budget (2 s) and a tick or two
        # The master has run out a whole ping budget that began after the answering agent's
        # first PING: a mark of that agent would have come with this one or before it, and
        # would be counted even had the agent registered again since.
        assert _metric(master, "master/slave_unreachable_completed") == 1.0
        assert _active_ports(master) == {answering.port}
        assert _metric(master, "master/slaves_unreachable") == 1.0
    finally:
        silent.kill(signal.SIGCONT)
    _wait(lambda: _active_ports(master) == both, 15, "the stopped agent to come back")
    assert _metric(master, "master/slaves_unreachable") == 0.0
