"""Builders for master unit tests: a Master on a manual clock, agents and frameworks on streams."""

from __future__ import annotations

import base64
import random
import uuid
from typing import Any

from daemons.kit.config import from_mapping
from daemons.kit.streams import EventStream
from daemons.master import agent_calls, leadership, metrics, offers, scheduler_calls
from daemons.master.config import MasterConfig
from daemons.master.ids import IdGenerator
from daemons.master.master import Master
from daemons.master.registry import Registry

JSON = dict[str, Any]


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_master(
    registry: Registry | None = None,
    clock: Clock | None = None,
    master_id: str = "m1",
    **overrides: Any,
) -> tuple[Master, Clock]:
    """An elected master on a manual clock. `fatal_reasons` on it records why it stepped down."""
    clock = clock or Clock()
    config = from_mapping(MasterConfig, {"zk": "zk://127.0.0.1:2181/mesos", **overrides})
    reasons: list[str] = []
    master = Master(config, clock, IdGenerator(master_id), registry, on_fatal=reasons.append)
    master.fatal_reasons = reasons  # type: ignore[attr-defined]
    leadership.take_office(master)
    return master, clock


def allocate(master: Master, seed: int = 0) -> int:
    """One allocation round, its agent shuffle seeded."""
    return offers.allocate(master, random.Random(seed))


def snapshot(master: Master) -> dict[str, float]:
    """`/metrics/snapshot` at the master's time."""
    with master.lock:
        return metrics.snapshot(master, master.clock())


def scalar(name: str, value: float) -> JSON:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}


