"""Refuse filters, suppress/revive, min_allocatable, (in)active agents and frameworks, removal."""

from __future__ import annotations

import pytest

from daemons.master.allocation import (
    MAX_REFUSE_SECONDS,
    Allocation,
    Allocator,
    UnknownAgent,
    UnknownFramework,
)
from daemons.protocols.resources import Resources, parse_text

AGENT = "cpus:2;mem:1024"


def res(text: str) -> Resources:
    return parse_text(text).get("*", Resources())


def one_framework_one_agent(**kwargs: object) -> tuple[Allocator, Allocation]:
    allocator = Allocator(**kwargs)  # type: ignore[arg-type]
    allocator.add_framework("f", ["*"])
    allocator.add_agent("a", parse_text(AGENT))
    [offer] = allocator.allocate(0.0)
    return allocator, offer


def decline(allocator: Allocator, offer: Allocation, now: float, seconds: float | None) -> None:
    allocator.recover(offer.framework_id, offer.agent_id, offer.role, offer.resources, now, seconds)


# --- refuse filters ------------------------------------------------------------------------------


def test_a_declined_agent_comes_back_when_the_filter_expires() -> None:
    allocator, offer = one_framework_one_agent()
    decline(allocator, offer, now=0.0, seconds=10.0)
    assert allocator.is_filtered("f", "a", now=5.0)
    assert allocator.allocate(5.0) == []
    assert allocator.allocate(9.999) == []
    assert not allocator.is_filtered("f", "a", now=10.0)
    assert [o.agent_id for o in allocator.allocate(10.0)] == ["a"]
    assert allocator.filter_count() == 0  # swept by the cycle


@pytest.mark.parametrize("seconds", [None, 0.0, -3.0, float("nan")])
def test_no_filter_without_positive_refuse_seconds(seconds: float | None) -> None:
    allocator, offer = one_framework_one_agent()
    decline(allocator, offer, 0.0, seconds)
    assert not allocator.is_filtered("f", "a", 0.0)
    assert len(allocator.allocate(0.0)) == 1


@pytest.mark.parametrize("seconds", [10.0**9, float(2**31 - 1), float("inf")])
def test_refuse_seconds_are_capped_at_a_year(seconds: float) -> None:
    allocator, offer = one_framework_one_agent()
    decline(allocator, offer, 100.0, seconds)
    assert allocator.allocate(100.0 + MAX_REFUSE_SECONDS - 1.0) == []
    assert len(allocator.allocate(100.0 + MAX_REFUSE_SECONDS)) == 1


def test_the_filter_only_holds_while_the_free_part_is_within_what_was_refused() -> None:
    allocator, offer = one_framework_one_agent()
    task = res("cpus:1;mem:512")
    # The framework launches a task and declines the rest for a long time.
    allocator.recover("f", "a", "*", offer.flat - task, 0.0, 1000.0)
    # Free = <1 cpu, 512 mem> = what was refused: filtered.
    assert allocator.allocate(1.0) == []
    assert allocator.is_filtered("f", "a", 1.0)
    # The task ends: free = <2, 1024> is more than was refused, so the filter no longer applies.
    allocator.recover("f", "a", "*", task, 2.0)
    assert not allocator.is_filtered("f", "a", 2.0)
    [again] = allocator.allocate(2.0)
    assert again.flat == res(AGENT)


def test_another_framework_gets_what_one_refused() -> None:
    allocator, offer = one_framework_one_agent()
    allocator.add_framework("g", ["*"])
    decline(allocator, offer, 0.0, 100.0)
    # f share = 0 = g share; the tie would favour f, but f refused the agent.
    assert [o.framework_id for o in allocator.allocate(1.0)] == ["g"]


def test_revive_clears_filters() -> None:
    allocator, offer = one_framework_one_agent()
    decline(allocator, offer, 0.0, 1000.0)
    assert allocator.allocate(1.0) == []
    allocator.revive("f")
    assert allocator.filter_count() == 0
    assert len(allocator.allocate(1.0)) == 1


