"""Mesos resources as immutable values. Pure: no I/O, no clock.

A `Resources` value holds unreserved-or-one-role quantities: scalars (cpus, mem, disk, gpus, in
Mesos units: cores and MB), ranges (ports) and sets. Reservations are kept outside it, as a map
role -> Resources (role "*" is unreserved), which is what `from_v1` returns.

Scalars are rounded to 3 decimals after every operation, as Mesos' fixed-point Value.Scalar does,
so 0.1 + 0.2 compares equal to 0.3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from daemons.protocols import JSON

Range = tuple[int, int]

UNRESERVED = "*"
_SCALAR_DIGITS = 3


def _round(value: float) -> float:
    return round(value + 0.0, _SCALAR_DIGITS)


def _normalise_ranges(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sort and coalesce overlapping or adjacent ranges: [1-3],[4-5] -> [1-5]."""
    merged: list[list[int]] = []
    for begin, end in sorted(ranges):
        if begin > end:
            raise ValueError(f"range begin {begin} is greater than end {end}")
        if merged and begin <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return tuple((b, e) for b, e in merged)


def _subtract_ranges(left: tuple[Range, ...], right: tuple[Range, ...]) -> tuple[Range, ...]:
    out: list[Range] = []
    for begin, end in left:
        pieces = [(begin, end)]
        for rb, re_ in right:
            next_pieces: list[Range] = []
            for pb, pe in pieces:
                if re_ < pb or rb > pe:
                    next_pieces.append((pb, pe))
                    continue
                if rb > pb:
                    next_pieces.append((pb, rb - 1))
                if re_ < pe:
                    next_pieces.append((re_ + 1, pe))
            pieces = next_pieces
        out.extend(pieces)
    return _normalise_ranges(out)


def _ranges_contain(outer: tuple[Range, ...], inner: tuple[Range, ...]) -> bool:
    return all(any(ob <= b and e <= oe for ob, oe in outer) for b, e in inner)


def ranges_size(ranges: tuple[Range, ...]) -> int:
    return sum(e - b + 1 for b, e in ranges)


@dataclass(frozen=True, slots=True)
class Resources:
    """Quantities of one reservation (role). Empty entries are never stored."""

    scalars: Mapping[str, float] = field(default_factory=dict)
    ranges: Mapping[str, tuple[Range, ...]] = field(default_factory=dict)
    sets: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @staticmethod
    def of(
        scalars: Mapping[str, float] | None = None,
        ranges: Mapping[str, Iterable[Range]] | None = None,
        sets: Mapping[str, Iterable[str]] | None = None,
    ) -> Resources:
        return Resources(
            scalars={k: q for k, v in (scalars or {}).items() if (q := _round(v)) != 0.0},
            ranges={k: r for k, v in (ranges or {}).items() if (r := _normalise_ranges(v))},
            sets={k: s for k, v in (sets or {}).items() if (s := frozenset(v))},
        )

    def __add__(self, other: Resources) -> Resources:
        scalars = dict(self.scalars)
        for k, v in other.scalars.items():
            scalars[k] = scalars.get(k, 0.0) + v
        ranges: dict[str, list[Range]] = {k: list(v) for k, v in self.ranges.items()}
        for k, rv in other.ranges.items():
            ranges.setdefault(k, []).extend(rv)
        sets: dict[str, set[str]] = {k: set(v) for k, v in self.sets.items()}
        for k, sv in other.sets.items():
            sets.setdefault(k, set()).update(sv)
        return Resources.of(scalars, ranges, sets)

    def __sub__(self, other: Resources) -> Resources:
        """Difference, clamped at zero (Mesos never holds negative quantities)."""
        scalars = {k: max(0.0, v - other.scalars.get(k, 0.0)) for k, v in self.scalars.items()}
        ranges = {
            k: _subtract_ranges(v, other.ranges[k]) if k in other.ranges else v
            for k, v in self.ranges.items()
        }
        sets = {k: v - other.sets.get(k, frozenset()) for k, v in self.sets.items()}
        return Resources.of(scalars, ranges, sets)

    def contains(self, other: Resources) -> bool:
        """True when every quantity of `other` fits inside this value."""
        for k, v in other.scalars.items():
            if _round(self.scalars.get(k, 0.0) - v) < 0.0:
                return False
        for k, rv in other.ranges.items():
            if not _ranges_contain(self.ranges.get(k, ()), rv):
                return False
        return all(sv <= self.sets.get(k, frozenset()) for k, sv in other.sets.items())

    def is_empty(self) -> bool:
        return not (self.scalars or self.ranges or self.sets)

    def scalar(self, name: str) -> float:
        return self.scalars.get(name, 0.0)

    def key(self) -> tuple[object, ...]:
        """A hashable form, for grouping equal values."""
        return (
            tuple(sorted(self.scalars.items())),
            tuple(sorted(self.ranges.items())),
            tuple(sorted((k, tuple(sorted(v))) for k, v in self.sets.items())),
        )


