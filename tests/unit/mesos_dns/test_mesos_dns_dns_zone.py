"""The record set as a DNS zone and the forwarding rule (`daemons.mesos_dns.dns_zone`), asked
with queries dnslib builds and answers dnslib parses back, over the recorded state of
tests/fixtures/mesos_dns (see test_mesos_dns_records.py for its cluster)."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
from pathlib import Path
from types import MappingProxyType
from typing import Any

import dnslib
import pytest

from daemons.kit.dns import wire
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.dns_zone import forwarding, zone_of
from daemons.mesos_dns.records import RecordSet, SrvTarget, generate
from daemons.mesos_dns.settings import MesosDnsSettings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mesos_dns" / "master_state.json"
STATE: dict[str, Any] = json.loads(FIXTURE.read_text())
CONFIG = MesosDnsConfig(masters=("10.0.4.11:5050",), ttl=7, srv_record_default_weight=3)
RECORDS = generate(STATE, CONFIG, ["10.0.4.11:5050"], serial=1795996800, listener_ips=["10.0.4.11"])


def ask(name: str, qtype: str = "A", records: RecordSet = RECORDS, **config: Any) -> Any:
    built = zone_of(records, dataclasses.replace(CONFIG, **config))
    packet = dnslib.DNSRecord.question(name, qtype).pack()
    reply = built.zone.reply(wire.parse(packet), random.Random(0))
    return None if reply is None else dnslib.DNSRecord.parse(reply)


def test_a_task_name_answers_its_address_with_the_ttl() -> None:
    reply = ask("myapp.mygroup.marathon.mesos")
    assert reply.header.rcode == dnslib.RCODE.NOERROR and reply.header.aa
    assert {(str(rr.rdata), rr.ttl) for rr in reply.rr} == {("10.0.6.22", 7)}


def test_srv_answers_carry_the_weight_and_the_targets_addresses() -> None:
    reply = ask("_web._tcp.marathon.mesos", "SRV")
    weights = {(rr.rdata.priority, rr.rdata.weight) for rr in reply.rr}
    assert weights == {(0, 3)} and len(reply.rr) == 4
    assert {str(rr.rdata) for rr in reply.ar} == {"10.0.6.21", "10.0.6.22"}


def test_leader_soa_nxdomain_and_nodata() -> None:
    assert [str(rr.rdata) for rr in ask("leader.mesos").rr] == ["10.0.4.11"]
    missing = ask("nothing.marathon.mesos")
    assert missing.header.rcode == dnslib.RCODE.NXDOMAIN
    (soa,) = missing.auth
    assert soa.rdata.times[0] == 1795996800 and str(soa.rdata.mname) == "ns1.mesos."
    nodata = ask("leader.mesos", "AAAA")
    assert nodata.header.rcode == dnslib.RCODE.NOERROR and not nodata.rr and nodata.auth
    assert [str(rr.rdata) for rr in ask("mesos", "NS").rr] == ["ns1.mesos."]
    assert [str(rr.rdata) for rr in ask("ns1.mesos").rr] == ["10.0.4.11"]


def test_other_names_are_not_the_zones() -> None:
    assert ask("example.com") is None
    assert ask("leader.mesos.example.com") is None


def test_recursion_available_follows_recurseon() -> None:
    assert ask("leader.mesos").header.ra
    assert not ask("leader.mesos", recurse_on=False).header.ra


def test_a_name_the_wire_cannot_carry_is_left_out_and_counted() -> None:
    long_label = "x" * 64 + ".marathon.mesos."
    records = dataclasses.replace(
        RECORDS,
        a=MappingProxyType(
            {**RECORDS.a, long_label: ("10.0.0.1",), "caf\u00e9.marathon.mesos.": ("10.0.0.2",)}
        ),
        srv=MappingProxyType(
            {**RECORDS.srv, "_x._tcp.marathon.mesos.": (SrvTarget(long_label, 80),)}
        ),
    )
    # The fixture's pipeline task has a 63-character label: with its hash (`-11f88-s0`) or an
    # underscore in front it is over 63 bytes, in 10 records Mesos-DNS generates too.
    assert zone_of(RECORDS, CONFIG).skipped == 10
    assert zone_of(records, CONFIG).skipped == 10 + 3
    assert ask("leader.mesos", records=records) is not None


def test_an_soa_name_outside_the_domain_is_no_name_server() -> None:
    config = dataclasses.replace(CONFIG, soa_mname="ns1.example.")
    records = generate(STATE, config, [], serial=1, listener_ips=["10.0.4.11"])
    built = zone_of(records, config)
    assert built.skipped == 10 + 1  # its A record
    reply = built.zone.reply(wire.parse(dnslib.DNSRecord.question("mesos", "NS").pack()), random)
    assert reply is not None and not dnslib.DNSRecord.parse(reply).rr


def test_forwarding_picks_the_zones_resolvers_then_the_resolvers() -> None:
    config = MesosDnsConfig.from_json(
        {
            "masters": ["10.0.4.11:5050"],
            "resolvers": ["127.0.0.2", "127.0.0.3:5353", "[::1]:53"],
            "zoneResolvers": {"corp": ["127.0.0.4"], "lab.example": ["127.0.0.5:54"]},
        }
    )
    table = forwarding(config)
    assert table.upstreams

    def upstreams(name: str, table: Any = table) -> list[tuple[str, int]]:
        return [(u.ip, u.port) for u in table.forward_for(wire.name_to_wire(name)).upstreams]

    assert upstreams("x.lab.example") == [("127.0.0.5", 54)]
    assert upstreams("b.corp") == [("127.0.0.4", 53)]
    assert upstreams("xcorp") == [("127.0.0.2", 53), ("127.0.0.3", 5353), ("::1", 53)]
    off = forwarding(dataclasses.replace(config, external_on=False))
    assert upstreams("x.lab.example", off) == [] and not off.upstreams
    assert not forwarding(dataclasses.replace(config, resolvers=(), zone_resolvers={})).upstreams


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ({}, "mesos_dns: Masters/Zk: give the Mesos masters or ZooKeeper"),
        ({"mesos_dns": {"zk": "zk://h:2181/mesos", "refreshSecond": 5}}, "not a Mesos-DNS"),
        ({"mesos_dns": {"zk": "zk://h:2181/mesos", "HttpOn": False}}, "always serves"),
        ({"mesos_dns": {"zk": "zk://h:2181/mesos"}, "threads": 0}, "threads"),
    ],
)
def test_the_daemon_config_refuses_what_mesos_dns_refuses(toml: Any, problem: str) -> None:
    problems = MesosDnsSettings(**toml).validate()
    assert problems and problem in problems[0]


def test_the_daemon_serves_http_where_mesos_dns_does() -> None:
    settings = MesosDnsSettings({"zk": "zk://h:2181/mesos", "HTTPListener": "127.0.0.1"})
    assert settings.validate() == []
    assert (settings.ip, settings.port, settings.dns.port) == ("127.0.0.1", 8123, 61053)


# -- the zone patched, not built whole -------------------------------------------------------


def _changed_states() -> list[tuple[str, dict[str, Any], list[str]]]:
    """The fixture's state changed step by step, as a cluster's would be."""
    steps: list[tuple[str, dict[str, Any], list[str]]] = []
    state = copy.deepcopy(STATE)
    masters = ["10.0.4.11:5050"]
    steps.append(("as recorded", copy.deepcopy(state), list(masters)))
    marathon = next(f for f in state["frameworks"] if f["name"] == "marathon")
    web = next(t for t in marathon["tasks"] if t["state"] == "TASK_RUNNING")
    web["state"] = "TASK_KILLED"
    steps.append(("a task killed", copy.deepcopy(state), list(masters)))
    extra = copy.deepcopy(web)
    extra.update(id="web.new", state="TASK_RUNNING", name="web")
    marathon["tasks"].append(extra)
    steps.append(("a task started", copy.deepcopy(state), list(masters)))
    state["slaves"][1]["pid"] = state["slaves"][1]["pid"].replace("10.0.6.22", "10.0.6.99")
    steps.append(("an agent's address changed", copy.deepcopy(state), list(masters)))
    masters += ["10.0.4.12:5050", "10.0.4.13:5050"]
    steps.append(("two masters more", copy.deepcopy(state), list(masters)))
    state["frameworks"] = [f for f in state["frameworks"] if f["name"] != "marathon"]
    steps.append(("a framework gone", copy.deepcopy(state), list(masters)))
    steps.append(("nothing changed", copy.deepcopy(state), list(masters)))
    return steps


def test_a_patched_zone_is_the_zone_built_whole() -> None:
    config = CONFIG
    previous = None
    for serial, (what, state, masters) in enumerate(_changed_states(), start=100):
        records = generate(state, config, masters, serial=serial, listener_ips=["10.0.4.11"])
        whole = zone_of(records, config).zone
        patched = zone_of(records, config, previous)
        assert patched.zone.answers == whole.answers, what
        assert patched.zone.names == whole.names, what
        assert (patched.zone.nodata, patched.zone.nxdomain) == (whole.nodata, whole.nxdomain)
        previous = patched


def test_a_patch_builds_only_what_changed() -> None:
    (_, state, masters), (_, killed, _) = _changed_states()[:2]
    before = zone_of(generate(state, CONFIG, masters, serial=1), CONFIG)
    after = generate(killed, CONFIG, masters, serial=2)
    patched = zone_of(after, CONFIG, before)
    kept = [key for key, answer in patched.zone.answers.items()
            if before.zone.answers.get(key) is answer]  # fmt: skip
    # Most answers are the very objects of the zone before: they were not built again.
    assert len(kept) > 0.8 * len(patched.zone.answers)
    assert patched.skipped == 0  # the long pipeline names were not in this build
