"""Builds tests/fixtures/mesos_dns/master_state.json: `/master/state` as our master renders it
(`daemons.master.state_json.state`) after the calls a small cluster makes, run in-process on a
manual clock through the master's own call handlers (tests/unit/master/factories.py). Marathon's
TaskInfos are built by Marathon's `task_info.build_task_info` from parsed app definitions and
Metronome's by its scheduler's `task_info`, so every field is in the shape those send.

The cluster: master 10.0.4.11:5050; agents -S0 (10.0.6.21), -S1 (10.0.6.22), -S2 (10.0.6.23);
frameworks, all RUNNING unless said:
- `marathon` (scheduler at 10.0.4.11): `/web` (two unnamed tcp ports) on S0 and S1, a third
  instance of it still TASK_STAGING on S0; `/mygroup/myapp` (ports `http` tcp and `dns`
  udp,tcp) on S1, whose TASK_RUNNING reports a container network with 9.0.1.5 and fd01:b::5;
  `/cache` on S2;
- `metronome` (at 10.0.4.11): one run of job `nightly.backup` on S1 (no ports);
- `Data_Pipeline.v2` (a framework of the Mesos client, no scheduler address): a task named
  `Ingest_Worker.Shard.07` followed by a long tail (upper case, underscores, dots, over 63
  characters) with ports 31500-31501 and no DiscoveryInfo on S0, its status labelled with
  MesosContainerizer's address 9.0.2.7; `docker-probe` on S0 labelled with Docker's 9.0.3.8.

One edit after rendering: agent S2 is left out of `slaves`, as in a state fetched while that
agent is being removed, so `/cache`'s task runs on an agent the state does not know.

Run `python tests/unit/mesos_dns/master_state.py` from the repository root to rewrite the
fixture; test_mesos_dns_fixture.py fails when the master would render it differently.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from daemons.marathon.appdef import parse_app  # noqa: E402
from daemons.marathon.task_info import build_task_info  # noqa: E402
from daemons.master import state_json  # noqa: E402
from daemons.protocols.resources import Resources  # noqa: E402
from daemons.protocols.tasks import command_task  # noqa: E402
from tests.unit.master.factories import (  # noqa: E402
    add_agent,
    agent_update,
    allocate,
    call,
    events,
    make_master,
    subscribe,
)

FIXTURE = REPO / "tests" / "fixtures" / "mesos_dns" / "master_state.json"
MASTER_ID = "8b3f6a0e-4f0c-4a8e-9d5e-2c1f7a9b3d10"
AGENT_IPS = ("10.0.6.21", "10.0.6.22", "10.0.6.23")
SCHEDULER_HOST = "10.0.4.11"
LONG_NAME = "Ingest_Worker.Shard.07_" + "partition-replica_" * 4 + "END"

APPS: dict[str, dict[str, Any]] = {
    "/web": {"id": "/web", "cmd": "python3 -m http.server $PORT0", "cpus": 0.1, "mem": 32,
             "portDefinitions": [{"port": 0}, {"port": 0}]},
    "/mygroup/myapp": {"id": "/mygroup/myapp", "cmd": "sleep 3600", "cpus": 0.1, "mem": 32,
                       "portDefinitions": [{"port": 0, "name": "http", "protocol": "tcp"},
                                           {"port": 0, "name": "dns", "protocol": "udp,tcp"}]},
    "/cache": {"id": "/cache", "cmd": "sleep 3600", "cpus": 0.1, "mem": 32,
               "portDefinitions": [{"port": 0}]},
}  # fmt: skip


def _offers(
    master: Any, subscribed: dict[str, Any], fid: str, wanted: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Offers of the `wanted` agents to framework `fid`, by agent id, from as many allocation
    rounds as it takes; the other frameworks decline theirs."""
    found: dict[str, dict[str, Any]] = {}
    for _ in range(10):
        master.clock.advance(1)  # past the filters of earlier declines
        allocate(master)
        for other, stream in subscribed.items():
            for event in events(stream, "OFFERS"):
                for offer in event["offers"]["offers"]:
                    if other == fid:
                        found[offer["agent_id"]["value"]] = offer
                    else:
                        _accept(master, other, stream, offer)
        if set(wanted) <= found.keys():
            return found
    raise AssertionError(f"no offers of {wanted} to {fid}")


def _decline_rest(
    master: Any, fid: str, stream: Any, offers: dict[str, Any], used: tuple[str, ...]
) -> None:
    for agent_id, offer in offers.items():
        if agent_id not in used:
            _accept(master, fid, stream, offer)


def _accept(master: Any, fid: str, stream: Any, offer: dict[str, Any], *tasks: Any) -> None:
    operations = [{"type": "LAUNCH", "launch": {"task_infos": list(tasks)}}] if tasks else []
    call(master, fid, stream, "ACCEPT", accept={
        "offer_ids": [offer["id"]], "operations": operations, "filters": {"refuse_seconds": 0},
    })  # fmt: skip


