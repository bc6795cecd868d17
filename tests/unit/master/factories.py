"""Builders for master unit tests: a Master on a manual clock, agents and frameworks on streams."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from daemons.kit.config import from_mapping
from daemons.kit.streams import EventStream
from daemons.master import agent_calls, scheduler_calls
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
    master.elect()
    return master, clock


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
