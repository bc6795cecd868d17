"""The VIP table from the master's state (`daemons.kit.l4lb.table`): backends, weights, the
reachability filter, named addresses."""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from daemons.kit.l4lb.named_ips import allocate
from daemons.kit.l4lb.table import Backend, Service, TableBuilder, VipTable, build
from minuteman import ruleset
from tests.unit.kit.l4lb.states import AGENTS, state, task

WEB = allocate(["web.marathon"]).addresses["web.marathon"]
WEB_80 = Service(WEB, "tcp", 80)


def test_running_tasks_are_backends_at_their_agent_and_host_port() -> None:
    table = build(state(task("t1", "a1", 31000), task("t2", "a2", 31001)))
    assert list(table.vips) == [WEB_80]
    assert table.vips[WEB_80].backends == (
        Backend("198.18.0.11", 31000, 1),
        Backend("198.18.0.12", 31001, 1),
    )
    assert table.problems == ()


def test_an_unhealthy_or_killing_task_keeps_weight_zero() -> None:
    table = build(
        state(
            task("t1", "a1", 31000, healthy=True),
            task("t2", "a2", 31001, healthy=False),
            task("t3", "a3", 31002, state="TASK_KILLING"),
        )
    )
    assert [b.weight for b in table.vips[WEB_80].backends] == [1, 0, 0]


def test_tasks_not_running_or_on_unknown_agents_give_nothing() -> None:
    table = build(
        state(
            task("t1", "a1", 31000, state="TASK_STAGING"),
            task("t2", "a2", 31001, state="TASK_FINISHED"),
            task("t3", "gone", 31002),
        )
    )
    assert table.vips == {}


def test_an_unreachable_backend_is_dropped_unless_all_are_unreachable() -> None:
    agents = {"a9": "198.18.0.19"}
    one_left = state(task("t1", "a1", 31000), task("t2", "a9", 31001, state="TASK_UNREACHABLE"))
    assert build(one_left, agent_ips=agents).vips[WEB_80].backends == (
        Backend("198.18.0.11", 31000, 1),
    )
    none_left = state(task("t2", "a9", 31001, state="TASK_UNREACHABLE"))
    assert build(none_left, agent_ips=agents).vips[WEB_80].backends == (
        Backend("198.18.0.19", 31001, 1),
    )


def test_unreachable_tasks_listed_apart_count_too() -> None:
    s = state(task("t1", "a9", 31000, state="TASK_UNREACHABLE"))
    s["frameworks"][0]["unreachable_tasks"] = s["frameworks"][0].pop("tasks")
    table = build(s, agent_ips={"a9": "198.18.0.19"})
    assert table.vips[WEB_80].backends == (Backend("198.18.0.19", 31000, 1),)


def test_an_ip_vip_is_served_at_its_own_address_and_a_named_one_never_takes_it() -> None:
    table = build(
        state(
            task("t1", "a1", 31000, vips=(f"{WEB}:80",)), task("t2", "a2", 31001, vips=("/web:80",))
        )
    )
    addresses = sorted(service.address for service in table.vips)
    assert WEB in addresses and len(addresses) == 2


def test_vips_of_one_name_on_two_protocols_are_two_services_at_one_address() -> None:
    table = build(state(task("t1", "a1", 31000), task("t2", "a2", 31001, protocol="udp")))
    assert sorted(table.vips) == [WEB_80, Service(WEB, "udp", 80)]


def test_malformed_labels_are_problems_and_program_nothing() -> None:
    table = build(state(task("t1", "a1", 31000, vips=("/web:notaport", "1.2.3:80"))))
    assert table.vips == {}
    assert len(table.problems) == 2


def test_the_framework_name_is_part_of_a_named_vip() -> None:
    table = build(state(task("t1", "a1", 31000), framework="kafka"))
    (vip,) = table.vips.values()
    assert [key.vip for key in vip.names] == ["web.kafka"]
    assert vip.service.address == allocate(["web.kafka"]).addresses["web.kafka"]


def test_the_pool_is_an_argument() -> None:
    pool = ipaddress.IPv4Network("11.0.0.0/8")
    (service,) = build(state(task("t1", "a1", 31000)), pool).vips
    assert service.address in pool


