"""An allocation round: the allocator's DRF allocations become offers sent to the frameworks.

Applied to the `Master` under its lock. The service's allocation loop runs a round every
`allocation_interval` (sooner when woken), with the RNG it seeded for the agent shuffle; tests
pass a seeded one.
"""

from __future__ import annotations

from daemons.master.allocation import Shuffler
from daemons.master.master import Master
from daemons.master.model import Agent, Framework, Offer
from daemons.protocols import JSON
from daemons.protocols.models import URL, Address
from daemons.protocols.models import Offer as WireOffer


def allocate(master: Master, rng: Shuffler, agent_ids: list[str] | None = None) -> int:
    """One allocation round; sends OFFERS events. Returns the number of offers made."""
    with master.lock:
        if not master.acting:
            return 0
        now = master.clock()
        allocations = master.allocator.allocate(now, agent_ids=agent_ids, rng=rng)
        by_framework: dict[str, list[JSON]] = {}
        for allocation in allocations:
            framework = master.frameworks.get(allocation.framework_id)
            agent = master.agents.get(allocation.agent_id)
            if framework is None or agent is None or not framework.connected:
                master.allocator.recover(
                    allocation.framework_id,
                    allocation.agent_id,
                    allocation.role,
                    allocation.resources,
                    now,
                )
                continue
            offer = Offer(
                offer_id=master.ids.offer_id(),
                framework_id=framework.framework_id,
                agent_id=agent.agent_id,
                role=allocation.role,
                resources=allocation.flat,
                created=now,
                by_role=dict(allocation.resources),
            )
            master.offers[offer.offer_id] = offer
            framework.offers[offer.offer_id] = offer
            agent.offers.add(offer.offer_id)
            by_framework.setdefault(framework.framework_id, []).append(
                offer_json(offer, agent, framework)
            )
        for framework_id, offers in by_framework.items():
            master.send_framework(
                master.frameworks[framework_id], {"type": "OFFERS", "offers": {"offers": offers}}
            )
        if allocations:
            master.count("offers_sent", len(allocations))
            master.changed()
        return len(allocations)


def offer_json(offer: Offer, agent: Agent, framework: Framework) -> JSON:
    """The v1 Offer of an OFFERS event (MULTI_ROLE frameworks also see its allocation role)."""
    multi_role = framework.info.has_capability("MULTI_ROLE")
    executor_ids = sorted(
        {e.executor_id for e in agent.executors.values() if e.framework_id == offer.framework_id}
    )
    return WireOffer(
        id=offer.offer_id,
        framework_id=offer.framework_id,
        agent_id=offer.agent_id,
        hostname=agent.hostname,
        url=URL("http", Address(agent.port, agent.hostname, agent.ip), "/slave(1)"),
        resources=offer.by_role,
        attributes=agent.info.attributes,
        allocation_role=offer.role if multi_role else None,
        executor_ids=tuple(executor_ids),
    ).to_json()
