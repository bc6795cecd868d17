"""What enters the agent, parsed once where it enters: the master's events and the executors'
calls as typed values (docs/agent-protocol.md). Pure.

`parse_event` reads one event of the master's stream (the master link calls it on each decoded
record, SUBSCRIBED aside: `Subscribed.parse`); `parse_executor_call` one call of the v1 executor
API (executor_api.py). Both raise `ProtocolError` naming the bad field's path
(`"call.update.status: field 'uuid' is not valid base64"`, `err.path ==
"call.update.status.uuid"`): the executor API answers it 400, the master link logs it and drops
the event. Past this module the agent reads typed fields: ids are strings, tasks `TaskInfo`,
statuses `TaskStatus`, uuids bytes. Whether a well-formed message is acceptable (a valid id, a
known executor) stays the transitions' judgement.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_value
from daemons.protocols.models import ExecutorInfo, FrameworkInfo, KillPolicy, TaskInfo, TaskStatus
from daemons.protocols.states import TASK_STATES, TERMINAL_STATES

# --- the master's events ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscribed:
    """SUBSCRIBED: the agent's id and how the master checks that the agent is alive."""

    agent_id: str
    heartbeat_interval: float | None = None  # seconds
    ping_timeout: float | None = None  # seconds between the master's PINGs
    max_ping_timeouts: int | None = None
    master_info: JSON | None = None  # echoed in /state

    @classmethod
    def parse(cls, raw: JSON, where: str = "subscribed") -> Subscribed:
        return cls(
            agent_id=id_value(raw, "agent_id", where),
            heartbeat_interval=f.opt_number(raw, "heartbeat_interval_seconds", where),
            ping_timeout=f.opt_number(raw, "agent_ping_timeout_seconds", where),
            max_ping_timeouts=f.opt_int(raw, "max_agent_ping_timeouts", where),
            master_info=f.opt_obj(raw, "master_info", where),
        )


@dataclass(frozen=True, slots=True)
class RunTask:
    framework_id: str
    framework: FrameworkInfo
    task: TaskInfo


@dataclass(frozen=True, slots=True)
class RunTaskGroup:
    framework_id: str
    framework: FrameworkInfo
    executor: ExecutorInfo
    tasks: tuple[TaskInfo, ...]  # at least one


@dataclass(frozen=True, slots=True)
class InvalidTasks:
    """A RUN_TASK or RUN_TASK_GROUP whose framework and task ids can be read but not the rest:
    each task gets TASK_ERROR with `reason` and `message` (what is wrong, and where)."""

    framework_id: str
    task_ids: tuple[str, ...]
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class KillTask:
    framework_id: str
    task_id: str
    kill_policy: KillPolicy | None = None


@dataclass(frozen=True, slots=True)
class ShutdownExecutor:
    framework_id: str
    executor_id: str


@dataclass(frozen=True, slots=True)
class ShutdownFramework:
    framework_id: str


@dataclass(frozen=True, slots=True)
class FrameworkMessage:
    """MESSAGE: the framework's data for one of its executors."""

    framework_id: str
    executor_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """ACKNOWLEDGE: the framework acknowledged the task's update with this uuid."""

    framework_id: str
    task_id: str
    uuid: bytes


MasterEvent = (
    RunTask
    | RunTaskGroup
    | InvalidTasks
    | KillTask
    | ShutdownExecutor
    | ShutdownFramework
    | FrameworkMessage
    | Acknowledge
)


def parse_event(event: JSON) -> MasterEvent | None:
    """One event of the master's stream (not SUBSCRIBED, HEARTBEAT, PING or ERROR, which the
    master link handles itself); None for a type the agent does not know."""
    kind = event.get("type")
    if not isinstance(kind, str) or kind not in _EVENTS:
        return None
    where = kind.lower()
    return _EVENTS[kind](f.obj(event, where, "event"), where)


def _framework(raw: JSON, where: str) -> tuple[str, FrameworkInfo]:
    """The FrameworkInfo of a launch, and its id: the master always sends it with one."""
    where = f"{where}.framework_info"
    framework = FrameworkInfo.parse(raw.get("framework_info"), where)
    return id_value(framework.raw, "id", where), framework


def _run_task(raw: JSON, where: str) -> RunTask | InvalidTasks:
    framework_id, framework = _framework(raw, where)
    task = f.obj(raw, "task", where)
    task_id = id_value(task, "task_id", f"{where}.task")
    try:
        return RunTask(framework_id, framework, TaskInfo.parse(task, f"{where}.task"))
    except ProtocolError as err:
        return InvalidTasks(framework_id, (task_id,), "REASON_TASK_INVALID", str(err))


def _run_task_group(raw: JSON, where: str) -> RunTaskGroup | InvalidTasks:
    framework_id, framework = _framework(raw, where)
    group = f"{where}.task_group"
    tasks = f.objects(f.obj(raw, "task_group", where), "tasks", group)
    if not tasks:
        raise f.fail(group, "tasks", "must not be empty")
    task_ids = tuple(id_value(task, "task_id", f"{group}.tasks[]") for task in tasks)
    try:
        executor = ExecutorInfo.parse(f.obj(raw, "executor", where), f"{where}.executor")
        infos = tuple(TaskInfo.parse(task, f"{group}.tasks[]") for task in tasks)
    except ProtocolError as err:
        reason = "REASON_TASK_GROUP_INVALID"
        return InvalidTasks(framework_id, task_ids, reason, str(err))
    return RunTaskGroup(framework_id, framework, executor, infos)


