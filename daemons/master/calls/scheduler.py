"""The v1 scheduler::Call as typed values, parsed once where a call enters. Pure.

`parse_subscribe(body)` and `parse(kind, body)` return the call's payload (and, for the calls on
an established subscription, the framework id the call names) or raise `ProtocolError` naming
the bad field (`scheduler_calls` answers 400: "Failed to validate scheduler::Call: …"). One
exception, as in Mesos: a TaskInfo of an ACCEPT that cannot be read is kept as an
`InvalidTask`, and only that task fails (TASK_ERROR), not the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from daemons.master.validation import validate_framework_info
from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_value, id_values, opt_id_value
from daemons.protocols.models import ExecutorInfo, FrameworkInfo, KillPolicy, TaskInfo

# A DECLINE or ACCEPT without `filters.refuse_seconds` (Mesos' Filters default).
DEFAULT_REFUSE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Subscribe:
    framework_info: FrameworkInfo
    framework_id: str | None  # set when the framework re-subscribes (equal to its info's id)
    suppressed_roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InvalidTask:
    """A TaskInfo of an ACCEPT that could not be read: its framework gets a TASK_ERROR."""

    task_id: str | None  # its id, when it had a readable one
    problem: str


@dataclass(frozen=True, slots=True)
class Launch:
    """A LAUNCH, or (with `group`) a LAUNCH_GROUP operation: its tasks, and a group's executor
    (None with `executor_problem` when the group has none, or one that cannot be read)."""

    tasks: tuple[TaskInfo | InvalidTask, ...]
    group: bool = False
    executor: ExecutorInfo | None = None
    executor_problem: str | None = None


@dataclass(frozen=True, slots=True)
class Accept:
    offer_ids: tuple[str, ...]
    # The operations in order; an operation this master does not apply is its type's name.
    operations: tuple[Launch | str, ...]
    refuse_seconds: float


@dataclass(frozen=True, slots=True)
class Decline:
    offer_ids: tuple[str, ...]
    refuse_seconds: float


@dataclass(frozen=True, slots=True)
class Roles:
    """REVIVE and SUPPRESS: the roles named (none: every role of the framework)."""

    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Kill:
    task_id: str
    kill_policy: KillPolicy | None  # passed on to the agent as sent


@dataclass(frozen=True, slots=True)
class Shutdown:
    executor_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class Acknowledge:
    agent_id: str
    task_id: str
    uuid: bytes
    uuid_text: str  # as the framework sent it: the agent gets it back unchanged


@dataclass(frozen=True, slots=True)
class Reconcile:
    tasks: tuple[tuple[str, str | None], ...]  # (task id, agent id if given); none: all tasks


@dataclass(frozen=True, slots=True)
class Message:
    agent_id: str
    executor_id: str
    data: str  # base64, passed on as sent


@dataclass(frozen=True, slots=True)
class UpdateFramework:
    framework_info: FrameworkInfo
    suppressed_roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Empty:
    """A call without a payload this master reads (TEARDOWN, the inverse-offer calls, …)."""


Payload = (
    Accept
    | Decline
    | Roles
    | Kill
    | Shutdown
    | Acknowledge
    | Reconcile
    | Message
    | UpdateFramework
    | Empty
)


def payload_of(body: JSON, key: str, required: bool = True) -> JSON:
    """The call's payload object `body[key]` (`{}` when absent and not required)."""
    value = body.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(f"Expecting '{key}' to be present", key)
    return value


def call_id(body: JSON, key: str) -> str:
    """An id the call itself carries (`framework_id`, `agent_id`): required."""
    if body.get(key) is None:
        raise ProtocolError(f"Expecting '{key}' to be present", key)
    return id_value(body, key, "call")


# --- SUBSCRIBE and UPDATE_FRAMEWORK --------------------------------------------------------------


def _framework_info(payload: JSON, where: str) -> FrameworkInfo:
    raw = f.obj(payload, "framework_info", where)
    path = f"{where}.framework_info"
    return validate_framework_info(FrameworkInfo.parse(raw, path), path)


def parse_subscribe(body: JSON) -> Subscribe:
    payload = payload_of(body, "subscribe")
    info = _framework_info(payload, "subscribe")
    framework_id = opt_id_value(body, "framework_id", "call") or None
    if framework_id is not None and info.id and framework_id != info.id:
        raise ProtocolError(
            "'framework_id' differs from 'subscribe.framework_info.id'", "framework_id"
        )
    if info.id and framework_id is None:
        raise ProtocolError("'framework_id' must be set when re-subscribing", "framework_id")
    suppressed = f.strings(payload, "suppressed_roles", "subscribe")
    return Subscribe(info, framework_id, suppressed)


def _update_framework(body: JSON) -> UpdateFramework:
    payload = payload_of(body, "update_framework")
    info = _framework_info(payload, "update_framework")
    return UpdateFramework(info, f.strings(payload, "suppressed_roles", "update_framework"))


# --- ACCEPT and DECLINE --------------------------------------------------------------------------


def _offer_ids(payload: JSON, where: str) -> tuple[str, ...]:
    if payload.get("offer_ids") is None:
        raise ProtocolError(f"{where}: missing field 'offer_ids'", f"{where}.offer_ids")
    return id_values(payload, "offer_ids", where)


def _refuse_seconds(payload: JSON, where: str) -> float:
    filters = f.opt_obj(payload, "filters", where)
    path = f"{where}.filters"
    seconds = None if filters is None else f.opt_number(filters, "refuse_seconds", path)
    return DEFAULT_REFUSE_SECONDS if seconds is None else seconds


