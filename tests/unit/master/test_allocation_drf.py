"""DRF order: the paper's example, Mesos' UnreservedDRF walk, weights, roles and reservations.

Expected shares are written as a comment before each assertion, as Mesos' sorter tests do.
"""

from __future__ import annotations

import random

import pytest

from daemons.master.allocation import Allocation, Allocator
from daemons.protocols.resources import Resources, parse_text


def res(text: str) -> Resources:
    return parse_text(text).get("*", Resources())


def holders(offers: list[Allocation]) -> dict[str, str]:
    """agent -> framework, for single-offer-per-agent rounds."""
    return {offer.agent_id: offer.framework_id for offer in offers}


def run_drf_paper_example(agents: dict[str, str]) -> tuple[Allocator, dict[str, int]]:
    """Ghodsi et al. §4: A's tasks are <1 CPU, 4 GB>, B's <3 CPU, 1 GB>. Each framework takes one
    task out of an offer and declines the rest (no filter); an offer with no room for a task is
    declined with Mesos' default 5 s filter. Stops when a round makes no offer."""
    allocator = Allocator()
    for agent_id, text in agents.items():
        allocator.add_agent(agent_id, parse_text(text))
    allocator.add_framework("A", ["*"])
    allocator.add_framework("B", ["*"])
    task = {"A": res("cpus:1;mem:4096"), "B": res("cpus:3;mem:1024")}
    launched = {"A": 0, "B": 0}
    now = 0.0
    for _ in range(50):
        offers = allocator.allocate(now)
        if not offers:
            break
        for offer in offers:
            need = task[offer.framework_id]
            if offer.flat.contains(need):
                launched[offer.framework_id] += 1
                rest = offer.flat - need
                allocator.recover(offer.framework_id, offer.agent_id, offer.role, rest, now)
            else:
                allocator.recover(
                    offer.framework_id, offer.agent_id, offer.role, offer.resources, now, 5.0
                )
        now += 1.0
    return allocator, launched


@pytest.mark.parametrize(
    "agents",
    [
        {"agent1": "cpus:9;mem:18432"},
        {"agent1": "cpus:3;mem:12288", "agent2": "cpus:6;mem:6144"},
    ],
    ids=["one-agent", "two-agents"],
)
def test_drf_paper_example(agents: dict[str, str]) -> None:
    allocator, launched = run_drf_paper_example(agents)

    # A: 3 tasks = <3 CPU, 12 GB>: share max(3/9, 12/18) = 2/3
    # B: 2 tasks = <6 CPU, 2 GB>:  share max(6/9, 2/18)  = 2/3
    assert launched == {"A": 3, "B": 2}
    held = {fw: sum((a.flat for a in allocator.allocation(fw)), Resources()) for fw in "AB"}
    assert held["A"] == res("cpus:3;mem:12288")
    assert held["B"] == res("cpus:6;mem:2048")
    shares = allocator.framework_shares()
    assert shares["A"] == pytest.approx(2 / 3)
    assert shares["B"] == pytest.approx(2 / 3)


