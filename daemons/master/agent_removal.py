"""Taking an agent out of the cluster, applied to the `Master` under its lock: the unreachable
mark (it may come back and be admitted again) and the gone mark (it never will).

Both are written to the registry before they take effect; a failed write makes the master step
down (`Master.persist_agent`) and nothing changes. Callers: the timer round (`leadership.py`:
health checks, the end of a failover's re-register window), a rebooted agent's new registration
(`agent_calls.py`) and the operator's MARK_AGENT_GONE (`operator_api.py`).
"""

from __future__ import annotations

import logging

from daemons.master.master import Master
from daemons.master.model import Agent
from daemons.master.registry import GONE, UNREACHABLE, Entry
from daemons.protocols import JSON
from daemons.protocols.ids import id_json

log = logging.getLogger(__name__)


def mark_unreachable(master: Master, agent: Agent, why: str) -> None:
    """Registry first; then the agent leaves the pool and its tasks turn unreachable."""
    now = master.clock()
    master.persist_agent(agent.agent_id, Entry(UNREACHABLE, agent.info.raw, now))
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
        if mapped.state == "TASK_LOST":
            master.apply_status(task, mapped)
        else:
            task.state = "TASK_UNREACHABLE"
            task.latest_status = status
            task.changed()
            # As Mesos' updateTask: operator subscribers (Minuteman, Mesos-DNS) see the change.
            master.task_updated(task, mapped)
        master.forward_update(framework, status)
    master.changed()


def mark_missing_unreachable(master: Master, agent_id: str, why: str, now: float) -> None:
    """An agent known only from the registry (it never came back after a failover): only the
    registry changes, it has no tasks or stream here."""
    entry = master.missing_agents.pop(agent_id)
    master.persist_agent(agent_id, Entry(UNREACHABLE, entry.info, now))
    master.count("slave_unreachable_completed")
    log.warning("agent unreachable agent=%s why=%s", agent_id, why)


def mark_gone(
    master: Master, agent_id: str, info: JSON, task_state: str, reason: str, message: str
) -> None:
    """An agent that may never come back (an operator's MARK_AGENT_GONE, or a reboot that made
    it a new agent): registry first; then its tasks end in `task_state` (TASK_LOST for
    frameworks without PARTITION_AWARE) and it leaves the cluster."""
    now = master.clock()
    master.persist_agent(agent_id, Entry(GONE, info, now))
    master.recovered.pop(agent_id, None)
    master.missing_agents.pop(agent_id, None)
    master.cancel_removal(agent_id)
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
        lambda: {"type": "AGENT_REMOVED", "agent_removed": {"agent_id": id_json(agent_id)}}
    )
    master.changed()
