"""Frozen typed models of the Mesos v1 messages PyDCOS reads: parsed once at the edge.

`TaskInfo`, `TaskStatus`, `Offer`, `FrameworkInfo`, `AgentInfo`, `Task` (a launched task as its
agent reports it), and the parts they hold: `ExecutorInfo`, `CommandInfo`, `Label`,
`DiscoveryInfo`, `HealthCheck`, `KillPolicy`, `ContainerInfo`, `ContainerStatus`, `DomainInfo`,
`URL`. Ids are bare strings (`"t1"`, never `{"value": "t1"}`; `daemons.protocols.ids` reads and
writes them), resources are `Resources` keyed by reservation role ("*" = unreserved), durations
are seconds, `bytes` fields are bytes. Pure: standard library and `daemons.protocols` only.

How a daemon uses them:

- **Parse at the edge**, once, where the JSON enters (the HTTP handler, the event decoder):
  `Model.parse(json, where)` checks the shape and raises `ProtocolError` naming the bad field
  (`"run_task.task: missing field 'task_id'"`, `err.path == "run_task.task.task_id"`). The
  master turns it into a 400 (or a TASK_ERROR for one bad TaskInfo of an ACCEPT), the agent into
  a 400 (an executor's call) or a dropped event (the master's), `daemons.mesos_client` into
  `EventParseError`. Unknown fields are ignored.
- **Keep the typed value** in records and pass it down: code past the edge reads
  `task.task_id`, `task.command.user`, `status.state`, and never `["value"]` again. Whether a
  well-formed message is acceptable (a valid id: `ids.id_problem`; a known state;
  command xor executor) stays the daemon's judgement.
- **Echo `raw`** where a client's own JSON must come back unchanged: `raw` is the dict the value
  was parsed from (not copied; never mutate it), so renderers (`/master/state`, RUN_TASK to the
  agent, unacknowledged tasks on re-subscribe) send exactly what the framework sent, fields the
  model does not know included. To pass a client's message on with one field set, copy its raw:
  `dict(task.raw, agent_id=id_json(agent_id))`. A value built in code has `raw == {}`.
- **Build with the constructor and `to_json()`** when a daemon originates a message (the
  agent's TaskStatus, the master's Offer, a framework's TaskInfo). `to_json` writes the typed
  fields only, leaving out unset ones. `dataclasses.replace` copies `raw` unchanged, so a
  changed copy is sent with `to_json()`, never with its stale `raw`.

Equality and hashing ignore `raw`; a model holding resources (a dict) is not hashable. A parse
costs microseconds, not nothing: `bench/protocols_parse.py` gives the figures per message.

    task = TaskInfo.parse(body["task"], "run_task.task")      # ProtocolError -> 400
    tasks[task.task_id] = task                                # the typed value is the record
    env.update(task.command.environment_values() if task.command else {})
    state_json["labels"] = task.raw.get("labels", {}).get("labels", [])  # echo what was sent
    stream.send(TaskStatus(task_id=task.task_id, state="TASK_RUNNING", timestamp=now).to_json())
"""

from daemons.protocols.fields import ProtocolError
from daemons.protocols.models.agent_info import AgentInfo
from daemons.protocols.models.checks import HealthCheck, HTTPCheck, KillPolicy, TCPCheck
from daemons.protocols.models.command import CommandInfo, CommandURI, EnvironmentVariable
from daemons.protocols.models.discovery import ContainerInfo, ContainerStatus, DiscoveryInfo, Port
from daemons.protocols.models.framework_info import FrameworkInfo
from daemons.protocols.models.offer import Offer
from daemons.protocols.models.parts import (
    URL,
    Address,
    AttributeValue,
    DomainInfo,
    Label,
    labels_from,
)
from daemons.protocols.models.task import Task
from daemons.protocols.models.task_info import ExecutorInfo, TaskInfo
from daemons.protocols.models.task_status import TaskStatus

__all__ = [
    "URL",
    "Address",
    "AgentInfo",
    "AttributeValue",
    "CommandInfo",
    "CommandURI",
    "ContainerInfo",
    "ContainerStatus",
    "DiscoveryInfo",
    "DomainInfo",
    "EnvironmentVariable",
    "ExecutorInfo",
    "FrameworkInfo",
    "HTTPCheck",
    "HealthCheck",
    "KillPolicy",
    "Label",
    "Offer",
    "Port",
    "ProtocolError",
    "TCPCheck",
    "Task",
    "TaskInfo",
    "TaskStatus",
    "labels_from",
]
