"""The allocator's private records of agents and frameworks (mutable, owned by `Allocator`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from daemons.master.allocation.reservations import Vector
from daemons.protocols.resources import Resources


@dataclass(eq=False, slots=True)
class AgentState:
    """One agent as the allocator sees it."""

    agent_id: str
    total: dict[str, Resources]
    available: dict[str, Resources]
    vector: Vector  # scalar total, for the cluster total
    active: bool = True
    # Memo of the last min_allocatable check, by identity of the immutable value checked.
    allocatable: tuple[Resources | None, bool] = (None, False)
    held: dict[int, dict[str, Resources]] = field(default_factory=dict)  # client slot -> held


@dataclass(eq=False, slots=True)
class FrameworkState:
    """One framework as the allocator sees it; each role it uses is a sorter client."""

    framework_id: str
    seq: int
    active: bool
    roles: tuple[str, ...] = ()
    suppressed: set[str] = field(default_factory=set)
    # role -> client slot: subscribed roles, plus unsubscribed ones still holding resources.
    clients: dict[str, int] = field(default_factory=dict)
