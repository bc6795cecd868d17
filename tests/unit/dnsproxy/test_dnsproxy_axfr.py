"""`mesos.thisdcos.directory` from Mesos-DNS's `/v1/axfr`: the body comes from our Mesos-DNS
record core over the recorded state, so the copy follows whatever that core generates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from daemons.kit.dns import zone
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import generate
from daemons.mesos_dns.zone import axfr
from dnsproxy.axfr import mesos_records

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mesos_dns" / "master_state.json"
M = "mesos.thisdcos.directory"


@pytest.fixture(scope="module")
def body() -> dict[str, Any]:
    state = json.loads(FIXTURE.read_text())
    config = MesosDnsConfig()
    records = generate(state, config, ["10.0.4.11:5050"], serial=1, listener_ips=["10.0.4.11"])
    return axfr(records, config)


def test_every_mesos_dns_name_is_copied_under_the_zone(body: dict[str, Any]) -> None:
    copied = mesos_records(body)
    expected = {
        name.removesuffix(".mesos.") + "." + M
        for key in ("As", "AAAAs", "SRVs")
        for name in body["Records"][key]
    }
    assert {r.name for r in copied} == expected
    assert zone.A(f"leader.{M}", "10.0.4.11") in copied
    assert zone.A(f"web.marathon.{M}", "10.0.6.21") in copied
    # DC/OS's IPSources put the agent first: a `.mesos` task name is its agent's address.
    assert zone.A(f"myapp-mygroup.marathon.{M}", "10.0.6.22") in copied
    assert zone.A(f"_myapp-mygroup._tcp.marathon.{M}", "10.0.6.22") not in copied


def test_srv_targets_are_renamed_too(body: dict[str, Any]) -> None:
    srvs = [r for r in mesos_records(body) if isinstance(r, zone.SRV)]
    assert srvs
    assert all(r.target.endswith("." + M) for r in srvs)
    assert zone.SRV(f"_leader._tcp.{M}", f"leader.{M}", 5050) in srvs


def test_a_name_and_an_address_are_one_string_in_every_record(body: dict[str, Any]) -> None:
    copied = mesos_records(body)
    names: dict[str, str] = {}
    ips: dict[str, str] = {}
    for r in copied:
        assert names.setdefault(r.name, r.name) is r.name
        if isinstance(r, zone.SRV):
            assert names.setdefault(r.target, r.target) is r.target
        else:
            assert ips.setdefault(r.ip, r.ip) is r.ip
    assert len(names) < len(copied)  # the fixture's names are owners and targets again


def test_bad_entries_are_left_out_one_by_one() -> None:
    body = {
        "Domain": "mesos",
        "Records": {
            "As": {"a.mesos.": ["10.0.0.1", "not-an-ip"], "b.example.": ["10.0.0.2"], "c": 5},
            "SRVs": {"_s._tcp.mesos.": ["a.mesos.:80", "a.mesos.:http", "x.example.:81"]},
        },
    }
    assert mesos_records(body) == (
        zone.A(f"a.{M}", "10.0.0.1"),
        zone.SRV(f"_s._tcp.{M}", f"a.{M}", 80),
    )


@pytest.mark.parametrize("bad", [None, [], {"Domain": "mesos"}, {"Records": {}}, {"Domain": 3}])
def test_a_body_that_is_not_axfr_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        mesos_records(bad)
