"""What the leading master does of its own accord: take office, and the timer round.

Each function holds the master's lock once and applies, through the `Master`'s transitions, the
decisions of the pure cores: `failover` (what a new leader recovers, when the re-register window
closes) and `agent_health` (missed pings, the removal rate limit). There are no threads and no
wall clock here: `service.py` calls these from its ZooKeeper callback and its timer loop, with
the `Master`'s clock; tests call them on a manual clock.
"""

from __future__ import annotations

import logging

from daemons.master import agent_health, failover
from daemons.master.agent_removal import mark_missing_unreachable, mark_unreachable
from daemons.master.master import Master
from daemons.master.registry import GONE, UNREACHABLE

log = logging.getLogger(__name__)


def take_office(master: Master) -> None:
    """Become the leader: fence earlier leaders, read the registry and recover from it, in one
    hold of the lock (nobody sees a leader that has not recovered yet)."""
    with master.lock:
        state = master.elect()
        if state is None or master.elected_time is None:
            return
        recovery = failover.recovery(
            state, master.elected_time, master.config.agent_reregister_timeout
        )
        master.restore(
            recovery.recovered,
            recovery.deadline,
            recovery.frameworks,
            recovery.removed_frameworks,
        )
        log.info(
            "recovered from the registry agents=%d unreachable=%d gone=%d frameworks=%d",
            len(recovery.recovered),
            len(state.agents_in(UNREACHABLE)),
            len(state.agents_in(GONE)),
            len(recovery.frameworks),
        )


def tick(master: Master) -> None:
    """One round of the leader's timers, several times a second: expire offers and frameworks
    past their failover timeout, end a failover's re-register window, ping the agents and mark
    the silent ones unreachable."""
    with master.lock:
        if not master.acting:
            return
        now = master.clock()
        master.expire(now)
        _close_reregister_window(master, now)
        if master.is_leader:  # still: the window's end may have made it step down
            _check_health(master, now)


def _close_reregister_window(master: Master, now: float) -> None:
    """At the re-register deadline: fail over, or queue the missing agents' unreachable marks."""
    config = master.config
    end = failover.close_window(
        master.recovered,
        master.recovered_total,
        master.reregister_deadline,
        now,
        config.recovery_removal_fraction(),
    )
    if end is None:
        return
    master.recovered.clear()
    if end.too_many:
        master.fatal(
            f"{len(end.missing)} of {master.recovered_total} agents did not re-register within "
            f"{config.agent_reregister_timeout}s, more than recovery_agent_removal_limit "
            f"{config.recovery_agent_removal_limit}: failing over instead of removing them"
        )
        return
    for agent_id in sorted(end.missing):
        master.schedule_removal(agent_id, "did not re-register after master failover")
    master.missing_agents.update(end.missing)


def _check_health(master: Master, now: float) -> None:
    """Ping the agents, queue the silent ones, mark those the rate limit lets go."""
    config = master.config
    checks = agent_health.check_pings(
        master.agents.values(), now, config.agent_ping_timeout, config.max_agent_ping_timeouts
    )
    for check in checks:
        agent = master.agents[check.agent_id]
        agent.pings_missed = check.pings_missed
        agent.ping_sent = now
        if check.silent:
            master.schedule_removal(agent.agent_id, "health check timed out")
        elif agent.stream is not None:
            master.send_agent(agent, {"type": "PING"})
    due, master.removals_released = agent_health.release(
        len(master.removals), master.removals_released, config.removal_rate(), now
    )
    for agent_id, why in master.take_removals(due):
        found = master.agents.get(agent_id)
        if found is not None and found.unreachable_since is None:
            mark_unreachable(master, found, why)
        elif found is None and agent_id in master.missing_agents:
            mark_missing_unreachable(master, agent_id, why, now)
