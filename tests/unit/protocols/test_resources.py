"""Resources arithmetic and the Mesos JSON/text forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.protocols import resources as res
from daemons.protocols.resources import Resources

scalars = st.dictionaries(
    st.sampled_from(["cpus", "mem", "disk"]), st.floats(0, 1000).map(lambda v: round(v, 3))
)
port_ranges = st.lists(st.tuples(st.integers(1, 500), st.integers(0, 50)), max_size=4).map(
    lambda rs: [(b, b + n) for b, n in rs]
)
values = st.builds(lambda s, p: Resources.of(s, {"ports": p}), scalars, port_ranges)


@given(values, values)
def test_sum_contains_both_and_difference_gives_back(a, b):
    total = a + b
    assert total.contains(a) and total.contains(b)
    assert (total - b).contains(a - b)


@given(values)
def test_v1_round_trip(value):
    assert res.from_v1(res.to_v1(value)) == ({"*": value} if not value.is_empty() else {})


def test_scalars_are_rounded_like_mesos():
    assert Resources.of({"cpus": 0.1}) + Resources.of({"cpus": 0.2}) == Resources.of({"cpus": 0.3})


def test_ranges_coalesce_and_subtract():
    ports = Resources.of(ranges={"ports": [(1, 3), (4, 5), (10, 12)]})
    assert ports.ranges["ports"] == ((1, 5), (10, 12))
    left = ports - Resources.of(ranges={"ports": [(2, 2), (11, 12)]})
    assert left.ranges["ports"] == ((1, 1), (3, 5), (10, 10))


def test_text_form_with_roles():
    parsed = res.parse_text("cpus:2;mem:1024;ports(web):[31000-31010];disks:{a,b}")
    assert parsed["*"].scalars == {"cpus": 2.0, "mem": 1024.0}
    assert parsed["web"].ranges == {"ports": ((31000, 31010),)}
    assert parsed["*"].sets == {"disks": frozenset({"a", "b"})}


def test_state_map_form():
    value = Resources.of({"cpus": 1.5}, {"ports": [(1, 2), (5, 5)]})
    assert res.to_state_map(value) == {
        "cpus": 1.5,
        "gpus": 0.0,
        "mem": 0.0,
        "disk": 0.0,
        "ports": "[1-2, 5-5]",
    }


@pytest.mark.parametrize(
    "items",
    [
        "nope",
        [{"type": "SCALAR"}],
        [{"name": "cpus", "type": "SCALAR", "scalar": {"value": -1}}],
        [{"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 5, "end": 1}]}}],
        [{"name": "x", "type": "WEIRD"}],
    ],
)
def test_malformed_v1_is_rejected(items):
    with pytest.raises(ValueError):
        res.from_v1(items)
