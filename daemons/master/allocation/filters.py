"""Refuse filters ("decline with refuse_seconds"). Pure: the clock is an argument.

A filter says: client (framework, role) is not to be offered agent A again before `until`, as
long as what A has free for that role is contained in what the client refused (Mesos'
RefusedOfferFilter). Filters of one agent are grouped by (role, refused resources): one
containment check covers every client in a group, so the per-agent cost of a round depends on
the number of distinct refused sets, not on the number of filters. A group keeps its clients in
numpy arrays (slot, until) so the refused slots come out as one array; adding or removing a
client is O(1) (append / swap with the last).

Expired entries are dropped lazily: a group remembers a lower bound of its expiry times and only
scans when `now` has passed it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from daemons.master.allocation.reservations import ReservationMap, key
from daemons.protocols.resources import UNRESERVED, Resources

# Mesos caps refuse_seconds (given as a double) at one year.
MAX_REFUSE_SECONDS = 365.0 * 24 * 3600

IntArray = npt.NDArray[np.int64]
GroupKey = tuple[str, tuple[object, ...]]


def refuse_until(now: float, refuse_seconds: float | None) -> float | None:
    """The filter's end, or None when no filter is wanted (absent, <= 0 or NaN)."""
    if refuse_seconds is None or not refuse_seconds > 0.0:
        return None
    return now + min(refuse_seconds, MAX_REFUSE_SECONDS)


def refuses(refused: ReservationMap, available: ReservationMap, role: str) -> bool:
    """True while what `role` could be offered from `available` (unreserved plus its own
    reservation) is contained in `refused`."""
    for reservation, res in available.items():
        if reservation != UNRESERVED and reservation != role:
            continue
        mine = refused.get(reservation)
        if mine is None or not mine.contains(res):
            return False
    return True


@dataclass(eq=False, slots=True)
class _Group:
    """Clients of one agent that refused the same resources for the same role."""

    role: str
    refused: dict[str, Resources]
    slots: IntArray = field(default_factory=lambda: np.zeros(4, np.int64))
    until: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(4))
    size: int = 0
    position: dict[int, int] = field(default_factory=dict)
    # Lower bound of min(until): nothing can have expired while now < earliest.
    earliest: float = math.inf
    # Memo of the last containment check, by identity of the (immutable) free resources the
    # role could get: a declined offer usually comes back as the very same object.
    seen: tuple[Resources | None, Resources | None] = (None, None)
    seen_refuses: bool = False

    def refuses(self, available: ReservationMap) -> bool:
        unreserved = available.get(UNRESERVED)
        reserved = available.get(self.role) if self.role != UNRESERVED else None
        if unreserved is None and reserved is None:
            return True  # nothing for this role: contained in anything
        seen_unreserved, seen_reserved = self.seen
        if unreserved is seen_unreserved and reserved is seen_reserved:
            return self.seen_refuses
        self.seen, self.seen_refuses = (
            (unreserved, reserved),
            refuses(self.refused, available, self.role),
        )
        return self.seen_refuses

    def put(self, slot: int, until: float) -> bool:
        """Add or extend (filters of one client keep the later end). True if new."""
        self.earliest = min(self.earliest, until)
        at = self.position.get(slot)
        if at is not None:
            self.until[at] = max(float(self.until[at]), until)
            return False
        if self.size == len(self.slots):
            self.slots = np.concatenate([self.slots, np.zeros(self.size, np.int64)])
            self.until = np.concatenate([self.until, np.zeros(self.size)])
        self.slots[self.size] = slot
        self.until[self.size] = until
        self.position[slot] = self.size
        self.size += 1
        return True

    def drop(self, slot: int) -> None:
        at = self.position.pop(slot)
        last = self.size - 1
        if at != last:
            moved = int(self.slots[last])
            self.slots[at] = moved
            self.until[at] = self.until[last]
            self.position[moved] = at
        self.size = last

    def expired(self, now: float) -> list[int]:
        """Slots whose filter ended by `now`; also tightens `earliest`."""
        if now < self.earliest:
            return []
        ends = self.until[: self.size]
        gone = [int(s) for s in self.slots[: self.size][ends <= now]]
        live = ends[ends > now]
        self.earliest = float(live.min()) if live.size else math.inf
        return gone


class RefuseFilters:
    """All refuse filters, by agent and by client."""

    def __init__(self) -> None:
        self._by_agent: dict[str, dict[GroupKey, _Group]] = {}
        self._by_client: dict[int, set[tuple[str, GroupKey]]] = {}

    def add(
        self, slot: int, role: str, agent_id: str, refused: ReservationMap, until: float
    ) -> None:
        group_key: GroupKey = (role, key(refused))
        groups = self._by_agent.setdefault(agent_id, {})
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = _Group(role, dict(refused))
        if group.put(slot, until):
            self._by_client.setdefault(slot, set()).add((agent_id, group_key))

    def clear_client(self, slot: int) -> None:
        """REVIVE (or the client is gone): drop every filter of the client."""
        for agent_id, group_key in self._by_client.pop(slot, set()):
            groups = self._by_agent[agent_id]
            group = groups[group_key]
            group.drop(slot)
            if group.size == 0:
                del groups[group_key]
                if not groups:
                    del self._by_agent[agent_id]

    def clear_agent(self, agent_id: str) -> None:
        for group_key, group in self._by_agent.pop(agent_id, {}).items():
            for slot in group.position:
                where = self._by_client[slot]
                where.discard((agent_id, group_key))
                if not where:
                    del self._by_client[slot]

    def refused(self, agent_id: str, available: ReservationMap, now: float) -> list[IntArray]:
        """Client slots that must not be offered `available` of this agent at `now`.

        One containment check per group; the returned arrays are views, not to be kept."""
        groups = self._by_agent.get(agent_id)
        if not groups:
            return []
        out: list[IntArray] = []
        for group_key, group in list(groups.items()):
            if now >= group.earliest:
                self._expire(agent_id, group_key, group, now)
                if group.size == 0:
                    continue
            if group.refuses(available):
                out.append(group.slots[: group.size])
        return out

    def is_refused(
        self, slot: int, role: str, agent_id: str, available: ReservationMap, now: float
    ) -> bool:
        for agent, group_key in self._by_client.get(slot, ()):
            if agent != agent_id:
                continue
            group = self._by_agent[agent][group_key]
            until = float(group.until[group.position[slot]])
            if now < until and group.refuses(available):
                return True
        return False

    def count(self, agent_id: str | None = None) -> int:
        """Number of (client, agent, refused set) filters, expired ones included until swept."""
        agents = self._by_agent.values() if agent_id is None else [self._by_agent.get(agent_id, {})]
        return sum(group.size for groups in agents for group in groups.values())

    def _expire(self, agent_id: str, group_key: GroupKey, group: _Group, now: float) -> None:
        for slot in group.expired(now):
            group.drop(slot)
            where = self._by_client[slot]
            where.discard((agent_id, group_key))
            if not where:
                del self._by_client[slot]
        if group.size == 0:
            groups = self._by_agent[agent_id]
            del groups[group_key]
            if not groups:
                del self._by_agent[agent_id]
