"""Record generation over the recorded `/master/state` of tests/fixtures/mesos_dns (how it was
made: tests/unit/mesos_dns/master_state.py), one test per record family, in the style of
Mesos-DNS's `records/` tests: a table of names and the values each must hold.

The cluster: leader 10.0.4.11:5050 (masters .11, .12, .13); agents S0 10.0.6.21, S1 10.0.6.22
(S2 10.0.6.23 is not in the state); frameworks marathon and metronome (schedulers at 10.0.4.11,
no pid) and Data_Pipeline.v2 (no address). Task hashes (checked in test_mesos_dns_labels.py):
web on S0 g3i1e, web on S1 zbjfm, myapp.mygroup rm4pp, the Metronome run moq66, the pipeline's
ingest 11f88 and docker-probe e9x6w.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import (
    RecordSet,
    SrvTarget,
    StateError,
    generate,
    mname_addresses,
    parse_ports,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mesos_dns" / "master_state.json"
STATE: dict[str, Any] = json.loads(FIXTURE.read_text())
MASTERS = ["10.0.4.11:5050", "10.0.4.12:5050", "10.0.4.13:5050"]
SERIAL = 1795996800
S0, S1 = "10.0.6.21", "10.0.6.22"
LONG = "ingest-worker-shard-07-partition-replica-partition-replica-part"  # 63 characters
PIPE = "data-pipeline.v2"


def records(
    state: dict[str, Any] | None = None, masters: list[str] | None = None, **config: Any
) -> RecordSet:
    return generate(
        state or STATE,
        dataclasses.replace(MesosDnsConfig(), **config),
        MASTERS if masters is None else masters,
        serial=SERIAL,
        listener_ips=["10.0.4.11", "127.0.0.1", "fd00::11"],
    )


RS = records()


def srv(*targets: str) -> tuple[SrvTarget, ...]:
    out = []
    for text in targets:
        target, _, port = text.rpartition(":")
        out.append(SrvTarget(target, int(port)))
    return tuple(out)


@pytest.mark.parametrize(
    ("name", "ips"),
    [
        ("web.marathon.mesos.", (S0, S1)),  # IPSources host first: the agents' addresses
        ("web-g3i1e-s0.marathon.mesos.", (S0,)),
        ("web-zbjfm-s1.marathon.mesos.", (S1,)),
        ("myapp-mygroup.marathon.mesos.", (S1,)),  # host wins over its container's 9.0.1.5
        ("nightly-backup-20261125010000ab3x9.metronome.mesos.", (S1,)),
        (f"{LONG}.{PIPE}.mesos.", (S0,)),
        (f"{LONG}-11f88-s0.{PIPE}.mesos.", (S0,)),
        ("docker-probe-e9x6w-s0.data-pipeline.v2.mesos.", (S0,)),
    ],
)
def test_task_a_records_hold_the_first_sources_addresses(name: str, ips: tuple[str, ...]) -> None:
    assert RS.a[name] == ips


@pytest.mark.parametrize(
    ("sources", "name", "a", "aaaa"),
    [
        (["netinfo", "host"], "myapp-mygroup.marathon.mesos.", ("9.0.1.5",), ("fd01:b::5",)),
        (["netinfo", "host"], "web.marathon.mesos.", (S0, S1), None),  # no netinfo: host
        (["mesos", "host"], f"{LONG}.{PIPE}.mesos.", ("9.0.2.7",), None),
        (["docker", "host"], "docker-probe.data-pipeline.v2.mesos.", ("9.0.3.8",), None),
        (["docker"], "web.marathon.mesos.", None, None),  # no source gives one: no A record
        (["netinfo"], "myapp-mygroup-rm4pp-s1.marathon.mesos.", ("9.0.1.5",), ("fd01:b::5",)),
    ],
)
def test_ip_sources_in_order(
    sources: list[str], name: str, a: tuple[str, ...] | None, aaaa: tuple[str, ...] | None
) -> None:
    rs = records(ip_sources=tuple(sources))
    assert rs.a.get(name) == a
    assert rs.aaaa.get(name) == aaaa


def test_netinfo_reads_the_latest_running_status_by_timestamp() -> None:
    state = copy.deepcopy(STATE)
    myapp = state["frameworks"][0]["tasks"][3]
    assert myapp["name"] == "myapp.mygroup"
    old = {"state": "TASK_RUNNING", "timestamp": 1.0, "container_status": {
        "network_infos": [{"ip_address": "9.0.1.4"}]}}  # fmt: skip
    myapp["statuses"].append(old)  # listed last, older by its timestamp
    rs = records(state, ip_sources=("netinfo",))
    assert rs.a["myapp-mygroup.marathon.mesos."] == ("9.0.1.5",)
    myapp["statuses"] = [old]  # Mesos 0.25's single address
    assert records(state, ip_sources=("netinfo",)).a["myapp-mygroup.marathon.mesos."] == (
        "9.0.1.4",
    )


@pytest.mark.parametrize(
    ("name", "ips"),
    [
        ("web.marathon.slave.mesos.", (S0, S1)),
        ("web-g3i1e-s0.marathon.slave.mesos.", (S0,)),
        ("myapp.mygroup.marathon.slave.mesos.", (S1,)),
        ("myapp-mygroup-rm4pp-s1.marathon.slave.mesos.", (S1,)),
        (f"{LONG}-11f88-s0.{PIPE}.slave.mesos.", (S0,)),
    ],
)
def test_task_slave_records_hold_the_agents_address(name: str, ips: tuple[str, ...]) -> None:
    assert records(ip_sources=("netinfo",)).a[name] == ips


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        (f"_{LONG}._tcp.{PIPE}.mesos.", (f"{LONG}-11f88-s0.{PIPE}.slave.mesos.:31500",
                                         f"{LONG}-11f88-s0.{PIPE}.slave.mesos.:31501")),
        (f"_{LONG}._udp.{PIPE}.mesos.", (f"{LONG}-11f88-s0.{PIPE}.slave.mesos.:31500",
                                         f"{LONG}-11f88-s0.{PIPE}.slave.mesos.:31501")),
        (f"_{LONG}._tcp.{PIPE}.slave.mesos.", (f"{LONG}-11f88-s0.{PIPE}.slave.mesos.:31500",
                                               f"{LONG}-11f88-s0.{PIPE}.slave.mesos.:31501")),
    ],
)  # fmt: skip
def test_srv_from_the_ports_resource_without_discovery_info(
    name: str, targets: tuple[str, ...]
) -> None:
    assert RS.srv[name] == srv(*targets)


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        ("_web._tcp.marathon.slave.mesos.", ("web-g3i1e-s0.marathon.slave.mesos.:31000",
                                             "web-g3i1e-s0.marathon.slave.mesos.:31001",
                                             "web-zbjfm-s1.marathon.slave.mesos.:31000",
                                             "web-zbjfm-s1.marathon.slave.mesos.:31001")),
        ("_myapp-mygroup._udp.marathon.slave.mesos.", (
            "myapp-mygroup-rm4pp-s1.marathon.slave.mesos.:31010",
            "myapp-mygroup-rm4pp-s1.marathon.slave.mesos.:31011")),
    ],
)  # fmt: skip
def test_slave_srv_always_from_the_ports_resource(name: str, targets: tuple[str, ...]) -> None:
    assert RS.srv[name] == srv(*targets)


def test_discovery_info_replaces_the_ports_resources_srv_records() -> None:
    # With DiscoveryInfo the `.F.D.` SRV records come from its ports, aimed at the task's
    # canonical name (not the `.slave` one), and only for the protocol each port gives.
    assert RS.srv["_web._tcp.marathon.mesos."] == srv(
        "web-g3i1e-s0.marathon.mesos.:31000", "web-g3i1e-s0.marathon.mesos.:31001",
        "web-zbjfm-s1.marathon.mesos.:31000", "web-zbjfm-s1.marathon.mesos.:31001",
    )  # fmt: skip
    assert "_web._udp.marathon.mesos." not in RS.srv


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        ("_myapp-mygroup._tcp.marathon.mesos.", ("myapp-mygroup-rm4pp-s1.marathon.mesos.:31010",
                                                 "myapp-mygroup-rm4pp-s1.marathon.mesos.:31011")),
        ("_myapp-mygroup._udp.marathon.mesos.", ("myapp-mygroup-rm4pp-s1.marathon.mesos.:31011",)),
        ("_http._myapp-mygroup._tcp.marathon.mesos.", (
            "myapp-mygroup-rm4pp-s1.marathon.mesos.:31010",)),
        ("_dns._myapp-mygroup._udp.marathon.mesos.", (
            "myapp-mygroup-rm4pp-s1.marathon.mesos.:31011",)),
        ("_dns._myapp-mygroup._tcp.marathon.mesos.", (
            "myapp-mygroup-rm4pp-s1.marathon.mesos.:31011",)),
        # ... and the same under the raw discovery name
        ("_http._myapp.mygroup._tcp.marathon.mesos.", (
            "myapp.mygroup-rm4pp-s1.marathon.mesos.:31010",)),
    ],
)  # fmt: skip
def test_named_discovery_ports(name: str, targets: tuple[str, ...]) -> None:
    assert RS.srv[name] == srv(*targets)
    assert "_http._myapp-mygroup._udp.marathon.mesos." not in RS.srv


def test_a_discovery_port_without_protocol_is_both_tcp_and_udp() -> None:
    state = copy.deepcopy(STATE)
    web = state["frameworks"][0]["tasks"][0]
    web["discovery"]["ports"]["ports"] = [{"number": 8080, "name": "Admin_UI"}]
    rs = records(state)
    for proto in ("tcp", "udp"):
        expected = srv("web-g3i1e-s0.marathon.mesos.:8080")
        assert rs.srv[f"_admin-ui._web._{proto}.marathon.mesos."] == expected
        assert rs.srv[f"_web._{proto}.marathon.mesos."][0] == expected[0]


def test_discovery_names_raw_and_sanitized() -> None:
    # Marathon's /mygroup/myapp: DiscoveryInfo name "myapp.mygroup".
    for name in (
        "myapp.mygroup.marathon.mesos.",
        "myapp-mygroup.marathon.mesos.",
        "myapp.mygroup-rm4pp-s1.marathon.mesos.",
        "myapp-mygroup-rm4pp-s1.marathon.mesos.",
    ):
        assert RS.a[name] == (S1,), name
    state = copy.deepcopy(STATE)
    state["frameworks"][0]["tasks"][3]["discovery"]["name"] = "MyApp.MyGroup"
    rs = records(state)
    assert rs.a["myapp.mygroup.marathon.mesos."] == (S1,)  # lowercased (see records.py)


def test_only_running_tasks_on_known_agents() -> None:
    names = set(RS.a) | set(RS.aaaa) | set(RS.srv)
    # web's third instance is TASK_STAGING; /cache runs on S2, missing from `slaves`.
    web_ids = [t["id"] for t in STATE["frameworks"][0]["tasks"] if t["name"] == "web"]
    assert len(web_ids) == 3
    assert not [n for n in names if "cache" in n]
    assert not [n for n in names if "10.0.6.23" in n]
    assert [t.id for t in RS.frameworks[0].tasks] == [web_ids[0], web_ids[2], STATE[
        "frameworks"][0]["tasks"][3]["id"]]  # fmt: skip
    assert RS.srv["_web._tcp.marathon.slave.mesos."][-1].port == 31001  # not 31003 (staging)
    assert all(ip != "10.0.6.23" for ips in RS.a.values() for ip in ips)


def test_framework_records() -> None:
    assert RS.a["marathon.mesos."] == ("10.0.4.11",)
    assert RS.a["metronome.mesos."] == ("10.0.4.11",)
    assert "data-pipeline.v2.mesos." not in RS.a  # no pid, no hostname
    assert "_framework._tcp.marathon.mesos." not in RS.srv  # no libprocess pid, no port
    state = copy.deepcopy(STATE)
    state["frameworks"][0]["pid"] = "scheduler-1b2c@10.0.4.12:15101"
    rs = records(state)
    assert rs.a["marathon.mesos."] == ("10.0.4.12",)
    assert rs.srv["_framework._tcp.marathon.mesos."] == srv("marathon.mesos.:15101")


def test_framework_names_keep_dots_as_label_separators() -> None:
    assert RS.a[f"docker-probe.{PIPE}.mesos."] == (S0,)
    rs = records(enforce_rfc952=True)
    assert rs.a["nightly-backup-202611250.metronome.mesos."] == (S1,)  # 24 characters


def test_slave_records() -> None:
    assert RS.a["slave.mesos."] == (S0, S1)
    assert RS.srv["_slave._tcp.mesos."] == srv("slave.mesos.:5051")


def test_a_host_name_has_the_addresses_the_caller_resolved() -> None:
    state = copy.deepcopy(STATE)
    state["slaves"][0]["pid"] = "slave(1)@agent-1.example:5051"
    config = MesosDnsConfig()
    rs = generate(state, config, MASTERS, serial=SERIAL)
    assert rs.a["slave.mesos."] == (S1,)
    assert "web-g3i1e-s0.marathon.slave.mesos." not in rs.a  # known agent, no address
    assert "web-g3i1e-s0.marathon.mesos." not in rs.a
    resolved = {"agent-1.example": ["10.0.6.31", "fd00::31"]}
    rs = generate(state, config, MASTERS, serial=SERIAL, resolved=resolved)
    assert rs.a["web-g3i1e-s0.marathon.slave.mesos."] == ("10.0.6.31",)
    assert rs.aaaa["web-g3i1e-s0.marathon.slave.mesos."] == ("fd00::31",)


@pytest.mark.parametrize(
    ("masters", "expected"),
    [
        (MASTERS, {"master.mesos.": ("10.0.4.11", "10.0.4.12", "10.0.4.13"),
                   "master0.mesos.": ("10.0.4.11",), "master1.mesos.": ("10.0.4.12",),
                   "master2.mesos.": ("10.0.4.13",)}),
        # The leader not listed first keeps its place; one not listed comes last.
        (["10.0.4.12:5050", "10.0.4.11:5050"], {"master.mesos.": ("10.0.4.11", "10.0.4.12"),
                                                "master0.mesos.": ("10.0.4.12",),
                                                "master1.mesos.": ("10.0.4.11",)}),
        (["10.0.4.12:5050", "10.0.4.12:5050"], {"master.mesos.": ("10.0.4.11", "10.0.4.12"),
                                                "master0.mesos.": ("10.0.4.12",),
                                                "master1.mesos.": ("10.0.4.11",)}),
        ([], {"master.mesos.": ("10.0.4.11",), "master0.mesos.": ("10.0.4.11",)}),
    ],
)  # fmt: skip
def test_master_records(masters: list[str], expected: dict[str, tuple[str, ...]]) -> None:
    rs = records(masters=masters)
    assert {n: ips for n, ips in rs.a.items() if n.startswith("master")} == expected
    assert rs.a["leader.mesos."] == ("10.0.4.11",)
    for proto in ("tcp", "udp"):
        assert rs.srv[f"_leader._{proto}.mesos."] == srv("leader.mesos.:5050")


def test_soa_mname_record_holds_the_listener_addresses() -> None:
    assert RS.a["ns1.mesos."] == ("10.0.4.11", "127.0.0.1")
    assert RS.aaaa["ns1.mesos."] == ("fd00::11",)
    assert mname_addresses("0.0.0.0", ["127.0.0.1", "10.0.4.11", "::1"]) == ("10.0.4.11",)
    assert mname_addresses("127.0.0.1", ["10.0.4.11"]) == ("127.0.0.1",)


def test_domain_and_serial() -> None:
    rs = records(domain="dcos.example")
    assert rs.a["leader.dcos.example."] == ("10.0.4.11",)
    assert rs.a["web-g3i1e-s0.marathon.dcos.example."] == (S0,)
    assert rs.serial == SERIAL


def test_a_state_without_a_leader_is_refused() -> None:
    with pytest.raises(StateError, match="no leading master"):
        records({**STATE, "leader": ""})
    with pytest.raises(StateError):
        records({**STATE, "frameworks": [{"name": "x", "tasks": 5}]})


def test_enumeration_lists_each_tasks_new_records() -> None:
    marathon, metronome, pipeline = RS.frameworks
    assert [f.name for f in RS.frameworks] == ["marathon", "metronome", "Data_Pipeline.v2"]
    web0, web1, _myapp = marathon.tasks
    assert (web0.name, web0.id) == ("web", STATE["frameworks"][0]["tasks"][0]["id"])
    assert web0.records[:2] == (
        ("web.marathon.mesos.", S0, "A"),
        ("web-g3i1e-s0.marathon.mesos.", S0, "A"),
    )
    # web on S1 adds its own address to web.marathon.mesos.; a record already there is not its
    assert ("web.marathon.mesos.", S1, "A") in web1.records
    assert ("_web._tcp.marathon.mesos.", "web-zbjfm-s1.marathon.mesos.:31000", "SRV") in (
        web1.records
    )
    assert len(metronome.tasks[0].records) == 4
    assert pipeline.tasks[0].name.startswith("Ingest_Worker.Shard.07_")


@pytest.mark.parametrize(
    ("text", "ports"),
    [("[31000-31001, 31005-31005]", (31000, 31001, 31005)), ("[]", ()), ("", ()),
     ("[31000-x]", ())],
)  # fmt: skip
def test_parse_ports(text: str, ports: tuple[int, ...]) -> None:
    assert parse_ports(text) == ports