EMPTY = Resources()


def total(resources: Iterable[Resources]) -> Resources:
    """Sum of many values in one pass (one normalisation at the end, not one per addition)."""
    scalars: dict[str, float] = {}
    ranges: dict[str, list[Range]] = {}
    sets: dict[str, set[str]] = {}
    for r in resources:
        for k, v in r.scalars.items():
            scalars[k] = scalars.get(k, 0.0) + v
        for k, rv in r.ranges.items():
            ranges.setdefault(k, []).extend(rv)
        for k, sv in r.sets.items():
            sets.setdefault(k, set()).update(sv)
    return Resources.of(scalars, ranges, sets)


def flatten(by_role: Mapping[str, Resources]) -> Resources:
    """All roles' quantities together."""
    return total(by_role.values())


# --- Mesos v1 JSON (`[{"name":..,"type":..,"scalar":{..},"role":..}]`) -------------------------


def _resource_role(item: Mapping[str, Any]) -> str:
    reservations = item.get("reservations")
    if isinstance(reservations, list) and reservations:
        last = reservations[-1]
        if isinstance(last, dict) and isinstance(last.get("role"), str):
            return str(last["role"])
    role = item.get("role", UNRESERVED)
    return role if isinstance(role, str) and role else UNRESERVED


def from_v1(items: Any) -> dict[str, Resources]:
    """Parse a v1 `Resource` list into role -> Resources. Raises ValueError on a malformed item."""
    if items is None:
        return {}
    if not isinstance(items, list):
        raise ValueError("resources must be a list")
    scalars: dict[str, dict[str, float]] = {}
    ranges: dict[str, dict[str, list[Range]]] = {}
    sets: dict[str, dict[str, list[str]]] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError("each resource needs a string 'name'")
        name, kind, role = item["name"], item.get("type", "SCALAR"), _resource_role(item)
        if kind == "SCALAR":
            value = (item.get("scalar") or {}).get("value")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"resource {name!r} needs a non-negative scalar value")
            bucket = scalars.setdefault(role, {})
            bucket[name] = bucket.get(name, 0.0) + float(value)
        elif kind == "RANGES":
            raw = (item.get("ranges") or {}).get("range") or []
            parsed: list[Range] = []
            for r in raw:
                begin, end = r.get("begin"), r.get("end")
                if not isinstance(begin, int) or not isinstance(end, int) or begin > end:
                    raise ValueError(f"resource {name!r} has a malformed range")
                parsed.append((begin, end))
            ranges.setdefault(role, {}).setdefault(name, []).extend(parsed)
        elif kind == "SET":
            items_ = (item.get("set") or {}).get("item") or []
            if not all(isinstance(i, str) for i in items_):
                raise ValueError(f"resource {name!r} has a malformed set")
            sets.setdefault(role, {}).setdefault(name, []).extend(items_)
        else:
            raise ValueError(f"resource {name!r} has unknown type {kind!r}")
    roles = set(scalars) | set(ranges) | set(sets)
    return {
        role: Resources.of(scalars.get(role), ranges.get(role), sets.get(role)) for role in roles
    }


