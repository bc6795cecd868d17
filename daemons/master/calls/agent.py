"""The agent protocol's calls (docs/agent-protocol.md) as typed values, parsed once. Pure.

`parse_subscribe(body)` and `parse(kind, body)` return the call's payload (and, for calls on an
established stream, the agent id the call names) or raise `ProtocolError` naming the bad field
(`agent_calls` answers 400). What a re-registering agent reports of the frameworks, executors
and tasks it runs is read as `recorded` reads what was accepted before: as far as it goes, and
an item without its ids or resources left out (logged), never refusing the registration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from daemons.master import recorded
from daemons.master.calls.scheduler import call_id, payload_of
from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_value, opt_id_value
from daemons.protocols.models import AgentInfo, ExecutorInfo, FrameworkInfo, TaskStatus
from daemons.protocols.models import Task as ReportedTask
from daemons.protocols.states import ALL_TASK_STATES

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Subscribe:
    agent_info: AgentInfo
    agent_id: str | None  # its id when it re-registers (`agent_info.id`, or the call's)
    address_ip: str | None  # `agent_info.address.ip`, if it gave one
    version: str
    boot_id: str
    frameworks: dict[str, FrameworkInfo]  # by id: the frameworks of what it runs
    executors: tuple[ExecutorInfo, ...]  # each with its framework id
    tasks: tuple[ReportedTask, ...]


@dataclass(frozen=True, slots=True)
class Update:
    status: TaskStatus
    framework_id: str


@dataclass(frozen=True, slots=True)
class Updates:
    updates: tuple[Update, ...]


@dataclass(frozen=True, slots=True)
class Message:
    framework_id: str
    executor_id: str
    data: Any  # passed on to the framework as sent


@dataclass(frozen=True, slots=True)
class ExitedExecutor:
    framework_id: str
    executor_id: str
    status: int  # the waitpid(2) status; 0 when the agent gave none it could


Payload = Update | Updates | Message | ExitedExecutor | None


# --- SUBSCRIBE -----------------------------------------------------------------------------------


def _address_ip(info: JSON) -> str | None:
    address = info.get("address")
    ip = address.get("ip") if isinstance(address, dict) else None
    return ip if isinstance(ip, str) and ip else None


def _agent_info(payload: JSON) -> AgentInfo:
    raw = payload.get("agent_info")
    if not isinstance(raw, dict):
        raise ProtocolError("Expecting 'subscribe.agent_info' to be present", "agent_info")
    info = AgentInfo.parse(raw, "subscribe.agent_info")
    if not info.hostname:
        raise f.fail("subscribe.agent_info", "hostname", "must not be empty")
    return info


def parse_subscribe(body: JSON) -> Subscribe:
    payload = payload_of(body, "subscribe")
    info = _agent_info(payload)
    raw_frameworks = f.objects(payload, "frameworks", "subscribe")
    raw_executors = f.objects(payload, "executors", "subscribe")
    raw_tasks = f.objects(payload, "tasks", "subscribe")
    frameworks = [recorded.framework_info(r, "subscribe.frameworks[]") for r in raw_frameworks]
    executors = [recorded.executor_info(r, "subscribe.executors[]") for r in raw_executors]
    tasks = [recorded.task(r, "subscribe.tasks[]") for r in raw_tasks]
    left_out = executors.count(None) + tasks.count(None)
    if left_out:
        log.warning("agent reported %d executors or tasks without ids or resources", left_out)
    return Subscribe(
        agent_info=info,
        agent_id=info.id or opt_id_value(body, "agent_id", "call") or None,
        address_ip=_address_ip(info.raw),
        version=f.opt_string(payload, "version", "subscribe") or "",
        boot_id=f.opt_string(payload, "boot_id", "subscribe") or "",
        frameworks={fw.id: fw for fw in frameworks if fw.id},
        executors=tuple(e for e in executors if e is not None),
        tasks=tuple(t for t in tasks if t is not None),
    )


# --- calls on an established stream --------------------------------------------------------------


def _update(payload: JSON, where: str) -> Update:
    if not isinstance(payload.get("status"), dict):
        raise ProtocolError(f"Expecting '{where}.status' to be present", f"{where}.status")
    status = TaskStatus.parse(payload["status"], f"{where}.status")
    if status.state not in ALL_TASK_STATES:
        raise f.fail(f"{where}.status", "state", f"is an unknown task state {status.state!r}")
    return Update(status, id_value(payload, "framework_id", where))


def _updates(body: JSON) -> Updates:
    payload = payload_of(body, "updates")
    items = f.objects(payload, "updates", "updates")
    return Updates(tuple(_update(item, "updates.updates[]") for item in items))


def _message(body: JSON) -> Message:
    payload = payload_of(body, "message")
    return Message(
        framework_id=id_value(payload, "framework_id", "message"),
        executor_id=id_value(payload, "executor_id", "message"),
        data=payload.get("data", ""),
    )


def _exited_executor(body: JSON) -> ExitedExecutor:
    payload = payload_of(body, "exited_executor")
    status = payload.get("status", 0)
    return ExitedExecutor(
        framework_id=id_value(payload, "framework_id", "exited_executor"),
        executor_id=id_value(payload, "executor_id", "exited_executor"),
        status=status if type(status) is int else 0,
    )


_PARSERS: dict[str, Callable[[JSON], Payload]] = {
    "UPDATE": lambda body: _update(payload_of(body, "update"), "update"),
    "UPDATES": _updates,
    "MESSAGE": _message,
    "EXITED_EXECUTOR": _exited_executor,
    "PONG": lambda body: None,
}


def parse(kind: str, body: JSON) -> tuple[str, Payload]:
    """A call on an established stream: (the agent id it names, its payload)."""
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ProtocolError(f"unknown call type '{kind}'", "type")
    agent_id = call_id(body, "agent_id")
    return agent_id, parser(body)
