"""A new leader's recovery from the registry (Mesos' master failover).

On election the leader reads the registry: admitted agents become *recovered* — expected back
within `agent_reregister_timeout` — unreachable and gone ones are remembered so that
reconciliation answers for their tasks, active frameworks are known again (disconnected, their
failover timeout counting from the election) and removed ones may never re-subscribe.

While an agent is recovered, reconciliation gives no answer for its tasks (it may still come
back with them). When the timeout fires, the agents still missing are marked unreachable through
the removal rate limit — unless more of them are missing than `recovery_agent_removal_limit`
allows, in which case the master fails over instead (a mass event is more likely a network
problem on this master's side than the loss of most of the cluster).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from daemons.master.model import Framework
from daemons.master.registry import ACTIVE, ADMITTED, GONE, UNREACHABLE, RegistryState

if TYPE_CHECKING:
    from daemons.master.master import Master

log = logging.getLogger(__name__)


def restore(master: Master, state: RegistryState, now: float) -> None:
    """Load what the registry says (called under the lock, right after election)."""
    master.recovered = {k: e for k, e in state.agents.items() if e.state == ADMITTED}
    master.recovered_total = len(master.recovered)
    master.unreachable_agents = {k: e for k, e in state.agents.items() if e.state == UNREACHABLE}
    master.gone_agents = {k: e for k, e in state.agents.items() if e.state == GONE}
    master.reregister_deadline = now + master.config.agent_reregister_timeout
    for framework_id, entry in state.frameworks.items():
        if entry.state != ACTIVE:
            master.removed_frameworks.add(framework_id)
            continue
        if framework_id in master.frameworks:
            continue
        info = dict(entry.info, id={"value": framework_id})
        roles = tuple(info.get("roles") or [info.get("role") or "*"])
        capabilities = frozenset(
            str(c.get("type")) for c in info.get("capabilities") or [] if isinstance(c, dict)
        )
        master.frameworks[framework_id] = Framework(
            framework_id=framework_id,
            info=info,
            roles=roles,
            capabilities=capabilities,
            registered_time=entry.time,
            recovered=True,
            disconnected_at=now,
        )
        master.allocator.add_framework(framework_id, roles, active=False)
    log.info(
        "recovered from the registry agents=%d unreachable=%d gone=%d frameworks=%d",
        len(master.recovered),
        len(master.unreachable_agents),
        len(master.gone_agents),
        sum(1 for e in state.frameworks.values() if e.state == ACTIVE),
    )


def reregistered(master: Master, agent_id: str) -> None:
    master.recovered.pop(agent_id, None)


def tick(master: Master, now: float) -> None:
    """At the re-register deadline: fail over, or schedule the missing agents' removal."""
    if not master.recovered or now < master.reregister_deadline:
        return
    missing = dict(master.recovered)
    master.recovered.clear()
    limit = master.config.recovery_removal_fraction()
    if master.recovered_total and len(missing) / master.recovered_total > limit:
        master.fatal(
            f"{len(missing)} of {master.recovered_total} agents did not re-register within "
            f"{master.config.agent_reregister_timeout}s, more than recovery_agent_removal_limit "
            f"{master.config.recovery_agent_removal_limit}: failing over instead of removing them"
        )
        return
    for agent_id in sorted(missing):
        master.removals.schedule(agent_id, "did not re-register after master failover")
    master.missing_agents.update(missing)
