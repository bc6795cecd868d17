"""Agent health: pings, the unreachable mark and the removal rate limit (Mesos' health checks).

The leader sends a PING event on every agent's stream each `agent_ping_timeout`; the agent
answers with a PONG call. Any call from an agent counts as a sign of life. An agent that misses
`max_agent_ping_timeouts` pings in a row — connected or not — is marked unreachable:
the mark is written to the registry first, then its tasks turn TASK_UNREACHABLE (TASK_LOST for
frameworks without PARTITION_AWARE). Marks wait in a queue drained at `agent_removal_rate_limit`
so a mass event (a switch failing) cannot empty the cluster at once.

Everything here runs under the master's lock, on its clock.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from daemons.master.registry import GONE, UNREACHABLE, Entry

if TYPE_CHECKING:
    from daemons.master.master import Master
    from daemons.master.model import Agent
    from daemons.protocols import JSON

log = logging.getLogger(__name__)


class RemovalLimiter:
    """Agents waiting to be marked unreachable, released at most `count` per `seconds`."""

    def __init__(self, rate: tuple[int, float] | None) -> None:
        self.rate = rate
        self.pending: OrderedDict[str, str] = OrderedDict()  # agent id -> why
        self._released: list[float] = []

    def schedule(self, agent_id: str, why: str) -> None:
        self.pending.setdefault(agent_id, why)

    def cancel(self, agent_id: str) -> None:
        self.pending.pop(agent_id, None)

    def due(self, now: float) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        while self.pending:
            if self.rate is not None:
                count, seconds = self.rate
                self._released = [t for t in self._released if now - t < seconds]
                if len(self._released) >= count:
                    break
                self._released.append(now)
            out.append(self.pending.popitem(last=False))
        return out


def tick(master: Master, now: float) -> None:
    """Ping the agents, schedule the silent ones, mark those the limiter lets go.

    Like Mesos, only pings actually sent count: each ping interval, an agent not heard of since
    the previous ping has missed one (a disconnected agent misses every one), and
    `max_agent_ping_timeouts` misses in a row mark it. A leader that could not act for a while
    (its lease lapsed) sent no pings then, so it counts no misses either."""
    config = master.config
    for agent in master.agents.values():
        if agent.unreachable_since is not None or now - agent.ping_sent < config.agent_ping_timeout:
            continue
        if agent.last_heard >= agent.ping_sent:
            agent.pings_missed = 0
        else:
            agent.pings_missed += 1
        agent.ping_sent = now
        if agent.pings_missed >= config.max_agent_ping_timeouts:
            master.removals.schedule(agent.agent_id, "health check timed out")
        elif agent.stream is not None:
            master.send_agent(agent, {"type": "PING"})
    for agent_id, why in master.removals.due(now):
        found = master.agents.get(agent_id)
        if found is not None and found.unreachable_since is None:
            mark_unreachable(master, found, why)
        elif found is None and agent_id in master.missing_agents:
            # Known only from the registry (it never came back after a failover).
            entry = master.missing_agents.pop(agent_id)
            master.persist_agent(agent_id, Entry(UNREACHABLE, entry.info, now))
            master.unreachable_agents[agent_id] = Entry(UNREACHABLE, entry.info, now)
            master.count("slave_unreachable_completed")
            log.warning("agent unreachable agent=%s why=%s", agent_id, why)


def mark_unreachable(master: Master, agent: Agent, why: str) -> None:
    """Registry first; then the agent leaves the pool and its tasks turn unreachable."""
    now = master.clock()
    master.persist_agent(agent.agent_id, Entry(UNREACHABLE, agent.info, now))
    master.unreachable_agents[agent.agent_id] = Entry(UNREACHABLE, agent.info, now)
    log.warning("agent unreachable agent=%s why=%s", agent.agent_id, why)
    agent.unreachable_since = now
    agent.active = False
    if agent.stream is not None:
        stream, agent.stream = agent.stream, None
        stream.close()
    master.rescind_offers(agent.offers)
    master.allocator.deactivate_agent(agent.agent_id)
    master.count("slave_unreachable_completed")
    for task in list(agent.tasks.values()):
        framework = master.frameworks.get(task.framework_id)
        status = master.master_status(
            task.task_id,
            "TASK_UNREACHABLE",
            "REASON_AGENT_REMOVED",
            f"Agent {agent.hostname} is unreachable: {why}",
            agent.agent_id,
        )
        task.unreachable_time = now
        mapped = master.status_for(framework, status)
        if mapped["state"] == "TASK_LOST":
            master.apply_status(task, mapped)
        else:
            task.state = "TASK_UNREACHABLE"
            task.latest_status = status
            task.changed()
        master.forward_update(framework, status)
    master.changed()


def mark_gone(
    master: Master, agent_id: str, info: JSON, task_state: str, reason: str, message: str
) -> None:
    """An agent that may never come back (an operator's MARK_AGENT_GONE, or a reboot that made
    it a new agent): registry first; then its tasks end in `task_state` (TASK_LOST for
    frameworks without PARTITION_AWARE) and it leaves the cluster."""
    now = master.clock()
    master.persist_agent(agent_id, Entry(GONE, info, now))
    master.gone_agents[agent_id] = Entry(GONE, info, now)
    for view in (master.recovered, master.unreachable_agents, master.missing_agents):
        view.pop(agent_id, None)
    master.removals.cancel(agent_id)
    agent = master.agents.pop(agent_id, None)
    if agent is None:
        master.changed()
        return
    log.warning("agent gone agent=%s why=%s", agent_id, message)
    for task in list(agent.tasks.values()):
        framework = master.frameworks.get(task.framework_id)
        status = master.master_status(task.task_id, task_state, reason, message, agent_id)
        master.apply_status(task, master.status_for(framework, status))
        master.forward_update(framework, status)
    for executor in list(agent.executors.values()):
        owner = master.frameworks.get(executor.framework_id)
        if owner is not None:
            master.release_executor(owner, agent_id, executor.executor_id)
    master.rescind_offers(agent.offers)
    if agent.stream is not None:
        agent.stream.close()
    master.allocator.remove_agent(agent_id)
    master.send_operators(
        {"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": agent_id}}}
    )
    master.changed()
