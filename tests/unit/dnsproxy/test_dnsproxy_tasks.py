"""`dcos.thisdcos.directory` from the recorded `/master/state` (tests/fixtures/mesos_dns), one
name family per test. In the fixture: masters 10.0.4.11 (leader); agents S0 10.0.6.21, S1
10.0.6.22, S2 not in the state; Marathon runs `web` on S0 and S1 (and a staging one), the
`/mygroup/myapp` app (DiscoveryInfo `myapp.mygroup`, container 9.0.1.5 and fd01:b::5, host ports)
and `cache` on S2; Metronome a job run with no ports; `Data_Pipeline.v2` a long-named worker
and `docker-probe`, neither with a container address."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from daemons.kit.dns import zone
from dnsproxy.tasks import container_ips, pid_host, task_records

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mesos_dns" / "master_state.json"
Z = "dcos.thisdcos.directory"


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


def names(records: tuple[zone.Record, ...], name: str) -> list[str]:
    return [r.ip for r in records if not isinstance(r, zone.SRV) and r.name == name]


def test_leader_and_masters(state: dict[str, Any]) -> None:
    records = task_records(state, ["10.0.4.11", "10.0.4.12", "10.0.4.13"])
    assert names(records, f"leader.{Z}") == ["10.0.4.11"]
    # the leader once, then the other masters given
    assert names(records, f"master.{Z}") == ["10.0.4.11", "10.0.4.12", "10.0.4.13"]


@pytest.mark.parametrize(
    ("name", "ips"),
    [
        # two running instances, one per agent; the staging one adds nothing
        (f"web.marathon.agentip.{Z}", ["10.0.6.21", "10.0.6.22"]),
        (f"myapp-mygroup.marathon.agentip.{Z}", ["10.0.6.22"]),
        (f"nightly-backup-20261125010000ab3x9.metronome.agentip.{Z}", ["10.0.6.22"]),
        (f"docker-probe.data-pipeline.v2.agentip.{Z}", ["10.0.6.21"]),
        # cache runs on S2, which the state does not list
        (f"cache.marathon.agentip.{Z}", []),
    ],
)
def test_agentip_is_the_agents_address(state: dict[str, Any], name: str, ips: list[str]) -> None:
    assert names(task_records(state, []), name) == ips


def test_containerip_only_for_containers_with_an_address(state: dict[str, Any]) -> None:
    records = task_records(state, [])
    assert names(records, f"myapp-mygroup.marathon.containerip.{Z}") == ["9.0.1.5", "fd01:b::5"]
    assert [type(r) for r in records if r.name == f"myapp-mygroup.marathon.containerip.{Z}"] == [
        zone.A,
        zone.AAAA,
    ]
    assert names(records, f"web.marathon.containerip.{Z}") == []


def test_autoip_is_the_agent_with_host_ports_or_no_container_address(
    state: dict[str, Any],
) -> None:
    records = task_records(state, [])
    # host ports win over the container's address
    assert names(records, f"myapp-mygroup.marathon.autoip.{Z}") == ["10.0.6.22"]
    assert names(records, f"web.marathon.autoip.{Z}") == ["10.0.6.21", "10.0.6.22"]
    assert names(records, f"docker-probe.data-pipeline.v2.autoip.{Z}") == ["10.0.6.21"]


def test_autoip_is_the_container_without_host_ports(state: dict[str, Any]) -> None:
    task = next(t for f in state["frameworks"] for t in f["tasks"] if t["name"] == "myapp.mygroup")
    portless = {**task, "resources": {k: v for k, v in task["resources"].items() if k != "ports"}}
    changed = {**state, "frameworks": [{"name": "marathon", "tasks": [portless]}]}
    records = task_records(changed, [])
    assert names(records, f"myapp-mygroup.marathon.autoip.{Z}") == ["9.0.1.5", "fd01:b::5"]


def test_long_names_are_sanitized_and_cut_as_mesos_dns_does(state: dict[str, Any]) -> None:
    long = [r.name for r in task_records(state, []) if "data-pipeline" in r.name]
    worker = [n for n in long if n.startswith("ingest")]
    assert worker
    assert all(len(n.split(".")[0]) <= 63 for n in worker)
    assert worker[0].split(".")[0] == (
        "ingest-worker-shard-07-partition-replica-partition-replica-part"
    )


def test_every_record_is_in_the_zone_and_once(state: dict[str, Any]) -> None:
    records = task_records(state, ["10.0.4.11"])
    assert all(r.name.endswith("." + Z) for r in records)
    assert len(records) == len(set(records))


@pytest.mark.parametrize("bad", [{}, {"leader": ""}, [], {"leader": "m@1.2.3.4:5050", "slaves": 3}])
def test_a_state_that_is_not_a_masters_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        task_records(bad, [])


def test_pid_hosts_and_container_ips() -> None:
    assert pid_host("slave(1)@10.0.6.21:5051") == "10.0.6.21"
    assert pid_host("master@[fd00::1]:5050") == "fd00::1"
    assert pid_host("no-at-sign") == pid_host(None) == ""
    running = {"state": "TASK_RUNNING", "timestamp": 2.0}
    task = {
        "statuses": [
            {**running, "container_status": {"network_infos": [{"ip_addresses": [
                {"ip_address": "9.0.0.2"}]}]}},
            {**running, "timestamp": 1.0, "container_status": {"network_infos": [
                {"ip_addresses": [{"ip_address": "9.0.0.1"}]}]}},
        ]
    }  # fmt: skip
    assert container_ips(task) == ["9.0.0.2"]  # the latest TASK_RUNNING status