def test_the_builder_kept_between_states_always_equals_a_build_from_scratch() -> None:
    """Random changes, one state after another: tasks start, end, turn unhealthy or killing,
    become unreachable, move their VIP to another name or to an IP VIP (which can take a named
    VIP's address), frameworks are renamed, an agent's address comes and goes. After each, two
    kept builders, one given the whole state (`update`) and one only what changed
    (`update_tasks`, as operator events say it), equal the table built whole; every service
    whose VIP differs from the last table is touched; and the transaction over the touched
    services alone is the one over all."""
    rng = random.Random(14)
    pool = ipaddress.IPv4Network("198.19.0.0/28")  # 14 addresses: collisions and a full pool
    names = [f"/app{i}:80" for i in range(10)]
    whole_states, by_events = TableBuilder(pool), TableBuilder(pool)
    tasks: dict[str, dict[str, Any]] = {}
    framework = "marathon"
    agents: dict[str, str] = {}
    last = VipTable({})
    for step in range(400):
        roll = rng.random()
        changed: list[str] = []
        ended: list[str] = []
        if roll < 0.4 or not tasks:
            task_id = f"t{step}"
            vip = rng.choice(names) if rng.random() < 0.8 else f"198.19.0.{rng.randrange(1, 15)}:80"
            tasks[task_id] = task(task_id, rng.choice(list(AGENTS)), 31000 + step, vips=(vip,))
            changed.append(task_id)
        elif roll < 0.55:
            ended.append(rng.choice(sorted(tasks)))
            tasks.pop(ended[0])
        elif roll < 0.85:
            task_id = rng.choice(sorted(tasks))
            old = tasks[task_id]
            kind = rng.choice(["unhealthy", "healthy", "killing", "unreachable", "agent"])
            tasks[task_id] = task(
                task_id,
                "a9" if kind == "agent" else old["slave_id"],
                int(old["resources"]["ports"].strip("[]").split("-")[0]),
                vips=tuple(
                    label["value"]
                    for label in old["discovery"]["ports"]["ports"][0]["labels"]["labels"]
                ),
                state={"killing": "TASK_KILLING", "unreachable": "TASK_UNREACHABLE"}.get(
                    kind, "TASK_RUNNING"
                ),
                healthy={"unhealthy": False, "healthy": True}.get(kind),
            )
            changed.append(task_id)
        elif roll < 0.93:
            framework = rng.choice(["marathon", "marathon-user"])
            changed = sorted(tasks)
        else:
            agents = {} if agents else {"a9": "198.18.0.19"}
            changed = sorted(tasks)
        current = state(*tasks.values(), framework=framework)
        kept, touched = whole_states.update(current, agents)
        whole = build(current, pool, agents)
        assert kept == whole, f"step {step}"
        all_agents = {**agents, **AGENTS}
        info = {"id": None, "name": framework}
        changes = [(info, [tasks[t] for t in changed], ended)]
        evented, _ = by_events.update_tasks(changes, all_agents)
        assert evented == whole, f"step {step}"
        differing = {
            s for s in set(last.vips) | set(kept.vips) if last.vips.get(s) != kept.vips.get(s)
        }
        assert differing <= touched, f"step {step}: {differing - touched} not touched"
        assert ruleset.changes(last, kept, touched) == ruleset.changes(last, kept)
        assert kept.addresses == whole.addresses and kept.weights == whole.weights
        last = kept


def test_a_state_with_nothing_new_touches_nothing_and_reads_no_task_again() -> None:
    tasks = [task(f"t{i}", "a1", 31000 + i) for i in range(100)]
    current = state(*tasks)
    builder = TableBuilder()
    first, touched = builder.update(current)
    assert touched == {WEB_80}
    again, touched = builder.update(state(*tasks))
    assert again == first and touched == frozenset()
    # One task replaced: only its VIP is touched.
    tasks[5] = task("t5", "a1", 31005, healthy=False)
    changed, touched = builder.update(state(*tasks))
    assert touched == {WEB_80}
    assert Backend("198.18.0.11", 31005, 0) in changed.vips[WEB_80].backends
