"""Marathon placement constraints (`[field, OPERATOR, value?]`). Pure: no I/O, no clock.

Follows Marathon's `mesosphere.mesos.Constraints`: a field is read from the offer and from every
instance already placed (`Placement`), both as text, then the operator compares them. An offer
without the field fails every operator but UNLIKE. Which instances count as placed (Marathon
ignores instances of an older config version) is the caller's choice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from daemons.marathon.model import Constraint
from daemons.protocols.models import AttributeValue

HOSTNAME_FIELDS = frozenset({"hostname", "@hostname"})
REGION_FIELD = "@region"
ZONE_FIELD = "@zone"

# Marathon's getIntValue: "inf" is unbounded, anything unparsable is the default.
_UNBOUNDED = 2**31 - 1


@dataclass(frozen=True)
class Placement:
    """Where one existing instance runs: its agent's hostname, attributes and fault domain."""

    hostname: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    region: str | None = None
    zone: str | None = None


def attribute_text(value: AttributeValue) -> str:
    """An attribute as Marathon compares it: "3" (not "3.0"), "[1-5,8-9]", "{a,b}", or the text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        # Java's NumberFormat as Marathon uses it: at most 3 decimals, no trailing zeros. Its
        # locale grouping ("2,048") is left out: no operator writes constraint values that way.
        if float(value).is_integer():
            return str(int(value))
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, frozenset):
        return "{" + ",".join(sorted(value)) + "}"
    return "[" + ",".join(f"{b}-{e}" for b, e in sorted(value)) + "]"


def field_value(
    field_name: str,
    hostname: str,
    attributes: Mapping[str, AttributeValue],
    *,
    region: str | None = None,
    zone: str | None = None,
) -> str | None:
    """The text a constraint compares, or None when the agent does not have the field.

    `@region`/`@zone` come from the agent's Mesos fault domain (`domain.fault_domain.region.name`
    and `.zone.name`), which is not an attribute: agents without a domain have neither.
    """
    if field_name in HOSTNAME_FIELDS:
        return hostname
    if field_name == REGION_FIELD:
        return region
    if field_name == ZONE_FIELD:
        return zone
    value = attributes.get(field_name)
    return None if value is None else attribute_text(value)


def placed_value(field_name: str, placement: Placement) -> str | None:
    return field_value(
        field_name,
        placement.hostname,
        placement.attributes,
        region=placement.region,
        zone=placement.zone,
    )


def satisfied(
    constraints: Sequence[Constraint],
    hostname: str,
    attributes: Mapping[str, AttributeValue],
    placed: Sequence[Placement],
    *,
    region: str | None = None,
    zone: str | None = None,
) -> Constraint | None:
    """The first constraint an offer from this agent would violate, or None when all hold."""
    for constraint in constraints:
        offered = field_value(constraint.field, hostname, attributes, region=region, zone=zone)
        values = [placed_value(constraint.field, p) for p in placed]
        if not meets(constraint, offered, values):
            return constraint
    return None


def meets(constraint: Constraint, offered: str | None, placed: Sequence[str | None]) -> bool:
    """One constraint: `offered` is the offer's field value, `placed` those of placed instances."""
    if offered is None:
        # Only UNLIKE can hold on an agent without the field (it cannot match the pattern).
        return constraint.operator == "UNLIKE"
    check = _OPERATORS.get(constraint.operator)
    return check is not None and check(offered, constraint.value or "", placed)


def _unique(offered: str, _value: str, placed: Sequence[str | None]) -> bool:
    return offered not in placed


def _cluster(offered: str, value: str, placed: Sequence[str | None]) -> bool:
    # Without a value the first placement picks the value every later instance must share.
    if value:
        return offered == value
    return all(p == offered for p in placed)


def _group_by(offered: str, value: str, placed: Sequence[str | None]) -> bool:
    # Spread evenly: a value not used yet is always fine; a used one only when at least
    # `value` groups exist and it holds the fewest instances (Marathon counts instances
    # without the field as a group of their own, and so does this).
    groups = Counter(placed)
    if offered not in groups:
        return True
    minimum = max(0, _int_value(value, 0))
    return len(groups) >= minimum and groups[offered] == min(groups.values())


def _max_per(offered: str, value: str, placed: Sequence[str | None]) -> bool:
    return placed.count(offered) < _int_value(value, 0)


def _like(offered: str, value: str, _placed: Sequence[str | None]) -> bool:
    return bool(value) and _full_match(value, offered) is True


def _unlike(offered: str, value: str, _placed: Sequence[str | None]) -> bool:
    # An empty or invalid pattern is an error in Marathon: the constraint never holds.
    return bool(value) and _full_match(value, offered) is False


def _is(offered: str, value: str, _placed: Sequence[str | None]) -> bool:
    return offered == value


_OPERATORS: dict[str, Callable[[str, str, Sequence[str | None]], bool]] = {
    "UNIQUE": _unique,
    "CLUSTER": _cluster,
    "GROUP_BY": _group_by,
    "MAX_PER": _max_per,
    "LIKE": _like,
    "UNLIKE": _unlike,
    "IS": _is,
}


def _full_match(pattern: str, text: str) -> bool | None:
    """Java's `String.matches` (the whole text); None when the pattern does not compile."""
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return None


def _int_value(text: str, default: int) -> int:
    if text == "inf":
        return _UNBOUNDED
    try:
        return int(text)
    except ValueError:
        return default
