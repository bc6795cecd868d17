"""The agent's state with no runtime, for tests that drive its transitions on one thread (not a
test module): real checkpoints in a temp dir, a clock the test moves, uuids counted from 1.

A transition's effects are read with `agent.take_plan()`; nothing is launched, sent or waited
for -- the test plays the runtime's part (`launched`, `exited`, ...) itself.
"""

from __future__ import annotations

import base64
import itertools
from pathlib import Path
from typing import Any

from daemons.agent import containers, executor_calls, master_events
from daemons.agent.agent import Agent
from daemons.agent.checkpoint import Checkpoints
from daemons.agent.config import AgentConfig
from daemons.agent.messages import Subscribe, Update, parse_event, parse_executor_call
from daemons.agent.plan import Effect, LaunchContainer, SendExecutor
from daemons.kit.streams import EventStream

JSON = dict[str, Any]
FID = "fw-1"
AGENT_ID = "A-S0"
FRAMEWORK_INFO: JSON = {"id": {"value": FID}, "user": "root", "name": "fw"}
COMMAND_ARGV = ["/usr/bin/python3", "-I", "-S", "/libexec/command.py"]
DEFAULT_ARGV = ["/usr/bin/python3", "-I", "-S", "/libexec/default.py"]


class Clock:
    """Wall clock and monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.wall = 1_700_000_000.0
        self.mono = 100.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def make_agent(work_dir: Path, clock: Clock | None = None, **config: Any) -> Agent:
    clock = clock or Clock()
    counter = itertools.count(1)
    agent = Agent(
        AgentConfig(
            master="127.0.0.1:5050",
            work_dir=str(work_dir),
            resources="cpus:4;mem:4096;disk:10000;ports:[31000-32000]",
            **config,
        ),
        Checkpoints(work_dir),
        boot_id="boot-1",
        command_argv=COMMAND_ARGV,
        default_argv=DEFAULT_ARGV,
        base_environment={"PATH": "/bin"},
        clock=lambda: clock.wall,
        monotonic=lambda: clock.mono,
        new_uuid=lambda: next(counter).to_bytes(16, "big"),
    )
    agent.agent_id = AGENT_ID
    agent.recovered = True
    return agent


def resources(cpus: float, mem: float) -> list[JSON]:
    return [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
    ]


def task(task_id: str, command: str = "sleep 60") -> JSON:
    return {
        "task_id": {"value": task_id},
        "name": task_id,
        "agent_id": {"value": AGENT_ID},
        "resources": resources(0.5, 64),
        "command": {"value": command},
    }


def run_task(info: JSON) -> JSON:
    return {"type": "RUN_TASK", "run_task": {"framework_info": FRAMEWORK_INFO, "task": info}}


def kill_task(task_id: str) -> JSON:
    kill = {"framework_id": {"value": FID}, "task_id": {"value": task_id}}
    return {"type": "KILL_TASK", "kill_task": kill}


def acknowledge(task_id: str, uuid: str) -> JSON:
    ack = {"framework_id": {"value": FID}, "task_id": {"value": task_id}, "uuid": uuid}
    return {"type": "ACKNOWLEDGE", "acknowledge": ack}


def handle(agent: Agent, event: JSON) -> None:
    """The master's event, parsed as the master link parses it, then handled."""
    parsed = parse_event(event)
    assert parsed is not None, event
    master_events.handle_event(agent, parsed)


def executor_call(kind: str, executor_id: str, **payload: Any) -> Any:
    """An executor's call, parsed as the executor API parses it."""
    body = {"type": kind, "framework_id": {"value": FID}, "executor_id": {"value": executor_id}}
    return parse_executor_call(kind, {**body, **payload})


def update(agent: Agent, executor_id: str, status: JSON) -> None:
    """The executor's UPDATE with `status` (executor_calls.update)."""
    call = executor_call("UPDATE", executor_id, update={"status": status})
    assert isinstance(call, Update)
    executor_calls.update(agent, call)


def of(plan: list[Effect], kind: type[Any]) -> list[Any]:
    return [e for e in plan if isinstance(e, kind)]


def sent(plan: list[Effect], stream: EventStream) -> list[JSON]:
    """The events the plan queues on `stream`, in order."""
    return [e.event for e in plan if isinstance(e, SendExecutor) and e.stream is stream]


def launch(agent: Agent, event: JSON, pid: int = 4242) -> tuple[LaunchContainer, list[Effect]]:
    """Handle a RUN_TASK(_GROUP) and play the runtime: the container starts with `pid`.
    Returns the launch and the plan of `containers.launched`."""
    handle(agent, event)
    (started,) = of(agent.take_plan(), LaunchContainer)
    containers.launched(
        agent, started.framework_id, started.executor_id, started.spec.container_id, pid
    )
    return started, agent.take_plan()


def subscribe(
    agent: Agent, executor_id: str, payload: JSON | None = None
) -> tuple[EventStream, list[JSON]]:
    """The executor SUBSCRIBEs: its stream and the events queued on it behind SUBSCRIBED."""
    stream = EventStream(f"stream-{executor_id}", 15.0)
    call = executor_call("SUBSCRIBE", executor_id, subscribe=payload or {})
    assert isinstance(call, Subscribe)
    first = executor_calls.subscribe(agent, call, stream)
    assert first["type"] == "SUBSCRIBED"
    return stream, sent(agent.take_plan(), stream)


def executor_status(task_id: str, state: str, n: int) -> JSON:
    """A status as an executor sends it (uuid: base64 of 16 bytes)."""
    uuid = base64.b64encode((1000 + n).to_bytes(16, "big")).decode()
    return {"task_id": {"value": task_id}, "state": state, "uuid": uuid}
