"""A new leader's recovery decisions (failover.py) as plain values: no Master, no threads."""

from __future__ import annotations

import pytest

from daemons.master.failover import WindowEnd, close_window, recovery
from daemons.master.registry import (
    ACTIVE,
    ADMITTED,
    GONE,
    REMOVED,
    UNREACHABLE,
    Entry,
    RegistryState,
)


def registry_state() -> RegistryState:
    return RegistryState(
        agents={
            "S1": Entry(ADMITTED, {"hostname": "a1"}, 1.0),
            "S2": Entry(ADMITTED, {"hostname": "a2"}, 2.0),
            "S3": Entry(UNREACHABLE, {"hostname": "a3"}, 3.0),
            "S4": Entry(GONE, {"hostname": "a4"}, 4.0),
        },
        frameworks={
            "fw-1": Entry(
                ACTIVE,
                {
                    "user": "root",
                    "name": "marathon",
                    "roles": ["slave_public", "*"],
                    "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}],
                    "failover_timeout": 604800.0,
                },
                10.0,
            ),
            "fw-2": Entry(ACTIVE, {"user": "root", "name": "old-style", "role": "ops"}, 11.0),
            "fw-3": Entry(REMOVED, {"user": "root", "name": "torn-down"}, 12.0),
        },
    )


def test_admitted_agents_are_expected_back_within_the_reregister_timeout() -> None:
    found = recovery(registry_state(), now=100.0, reregister_timeout=20.0)
    assert set(found.recovered) == {"S1", "S2"}  # unreachable and gone ones are not awaited
    assert found.recovered["S1"].info == {"hostname": "a1"}
    assert found.deadline == 120.0


def test_active_frameworks_are_known_again_disconnected_since_the_election() -> None:
    found = recovery(registry_state(), now=100.0, reregister_timeout=20.0)
    marathon, old_style = found.frameworks
    assert marathon.framework_id == "fw-1" and marathon.info.raw["id"] == {"value": "fw-1"}
    assert marathon.roles == ("slave_public", "*")
    assert marathon.capabilities == {"MULTI_ROLE", "PARTITION_AWARE"}
    assert marathon.failover_timeout == 604800.0
    # Its failover timeout counts from the election, not from when it was last seen.
    assert (marathon.disconnected_at, marathon.registered_time) == (100.0, 10.0)
    assert marathon.recovered and not marathon.connected and not marathon.active
    assert old_style.roles == ("ops",)
    assert found.removed_frameworks == {"fw-3"}


def test_a_framework_entry_that_no_longer_parses_is_still_recovered() -> None:
    """An entry an earlier release wrote, with a field this one reads more strictly: the
    framework is known again (Mesos' defaults for what cannot be read), its info echoed."""
    info = {"user": "root", "name": "old", "checkpoint": 1, "roles": ["a"]}
    state = RegistryState(frameworks={"fw-9": Entry(ACTIVE, info, 10.0)})
    (framework,) = recovery(state, now=100.0, reregister_timeout=20.0).frameworks
    assert (framework.framework_id, framework.info.name, framework.roles) == ("fw-9", "old", ("*",))
    assert framework.info.raw == dict(info, id={"value": "fw-9"})


def test_an_empty_registry_recovers_nothing() -> None:
    found = recovery(RegistryState(), now=5.0, reregister_timeout=600.0)
    assert (found.recovered, found.frameworks, found.removed_frameworks) == ({}, (), frozenset())


MISSING = {"S1": Entry(ADMITTED, {}, 0.0), "S2": Entry(ADMITTED, {}, 0.0)}


def test_the_window_stays_open_until_its_deadline() -> None:
    assert close_window(MISSING, 4, deadline=120.0, now=119.99, removal_limit=1.0) is None
    end = close_window(MISSING, 4, deadline=120.0, now=120.0, removal_limit=1.0)
    assert end == WindowEnd(missing=MISSING, too_many=False)


def test_nothing_happens_when_every_agent_came_back() -> None:
    assert close_window({}, 4, deadline=120.0, now=500.0, removal_limit=0.0) is None


@pytest.mark.parametrize(
    ("known", "limit", "too_many"),
    [
        (4, 0.5, False),  # 2 of 4 missing = 50 %: at the limit, they are removed
        (3, 0.5, True),  # 2 of 3 = 67 % > 50 %: the master fails over instead
        (2, 1.0, False),  # all missing, but the limit (Mesos' default 100 %) allows it
        (0, 0.0, False),  # no agent known at election: nothing to compare with
    ],
)
def test_too_many_missing_agents_mean_a_failover(known: int, limit: float, too_many: bool) -> None:
    end = close_window(MISSING, known, deadline=0.0, now=1.0, removal_limit=limit)
    assert end is not None and end.too_many is too_many and end.missing == MISSING
