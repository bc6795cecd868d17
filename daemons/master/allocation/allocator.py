"""The hierarchical DRF allocator (Mesos' HierarchicalDRFAllocator, as a pure object).

It owns the allocation state of the cluster: every agent's total and free resources, every
framework's roles and what it holds (offered or in use) per agent, refuse filters, suppression.
It never sends anything: `allocate` returns the allocations of one round and the master turns
them into offers. The clock (`now`) and the agent shuffle (`rng`) are arguments.

Invariant, per agent and reservation role:  available + sum(held by clients) == total
(`update_agent_total` may shrink the total below what is held; available is then clamped at 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

import daemons.master.allocation.reservations as rmap
from daemons.master.allocation.filters import RefuseFilters, refuse_until
from daemons.master.allocation.model import (
    DEFAULT_MIN_ALLOCATABLE,
    Allocation,
    DuplicateAgent,
    Shuffler,
    UnknownAgent,
    UnknownFramework,
)
from daemons.master.allocation.reservations import ReservationMap, Vector
from daemons.master.allocation.sorter import DRFSorter
from daemons.master.allocation.state import AgentState, FrameworkState
from daemons.protocols.resources import UNRESERVED, Resources


class Allocator:
    """Hierarchical DRF allocation over agents and frameworks. See the module docstring."""

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        min_allocatable_resources: Sequence[Resources] = DEFAULT_MIN_ALLOCATABLE,
    ) -> None:
        self._sorter = DRFSorter(weights)
        self._filters = RefuseFilters()
        self._minimums = tuple(min_allocatable_resources)
        self._agents: dict[str, AgentState] = {}
        self._frameworks: dict[str, FrameworkState] = {}
        self._owner: dict[int, tuple[FrameworkState, str]] = {}  # client slot -> (framework, role)
        self._agents_of: dict[int, set[str]] = {}  # client slot -> agents where it holds
        self._total = np.zeros(len(rmap.SCALAR_KINDS))
        self._next_seq = 0

    # --- agents ------------------------------------------------------------------------------

    def add_agent(
        self,
        agent_id: str,
        total: ReservationMap,
        allocated: Mapping[str, Mapping[str, Resources]] | None = None,
    ) -> None:
        """Add an agent. `allocated` is framework -> allocation role -> what it already uses
        there; a role's value is drawn from that role's reservation first, then unreserved. An
        unknown framework in it is added inactive (it will re-subscribe)."""
        if agent_id in self._agents:
            raise DuplicateAgent(agent_id)
        agent = AgentState(
            agent_id, rmap.normalise(total), rmap.normalise(total), rmap.vector(total)
        )
        self._agents[agent_id] = agent
        self._change_total(agent.vector)
        for framework_id, by_role in (allocated or {}).items():
            framework = self._frameworks.get(framework_id)
            if framework is None:
                framework = self._new_framework(framework_id, active=False)
            for role, used in by_role.items():
                held = rmap.intersect(rmap.split(used, role, agent.available), agent.available)
                if held:
                    agent.available = rmap.subtract(agent.available, held)
                    self._hold(agent, self._client(framework, role), held)

    def remove_agent(self, agent_id: str) -> None:
        """Forget an agent; whatever frameworks held on it is gone with it."""
        agent = self._agent(agent_id)
        for slot, held in agent.held.items():
            self._sorter.unallocated(slot, rmap.vector(held))
            self._agents_of[slot].discard(agent_id)
            self._release_client_if_unused(slot)
        self._filters.clear_agent(agent_id)
        if agent.active:
            self._change_total(-agent.vector)
        del self._agents[agent_id]

    def activate_agent(self, agent_id: str) -> None:
        agent = self._agent(agent_id)
        if not agent.active:
            agent.active = True
            self._change_total(agent.vector)

    def deactivate_agent(self, agent_id: str) -> None:
        """No offers from the agent and its resources leave the cluster total; holdings stay."""
        agent = self._agent(agent_id)
        if agent.active:
            agent.active = False
            self._change_total(-agent.vector)

    def update_agent_total(self, agent_id: str, total: ReservationMap) -> None:
        """New total (e.g. after a reservation change); free = total - held, clamped at 0."""
        agent = self._agent(agent_id)
        held: dict[str, Resources] = {}
        for one in agent.held.values():
            held = rmap.add(held, one)
        vector = rmap.vector(total)
        if agent.active:
            self._change_total(vector - agent.vector)
        agent.total, agent.vector = rmap.normalise(total), vector
        agent.available = rmap.subtract(agent.total, held)

    # --- frameworks --------------------------------------------------------------------------

    def add_framework(
        self,
        framework_id: str,
        roles: Sequence[str],
        suppressed_roles: Iterable[str] = (),
        active: bool = True,
    ) -> None:
        """Add a framework (or re-subscribe a known one: same as update_framework + active)."""
        framework = self._frameworks.get(framework_id)
        if framework is None:
            framework = self._new_framework(framework_id, active)
        framework.active = active
        self.update_framework(framework_id, roles, suppressed_roles)

    def update_framework(
        self, framework_id: str, roles: Sequence[str], suppressed_roles: Iterable[str] = ()
    ) -> None:
        """New role set and suppressed roles. A dropped role keeps counting what it still holds
        until that is recovered, but gets no more offers."""
        framework = self._framework(framework_id)
        framework.roles = tuple(dict.fromkeys(roles))
        framework.suppressed = set(suppressed_roles)
        for role in framework.roles:
            self._client(framework, role)
        for role, slot in list(framework.clients.items()):
            if role not in framework.roles:
                self._release_client_if_unused(slot)
        self._refresh_eligibility(framework)

    def remove_framework(self, framework_id: str) -> None:
        """Forget a framework; everything it held on any agent becomes free again."""
        framework = self._framework(framework_id)
        for slot in list(framework.clients.values()):
            for agent_id in self._agents_of.pop(slot, set()):
                agent = self._agents[agent_id]
                agent.available = rmap.add(agent.available, agent.held.pop(slot))
            self._remove_client(slot)
        del self._frameworks[framework_id]

    def activate_framework(self, framework_id: str) -> None:
        framework = self._framework(framework_id)
        framework.active = True
        self._refresh_eligibility(framework)

    def deactivate_framework(self, framework_id: str) -> None:
        """No more offers; what it holds stays held (Mesos keeps it until rescinded/recovered)."""
        framework = self._framework(framework_id)
        framework.active = False
        self._refresh_eligibility(framework)

    def suppress(self, framework_id: str, roles: Iterable[str] = ()) -> None:
        """SUPPRESS: no offers for these roles (all the framework's roles when empty)."""
        framework = self._framework(framework_id)
        framework.suppressed |= set(roles) or set(framework.roles)
        self._refresh_eligibility(framework)

    def revive(self, framework_id: str, roles: Iterable[str] = ()) -> None:
        """REVIVE: drop the roles' refuse filters and un-suppress them (all roles when empty)."""
        framework = self._framework(framework_id)
        targets = set(roles) or set(framework.roles)
        framework.suppressed -= targets
        for role in targets:
            slot = framework.clients.get(role)
            if slot is not None:
                self._filters.clear_client(slot)
        self._refresh_eligibility(framework)

    def update_weights(self, weights: Mapping[str, float]) -> None:
        """Role weights (default 1.0); a role's order key is its dominant share / weight."""
        self._sorter.set_weights(weights)

    # --- the resources cycle -----------------------------------------------------------------

    def recover(
        self,
        framework_id: str,
        agent_id: str,
        role: str,
        resources: Resources | ReservationMap,
        now: float,
        refuse_seconds: float | None = None,
    ) -> None:
        """Give resources back (decline, unused part of an accept, rescind, task end).

        A flat `Resources` is attributed to reservations like `add_agent`'s `allocated`. Only
        what the client holds is released. With `refuse_seconds` > 0 (capped at 365 days) the
        client is not offered this agent again before now + refuse_seconds while the agent's
        free resources for the role are contained in `resources`. A framework or agent that is
        already gone makes this a no-op."""
        framework = self._frameworks.get(framework_id)
        agent = self._agents.get(agent_id)
        slot = framework.clients.get(role) if framework is not None else None
        if agent is None or slot is None:
            return
        held = agent.held.get(slot)
        if isinstance(resources, Resources):
            given = rmap.split(resources, role, held or {})
        else:
            given = rmap.normalise(resources)
        if held is not None:
            released = held if given == held else rmap.intersect(held, given)
            if released:
                remaining = rmap.subtract(held, released) if released is not held else {}
                if remaining:
                    agent.held[slot] = remaining
                else:
                    del agent.held[slot]
                    self._agents_of[slot].discard(agent_id)
                agent.available = rmap.add(agent.available, released)
                self._sorter.unallocated(slot, rmap.vector(released))
        until = refuse_until(now, refuse_seconds)
        if until is not None and given:
            self._filters.add(slot, role, agent_id, given, until)
        self._release_client_if_unused(slot)

    def allocate(
        self, now: float, agent_ids: Iterable[str] | None = None, rng: Shuffler | None = None
    ) -> list[Allocation]:
        """One allocation cycle over all agents (or `agent_ids`), in `rng`-shuffled order when
        given, else in the order agents were added. Each agent's free resources go to the first
        client in DRF order that may take them; shares are updated as the cycle goes."""
        if agent_ids is None:
            agents = list(self._agents.values())
        else:
            agents = [self._agents[a] for a in dict.fromkeys(agent_ids) if a in self._agents]
        if rng is not None:
            rng.shuffle(agents)
        offers: list[Allocation] = []
        if not self._sorter.eligible.any():
            return offers
        for agent in agents:
            if agent.active and agent.available:
                self._allocate_agent(agent, now, offers)
        return offers

    def _allocate_agent(self, agent: AgentState, now: float, offers: list[Allocation]) -> None:
        """Mesos' inner loop for one agent: while something is free, the first candidate in
        DRF order takes unreserved + its role's reservation. Several offers per agent only
        happen when reservations for other roles remain."""
        sorter, available = self._sorter, agent.available
        while available:
            unreserved = available.get(UNRESERVED)
            unreserved_ok = unreserved is not None and self._allocatable_on(agent, unreserved)
            if unreserved is not None and len(available) == 1:
                if not unreserved_ok:  # the common case: an unreserved-only agent
                    return
                candidates = sorter.eligible.copy()
            else:
                role_ok = np.full(sorter.role_count(), unreserved_ok)
                for reservation, res in available.items():
                    index = sorter.role_index(reservation)
                    if reservation != UNRESERVED and index is not None:
                        res_ = res if unreserved is None else res + unreserved
                        role_ok[index] = self._allocatable(res_)
                candidates = sorter.eligible & role_ok[sorter.role_of]
            for refused in self._filters.refused(agent.agent_id, available, now):
                candidates[refused] = False
            slot = sorter.pick(candidates)
            if slot is None:
                return
            framework, role = self._owner[slot]
            offered = rmap.for_role(available, role)
            for reservation in offered:  # an offer takes whole entries: no subtraction needed
                del available[reservation]
            self._hold(agent, slot, offered)
            offers.append(Allocation(framework.framework_id, agent.agent_id, role, offered))

    # --- read-only views ---------------------------------------------------------------------

    def framework_shares(self) -> dict[str, float]:
        """Dominant share of each framework's whole allocation (all its roles)."""
        out: dict[str, float] = {}
        for framework_id, framework in self._frameworks.items():
            held = sum(
                (self._sorter.client_allocation(s) for s in framework.clients.values()),
                np.zeros(len(rmap.SCALAR_KINDS)),
            )
            out[framework_id] = self._sorter.share_of(held)
        return out

    def role_shares(self) -> dict[str, float]:
        """Unweighted dominant share of each role (Mesos' `roles/<role>/shares/dominant`)."""
        return self._sorter.role_shares()

    def allocation(self, framework_id: str) -> list[Allocation]:
        """What the framework holds, one entry per (agent, role)."""
        framework = self._framework(framework_id)
        return [
            Allocation(framework_id, agent_id, role, dict(self._agents[agent_id].held[slot]))
            for role, slot in framework.clients.items()
            for agent_id in sorted(self._agents_of.get(slot, ()))
        ]

    def available(self, agent_id: str) -> dict[str, Resources]:
        """Free resources of the agent as a reservation map."""
        return dict(self._agent(agent_id).available)

    def is_filtered(
        self, framework_id: str, agent_id: str, now: float, role: str | None = None
    ) -> bool:
        """Whether a refuse filter currently keeps the agent from the framework (any role, or
        `role`), given what the agent has free now."""
        framework, agent = self._framework(framework_id), self._agent(agent_id)
        return any(
            self._filters.is_refused(slot, r, agent_id, agent.available, now)
            for r, slot in framework.clients.items()
            if role is None or r == role
        )

    def filter_count(self, agent_id: str | None = None) -> int:
        """Refuse filters installed (expired ones count until swept by a cycle)."""
        return self._filters.count(agent_id)

    # --- internals ---------------------------------------------------------------------------

    def _allocatable_on(self, agent: AgentState, res: Resources) -> bool:
        seen, ok = agent.allocatable
        if res is not seen:
            ok = self._allocatable(res)
            agent.allocatable = (res, ok)
        return ok

    def _allocatable(self, res: Resources) -> bool:
        if not self._minimums:
            return not res.is_empty()
        return any(res.contains(minimum) for minimum in self._minimums)

    def _hold(self, agent: AgentState, slot: int, amount: ReservationMap) -> None:
        held = agent.held.get(slot)
        agent.held[slot] = dict(amount) if held is None else rmap.add(held, amount)
        self._agents_of.setdefault(slot, set()).add(agent.agent_id)
        self._sorter.allocated(slot, rmap.vector(amount))

    def _new_framework(self, framework_id: str, active: bool) -> FrameworkState:
        framework = FrameworkState(framework_id, self._next_seq, active)
        self._next_seq += 1
        self._frameworks[framework_id] = framework
        return framework

    def _client(self, framework: FrameworkState, role: str) -> int:
        slot = framework.clients.get(role)
        if slot is None:
            slot = self._sorter.add_client(framework.seq, role)
            framework.clients[role] = slot
            self._owner[slot] = (framework, role)
        return slot

    def _remove_client(self, slot: int) -> None:
        framework, role = self._owner.pop(slot)
        del framework.clients[role]
        self._filters.clear_client(slot)
        self._agents_of.pop(slot, None)
        self._sorter.remove_client(slot)

    def _release_client_if_unused(self, slot: int) -> None:
        """A client of a role the framework left goes once it holds nothing."""
        framework, role = self._owner[slot]
        if role not in framework.roles and not self._agents_of.get(slot):
            self._remove_client(slot)

    def _refresh_eligibility(self, framework: FrameworkState) -> None:
        for role, slot in framework.clients.items():
            eligible = framework.active and role in framework.roles
            self._sorter.set_eligible(slot, eligible and role not in framework.suppressed)

    def _change_total(self, delta: Vector) -> None:
        self._total = np.maximum(self._total + delta, 0.0)
        self._sorter.set_total(self._total)

    def _agent(self, agent_id: str) -> AgentState:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def _framework(self, framework_id: str) -> FrameworkState:
        framework = self._frameworks.get(framework_id)
        if framework is None:
            raise UnknownFramework(framework_id)
        return framework
