"""What the allocator takes and hands out, and the errors it raises. Pure values."""

from __future__ import annotations

from collections.abc import Mapping, MutableSequence
from dataclasses import dataclass
from typing import Any, Protocol

from daemons.master.allocation.reservations import flatten
from daemons.protocols.resources import Resources

# Mesos' default --min_allocatable_resources: an offer must hold cpus:0.01 OR mem:32.
DEFAULT_MIN_ALLOCATABLE: tuple[Resources, ...] = (
    Resources.of({"cpus": 0.01}),
    Resources.of({"mem": 32.0}),
)


@dataclass(frozen=True, slots=True)
class Allocation:
    """Resources of one agent allocated to one framework under one role (an offer's content).

    `resources` is a reservation map: "*" is the unreserved part, `role` the part reserved for
    the role. Not hashable (it holds a mapping)."""

    framework_id: str
    agent_id: str
    role: str
    resources: Mapping[str, Resources]

    @property
    def flat(self) -> Resources:
        """All quantities together, reservations merged."""
        return flatten(self.resources)


class Shuffler(Protocol):
    """Anything with `shuffle(list)`, e.g. a `random.Random` the caller seeded."""

    def shuffle(self, x: MutableSequence[Any], /) -> None: ...


class AllocatorError(Exception):
    """Base of the allocator's errors; the master maps them to its own error tree."""


class UnknownAgent(AllocatorError, KeyError):
    """No agent with this id is known to the allocator."""


class UnknownFramework(AllocatorError, KeyError):
    """No framework with this id is known to the allocator."""


class DuplicateAgent(AllocatorError, ValueError):
    """An agent with this id was already added."""
