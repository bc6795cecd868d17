"""Agent health (Mesos' health checks): which agents missed their pings, and how many
unreachable marks the removal rate limit lets go.

The leader sends a PING event on every agent's stream each `agent_ping_timeout`; the agent
answers with a PONG call. Any call from an agent counts as a sign of life. An agent that misses
`max_agent_ping_timeouts` pings in a row — connected or not — is marked unreachable: the mark is
written to the registry first, then its tasks turn TASK_UNREACHABLE (TASK_LOST for frameworks
without PARTITION_AWARE). Marks wait in a queue drained at `agent_removal_rate_limit` so a mass
event (a switch failing) cannot empty the cluster at once.

Pure: each decision is a value that `leadership.py` applies to the `Master` (it sends the PINGs
and marks agents through `agent_removal.py`). It may import the records (`model`); not the
`Master`, threads or the clock (`now` comes in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from daemons.master.model import Agent


@dataclass(frozen=True)
class PingCheck:
    """One agent at the end of a ping interval: its pings missed in a row, counting this one,
    and whether that is the whole budget (mark it unreachable) or it gets another PING."""

    agent_id: str
    pings_missed: int
    silent: bool


def check_pings(
    agents: Iterable[Agent], now: float, ping_timeout: float, max_missed: int
) -> list[PingCheck]:
    """The agents whose ping interval is over at `now`, in the order given.

    Like Mesos, only pings actually sent count: each ping interval, an agent not heard of since
    the previous ping has missed one (a disconnected agent misses every one), and `max_missed`
    misses in a row mark it. A leader that could not act for a while (its lease lapsed) sent no
    pings then, so it counts no misses either. Agents already unreachable are not checked."""
    checks: list[PingCheck] = []
    for agent in agents:
        if agent.unreachable_since is not None or now - agent.ping_sent < ping_timeout:
            continue
        missed = 0 if agent.last_heard >= agent.ping_sent else agent.pings_missed + 1
        checks.append(PingCheck(agent.agent_id, missed, missed >= max_missed))
    return checks


def release(
    queued: int, released: Sequence[float], rate: tuple[int, float] | None, now: float
) -> tuple[int, tuple[float, ...]]:
    """How many of the `queued` unreachable marks may go at `now`, and the release times to
    keep for the next call. `rate` is (count, seconds): at most `count` marks in any `seconds`,
    counting the earlier ones in `released`; None releases everything."""
    if rate is None or queued == 0:
        return queued, tuple(released)
    count, seconds = rate
    recent = tuple(t for t in released if now - t < seconds)
    due = max(0, min(queued, count - len(recent)))
    return due, recent + (now,) * due
