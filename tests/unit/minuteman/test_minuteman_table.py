"""The VIP table from the master's state (`minuteman.table`): backends, weights, the
reachability filter, named addresses."""

from __future__ import annotations

import ipaddress

from minuteman.named_ips import allocate
from minuteman.table import Backend, Service, build
from tests.unit.minuteman.states import state, task

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
