"""What the master judges of the messages it receives, over their typed values.

The shape of a call is checked where it is parsed (`calls`); these are Mesos' rules on top of
it. A problem with a framework or a call raises `ProtocolError` (the call is refused, nothing
changes: `refused` makes it the 400 Mesos answers); a problem with one task is returned as a
message, and its framework gets a TASK_ERROR, as Mesos does.

A pure core: no I/O, no clock. It may import the wire layer (`daemons.protocols`) and the kit's
Flask-free error tree; nothing of the master's state, Flask, threading or the clock.
"""

from __future__ import annotations

import re

from daemons.kit.errors import BadRequest
from daemons.protocols.fields import ProtocolError, fail
from daemons.protocols.ids import id_problem
from daemons.protocols.models import FrameworkInfo, TaskInfo

_ROLE = re.compile(r"^[a-zA-Z0-9_\-.*][a-zA-Z0-9_\-./]*$")


def refused(call: str, err: ProtocolError) -> BadRequest:
    """The 400 for a call that failed validation, in Mesos' words: `call` is the message type
    (`scheduler::Call`, `master::Call`), `err` names the bad field."""
    return BadRequest(f"Failed to validate {call}: {err}")


def validate_framework_info(info: FrameworkInfo, where: str) -> FrameworkInfo:
    """A FrameworkInfo the master takes: a failover timeout >= 0 and valid role names."""
    if info.failover_timeout < 0:
        raise fail(where, "failover_timeout", "must be a number >= 0")
    key = "roles" if info.has_capability("MULTI_ROLE") else "role"
    for role in info.subscribed_roles:
        if role != "*" and not _ROLE.match(role):
            raise fail(where, key, f"has an invalid role {role!r}")
    return info


def validate_task(info: TaskInfo, agent_id: str, in_group: bool) -> str | None:
    """The problem with a TaskInfo launched on `agent_id` (alone, or in a task group), or None.
    (Its resources are checked against the offers later.)"""
    if (problem := id_problem(info.task_id)) is not None:
        return f"Task ID {problem}"
    if info.agent_id is not None and info.agent_id != agent_id:
        return "Task uses an agent ID different from the offer's"
    has_command, has_executor = info.command is not None, info.executor is not None
    if in_group:
        if has_executor:
            return "A task in a task group must not set 'executor'"
        if not has_command:
            return "A task in a task group needs 'command'"
    elif has_command == has_executor:
        return "Task should have at least one (but not both) of CommandInfo or ExecutorInfo"
    command = info.command if info.executor is None else info.executor.command
    if command is not None and command.shell and command.value is None:
        return "CommandInfo with shell=true needs a 'value'"
    if not info.resources:
        return "Task uses no resources"
    return None
