"""Arithmetic over reservation maps (reservation role -> Resources). Pure.

An agent's total, its available part, an offer and a framework's allocation on one agent are all
reservation maps: role "*" holds the unreserved part, any other key the part reserved for that
role. Empty entries are never stored, so `not m` means "nothing". Scalars for DRF come out as a
fixed-order numpy vector over `SCALAR_KINDS`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from daemons.protocols.resources import EMPTY, UNRESERVED, Resources

ReservationMap = Mapping[str, Resources]
Vector = npt.NDArray[np.float64]

# DRF only weighs these scalar kinds (as Mesos' sorter does for the usual agent resources).
SCALAR_KINDS: tuple[str, ...] = ("cpus", "mem", "disk", "gpus")


def normalise(m: ReservationMap) -> dict[str, Resources]:
    """Drop empty entries."""
    return {role: res for role, res in m.items() if not res.is_empty()}


def add(a: ReservationMap, b: ReservationMap) -> dict[str, Resources]:
    out = dict(a)
    for role, res in b.items():
        mine = out.get(role)
        out[role] = res if mine is None else mine + res
    return normalise(out)


def subtract(a: ReservationMap, b: ReservationMap) -> dict[str, Resources]:
    """a - b per role, clamped at zero."""
    out = dict(a)
    for role, res in b.items():
        mine = out.get(role)
        if mine is not None:
            out[role] = mine - res
    return normalise(out)


def intersect(a: ReservationMap, b: ReservationMap) -> dict[str, Resources]:
    """The part of `a` that is also in `b`: a ∩ b = a - (a - b), per role and per kind."""
    out: dict[str, Resources] = {}
    for role, mine in a.items():
        theirs = b.get(role)
        if theirs is not None:
            out[role] = mine - (mine - theirs)
    return normalise(out)


def flatten(m: ReservationMap) -> Resources:
    out = EMPTY
    for res in m.values():
        out = res if out.is_empty() else out + res
    return out


def for_role(available: ReservationMap, role: str) -> dict[str, Resources]:
    """What an allocation role may take: unreserved plus the role's own reservation."""
    out: dict[str, Resources] = {}
    unreserved = available.get(UNRESERVED)
    if unreserved is not None:
        out[UNRESERVED] = unreserved
    reserved = available.get(role)
    if reserved is not None:
        out[role] = reserved
    return out


def split(flat: Resources, role: str, pool: ReservationMap) -> dict[str, Resources]:
    """Attribute a flat value held by allocation `role` to reservations: take from `pool[role]`
    first (as far as each kind fits), the rest counts as unreserved."""
    reserved = pool.get(role) if role != UNRESERVED else None
    if reserved is None:
        return normalise({UNRESERVED: flat})
    from_reserved = reserved - (reserved - flat)
    return normalise({role: from_reserved, UNRESERVED: flat - from_reserved})


def key(m: ReservationMap) -> tuple[object, ...]:
    """Hashable form, for grouping equal maps."""
    return tuple(sorted((role, res.key()) for role, res in m.items() if not res.is_empty()))


def vector(m: ReservationMap) -> Vector:
    """Scalar quantities summed over roles, in `SCALAR_KINDS` order."""
    values = [0.0] * len(SCALAR_KINDS)  # Python floats first: item-wise numpy writes are slow
    for res in m.values():
        scalars = res.scalars
        for i, kind in enumerate(SCALAR_KINDS):
            values[i] += scalars.get(kind, 0.0)
    return np.array(values)