def test_unreserved_drf_follows_mesos_walk() -> None:
    """Mesos' HierarchicalAllocatorTest.UnreservedDRF, driven one agent at a time."""
    allocator = Allocator()
    now = 0.0

    def add(agent_id: str, text: str) -> str:
        allocator.add_agent(agent_id, parse_text(text))
        offers = allocator.allocate(now, agent_ids=[agent_id])
        assert len(offers) == 1
        assert offers[0].flat == res(text)
        return offers[0].framework_id

    allocator.add_framework("framework1", ["role1"])
    # framework1 is alone: it gets agent1.
    assert add("agent1", "cpus:2;mem:1024") == "framework1"
    # role1 share = 1 (cpus=2, mem=1024)
    #   framework1 share = 1
    assert allocator.role_shares()["role1"] == pytest.approx(1.0)

    allocator.add_framework("framework2", ["role2"])
    # role1 share = 0.67 after agent2 joins; role2 = 0 has the lowest share.
    assert add("agent2", "cpus:1;mem:512") == "framework2"
    # role1 share = 0.67 (cpus=2, mem=1024)
    # role2 share = 0.33 (cpus=1, mem=512)
    assert allocator.role_shares() == pytest.approx({"role1": 2 / 3, "role2": 1 / 3})

    # Total becomes cpus=6, mem=3584: role1 = 0.33, role2 = 0.16 -> role2 again.
    assert add("agent3", "cpus:3;mem:2048") == "framework2"
    # role1 share = 0.33 (cpus=2, mem=1024)
    # role2 share = 0.71 (cpus=4, mem=2560)
    assert allocator.role_shares() == pytest.approx({"role1": 1 / 3, "role2": 2560 / 3584})

    allocator.add_framework("framework3", ["role1"])
    # Total cpus=10, mem=7680: role1 = 0.2 < role2 = 0.4; framework3 (0) < framework1 in role1.
    assert add("agent4", "cpus:4;mem:4096") == "framework3"
    # role1 share = 0.67 (cpus=6, mem=5120)
    #   framework1 share = 0.2, framework3 share = 0.53
    # role2 share = 0.4 (cpus=4, mem=2560)
    shares = allocator.framework_shares()
    assert shares["framework1"] == pytest.approx(0.2)
    assert shares["framework3"] == pytest.approx(4096 / 7680)

    allocator.add_framework("framework4", ["role1"])
    # Total cpus=11, mem=8192: role2 = 0.36 < role1 = 0.63, so framework2 wins although
    # framework4 holds nothing.
    assert add("agent5", "cpus:1;mem:512") == "framework2"


def test_weights_split_agents_in_proportion() -> None:
    allocator = Allocator(weights={"role2": 2.0})
    allocator.add_framework("f1", ["role1"])
    allocator.add_framework("f2", ["role2"])
    for i in range(6):
        allocator.add_agent(f"agent{i}", parse_text("cpus:2;mem:1024"))
    offers = allocator.allocate(0.0)
    # role1 weighted share = (2/6) / 1 = 0.33
    # role2 weighted share = (4/6) / 2 = 0.33
    counts = {fw: sum(o.framework_id == fw for o in offers) for fw in ("f1", "f2")}
    assert counts == {"f1": 2, "f2": 4}
    assert allocator.role_shares() == pytest.approx({"role1": 2 / 6, "role2": 4 / 6})


def test_update_weights_changes_the_order() -> None:
    allocator = Allocator()
    allocator.add_framework("f1", ["role1"])
    allocator.add_framework("f2", ["role2"])
    allocator.add_agent("a1", parse_text("cpus:2;mem:1024"))
    allocator.add_agent("a2", parse_text("cpus:1;mem:512"))
    allocator.add_agent("a3", parse_text("cpus:1;mem:512"))
    # role1 = role2 = 0: the tie goes to role1 by name.
    assert holders(allocator.allocate(0.0, agent_ids=["a1"])) == {"a1": "f1"}
    assert holders(allocator.allocate(0.0, agent_ids=["a2"])) == {"a2": "f2"}
    # role1 share = 0.5 (cpus=2 of 4), role2 share = 0.25: role2 goes first.
    assert holders(allocator.allocate(0.0, agent_ids=["a3"])) == {"a3": "f2"}
    allocator.recover("f2", "a3", "role2", parse_text("cpus:1;mem:512"), 0.0)

    allocator.update_weights({"role1": 4.0})
    # role1 weighted share = 0.5 / 4 = 0.125 < role2 = 0.25 / 1: role1 goes first.
    assert holders(allocator.allocate(0.0, agent_ids=["a3"])) == {"a3": "f1"}
    with pytest.raises(ValueError):
        allocator.update_weights({"role1": 0.0})


def test_reserved_resources_go_only_to_their_role() -> None:
    allocator = Allocator()
    allocator.add_framework("other", ["role2"])
    allocator.add_agent("a1", parse_text("cpus(role1):4;mem(role1):1024"))
    # role2 cannot use role1's reservation: nothing is offered.
    assert allocator.allocate(0.0) == []
    allocator.add_framework("mine", ["role1"])
    [offer] = allocator.allocate(0.0)
    assert (offer.framework_id, offer.role) == ("mine", "role1")
    assert dict(offer.resources) == parse_text("cpus(role1):4;mem(role1):1024")