def _task(raw: JSON, where: str) -> TaskInfo | InvalidTask:
    try:
        return TaskInfo.parse(raw, where)
    except ProtocolError as err:
        holder = raw.get("task_id")
        task_id = holder.get("value") if isinstance(holder, dict) else None
        return InvalidTask(task_id if isinstance(task_id, str) else None, str(err))


def _launch(operation: JSON, where: str) -> Launch:
    launch = f.opt_obj(operation, "launch", where) or {}
    path = f"{where}.launch"
    tasks = f.objects(launch, "task_infos", path)
    return Launch(tuple(_task(t, f"{path}.task_infos[]") for t in tasks))


def _launch_group(operation: JSON, where: str) -> Launch:
    group = f.opt_obj(operation, "launch_group", where) or {}
    path = f"{where}.launch_group"
    task_group = f.opt_obj(group, "task_group", path) or {}
    raws = f.objects(task_group, "tasks", f"{path}.task_group")
    tasks = tuple(_task(t, f"{path}.task_group.tasks[]") for t in raws)
    raw_executor = f.opt_obj(group, "executor", path)
    if raw_executor is None or not tasks:
        return Launch(tasks, True, None, "LAUNCH_GROUP needs an executor and tasks")
    try:
        return Launch(tasks, True, ExecutorInfo.parse(raw_executor, f"{path}.executor"))
    except ProtocolError as err:
        return Launch(tasks, True, None, str(err))


def _operation(operation: JSON, where: str) -> Launch | str:
    kind = f.opt_string(operation, "type", where) or "UNKNOWN"
    if kind == "LAUNCH":
        return _launch(operation, where)
    if kind == "LAUNCH_GROUP":
        return _launch_group(operation, where)
    return kind


def _accept(body: JSON) -> Accept:
    payload = payload_of(body, "accept")
    operations = f.objects(payload, "operations", "accept")
    return Accept(
        offer_ids=_offer_ids(payload, "accept"),
        operations=tuple(_operation(o, "accept.operations[]") for o in operations),
        refuse_seconds=_refuse_seconds(payload, "accept"),
    )


def _decline(body: JSON) -> Decline:
    payload = payload_of(body, "decline")
    return Decline(_offer_ids(payload, "decline"), _refuse_seconds(payload, "decline"))


# --- the other calls -----------------------------------------------------------------------------


def _roles(key: str) -> Callable[[JSON], Roles]:
    def parse(body: JSON) -> Roles:
        payload = payload_of(body, key, required=False)
        if payload.get("roles") is None:
            role = f.opt_string(payload, "role", key)
            return Roles(() if role is None else (role,))
        return Roles(f.strings(payload, "roles", key))

    return parse


def _kill(body: JSON) -> Kill:
    payload = payload_of(body, "kill")
    return Kill(
        task_id=id_value(payload, "task_id", "kill"),
        kill_policy=f.opt_message(payload, "kill_policy", "kill", KillPolicy.parse),
    )


def _shutdown(body: JSON) -> Shutdown:
    payload = payload_of(body, "shutdown")
    return Shutdown(
        executor_id=id_value(payload, "executor_id", "shutdown"),
        agent_id=id_value(payload, "agent_id", "shutdown"),
    )


def _acknowledge(body: JSON) -> Acknowledge:
    payload = payload_of(body, "acknowledge")
    agent_id = id_value(payload, "agent_id", "acknowledge")
    task_id = id_value(payload, "task_id", "acknowledge")
    try:
        uuid = f.uuid(payload, "uuid", "acknowledge")
    except ProtocolError as err:
        raise ProtocolError(f"Not a valid UUID: {err}", err.path) from None
    return Acknowledge(agent_id, task_id, uuid, payload["uuid"])


def _reconcile(body: JSON) -> Reconcile:
    payload = payload_of(body, "reconcile", required=False)
    where = "reconcile.tasks[]"
    return Reconcile(
        tuple(
            (id_value(entry, "task_id", where), opt_id_value(entry, "agent_id", where) or None)
            for entry in f.objects(payload, "tasks", "reconcile")
        )
    )


def _message(body: JSON) -> Message:
    payload = payload_of(body, "message")
    return Message(
        agent_id=id_value(payload, "agent_id", "message"),
        executor_id=id_value(payload, "executor_id", "message"),
        data=f.opt_string(payload, "data", "message") or "",
    )


def _empty(body: JSON) -> Empty:
    return Empty()


_PARSERS: dict[str, Callable[[JSON], Any]] = {
    "TEARDOWN": _empty,
    "ACCEPT": _accept,
    "DECLINE": _decline,
    "ACCEPT_INVERSE_OFFERS": _empty,
    "DECLINE_INVERSE_OFFERS": _empty,
    "REVIVE": _roles("revive"),
    "SUPPRESS": _roles("suppress"),
    "KILL": _kill,
    "SHUTDOWN": _shutdown,
    "ACKNOWLEDGE": _acknowledge,
    "ACKNOWLEDGE_OPERATION_STATUS": _empty,
    "RECONCILE": _reconcile,
    "RECONCILE_OPERATIONS": _empty,
    "MESSAGE": _message,
    "REQUEST": _empty,
    "UPDATE_FRAMEWORK": _update_framework,
}


def parse(kind: str, body: JSON) -> tuple[str, Payload]:
    """A call on an established subscription: (the framework id it names, its payload)."""
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ProtocolError(f"unknown call type '{kind}'", "type")
    framework_id = call_id(body, "framework_id")
    payload: Payload = parser(body)
    return framework_id, payload
