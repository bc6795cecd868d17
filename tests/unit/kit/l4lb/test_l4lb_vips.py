"""A task's VIP declarations (`daemons.kit.l4lb.vips`): named and IP VIPs on DiscoveryInfo
port labels, the legacy `VIP_PORT<n>` task labels, and the values that declare nothing."""

from __future__ import annotations

import ipaddress

import pytest

from daemons.kit.l4lb.vips import NamedVip, VipError, VipKey, declarations, parse_vip
from tests.unit.kit.l4lb.states import task


@pytest.mark.parametrize(
    ("value", "vip", "port"),
    [
        ("/web:80", NamedVip("web", "marathon"), 80),
        ("web:80", NamedVip("web", "marathon"), 80),
        ("/mygroup/myapp:8080", NamedVip("mygroupmyapp", "marathon"), 8080),
        ("/My_App:1", NamedVip("my-app", "marathon"), 1),
        ("/a.b:65535", NamedVip("a.b", "marathon"), 65535),
        ("1.2.3.4:5000", ipaddress.IPv4Address("1.2.3.4"), 5000),
    ],
)
def test_a_value_names_a_vip_and_its_port(value: str, vip: object, port: int) -> None:
    assert parse_vip(value, "marathon") == (vip, port)


def test_the_framework_name_is_sanitized_as_a_dotted_name() -> None:
    vip, _ = parse_vip("/broker:9092", "Kafka_Svc.v2")
    assert isinstance(vip, NamedVip)
    assert vip.name == "broker.kafka-svc.v2"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/web:notaport", "1-65535"),
        ("/web:0", "1-65535"),
        ("/web:65536", "1-65535"),
        ("/web:-1", "1-65535"),
        ("/web", "expected"),
        (":80", "no name or address"),
        ("1.2.3:80", "not an IPv4 address"),
        ("300.1.1.1:80", "not an IPv4 address"),
        ("::1:80", "IPv4"),
        ("/" + "a" * 300 + ":80", "over 63"),
        ("/$$$:80", "no letter or digit"),
    ],
)
def test_a_malformed_value_is_a_vip_error_saying_why(value: str, why: str) -> None:
    with pytest.raises(VipError, match=why):
        parse_vip(value, "marathon")


def test_every_vip_label_of_every_port_is_declared_with_the_ports_protocol() -> None:
    declared, problems = declarations(
        task("t1", "a1", 31000, vips=("/web:80", "9.9.9.9:53"), protocol="udp"), "marathon"
    )
    assert problems == []
    assert [(d.key, d.host_port) for d in declared] == [
        (VipKey("udp", "web.marathon", 80, named=True), 31000),
        (VipKey("udp", "9.9.9.9", 53, named=False), 31000),
    ]


def test_a_label_not_starting_with_vip_declares_nothing() -> None:
    t = task("t1", "a1", 31000, vips=())
    t["discovery"]["ports"]["ports"][0]["labels"]["labels"] = [
        {"key": "HAPROXY_0", "value": "/x:1"}
    ]
    assert declarations(t, "marathon") == ([], [])


def test_the_legacy_vip_port_label_takes_the_tasks_nth_host_port() -> None:
    t = task("t1", "a1", 31000, vips=(), labels={"VIP_PORT0": "tcp://10.1.1.1:80"})
    t["resources"]["ports"] = "[31000-31000, 31005-31006]"
    t["labels"].append({"key": "VIP_PORT2", "value": "udp://10.1.1.2:53"})
    declared, problems = declarations(t, "marathon")
    assert problems == []
    assert [(d.key, d.host_port) for d in declared] == [
        (VipKey("tcp", "10.1.1.1", 80, named=False), 31000),
        (VipKey("udp", "10.1.1.2", 53, named=False), 31006),
    ]


def test_legacy_labels_are_read_from_a_labels_message_too() -> None:
    t = task("t1", "a1", 31000, vips=(), labels={"VIP_PORT0": "tcp://10.1.1.1:80"})
    t["labels"] = {"labels": t["labels"]}
    declared, _ = declarations(t, "marathon")
    assert [d.key.vip for d in declared] == ["10.1.1.1"]


@pytest.mark.parametrize(
    ("labels", "why"),
    [
        ({"VIP_PORT5": "tcp://10.1.1.1:80"}, "no such host port"),
        ({"VIP_PORT0": "10.1.1.1:80"}, "not tcp or udp"),
        ({"VIP_PORT0": "sctp://10.1.1.1:80"}, "not tcp or udp"),
    ],
)
def test_a_bad_legacy_label_is_a_problem(labels: dict[str, str], why: str) -> None:
    declared, problems = declarations(task("t1", "a1", 31000, vips=(), labels=labels), "marathon")
    assert declared == []
    assert len(problems) == 1 and why in problems[0] and "t1" in problems[0]


def test_malformed_labels_are_problems_and_the_good_ones_still_count() -> None:
    declared, problems = declarations(
        task("t1", "a1", 31000, vips=("/web:notaport", "1.2.3:80", "/ok:80")), "marathon"
    )
    assert [d.key.vip for d in declared] == ["ok.marathon"]
    assert len(problems) == 2


def test_a_port_with_an_unknown_protocol_is_a_problem() -> None:
    declared, problems = declarations(task("t1", "a1", 31000, protocol="sctp"), "marathon")
    assert declared == [] and "sctp" in problems[0]
