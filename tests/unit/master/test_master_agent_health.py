"""Health-check decisions (agent_health.py) as plain values: missed pings and the removal rate
limit, on agent records and numbers alone (no Master, no threads, no clock)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from daemons.master.agent_health import PingCheck, check_pings, release
from daemons.master.model import Agent
from daemons.protocols.models import AgentInfo


def agent(agent_id: str, last_heard: float, ping_sent: float, missed: int = 0) -> Agent:
    return Agent(
        agent_id=agent_id,
        info=AgentInfo(hostname=agent_id),
        registered_time=0.0,
        last_heard=last_heard,
        ping_sent=ping_sent,
        pings_missed=missed,
    )


def test_an_agent_heard_of_since_the_last_ping_starts_again_from_zero() -> None:
    checks = check_pings([agent("a", 10.5, 10.0, missed=3)], 11.0, 1.0, 5)
    assert checks == [PingCheck("a", 0, silent=False)]


def test_an_agent_not_heard_of_misses_one_more_and_the_budget_makes_it_silent() -> None:
    checks = check_pings([agent("a", 9.0, 10.0, missed=3), agent("b", 9.0, 10.0, 4)], 11.0, 1.0, 5)
    assert checks == [PingCheck("a", 4, silent=False), PingCheck("b", 5, silent=True)]


def test_only_agents_whose_interval_is_over_and_not_marked_yet_are_checked() -> None:
    early = agent("early", 0.0, 10.5)  # pinged 0.5 s ago, the interval is 1 s
    marked = agent("marked", 0.0, 0.0, missed=5)
    marked.unreachable_since = 8.0
    due = agent("due", 0.0, 10.0)
    assert [c.agent_id for c in check_pings([early, marked, due], 11.0, 1.0, 5)] == ["due"]


def test_a_pong_at_the_instant_of_the_ping_counts_as_heard() -> None:
    assert check_pings([agent("a", 10.0, 10.0, missed=2)], 11.0, 1.0, 5)[0].pings_missed == 0


def test_without_a_rate_every_queued_mark_goes_at_once() -> None:
    assert release(7, (), None, 100.0) == (7, ())


def test_a_rate_lets_count_marks_go_per_window() -> None:
    rate = (2, 10.0)  # at most 2 marks in any 10 s
    assert release(3, (), rate, 100.0) == (2, (100.0, 100.0))
    assert release(1, (100.0, 100.0), rate, 109.9) == (0, (100.0, 100.0))
    assert release(1, (100.0, 100.0), rate, 110.0) == (1, (110.0,))


def test_an_empty_queue_keeps_the_release_times_as_they_are() -> None:
    assert release(0, (1.0, 2.0), (1, 10.0), 500.0) == (0, (1.0, 2.0))


@given(
    count=st.integers(1, 4),
    seconds=st.floats(0.5, 30.0),
    steps=st.lists(st.tuples(st.floats(0.0, 20.0), st.integers(0, 5)), max_size=40),
)
def test_no_window_ever_holds_more_than_the_rate(
    count: int, seconds: float, steps: list[tuple[float, int]]
) -> None:
    """Whatever arrives when: marks go oldest-first, never more than `count` in `seconds`, and
    a mark waits only while the window is full."""
    now, queued = 0.0, 0
    kept: tuple[float, ...] = ()
    times: list[float] = []
    for gap, arriving in steps:
        now += gap
        queued += arriving
        due, kept = release(queued, kept, (count, seconds), now)
        assert 0 <= due <= queued
        queued -= due
        times += [now] * due
        assert sum(1 for t in times if now - t < seconds) <= count
        if queued:  # waiting marks mean the window is full
            assert sum(1 for t in times if now - t < seconds) == count