def _marathon_task(app_id: str, task_id: str, agent_id: str, host_ports: list[int]) -> Any:
    app = parse_app(APPS[app_id], version=1795996800.0)
    consumed = {"*": Resources.of(
        scalars={"cpus": app.cpus, "mem": app.mem},
        ranges={"ports": [(p, p) for p in host_ports]},
    )}  # fmt: skip
    return build_task_info(
        app, task_id=task_id, agent_id=agent_id, hostname=AGENT_IPS[int(agent_id[-1])],
        consumed=consumed, host_ports=host_ports, allocation_role="*",
        version_label="2026-11-25T00:00:00.000Z",
    )  # fmt: skip


def _running(
    master: Any, agents: Any, fid: str, agent_id: str, task_id: str, at: float, **extra: Any
) -> None:
    agent_update(master, agent_id, agents[agent_id], fid, task_id, "TASK_RUNNING",
                 timestamp=at, **extra)  # fmt: skip


def build_state() -> dict[str, Any]:
    master, clock = make_master(master_id=MASTER_ID, ip="10.0.4.11", hostname="master-1")
    agents: dict[str, Any] = {}
    for n, ip in enumerate(AGENT_IPS):
        agent_id, stream = add_agent(
            master, hostname=f"agent-{n + 1}", agent_info={"address": {"ip": ip}}
        )
        agents[agent_id] = stream
    s0, s1, s2 = agents

    marathon, m_stream = subscribe(
        master, "marathon", hostname=SCHEDULER_HOST, webui_url=f"http://{SCHEDULER_HOST}:8080"
    )
    subscribed = {marathon: m_stream}
    offers = _offers(master, subscribed, marathon, (s0, s1, s2))
    web1, web2, web3 = (f"web.{n}c0ffee0-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
    myapp = "mygroup_myapp.4d6e2c1a-5b7f-4e3a-9c8d-0e1f2a3b4c5d"
    cache = "cache.7a8b9c0d-1e2f-4a5b-8c6d-7e8f9a0b1c2d"
    _accept(master, marathon, m_stream, offers[s0],
            _marathon_task("/web", web1, s0, [31000, 31001]),
            _marathon_task("/web", web3, s0, [31002, 31003]))  # fmt: skip
    _accept(master, marathon, m_stream, offers[s1],
            _marathon_task("/web", web2, s1, [31000, 31001]),
            _marathon_task("/mygroup/myapp", myapp, s1, [31010, 31011]))  # fmt: skip
    _accept(master, marathon, m_stream, offers[s2],
            _marathon_task("/cache", cache, s2, [31020]))  # fmt: skip
    clock.advance(2)
    _running(master, agents, marathon, s0, web1, clock.now)
    _running(master, agents, marathon, s1, web2, clock.now)
    _running(master, agents, marathon, s2, cache, clock.now)
    clock.advance(1)
    network = {"network_infos": [{"ip_addresses": [
        {"protocol": "IPv4", "ip_address": "9.0.1.5"},
        {"protocol": "IPv6", "ip_address": "fd01:b::5"},
    ]}]}  # fmt: skip
    _running(master, agents, marathon, s1, myapp, clock.now, container_status=network)

    metronome, j_stream = subscribe(
        master, "metronome", hostname=SCHEDULER_HOST, webui_url=f"http://{SCHEDULER_HOST}:9000"
    )
    subscribed[metronome] = j_stream
    offers = _offers(master, subscribed, metronome, (s1,))
    run_id = "20261125010000ab3x9"
    job_task = f"nightly.backup_{run_id}.5e6f7a8b9c0d4e1f8a2b3c4d5e6f7a8b"
    _accept(master, metronome, j_stream, offers[s1], command_task(
        f"nightly.backup.{run_id}", job_task, s1, 0.1, 32, "pg_dump > /backup/db.sql",
        labels={"METRONOME_JOB_ID": "nightly.backup", "METRONOME_RUN_ID": run_id},
    ))  # fmt: skip
    _running(master, agents, metronome, s1, job_task, clock.now)
    _decline_rest(master, metronome, j_stream, offers, (s1,))

    pipeline, p_stream = subscribe(master, "Data_Pipeline.v2")
    subscribed[pipeline] = p_stream
    ingest, probe = "ingest-0001", "docker-probe-0001"
    offers = _offers(master, subscribed, pipeline, (s0,))
    _accept(master, pipeline, p_stream, offers[s0], command_task(
        LONG_NAME, ingest, s0, 0.1, 32, "ingest --shard 7", ports=[31500, 31501]
    ), command_task("docker-probe", probe, s0, 0.1, 32, "probe"))  # fmt: skip
    _decline_rest(master, pipeline, p_stream, offers, (s0,))
    label = {"key": "MesosContainerizer.NetworkSettings.IPAddress", "value": "9.0.2.7"}
    _running(master, agents, pipeline, s0, ingest, clock.now, labels={"labels": [label]})
    label = {"key": "Docker.NetworkSettings.IPAddress", "value": "9.0.3.8"}
    _running(master, agents, pipeline, s0, probe, clock.now, labels={"labels": [label]})

    with master.lock:
        state: dict[str, Any] = json.loads(json.dumps(state_json.state(master)))
    state["slaves"] = [a for a in state["slaves"] if a["id"] != s2]
    return state


def main() -> None:
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(build_state(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
