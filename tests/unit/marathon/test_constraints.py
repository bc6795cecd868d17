"""Marathon placement constraints: one table per operator, fields, attribute types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from daemons.marathon.constraints import (
    Placement,
    attribute_text,
    field_value,
    meets,
    satisfied,
)
from daemons.marathon.model import Constraint
from daemons.mesos_client.events import AttributeValue, parse_offer


def at(host: str, **attributes: AttributeValue) -> Placement:
    return Placement(host, attributes)


def ok(
    constraint: Constraint,
    hostname: str,
    attributes: Mapping[str, AttributeValue],
    placed: Sequence[Placement] = (),
) -> bool:
    return satisfied([constraint], hostname, attributes, placed) is None


# --- field values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("rack-1", "rack-1"),
        (3.0, "3"),
        (3.5, "3.5"),
        (0.125, "0.125"),
        (2048.0, "2048"),
        (((8, 9), (1, 5)), "[1-5,8-9]"),
        (frozenset({"b", "a"}), "{a,b}"),
    ],
)
def test_attributes_read_as_marathon_writes_them(value: AttributeValue, text: str) -> None:
    assert attribute_text(value) == text


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("hostname", "a1.example"),
        ("@hostname", "a1.example"),
        ("@region", "eu-west"),
        ("@zone", "eu-west-1a"),
        ("rack", "r1"),
        ("cores", "8"),
        ("missing", None),
    ],
)
def test_field_values(field: str, expected: str | None) -> None:
    attributes: dict[str, AttributeValue] = {"rack": "r1", "cores": 8.0}
    got = field_value(field, "a1.example", attributes, region="eu-west", zone="eu-west-1a")
    assert got == expected


def test_agents_without_a_fault_domain_have_no_region_or_zone() -> None:
    assert field_value("@region", "h", {"region": "x"}) is None
    assert field_value("@zone", "h", {"zone": "x"}) is None


def test_attributes_parsed_from_a_v1_offer_are_compared_as_text() -> None:
    offer = parse_offer(
        {
            "id": {"value": "o1"},
            "framework_id": {"value": "f1"},
            "agent_id": {"value": "a1"},
            "hostname": "h1",
            "attributes": [
                {"name": "level", "type": "SCALAR", "scalar": {"value": 3}},
                {"name": "disks", "type": "SET", "set": {"item": ["ssd", "hdd"]}},
            ],
        }
    )
    is_3 = Constraint("level", "IS", "3")
    assert satisfied([is_3], offer.hostname, offer.attributes, []) is None
    assert ok(Constraint("disks", "IS", "{hdd,ssd}"), offer.hostname, offer.attributes)


# --- operators ---------------------------------------------------------------------------------

RACK_A = {"rack": "a"}
RACK_B = {"rack": "b"}
NO_RACK: dict[str, AttributeValue] = {}


@pytest.mark.parametrize(
    ("constraint", "host", "attributes", "placed", "expected"),
    [
        # UNIQUE: no placed instance shares the value; an agent without the field fails
        (Constraint("hostname", "UNIQUE"), "h1", NO_RACK, [], True),
        (Constraint("hostname", "UNIQUE"), "h1", NO_RACK, [at("h2")], True),
        (Constraint("hostname", "UNIQUE"), "h1", NO_RACK, [at("h2"), at("h1")], False),
        (Constraint("rack", "UNIQUE"), "h1", RACK_A, [at("h2", rack="b")], True),
        (Constraint("rack", "UNIQUE"), "h1", RACK_A, [at("h2", rack="a")], False),
        (Constraint("rack", "UNIQUE"), "h1", NO_RACK, [], False),
        # CLUSTER with a value: the field equals it
        (Constraint("rack", "CLUSTER", "a"), "h1", RACK_A, [], True),
        (Constraint("rack", "CLUSTER", "a"), "h1", RACK_B, [], False),
        (Constraint("rack", "CLUSTER", "a"), "h1", NO_RACK, [], False),
        (Constraint("hostname", "CLUSTER", "h1"), "h1", NO_RACK, [], True),
        # CLUSTER without a value: the first placement decides
        (Constraint("rack", "CLUSTER"), "h1", RACK_B, [], True),
        (Constraint("rack", "CLUSTER", ""), "h1", RACK_B, [at("h2", rack="b")], True),
        (Constraint("rack", "CLUSTER"), "h1", RACK_B, [at("h2", rack="a")], False),
        (Constraint("hostname", "CLUSTER"), "h1", NO_RACK, [at("h1"), at("h1")], True),
        (Constraint("hostname", "CLUSTER"), "h1", NO_RACK, [at("h2")], False),
        # IS: exact text
        (Constraint("rack", "IS", "a"), "h1", RACK_A, [], True),
        (Constraint("rack", "IS", "A"), "h1", RACK_A, [], False),
        (Constraint("rack", "IS", "a"), "h1", NO_RACK, [], False),
        # LIKE: the whole value matches; a missing field fails
        (Constraint("hostname", "LIKE", "h[0-9]+"), "h12", NO_RACK, [], True),
        (Constraint("hostname", "LIKE", "h[0-9]"), "h12", NO_RACK, [], False),
        (Constraint("rack", "LIKE", "a|b"), "h1", RACK_B, [], True),
        (Constraint("rack", "LIKE", ".*"), "h1", NO_RACK, [], False),
        (Constraint("rack", "LIKE"), "h1", RACK_A, [], False),
        (Constraint("rack", "LIKE", "(unclosed"), "h1", RACK_A, [], False),
        # UNLIKE: no full match; a missing field passes
        (Constraint("hostname", "UNLIKE", "h1"), "h12", NO_RACK, [], True),
        (Constraint("hostname", "UNLIKE", "h1.*"), "h12", NO_RACK, [], False),
        (Constraint("rack", "UNLIKE", "a"), "h1", NO_RACK, [], True),
        (Constraint("rack", "UNLIKE"), "h1", RACK_A, [], False),
        # MAX_PER n: fewer than n already placed with this value
        (Constraint("rack", "MAX_PER", "2"), "h1", RACK_A, [at("h2", rack="a")], True),
        (
            Constraint("rack", "MAX_PER", "2"),
            "h1",
            RACK_A,
            [at("h2", rack="a"), at("h3", rack="a")],
            False,
        ),
        (Constraint("rack", "MAX_PER", "1"), "h1", RACK_B, [at("h2", rack="a")], True),
        (Constraint("hostname", "MAX_PER", "1"), "h1", NO_RACK, [at("h1")], False),
        (Constraint("rack", "MAX_PER", "inf"), "h1", RACK_A, [at("h2", rack="a")] * 5, True),
        (Constraint("rack", "MAX_PER", "2"), "h1", NO_RACK, [], False),
        # an operator Marathon does not know never holds
        (Constraint("rack", "NEAR", "a"), "h1", RACK_A, [], False),
    ],
)
def test_operators(
    constraint: Constraint,
    host: str,
    attributes: Mapping[str, AttributeValue],
    placed: Sequence[Placement],
    expected: bool,
) -> None:
    assert ok(constraint, host, attributes, placed) is expected


# GROUP_BY: placed counts per value; the offer's value must be among the least used, or unseen.
@pytest.mark.parametrize(
    ("value", "offered", "placed", "expected"),
    [
        (None, "a", [], True),
        (None, "a", ["a"], True),  # one group, it is the smallest
        (None, "c", ["a", "b"], True),  # unseen: always fine
        (None, "a", ["a", "b"], True),  # counts a=1 b=1
        (None, "a", ["a", "a", "b"], False),  # a=2 > b=1
        (None, "b", ["a", "a", "b"], True),
        ("3", "a", ["a", "b"], False),  # only 2 of 3 groups known: spread to a new one first
        ("3", "c", ["a", "b"], True),
        ("3", "a", ["a", "b", "c"], True),
        ("2", "a", ["a", "b"], True),
        (None, "a", [None, "a"], True),  # an agent without the field is a group too: 1/1
        (None, "a", [None, "a", "a"], False),
    ],
)
def test_group_by(
    value: str | None, offered: str, placed: list[str | None], expected: bool
) -> None:
    constraint = Constraint("rack", "GROUP_BY", value)
    placements = [
        Placement(f"p{i}", {} if v is None else {"rack": v}) for i, v in enumerate(placed)
    ]
    assert ok(constraint, "h", {"rack": offered}, placements) is expected


def test_group_by_hostname_spreads_over_agents() -> None:
    constraint = Constraint("@hostname", "GROUP_BY")
    placed = [at("h1"), at("h1"), at("h2")]
    assert not ok(constraint, "h1", {}, placed)
    assert ok(constraint, "h2", {}, placed)


def test_region_and_zone_constraints_use_the_fault_domain() -> None:
    placed = [Placement("h2", {}, region="eu", zone="eu-1")]
    unique_zone = Constraint("@zone", "UNIQUE")
    assert satisfied([unique_zone], "h1", {}, placed, region="eu", zone="eu-2") is None
    assert satisfied([unique_zone], "h1", {}, placed, region="eu", zone="eu-1") == unique_zone
    assert satisfied([Constraint("@region", "IS", "eu")], "h1", {}, []) is not None


def test_satisfied_returns_the_first_violated_constraint() -> None:
    first_ok = Constraint("hostname", "LIKE", "h.*")
    bad = Constraint("rack", "IS", "b")
    also_bad = Constraint("rack", "CLUSTER", "c")
    assert satisfied([first_ok, bad, also_bad], "h1", RACK_A, []) == bad
    assert satisfied([], "h1", RACK_A, []) is None


def test_meets_takes_plain_values() -> None:
    assert meets(Constraint("x", "UNIQUE"), "v", ["w", None])
    assert not meets(Constraint("x", "UNIQUE"), "v", ["v"])
    assert meets(Constraint("x", "UNLIKE", "v"), None, [])
