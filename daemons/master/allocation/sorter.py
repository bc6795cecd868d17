"""The DRF sorter: which client (framework, role) gets an agent next. Pure, numpy-backed.

A client is one framework subscribed to one role. Mesos sorts in two levels: roles by their
weighted dominant share, then the frameworks inside the chosen role by their own dominant share.
Both shares are taken of the cluster total (scalar kinds only):

    dominant_share(x) = max_k  allocated_k(x) / total_k        (kinds with total_k > 0)
    role order key    = (dominant_share(role) / weight(role), role name)
    client order key  = (dominant_share(client), framework insertion order)

Per-client state lives in parallel arrays indexed by a client slot, so the lowest-sorting client
among a candidate mask is found with a few vectorised numpy operations (`pick`), without
sorting: a masked minimum of the role key, then of the role name's rank (ties), then of the
client share, then of the insertion order (ties). Keeping shares current costs O(kinds) per
allocation change; a change of the cluster total marks every share stale and they are
recomputed together on the next read.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from daemons.master.allocation.reservations import SCALAR_KINDS, Vector

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_KINDS = len(SCALAR_KINDS)
_NO_RANK = np.iinfo(np.int64).max


def dominant_share(allocated: Vector, inverse_total: Vector) -> float:
    """max_k allocated_k / total_k, with `inverse_total` = 1/total (0 where total is 0)."""
    return float((allocated * inverse_total).max(initial=0.0))


class DRFSorter:
    """Two-level DRF order over client slots. Slots are reused after `remove_client`."""

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        self._capacity = 0
        self._share = np.zeros(0)
        self._allocated = np.zeros((0, _KINDS))
        self._role_of: IntArray = np.zeros(0, np.int64)
        self._seq: IntArray = np.zeros(0, np.int64)
        self._eligible: BoolArray = np.zeros(0, np.bool_)
        self._free: list[int] = []
        self._next_slot = 0
        self._grow(64)
        # Roles are never forgotten; a role's index is its position in `_role_names`.
        self._role_index: dict[str, int] = {}
        self._role_names: list[str] = []
        self._role_allocated = np.zeros((0, _KINDS))
        self._role_share = np.zeros(0)
        self._role_clients: list[int] = []
        self._role_weight = np.zeros(0)
        self._weights: dict[str, float] = {}
        self._live_roles = 0
        # Rank of each client's role name (for role ties); rebuilt when a role or client comes.
        self._name_rank: IntArray = np.zeros(0, np.int64)
        self._name_rank_stale = True
        self._inverse_total = np.zeros(_KINDS)
        self._shares_stale = False
        self.set_weights(weights or {})

    # --- clients -----------------------------------------------------------------------------

    @property
    def eligible(self) -> BoolArray:
        """Clients that may be offered at all (active, subscribed, not suppressed). Read-only."""
        return self._eligible

    @property
    def role_of(self) -> IntArray:
        """Role index of each client slot."""
        return self._role_of

    def add_client(self, seq: int, role: str) -> int:
        """A new client with nothing allocated, not yet eligible. `seq` breaks share ties."""
        if self._free:
            slot = self._free.pop()
        else:
            if self._next_slot == self._capacity:
                self._grow(self._capacity * 2)
            slot = self._next_slot
            self._next_slot += 1
        index = self._ensure_role(role)
        self._role_of[slot] = index
        self._seq[slot] = seq
        self._allocated[slot] = 0.0
        self._share[slot] = 0.0
        self._eligible[slot] = False
        self._role_clients[index] += 1
        if self._role_clients[index] == 1:
            self._live_roles += 1
        self._name_rank_stale = True
        return slot

    def remove_client(self, slot: int) -> None:
        """Forget a client; what it still held is taken off its role."""
        index = int(self._role_of[slot])
        self._change_role(index, -self._allocated[slot])
        self._allocated[slot] = 0.0
        self._share[slot] = 0.0
        self._eligible[slot] = False
        self._role_clients[index] -= 1
        if self._role_clients[index] == 0:
            self._live_roles -= 1
        self._free.append(slot)

    def set_eligible(self, slot: int, eligible: bool) -> None:
        self._eligible[slot] = eligible

    def role_name(self, slot: int) -> str:
        return self._role_names[int(self._role_of[slot])]

    def role_index(self, role: str) -> int | None:
        return self._role_index.get(role)

    def role_count(self) -> int:
        return len(self._role_names)

    # --- allocation and totals ---------------------------------------------------------------

    def allocated(self, slot: int, amount: Vector) -> None:
        """`amount` more is held by the client (offered or in use)."""
        self._change(slot, amount)

    def unallocated(self, slot: int, amount: Vector) -> None:
        """`amount` was given back by the client."""
        self._change(slot, -amount)

    def client_allocation(self, slot: int) -> Vector:
        row: Vector = self._allocated[slot].copy()
        return row

    def set_total(self, total: Vector) -> None:
        """The cluster total changed: every share is recomputed lazily."""
        with np.errstate(divide="ignore"):
            self._inverse_total = np.where(total > 0.0, 1.0 / np.maximum(total, 1e-300), 0.0)
        self._shares_stale = True

    def set_weights(self, weights: Mapping[str, float]) -> None:
        for role, weight in weights.items():
            if not weight > 0.0:
                raise ValueError(f"weight of role {role!r} must be positive, got {weight}")
        self._weights = dict(weights)
        self._role_weight = np.array([self._weights.get(n, 1.0) for n in self._role_names])

    def share_of(self, allocated: Vector) -> float:
        return dominant_share(allocated, self._inverse_total)

    def client_share(self, slot: int) -> float:
        self._refresh()
        return float(self._share[slot])

    def role_shares(self) -> dict[str, float]:
        """Unweighted dominant share of every role that has clients or holds something."""
        self._refresh()
        return {
            name: float(self._role_share[i])
            for i, name in enumerate(self._role_names)
            if self._role_clients[i] > 0 or self._role_allocated[i].any()
        }

    # --- the order ---------------------------------------------------------------------------

    def pick(self, candidates: BoolArray) -> int | None:
        """The first client in DRF order among `candidates` (a mask over slots), or None."""
        self._refresh()
        if self._live_roles > 1:
            # Level 1: the roles with the lowest share / weight, then the first by name.
            role_key = (self._role_share / self._role_weight)[self._role_of]
            keys = np.where(candidates, role_key, np.inf)
            lowest_key = keys.min()
            if lowest_key == np.inf:
                return None
            candidates = keys == lowest_key
            names = np.where(candidates, self._name_ranks(), _NO_RANK)
            candidates = names == names.min()
        # Level 2: the client with the lowest share in that role, then the first added.
        shares = np.where(candidates, self._share, np.inf)
        slot = int(shares.argmin())
        lowest = shares[slot]
        if lowest == np.inf:
            return None
        ties = np.flatnonzero(shares == lowest)
        if ties.size > 1:
            slot = int(ties[self._seq[ties].argmin()])
        return slot

    # --- internals ---------------------------------------------------------------------------

    def _change(self, slot: int, delta: Vector) -> None:
        row = self._allocated[slot]
        row += delta
        np.maximum(row, 0.0, out=row)  # float drift must not make a share negative
        if not self._shares_stale:
            self._share[slot] = dominant_share(row, self._inverse_total)
        self._change_role(int(self._role_of[slot]), delta)

    def _change_role(self, index: int, delta: Vector) -> None:
        row = self._role_allocated[index]
        row += delta
        np.maximum(row, 0.0, out=row)
        if not self._shares_stale:
            self._role_share[index] = dominant_share(row, self._inverse_total)

    def _refresh(self) -> None:
        if self._shares_stale:
            self._share = (self._allocated * self._inverse_total).max(axis=1, initial=0.0)
            self._role_share = (self._role_allocated * self._inverse_total).max(axis=1, initial=0.0)
            self._shares_stale = False

    def _name_ranks(self) -> IntArray:
        if self._name_rank_stale:
            order = sorted(range(len(self._role_names)), key=self._role_names.__getitem__)
            role_rank = np.empty(len(order), np.int64)
            role_rank[order] = np.arange(len(order))
            self._name_rank = role_rank[self._role_of]
            self._name_rank_stale = False
        return self._name_rank

    def _ensure_role(self, role: str) -> int:
        index = self._role_index.get(role)
        if index is None:
            index = len(self._role_names)
            self._role_index[role] = index
            self._role_names.append(role)
            self._role_clients.append(0)
            self._role_allocated = np.vstack([self._role_allocated, np.zeros((1, _KINDS))])
            self._role_share = np.append(self._role_share, 0.0)
            self._role_weight = np.append(self._role_weight, self._weights.get(role, 1.0))
        return index

    def _grow(self, capacity: int) -> None:
        extra = capacity - self._capacity
        self._share = np.concatenate([self._share, np.zeros(extra)])
        self._allocated = np.vstack([self._allocated, np.zeros((extra, _KINDS))])
        self._role_of = np.concatenate([self._role_of, np.zeros(extra, np.int64)])
        self._seq = np.concatenate([self._seq, np.zeros(extra, np.int64)])
        self._eligible = np.concatenate([self._eligible, np.zeros(extra, np.bool_)])
        self._capacity = capacity
        self._name_rank_stale = True