def to_v1(res: Resources, role: str = UNRESERVED, allocation_role: str | None = None) -> list[JSON]:
    """Render as a v1 `Resource` list; `allocation_role` adds `allocation_info` (offers, tasks)."""
    out: list[JSON] = []

    def decorate(item: JSON) -> JSON:
        item["role"] = role
        if role != UNRESERVED:
            item["reservations"] = [{"type": "STATIC", "role": role}]
        if allocation_role is not None:
            item["allocation_info"] = {"role": allocation_role}
        return item

    for name, value in sorted(res.scalars.items()):
        out.append(decorate({"name": name, "type": "SCALAR", "scalar": {"value": value}}))
    for name, rv in sorted(res.ranges.items()):
        rng = [{"begin": b, "end": e} for b, e in rv]
        out.append(decorate({"name": name, "type": "RANGES", "ranges": {"range": rng}}))
    for name, sv in sorted(res.sets.items()):
        out.append(decorate({"name": name, "type": "SET", "set": {"item": sorted(sv)}}))
    return out


def by_role_to_v1(
    by_role: Mapping[str, Resources], allocation_role: str | None = None
) -> list[JSON]:
    out: list[JSON] = []
    for role in sorted(by_role):
        out.extend(to_v1(by_role[role], role, allocation_role))
    return out


def format_ranges(ranges: tuple[Range, ...]) -> str:
    return "[" + ", ".join(f"{b}-{e}" for b, e in ranges) + "]"


def to_state_map(res: Resources) -> JSON:
    """The flat map `/master/state` uses: cpus/gpus/mem/disk always present, ranges as strings."""
    out: JSON = {"cpus": 0.0, "gpus": 0.0, "mem": 0.0, "disk": 0.0}
    out.update(res.scalars)
    for name, rv in res.ranges.items():
        out[name] = format_ranges(rv)
    for name, sv in res.sets.items():
        out[name] = "{" + ",".join(sorted(sv)) + "}"
    return out


_RANGE_TEXT = re.compile(r"^\[(.*)\]$")
_ROLE_SUFFIX = re.compile(r"^([a-zA-Z0-9_.\-/]+)(?:\(([^)]*)\))?$")


def parse_text(text: str) -> dict[str, Resources]:
    """Parse the agent flag form `cpus:2;mem:1024;ports(role):[31000-32000];disks:{a,b}`."""
    scalars: dict[str, dict[str, float]] = {}
    ranges: dict[str, dict[str, list[Range]]] = {}
    sets: dict[str, dict[str, list[str]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name_part, sep, value = part.partition(":")
        m = _ROLE_SUFFIX.match(name_part.strip())
        if not sep or not m:
            raise ValueError(f"malformed resource {part!r}")
        name, role = m.group(1), m.group(2) or UNRESERVED
        value = value.strip()
        if (rm := _RANGE_TEXT.match(value)) is not None:
            for piece in filter(None, (p.strip() for p in rm.group(1).split(","))):
                b, _, e = piece.partition("-")
                ranges.setdefault(role, {}).setdefault(name, []).append((int(b), int(e or b)))
        elif value.startswith("{") and value.endswith("}"):
            items = [i.strip() for i in value[1:-1].split(",") if i.strip()]
            sets.setdefault(role, {}).setdefault(name, []).extend(items)
        else:
            number = float(value)
            if number < 0:
                raise ValueError(f"negative quantity in {part!r}")
            scalars.setdefault(role, {})[name] = scalars.get(role, {}).get(name, 0.0) + number
    roles = set(scalars) | set(ranges) | set(sets)
    return {
        role: Resources.of(scalars.get(role), ranges.get(role), sets.get(role)) for role in roles
    }
