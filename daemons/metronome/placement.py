"""Matching offers to runs that wait for a launch. Pure: offers and runs in, a plan out.

A run fits an offer when the offer's unreserved (`*`) cpus, mem and disk cover the run's and
every placement constraint holds:
- the attribute `hostname` (or `@hostname`) is the offer's hostname, anything else an agent
  attribute, as text (`rack:a` -> "a", scalar 2 -> "2", set -> "{a,b}", ranges -> "[1-2,5-6]");
- IS and EQ: equal; LIKE: the whole text matches the regular expression; UNLIKE: it does not.
  A missing attribute satisfies only UNLIKE (as in Marathon).
Runs are placed oldest first, several per offer while resources last, each on the fitting offer
that has taken the fewest runs so far (ties: the order of the offers). A minute's burst of runs
is so spread over every agent that offers room, whose executors then start in parallel (with
first fit, one agent started 100 of them one after another while the other stayed idle).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from daemons.metronome.jobspec import Constraint, RunSpec
from daemons.metronome.runs import JobRun
from daemons.protocols.models import AttributeValue, Offer
from daemons.protocols.resources import EMPTY, UNRESERVED, Resources


def attribute_text(value: AttributeValue) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, frozenset):
        return "{" + ",".join(sorted(value)) + "}"
    return "[" + ",".join(f"{b}-{e}" for b, e in value) + "]"


def _value_of(
    attribute: str, hostname: str, attributes: Mapping[str, AttributeValue]
) -> str | None:
    if attribute in ("hostname", "@hostname"):
        return hostname
    raw = attributes.get(attribute)
    return None if raw is None else attribute_text(raw)


def constraint_met(
    constraint: Constraint, hostname: str, attributes: Mapping[str, AttributeValue]
) -> bool:
    actual = _value_of(constraint.attribute, hostname, attributes)
    if constraint.operator == "UNLIKE":
        return actual is None or re.fullmatch(constraint.value, actual) is None
    if actual is None:
        return False
    if constraint.operator == "LIKE":
        return re.fullmatch(constraint.value, actual) is not None
    return actual == constraint.value  # IS, EQ


def constraints_met(
    constraints: Iterable[Constraint], hostname: str, attributes: Mapping[str, AttributeValue]
) -> bool:
    return all(constraint_met(c, hostname, attributes) for c in constraints)


def demand(run: RunSpec) -> Resources:
    return Resources.of(scalars={"cpus": run.cpus, "mem": run.mem, "disk": run.disk})


def unreserved(offer: Offer) -> Resources:
    return offer.resources.get(UNRESERVED, EMPTY)


@dataclass(frozen=True)
class Placement:
    offer: Offer
    runs: tuple[JobRun, ...]


def plan(offers: Sequence[Offer], waiting: Sequence[JobRun]) -> list[Placement]:
    """Which waiting runs to launch on which offer; offers absent from the result are unused."""
    remaining = {o.id: unreserved(o) for o in offers}
    chosen: dict[str, list[JobRun]] = {}
    for run in sorted(waiting, key=lambda r: (r.created_at, r.id)):
        need = demand(run.job.run)
        fitting = [
            offer
            for offer in offers
            if remaining[offer.id].contains(need)
            and constraints_met(run.job.run.constraints, offer.hostname, offer.attributes)
        ]
        if not fitting:
            continue
        offer = min(fitting, key=lambda o: len(chosen.get(o.id, ())))  # first of the fewest
        remaining[offer.id] = remaining[offer.id] - need
        chosen.setdefault(offer.id, []).append(run)
    return [Placement(o, tuple(chosen[o.id])) for o in offers if o.id in chosen]