def test_revive_of_one_role_keeps_the_other_roles_filters() -> None:
    allocator = Allocator()
    allocator.add_framework("f", ["r1", "r2"])
    allocator.add_agent("a1", parse_text("cpus(r1):1;mem(r1):128"))
    allocator.add_agent("a2", parse_text("cpus(r2):1;mem(r2):128"))
    for offer in allocator.allocate(0.0):
        decline(allocator, offer, 0.0, 1000.0)
    assert allocator.allocate(1.0) == []
    allocator.revive("f", ["r2"])
    assert [(o.agent_id, o.role) for o in allocator.allocate(1.0)] == [("a2", "r2")]
    assert allocator.is_filtered("f", "a1", 1.0, role="r1")


def test_many_filters_on_one_agent_share_one_group() -> None:
    allocator = Allocator()
    for i in range(50):
        allocator.add_framework(f"f{i}", ["*"])
    allocator.add_agent("a", parse_text(AGENT))
    now = 0.0
    seen = set()
    for _ in range(60):
        offers = allocator.allocate(now)
        for offer in offers:
            seen.add(offer.framework_id)
            decline(allocator, offer, now, 10_000.0)
        now += 1.0
    # Every framework was offered once and then refused; nothing is left to offer.
    assert len(seen) == 50
    assert allocator.filter_count("a") == 50
    assert allocator.allocate(now) == []


# --- suppress / revive ---------------------------------------------------------------------------


def test_suppress_stops_offers_and_revive_restarts_them() -> None:
    allocator, offer = one_framework_one_agent()
    decline(allocator, offer, 0.0, None)
    allocator.suppress("f")
    assert allocator.allocate(1.0) == []
    allocator.revive("f")
    assert len(allocator.allocate(1.0)) == 1


def test_suppress_one_role_of_a_multi_role_framework() -> None:
    allocator = Allocator()
    allocator.add_framework("f", ["r1", "r2"], suppressed_roles=["r1"])
    allocator.add_agent("a", parse_text(AGENT))
    assert [o.role for o in allocator.allocate(0.0)] == ["r2"]


# --- min_allocatable -----------------------------------------------------------------------------


def test_min_allocatable_default_needs_cpus_or_mem() -> None:
    allocator = Allocator()
    allocator.add_framework("f", ["*"])
    allocator.add_agent("tiny", parse_text("cpus:0.005;mem:16"))
    allocator.add_agent("memory", parse_text("mem:32"))
    allocator.add_agent("cpu", parse_text("cpus:0.01"))
    assert sorted(o.agent_id for o in allocator.allocate(0.0)) == ["cpu", "memory"]


def test_min_allocatable_can_be_set() -> None:
    allocator = Allocator(min_allocatable_resources=[res("cpus:1;mem:256")])
    allocator.add_framework("f", ["*"])
    allocator.add_agent("small", parse_text("cpus:1;mem:128"))
    allocator.add_agent("big", parse_text("cpus:1;mem:256"))
    assert [o.agent_id for o in allocator.allocate(0.0)] == ["big"]
    anything = Allocator(min_allocatable_resources=[])
    anything.add_framework("f", ["*"])
    anything.add_agent("tiny", parse_text("cpus:0.001"))
    assert len(anything.allocate(0.0)) == 1


# --- active / inactive ---------------------------------------------------------------------------


def test_inactive_agents_get_no_offers_and_leave_the_total() -> None:
    allocator = Allocator()
    allocator.add_framework("f", ["*"])
    allocator.add_agent("a", parse_text(AGENT))
    allocator.add_agent("b", parse_text(AGENT))
    allocator.deactivate_agent("b")
    assert [o.agent_id for o in allocator.allocate(0.0)] == ["a"]
    # f holds all of the active total.
    assert allocator.framework_shares()["f"] == pytest.approx(1.0)
    allocator.activate_agent("b")
    # f share = 0.5 before b is offered.
    assert allocator.framework_shares()["f"] == pytest.approx(0.5)
    assert [o.agent_id for o in allocator.allocate(0.0)] == ["b"]


