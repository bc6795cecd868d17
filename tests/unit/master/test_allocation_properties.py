"""Safety properties of the allocator over random operation sequences (hypothesis).

- Nothing is offered twice: per agent, free + everything held == total, per reservation, per
  scalar kind, and no port is in two places at once.
- An offer never exceeds what the agent had free just before it, and reserved resources only go
  to their own role.
- Offers only go to active frameworks on active agents, for subscribed, unsuppressed roles.
- A (framework, role, agent) with a live refuse filter is never offered resources contained in
  what it refused.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from daemons.master.allocation import Allocation, Allocator
from daemons.protocols.resources import Range, Resources, parse_text, ranges_size

SHAPES = [
    "cpus:2;mem:1024;disk:100;ports:[31000-31099]",
    "cpus:1;mem:512;cpus(r1):1;mem(r1):256;ports:[1000-1009]",
    "cpus(r2):2;mem(r2):512",
    "cpus:4;mem:4096;ports(r1):[2000-2004];ports:[2005-2010]",
    "cpus:0.005;mem:8",
]
FRAMEWORKS = ["f0", "f1", "f2", "f3"]
ROLES = ["*", "r1", "r2"]
REFUSE = st.sampled_from([None, 0.0, 1.0, 5.0, 30.0, 1e12])


def within(outer: Resources, inner: Resources) -> bool:
    return outer.contains(inner)


def sum_resources(values: list[Resources]) -> Resources:
    out = Resources()
    for value in values:
        out = out + value
    return out


def port_ranges(value: Resources) -> list[Range]:
    return [r for ranges in value.ranges.values() for r in ranges]


@dataclass
class Filter:
    framework_id: str
    role: str
    agent_id: str
    refused: dict[str, Resources]
    until: float


@dataclass
class FrameworkModel:
    roles: list[str]
    suppressed: set[str] = field(default_factory=set)
    active: bool = True


class AllocatorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.allocator = Allocator()
        self.now = 0.0
        self.agents: dict[str, dict[str, Resources]] = {}
        self.active_agents: set[str] = set()
        self.frameworks: dict[str, FrameworkModel] = {}
        self.filters: list[Filter] = []
        self.next_agent = 0

    @initialize()
    def a_small_cluster(self) -> None:
        """Start with something to allocate, so that most steps exercise offers."""
        self.add_agent(SHAPES[0], False)
        self.add_agent(SHAPES[1], False)
        self.add_framework("f0", ["*"], set(), True)
        self.add_framework("f1", ["r1", "r2"], set(), True)

    # --- agents ----------------------------------------------------------------------------

    @rule(shape=st.sampled_from(SHAPES), with_use=st.booleans())
    def add_agent(self, shape: str, with_use: bool) -> None:
        agent_id = f"a{self.next_agent}"
        self.next_agent += 1
        total = parse_text(shape)
        allocated: dict[str, dict[str, Resources]] = {}
        if with_use and self.frameworks:
            framework_id = sorted(self.frameworks)[0]
            role = self.frameworks[framework_id].roles[0]
            allocated[framework_id] = {role: parse_text("cpus:0.5;mem:64;ports:[1000-1001]")["*"]}
        self.allocator.add_agent(agent_id, total, allocated)
        self.agents[agent_id] = total
        self.active_agents.add(agent_id)

    @precondition(lambda self: self.agents)
    @rule(data=st.data())
    def remove_agent(self, data: st.DataObject) -> None:
        agent_id = data.draw(st.sampled_from(sorted(self.agents)))
        self.allocator.remove_agent(agent_id)
        del self.agents[agent_id]
        self.active_agents.discard(agent_id)
        self.filters = [f for f in self.filters if f.agent_id != agent_id]

    @precondition(lambda self: self.agents)
    @rule(data=st.data())
    def toggle_agent(self, data: st.DataObject) -> None:
        agent_id = data.draw(st.sampled_from(sorted(self.agents)))
        if agent_id in self.active_agents:
            self.allocator.deactivate_agent(agent_id)
            self.active_agents.discard(agent_id)
        else:
            self.allocator.activate_agent(agent_id)
            self.active_agents.add(agent_id)

    # --- frameworks ------------------------------------------------------------------------

    @rule(
        framework_id=st.sampled_from(FRAMEWORKS),
        roles=st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True),
        suppressed=st.sets(st.sampled_from(ROLES), max_size=1),
        active=st.booleans(),
    )
    def add_framework(
        self, framework_id: str, roles: list[str], suppressed: set[str], active: bool
    ) -> None:
        if framework_id in self.frameworks:
            return
        self.allocator.add_framework(framework_id, roles, suppressed, active)
        self.frameworks[framework_id] = FrameworkModel(roles, set(suppressed), active)

    @precondition(lambda self: self.frameworks)
    @rule(data=st.data())
    def remove_framework(self, data: st.DataObject) -> None:
        framework_id = data.draw(st.sampled_from(sorted(self.frameworks)))
        self.allocator.remove_framework(framework_id)
        del self.frameworks[framework_id]
        self.filters = [f for f in self.filters if f.framework_id != framework_id]

    @precondition(lambda self: self.frameworks)
    @rule(data=st.data(), roles=st.lists(st.sampled_from(ROLES), min_size=1, unique=True))
    def update_framework(self, data: st.DataObject, roles: list[str]) -> None:
        framework_id = data.draw(st.sampled_from(sorted(self.frameworks)))
        model = self.frameworks[framework_id]
        self.allocator.update_framework(framework_id, roles, model.suppressed)
        # A dropped role's client may be forgotten with its filters: stop checking them.
        self.filters = [
            f for f in self.filters if f.framework_id != framework_id or f.role in roles
        ]
        model.roles = roles

    @precondition(lambda self: self.frameworks)
    @rule(data=st.data())
    def toggle_framework(self, data: st.DataObject) -> None:
        framework_id = data.draw(st.sampled_from(sorted(self.frameworks)))
        model = self.frameworks[framework_id]
        if model.active:
            self.allocator.deactivate_framework(framework_id)
        else:
            self.allocator.activate_framework(framework_id)
        model.active = not model.active

    @precondition(lambda self: self.frameworks)
    @rule(data=st.data(), roles=st.sets(st.sampled_from(ROLES)), revive=st.booleans())
    def suppress_or_revive(self, data: st.DataObject, roles: set[str], revive: bool) -> None:
        framework_id = data.draw(st.sampled_from(sorted(self.frameworks)))
        model = self.frameworks[framework_id]
        targets = roles or set(model.roles)
        if revive:
            self.allocator.revive(framework_id, roles)
            model.suppressed -= targets
            self.filters = [
                f
                for f in self.filters
                if not (f.framework_id == framework_id and f.role in targets)
            ]
        else:
            self.allocator.suppress(framework_id, roles)
            model.suppressed |= targets

    # --- the cycle -------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([0.0, 0.5, 1.0, 4.0, 40.0]))
    def advance(self, seconds: float) -> None:
        self.now += seconds

    @rule(seed=st.none() | st.integers(0, 3), subset=st.booleans())
    def allocate(self, seed: int | None, subset: bool) -> None:
        agent_ids = sorted(self.agents)[::2] if subset else None
        free = {a: dict(self.allocator.available(a)) for a in self.agents}
        rng = random.Random(seed) if seed is not None else None
        for offer in self.allocator.allocate(self.now, agent_ids=agent_ids, rng=rng):
            self.check_offer(offer, free)

    def check_offer(self, offer: Allocation, free: dict[str, dict[str, Resources]]) -> None:
        model = self.frameworks[offer.framework_id]
        assert model.active and offer.role in model.roles and offer.role not in model.suppressed
        assert offer.agent_id in self.active_agents
        assert set(offer.resources) <= {"*", offer.role}
        before = free[offer.agent_id]
        for reservation, part in offer.resources.items():
            assert within(before.get(reservation, Resources()), part)
            before[reservation] = before[reservation] - part
        for f in self.filters:
            if (f.framework_id, f.role, f.agent_id) == (
                offer.framework_id,
                offer.role,
                offer.agent_id,
            ) and self.now < f.until:
                refused_everything = all(
                    within(f.refused.get(r, Resources()), part)
                    for r, part in offer.resources.items()
                )
                assert not refused_everything, f"filtered pair offered: {f} {offer}"

    @precondition(lambda self: self.frameworks)
    @rule(data=st.data(), how=st.sampled_from(["all", "part", "extra"]), refuse=REFUSE)
    def recover(self, data: st.DataObject, how: str, refuse: float | None) -> None:
        holdings = [a for fw in sorted(self.frameworks) for a in self.allocator.allocation(fw)]
        if not holdings:
            return
        held = data.draw(st.sampled_from(holdings))
        given: Resources | dict[str, Resources]
        if how == "all":
            given = dict(held.resources)
        elif how == "part":
            task = parse_text("cpus:0.5;mem:100;ports:[31000-31004,1000-1000,2005-2006]")["*"]
            given = held.flat - task
        else:
            given = held.flat + parse_text("cpus:1;disk:5")["*"]
        self.allocator.recover(held.framework_id, held.agent_id, held.role, given, self.now, refuse)
        # A filter for a role the framework has dropped lives only as long as that role's client
        # (forgotten, filters included, once it holds nothing): the model does not check it.
        subscribed = held.role in self.frameworks[held.framework_id].roles
        if refuse is not None and refuse > 0 and subscribed:
            refused = given if isinstance(given, dict) else self.attribute(given, held)
            until = self.now + min(refuse, 365 * 24 * 3600.0)
            self.filters.append(Filter(held.framework_id, held.role, held.agent_id, refused, until))

    @staticmethod
    def attribute(flat: Resources, held: Allocation) -> dict[str, Resources]:
        """A part of what the allocator refuses for a flat value: it takes the role's
        reservation first, so at least `flat - held[role]` counts as unreserved."""
        return {"*": flat - held.resources.get(held.role, Resources())}

    @precondition(lambda self: self.frameworks)
    @rule(data=st.data(), how=st.sampled_from(["all", "part"]), refuse=REFUSE)
    def recover_then_allocate(self, data: st.DataObject, how: str, refuse: float | None) -> None:
        """The common path, made more likely: a framework gives something back, time moves on
        a little and a cycle runs."""
        self.recover(data, how, refuse)
        self.now += 1.0
        self.allocate(None, False)

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def nothing_is_in_two_places(self) -> None:
        held: dict[str, dict[str, list[Resources]]] = {a: {} for a in self.agents}
        for framework_id in self.frameworks:
            for a in self.allocator.allocation(framework_id):
                for reservation, part in a.resources.items():
                    held[a.agent_id].setdefault(reservation, []).append(part)
        for agent_id, total in self.agents.items():
            available = self.allocator.available(agent_id)
            for reservation in set(total) | set(available) | set(held[agent_id]):
                parts = list(held[agent_id].get(reservation, []))
                if reservation in available:
                    parts.append(available[reservation])
                whole = total.get(reservation, Resources())
                together = sum_resources(parts)
                for kind in set(whole.scalars) | set(together.scalars):
                    assert abs(together.scalar(kind) - whole.scalar(kind)) < 1e-6
                ports = [r for p in parts for r in port_ranges(p)]
                assert sum(e - b + 1 for b, e in ports) == ranges_size(
                    tuple(r for rs in whole.ranges.values() for r in rs)
                )
                assert together.ranges == whole.ranges


TestAllocatorProperties = AllocatorMachine.TestCase
TestAllocatorProperties.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
