"""`DnsProxy`: the table is rebuilt when the tasks' or Mesos-DNS's records change, only then,
and a bad input keeps the last good table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dnslib
import pytest

from daemons.kit.dns import wire
from daemons.kit.dns.upstream import Upstream
from daemons.kit.l4lb.named_ips import allocate
from dnsproxy import zones
from dnsproxy.axfr import mesos_records
from dnsproxy.proxy import DnsProxy
from dnsproxy.views import all_records

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mesos_dns" / "master_state.json"
NAME = "web.marathon.agentip.dcos.thisdcos.directory"


def ask(proxy: DnsProxy, name: str) -> list[str]:
    result = proxy.resolve(wire.parse(bytes(dnslib.DNSRecord.question(name).pack())))
    assert isinstance(result, bytes)
    return sorted(str(rr.rdata) for rr in dnslib.DNSRecord.parse(result).rr)


@pytest.fixture
def state() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


def test_a_changed_state_rebuilds_and_an_unchanged_one_does_not(state: dict[str, Any]) -> None:
    proxy = DnsProxy(["10.0.4.11"], [Upstream("10.0.4.11", 61053)], [])
    assert ask(proxy, NAME) == [] and proxy.loaded == set()
    assert proxy.update_state(state) is True
    assert ask(proxy, NAME) == ["10.0.6.21", "10.0.6.22"]
    assert proxy.update_state(json.loads(json.dumps(state))) is False
    assert proxy.rebuilds == 1
    marathon = next(f for f in state["frameworks"] if f["name"] == "marathon")
    marathon["tasks"] = [t for t in marathon["tasks"] if t["slave_id"].endswith("S0")]
    assert proxy.update_state(state) is True
    assert ask(proxy, NAME) == ["10.0.6.21"]


def test_a_bad_state_or_axfr_keeps_the_last_records(state: dict[str, Any]) -> None:
    proxy = DnsProxy(["10.0.4.11"], [], [])
    proxy.update_state(state)
    with pytest.raises(ValueError):
        proxy.update_state({"frameworks": []})  # no leader: a master that is not leading
    with pytest.raises(ValueError):
        proxy.update_mesos({"nothing": 1})
    assert ask(proxy, NAME) == ["10.0.6.21", "10.0.6.22"]


def test_the_mesos_copy() -> None:
    proxy = DnsProxy(["10.0.4.11"], [], [])
    body = {"Domain": "mesos", "Records": {"As": {"leader.mesos.": ["10.0.4.11"]}}}
    assert proxy.update_mesos(body) is True
    assert proxy.loaded == {"mesos"}
    assert ask(proxy, "leader.mesos.thisdcos.directory") == ["10.0.4.11"]
    assert ask(proxy, "leader.mesos.thisdcos.global") == ["10.0.4.11"]


def test_the_mesos_copy_is_kept_as_its_zone_and_rebuilt_only_when_it_changed(
    state: dict[str, Any],
) -> None:
    """Only the zone of the copy is held; the API's records are read back from it, the same
    as the body's; the same records again rebuild nothing; a task's change elsewhere keeps
    the copy's zone as it was."""
    proxy = DnsProxy(["10.0.4.11"], [], [])
    records = {
        "As": {"web.marathon.mesos.": ["10.0.6.21", "10.0.6.22"], "leader.mesos.": ["10.0.4.11"]},
        "SRVs": {"_web._tcp.marathon.mesos.": ["web-s0.marathon.mesos.:31000"]},
    }
    body = {"Domain": "mesos", "Records": records}
    assert proxy.update_mesos(body) is True
    held = proxy.table
    assert set(proxy.records[zones.MESOS]) == set(mesos_records(body))
    assert all_records(proxy.records)[-1] == {
        "name": "_web._tcp.marathon.mesos.thisdcos.directory.",
        "host": "web-s0.marathon.mesos.thisdcos.directory.:31000",
        "rtype": "SRV",
    }
    assert proxy.update_mesos(json.loads(json.dumps(body))) is False
    assert proxy.table is held and proxy.rebuilds == 1
    mesos_zone = proxy._zones[zones.MESOS]
    assert proxy.update_state(state) is True
    assert proxy._zones[zones.MESOS] is mesos_zone
    assert ask(proxy, "web.marathon.mesos.thisdcos.directory") == ["10.0.6.21", "10.0.6.22"]
    records["As"]["web.marathon.mesos."] = ["10.0.6.21"]
    assert proxy.update_mesos(body) is True
    assert ask(proxy, "web.marathon.mesos.thisdcos.directory") == ["10.0.6.21"]


def test_named_vips_are_served_in_l4lb_with_its_aliases(state: dict[str, Any]) -> None:
    """A Marathon task's `VIP_0: /web:80` (on a DiscoveryInfo port): its name answers the
    address Minuteman programs (`daemons.kit.l4lb`), under `dclb` and `.thisdcos.global` too;
    it goes when the task does."""
    proxy = DnsProxy(["10.0.4.11"], [], [])
    marathon = next(f for f in state["frameworks"] if f["name"] == "marathon")
    web = next(t for t in marathon["tasks"] if t["state"] == "TASK_RUNNING")
    web["discovery"]["ports"]["ports"][0]["labels"] = {
        "labels": [{"key": "VIP_0", "value": "/web:80"}]
    }
    assert proxy.update_state(state) is True
    address = str(allocate(["web.marathon"]).addresses["web.marathon"])
    for name in (
        "web.marathon.l4lb.thisdcos.directory",
        "web.marathon.dclb.thisdcos.directory",
        "web.marathon.l4lb.thisdcos.global",
        "web.marathon.dclb.thisdcos.global",
    ):
        assert ask(proxy, name) == [address], name
    marathon["tasks"].remove(web)
    assert proxy.update_state(state) is True
    assert ask(proxy, "web.marathon.l4lb.thisdcos.directory") == []