def test_inactive_frameworks_get_no_offers() -> None:
    allocator = Allocator()
    allocator.add_framework("f", ["*"], active=False)
    allocator.add_agent("a", parse_text(AGENT))
    assert allocator.allocate(0.0) == []
    allocator.activate_framework("f")
    [offer] = allocator.allocate(0.0)
    decline(allocator, offer, 0.0, None)
    allocator.deactivate_framework("f")
    assert allocator.allocate(0.0) == []


# --- removal and updates -------------------------------------------------------------------------


def test_remove_framework_releases_its_allocation() -> None:
    allocator, _ = one_framework_one_agent()
    allocator.add_framework("g", ["*"])
    assert allocator.available("a") == {}
    allocator.remove_framework("f")
    assert allocator.available("a") == parse_text(AGENT)
    assert [o.framework_id for o in allocator.allocate(0.0)] == ["g"]
    with pytest.raises(UnknownFramework):
        allocator.allocation("f")
    # A late decline for the removed framework is a no-op.
    allocator.recover("f", "a", "*", res(AGENT), 0.0, 5.0)


def test_remove_agent_drops_what_was_held_there() -> None:
    allocator, _ = one_framework_one_agent()
    allocator.remove_agent("a")
    assert allocator.allocation("f") == []
    assert allocator.framework_shares() == {"f": 0.0}
    with pytest.raises(UnknownAgent):
        allocator.available("a")


def test_agents_join_with_what_frameworks_already_use() -> None:
    allocator = Allocator()
    allocator.add_framework("f", ["*"])
    used = res("cpus:1;mem:128;ports:[31000-31009]")
    allocator.add_agent("a", parse_text(AGENT + ";ports:[31000-32000]"), {"f": {"*": used}})
    assert allocator.available("a") == {"*": res("cpus:1;mem:896;ports:[31010-32000]")}
    # f share = max(1/2 cpus, 128/1024 mem) = 0.5
    assert allocator.framework_shares()["f"] == pytest.approx(0.5)
    # A framework we do not know yet is kept, inactive, until it subscribes.
    allocator.add_agent("b", parse_text(AGENT), {"late": {"r": res("cpus:1")}})
    assert [a.role for a in allocator.allocation("late")] == ["r"]
    allocator.add_framework("late", ["r"])
    assert {o.framework_id for o in allocator.allocate(0.0)} == {"f", "late"}


def test_recover_releases_only_what_is_held() -> None:
    allocator, _ = one_framework_one_agent()
    allocator.recover("f", "a", "*", res("cpus:5;mem:100;disk:7"), 0.0)
    assert allocator.available("a") == {"*": res("cpus:2;mem:100")}
    [held] = allocator.allocation("f")
    assert held.flat == res("mem:924")


def test_update_framework_roles() -> None:
    allocator, offer = one_framework_one_agent()
    allocator.update_framework("f", ["r1"])
    # The "*" holding still counts until it is recovered; new offers are for r1 only.
    assert [a.role for a in allocator.allocation("f")] == ["*"]
    decline(allocator, offer, 0.0, None)
    assert allocator.allocation("f") == []
    assert [o.role for o in allocator.allocate(0.0)] == ["r1"]


def test_update_agent_total() -> None:
    allocator, _ = one_framework_one_agent()
    allocator.update_agent_total("a", parse_text("cpus:4;mem:2048"))
    assert allocator.available("a") == {"*": res("cpus:2;mem:1024")}
    # f share = 2/4 after the total doubled.
    assert allocator.framework_shares()["f"] == pytest.approx(0.5)


def test_event_triggered_allocation_only_visits_the_given_agents() -> None:
    allocator = Allocator()
    allocator.add_framework("f", ["*"])
    for agent_id in ("a", "b", "c"):
        allocator.add_agent(agent_id, parse_text(AGENT))
    assert [o.agent_id for o in allocator.allocate(0.0, agent_ids=["c", "gone", "c"])] == ["c"]