def _kill_task(raw: JSON, where: str) -> KillTask:
    return KillTask(
        framework_id=id_value(raw, "framework_id", where),
        task_id=id_value(raw, "task_id", where),
        kill_policy=f.opt_message(raw, "kill_policy", where, KillPolicy.parse),
    )


def _shutdown_executor(raw: JSON, where: str) -> ShutdownExecutor:
    return ShutdownExecutor(
        id_value(raw, "framework_id", where), id_value(raw, "executor_id", where)
    )


def _shutdown_framework(raw: JSON, where: str) -> ShutdownFramework:
    return ShutdownFramework(id_value(raw, "framework_id", where))


def _message(raw: JSON, where: str) -> FrameworkMessage:
    return FrameworkMessage(
        framework_id=id_value(raw, "framework_id", where),
        executor_id=id_value(raw, "executor_id", where),
        data=f.opt_bytes(raw, "data", where) or b"",
    )


def _acknowledge(raw: JSON, where: str) -> Acknowledge:
    return Acknowledge(
        framework_id=id_value(raw, "framework_id", where),
        task_id=id_value(raw, "task_id", where),
        uuid=f.uuid(raw, "uuid", where),
    )


_EVENTS = {
    "RUN_TASK": _run_task,
    "RUN_TASK_GROUP": _run_task_group,
    "KILL_TASK": _kill_task,
    "SHUTDOWN_EXECUTOR": _shutdown_executor,
    "SHUTDOWN_FRAMEWORK": _shutdown_framework,
    "MESSAGE": _message,
    "ACKNOWLEDGE": _acknowledge,
}


# --- the executors' calls ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscribe:
    """SUBSCRIBE: what the executor has not had acknowledged yet."""

    framework_id: str
    executor_id: str
    unacknowledged_updates: tuple[TaskStatus, ...] = ()
    unacknowledged_tasks: tuple[str, ...] = ()  # task ids: the executor has these tasks
    dropped: tuple[str, ...] = ()  # why each unreadable unacknowledged update was left out

    @property
    def has_terminal_update(self) -> bool:
        return any(status.state in TERMINAL_STATES for status in self.unacknowledged_updates)


@dataclass(frozen=True, slots=True)
class Update:
    framework_id: str
    executor_id: str
    status: TaskStatus  # with a 16-byte uuid, a known state other than TASK_STAGING


@dataclass(frozen=True, slots=True)
class Message:
    """MESSAGE: the executor's data for its framework."""

    framework_id: str
    executor_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Heartbeat:
    framework_id: str
    executor_id: str


ExecutorCall = Subscribe | Update | Message | Heartbeat

WHERE = "call"  # the root of the path a refused call's message names


def parse_executor_call(kind: str, body: JSON) -> ExecutorCall:
    """One call of the v1 executor API (`kind` is its type, already read)."""
    fid = id_value(body, "framework_id", WHERE)
    eid = id_value(body, "executor_id", WHERE)
    if kind == "SUBSCRIBE":
        return _subscribe(fid, eid, f.opt_obj(body, "subscribe", WHERE) or {})
    if kind == "UPDATE":
        where = f"{WHERE}.update"
        update = f.obj(body, "update", WHERE)
        return Update(fid, eid, executor_status(f.obj(update, "status", where), f"{where}.status"))
    if kind == "MESSAGE":
        message = f.obj(body, "message", WHERE)
        data = f.opt_bytes(message, "data", f"{WHERE}.message")
        if data is None:
            raise ProtocolError(f"{WHERE}.message: missing field 'data'", f"{WHERE}.message.data")
        return Message(fid, eid, data)
    if kind == "HEARTBEAT":
        return Heartbeat(fid, eid)
    raise ProtocolError(f"{WHERE}: unknown type {kind!r}", f"{WHERE}.type")


def executor_status(raw: JSON, where: str) -> TaskStatus:
    """An executor's status: a known state other than TASK_STAGING (which only the agent and the
    master give), and a 16-byte uuid (an executor's updates are all acknowledged)."""
    f.uuid(raw, "uuid", where)
    status = TaskStatus.parse(raw, where)
    if status.state not in TASK_STATES:
        raise f.fail(where, "state", f"must be a task state, not {status.state!r}")
    if status.state == "TASK_STAGING":
        raise f.fail(where, "state", "must not be TASK_STAGING (an executor may not send it)")
    return status


def _subscribe(fid: str, eid: str, raw: JSON) -> Subscribe:
    """Unreadable unacknowledged updates are left out (and said why), not refused: the executor
    could never get past them."""
    where = f"{WHERE}.subscribe"
    updates: list[TaskStatus] = []
    dropped: list[str] = []
    update_path = f"{where}.unacknowledged_updates[]"
    for update in f.objects(raw, "unacknowledged_updates", where):
        try:
            status = f.obj(update, "status", update_path)
            updates.append(executor_status(status, f"{update_path}.status"))
        except ProtocolError as err:
            dropped.append(str(err))
    task_ids: list[str] = []
    for task in f.objects(raw, "unacknowledged_tasks", where):
        try:
            task_ids.append(id_value(task, "task_id", f"{where}.unacknowledged_tasks[]"))
        except ProtocolError:
            continue  # a task the agent could not know by its id anyway
    return Subscribe(fid, eid, tuple(updates), tuple(task_ids), tuple(dropped))