def test_an_agent_with_reservations_can_feed_two_roles_in_one_round() -> None:
    allocator = Allocator()
    allocator.add_framework("f1", ["role1"])
    allocator.add_framework("f2", ["role2"])
    allocator.add_agent("busy", parse_text("cpus(role1):8;mem(role1):4096"))
    allocator.add_agent("a1", parse_text("cpus:2;mem:1024;cpus(role1):1;mem(role1):256"))
    offers = allocator.allocate(0.0, agent_ids=["busy"])
    # role1 share = 0.76 (mem=4096 of 5376) after f1 takes "busy"; role2 share = 0.
    assert holders(offers) == {"busy": "f1"}
    offers = allocator.allocate(0.0, agent_ids=["a1"])
    # role2 (0) takes the unreserved part, then role1 its own reservation.
    by_framework = {o.framework_id: dict(o.resources) for o in offers}
    assert by_framework == {
        "f2": {"*": res("cpus:2;mem:1024")},
        "f1": {"role1": parse_text("cpus(role1):1;mem(role1):256")["role1"]},
    }


def test_reserved_resources_count_in_the_role_share() -> None:
    """Mesos' ReservedDRF: a role's reserved holdings weigh in the role order."""
    allocator = Allocator()
    allocator.add_agent("a1", parse_text("cpus:1;mem:512;cpus(role1):100;mem(role1):1024"))
    allocator.add_framework("f1", ["role1"])
    assert holders(allocator.allocate(0.0)) == {"a1": "f1"}
    allocator.add_framework("f2", ["role2"])
    allocator.add_agent("a2", parse_text("cpus:2;mem:512"))
    allocator.add_agent("a3", parse_text("cpus:2;mem:512"))
    # role1 share = 101/105 (cpus); role2 = 0, then 2/105: role2 keeps winning.
    assert holders(allocator.allocate(0.0)) == {"a2": "f2", "a3": "f2"}


def test_frameworks_in_one_role_share_by_their_own_holdings() -> None:
    allocator = Allocator()
    allocator.add_framework("f1", ["r"])
    allocator.add_agent("big", parse_text("cpus:6;mem:6144"))
    allocator.allocate(0.0)
    allocator.add_framework("f2", ["r"])
    for i in range(3):
        allocator.add_agent(f"a{i}", parse_text("cpus:1;mem:1024"))
    # f1 share = 6/9 (then 6/9 of the bigger total); f2 gets every small agent as its share
    # stays below f1's: 1/9, 2/9, 3/9.
    assert set(holders(allocator.allocate(0.0)).values()) == {"f2"}
    assert allocator.framework_shares() == pytest.approx({"f1": 6 / 9, "f2": 3 / 9})


def test_ties_go_to_the_framework_added_first_and_rng_shuffles_agents() -> None:
    def run(rng: random.Random | None) -> list[str]:
        allocator = Allocator()
        for fw in ("fa", "fb"):
            allocator.add_framework(fw, ["*"])
        for i in range(8):
            allocator.add_agent(f"a{i}", parse_text("cpus:1;mem:128"))
        return [o.agent_id for o in allocator.allocate(0.0, rng=rng)]

    deterministic = run(None)
    assert deterministic == [f"a{i}" for i in range(8)]
    assert run(random.Random(3)) == run(random.Random(3))
    assert sorted(run(random.Random(3))) == deterministic


def test_multi_role_framework_gets_offers_per_role() -> None:
    allocator = Allocator()
    allocator.add_framework("multi", ["r1", "r2"])
    allocator.add_agent("a1", parse_text("cpus:1;mem:128;cpus(r2):1"))
    offers = allocator.allocate(0.0)
    # r1 and r2 both 0 -> r1 (name) takes the unreserved part, r2 its reservation.
    assert sorted((o.role, o.flat.scalar("cpus")) for o in offers) == [("r1", 1.0), ("r2", 1.0)]
    assert {a.role for a in allocator.allocation("multi")} == {"r1", "r2"}
