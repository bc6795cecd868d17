"""Offer allocation for the master: Mesos' hierarchical DRF allocator as a pure core.

Owns: agents' free resources, frameworks' allocations (offered + used), two-level DRF order
(roles by weighted dominant share, frameworks within a role), refuse filters, suppression.
Must not import: time, random, os, socket, threading, subprocess, flask, kazoo (a unit test
checks). The clock (`now`) and the agent shuffle (`rng`) come in as arguments; numpy is used for
the per-client arrays.

Modules: `reservations` (reservation-map arithmetic), `sorter` (DRF order), `filters` (refuse
filters), `model` (Allocation, Shuffler, errors), `state` (agent and framework
records), `allocator` (the Allocator that ties them together). This package only re-exports
them: a submodule imports its siblings by their full names, never the package itself.
"""

from daemons.master.allocation.allocator import Allocator
from daemons.master.allocation.filters import MAX_REFUSE_SECONDS
from daemons.master.allocation.model import (
    DEFAULT_MIN_ALLOCATABLE,
    Allocation,
    AllocatorError,
    DuplicateAgent,
    Shuffler,
    UnknownAgent,
    UnknownFramework,
)
from daemons.master.allocation.reservations import SCALAR_KINDS, ReservationMap

__all__ = [
    "DEFAULT_MIN_ALLOCATABLE",
    "MAX_REFUSE_SECONDS",
    "SCALAR_KINDS",
    "Allocation",
    "Allocator",
    "AllocatorError",
    "DuplicateAgent",
    "ReservationMap",
    "Shuffler",
    "UnknownAgent",
    "UnknownFramework",
]