def ports(begin: int, end: int) -> JSON:
    return {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": begin, "end": end}]}}


def add_agent(
    master: Master, hostname: str = "a1", cpus: float = 4, mem: float = 4096, **extra: Any
) -> tuple[str, EventStream]:
    stream = EventStream(str(uuid.uuid4()), 15.0)
    body = {
        "type": "SUBSCRIBE",
        "subscribe": {
            "agent_info": {
                "hostname": hostname,
                "port": 5051,
                "resources": [scalar("cpus", cpus), scalar("mem", mem), ports(31000, 32000)],
                **extra.pop("agent_info", {}),
            },
            **extra,
        },
    }
    agent, first = agent_calls.subscribe(master, body, stream)
    assert agent is not None and first["type"] == "SUBSCRIBED", first
    return agent.agent_id, stream


def subscribe(
    master: Master, name: str = "fw", framework_id: str | None = None, **info: Any
) -> tuple[str, EventStream]:
    stream = EventStream(str(uuid.uuid4()), 15.0)
    framework_info: JSON = {"user": "root", "name": name, **info}
    body: JSON = {"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}}
    if framework_id:
        body["framework_id"] = {"value": framework_id}
        framework_info["id"] = {"value": framework_id}
    framework, first = scheduler_calls.subscribe(master, body, stream)
    assert framework is not None, first
    return framework.framework_id, stream


def call(master: Master, framework_id: str, stream: EventStream, kind: str, **payload: Any) -> Any:
    body: JSON = {"type": kind, "framework_id": {"value": framework_id}}
    body.update(payload)
    return scheduler_calls.handle(master, kind, body, stream.stream_id)


def agent_call(master: Master, agent_id: str, stream: EventStream, kind: str) -> None:
    """A payload-less agent call (PONG) on the agent's stream."""
    body = {"type": kind, "agent_id": {"value": agent_id}}
    agent_calls.handle(master, kind, body, stream.stream_id)


def events(stream: EventStream, kind: str | None = None) -> list[JSON]:
    return [e for e in stream.pending() if kind is None or e["type"] == kind]


def first_offer(master: Master, stream: EventStream) -> JSON:
    """The first offer of an allocation round, to the framework on `stream`."""
    allocate(master)
    offers = events(stream, "OFFERS")
    assert offers, "expected an OFFERS event"
    offer: JSON = offers[0]["offers"]["offers"][0]
    return offer


def command_task(task_id: str, agent_id: str, cpus: float = 1, mem: float = 128) -> JSON:
    return {
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": {"value": agent_id},
        "resources": [scalar("cpus", cpus), scalar("mem", mem)],
        "command": {"value": "sleep 10"},
    }


def launch(master: Master, fid: str, stream: EventStream, offer: JSON, *tasks: JSON) -> None:
    call(
        master,
        fid,
        stream,
        "ACCEPT",
        accept={
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": list(tasks)}}],
            "filters": {"refuse_seconds": 0},
        },
    )


def agent_update(
    master: Master,
    agent_id: str,
    agent_stream: EventStream,
    framework_id: str,
    task_id: str,
    state: str,
    **extra: Any,
) -> str:
    uid = base64.b64encode(uuid.uuid4().bytes).decode()
    status = {"task_id": {"value": task_id}, "state": state, "uuid": uid, **extra}
    body = {
        "type": "UPDATE",
        "agent_id": {"value": agent_id},
        "update": {"status": status, "framework_id": {"value": framework_id}},
    }
    agent_calls.handle(master, "UPDATE", body, agent_stream.stream_id)
    return uid


# --- a running cluster on a manual clock (high-availability tests) -------------------------------

# The fault suite's test profile (docs/high-availability.md): ping 1 s x 5, re-register window
# 20 s, ZooKeeper session 4 s.
PROFILE = {
    "agent_ping_timeout": 1.0,
    "max_agent_ping_timeouts": 5,
    "zk_session_timeout": 4.0,
    "agent_reregister_timeout": 20.0,
}
AWARE = [{"type": "PARTITION_AWARE"}]


def start_cluster(
    registry: Registry,
    clock: Clock | None = None,
    agents: int = 2,
    tasks_per_agent: int = 2,
    **overrides: Any,
) -> tuple[Master, Clock, dict[str, EventStream], str, EventStream]:
    """A leader with agents a0…, a partition-aware framework and RUNNING tasks on each agent."""
    master, clock = make_master(registry, clock, **{**PROFILE, **overrides})
    agent_streams = dict(add_agent(master, hostname=f"a{i}") for i in range(agents))
    fid, fstream = subscribe(master, failover_timeout=3600.0, capabilities=AWARE)
    allocate(master)
    for offer in events(fstream, "OFFERS")[0]["offers"]["offers"]:
        agent_id = offer["agent_id"]["value"]
        tasks = [command_task(f"{agent_id}-t{n}", agent_id) for n in range(tasks_per_agent)]
        launch(master, fid, fstream, offer, *tasks)
        for task in tasks:
            agent_update(
                master, agent_id, agent_streams[agent_id], fid, task["name"], "TASK_RUNNING"
            )
    fstream.pending()
    return master, clock, agent_streams, fid, fstream


def report(master: Master, agent_id: str) -> list[JSON]:
    """What the agent says of its tasks when it re-subscribes (docs/agent-protocol.md)."""
    return [
        {
            "task_id": {"value": t.task_id},
            "framework_id": {"value": t.framework_id},
            "name": t.name,
            "state": "TASK_RUNNING",
            "resources": t.info.raw["resources"],
        }
        for t in master.agents[agent_id].tasks.values()
    ]


def reregister(
    master: Master, agent_id: str, tasks: list[JSON], hostname: str
) -> tuple[str, EventStream]:
    return add_agent(master, hostname=hostname, agent_info={"id": {"value": agent_id}}, tasks=tasks)


def advance(
    master: Master,
    clock: Clock,
    seconds: float,
    pong: dict[str, EventStream] | None = None,
    step: float = 0.25,
) -> None:
    """Move time on in steps, ticking; `pong` is the agents (id -> stream) whose PONGs arrive."""
    for _ in range(round(seconds / step)):
        clock.advance(step)
        for agent_id, stream in (pong or {}).items():
            if any(e["type"] == "PING" for e in stream.pending()):
                agent_call(master, agent_id, stream, "PONG")
        leadership.tick(master)


def reconcile(
    master: Master, fid: str, fstream: EventStream, task_id: str, agent_id: str | None = None
) -> list[JSON]:
    """The UPDATEs an explicit reconciliation of one task brings."""
    entry: JSON = {"task_id": {"value": task_id}}
    if agent_id:
        entry["agent_id"] = {"value": agent_id}
    call(master, fid, fstream, "RECONCILE", reconcile={"tasks": [entry]})
    return [e["update"]["status"] for e in events(fstream, "UPDATE")]
