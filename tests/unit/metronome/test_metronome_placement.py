"""Offer matching: unreserved resources, constraints (IS/EQ/LIKE/UNLIKE), oldest runs first."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.mesos_client.events import Offer
from daemons.metronome import runs as r
from daemons.metronome.jobspec import Constraint, JobSpec, RunSpec
from daemons.metronome.placement import attribute_text, constraint_met, plan
from daemons.protocols.resources import Resources


def offer(oid: str, cpus: float = 1.0, mem: float = 256, host: str = "h1", **attrs: Any) -> Offer:
    return Offer(
        id=oid,
        framework_id="f",
        agent_id=f"agent-{oid}",
        hostname=host,
        resources={
            "*": Resources.of(scalars={"cpus": cpus, "mem": mem, "disk": 100}),
            "reserved": Resources.of(scalars={"cpus": 8, "mem": 8192}),
        },
        attributes=attrs,
    )


def run(name: str, created: float, cpus: float = 0.5, mem: float = 64, *c: Constraint) -> r.JobRun:
    spec = JobSpec(name, RunSpec(cpus=cpus, mem=mem, cmd="true", constraints=tuple(c)))
    return r.new_run(spec, created, "AAAAA")


@pytest.mark.parametrize(
    ("constraint", "met"),
    [
        (Constraint("hostname", "IS", "h1"), True),
        (Constraint("hostname", "EQ", "h2"), False),
        (Constraint("@hostname", "LIKE", "h[0-9]"), True),
        (Constraint("hostname", "LIKE", "h"), False),  # the whole value must match
        (Constraint("rack", "IS", "a"), True),
        (Constraint("rack", "UNLIKE", "a|b"), False),
        (Constraint("rack", "UNLIKE", "c"), True),
        (Constraint("zone", "IS", "a"), False),  # a missing attribute meets only UNLIKE
        (Constraint("zone", "UNLIKE", "a"), True),
        (Constraint("level", "IS", "2"), True),  # scalar 2.0 reads as "2"
    ],
)
def test_constraints(constraint: Constraint, met: bool) -> None:
    assert constraint_met(constraint, "h1", {"rack": "a", "level": 2.0}) is met


def test_attribute_text() -> None:
    assert attribute_text(frozenset({"b", "a"})) == "{a,b}"
    assert attribute_text(((1, 2), (5, 6))) == "[1-2,5-6]"
    assert attribute_text(0.5) == "0.5"


def test_oldest_runs_first_spread_over_the_offers_only_unreserved_resources() -> None:
    # Oldest first, each to the offer that has taken the fewest (ties: offer order): a -> o1,
    # b -> o2, c -> o1; d (4 cpus) fits nowhere: 1 cpu unreserved each, the 8 reserved cpus are
    # never used.
    runs = [run("c", 3.0), run("a", 1.0), run("b", 2.0), run("d", 4.0, 4.0)]
    placed = plan([offer("o1"), offer("o2")], runs)
    assert [(p.offer.id, [x.job_id for x in p.runs]) for p in placed] == [
        ("o1", ["a", "c"]),
        ("o2", ["b"]),
    ]


def test_a_burst_is_spread_and_a_full_offer_takes_no_more() -> None:
    # 100 runs of 0.01 cpu over two offers: 50 each. With o1 at 0.1 cpu, it takes 10 and the
    # rest go to o2.
    burst = [run(f"j{i:03d}", float(i), 0.01, 16) for i in range(100)]
    even = plan([offer("o1", mem=4096), offer("o2", mem=4096)], burst)
    assert [(p.offer.id, len(p.runs)) for p in even] == [("o1", 50), ("o2", 50)]
    assert [x.job_id for x in even[0].runs] == [f"j{i:03d}" for i in range(0, 100, 2)]
    lopsided = plan([offer("o1", 0.1, 4096), offer("o2", 2.0, 4096)], burst)
    assert [(p.offer.id, len(p.runs)) for p in lopsided] == [("o1", 10), ("o2", 90)]


def test_constraints_steer_placement_and_unmet_runs_wait() -> None:
    runs = [
        run("on-b", 1.0, 0.1, 32, Constraint("rack", "IS", "b")),
        run("nowhere", 2.0, 0.1, 32, Constraint("rack", "IS", "z")),
    ]
    placed = plan([offer("o1", rack="a"), offer("o2", rack="b")], runs)
    assert [(p.offer.id, [x.job_id for x in p.runs]) for p in placed] == [("o2", ["on-b"])]


def test_memory_must_fit_too() -> None:
    assert plan([offer("o1", mem=32)], [run("big", 1.0, 0.1, 64)]) == []
