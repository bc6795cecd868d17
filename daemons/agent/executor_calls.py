"""What the agent does with each call of the v1 executor API: transitions of the agent's state,
run by the runtime under its lock (executor_api.py is the HTTP side, which parsed the call:
messages.py).

- SUBSCRIBE: the executor's unacknowledged updates are recorded first (each checkpointed, then
  ACKNOWLEDGED on the new stream); then the stream starts: SUBSCRIBED (returned, for the HTTP
  side to send first), the queued LAUNCHes, the KILLs that waited for it.
- UPDATE: checkpointed and queued for the master, then ACKNOWLEDGED (echoing its uuid).
- MESSAGE: to the master. HEARTBEAT: only checked.

At least once: an update the agent cannot checkpoint is never acknowledged. UPDATE (and a
SUBSCRIBE carrying it) answers 503 and nothing changes, and the executor's stream is closed.
The executor then sends it again either way: ours resend an UPDATE that was not answered 202,
and executors built like Mesos' own (mesos_client, pymesos) re-subscribe when their stream
ends, listing every update not acknowledged yet.
"""

from __future__ import annotations

import logging

from daemons.agent.agent import Agent
from daemons.agent.checkpoint import CheckpointError
from daemons.agent.master_events import deliver, kill_event
from daemons.agent.messages import Message, Subscribe, Update
from daemons.agent.model import Executor, ExecutorState
from daemons.agent.plan import CancelTimer, CloseStream, SendExecutor, SendMaster
from daemons.agent.protocol import MEMORY_LIMITATION, forwarded, memory_limited
from daemons.kit.errors import BadRequest, ServiceUnavailable
from daemons.kit.streams import EventStream
from daemons.protocols import JSON
from daemons.protocols.fields import b64
from daemons.protocols.ids import id_json
from daemons.protocols.models import TaskStatus

log = logging.getLogger(__name__)


def executor_of(agent: Agent, fid: str, eid: str) -> Executor:
    if fid not in agent.frameworks:
        raise BadRequest("Framework cannot be found")
    executor = agent.executor(fid, eid)
    if executor is None:
        raise BadRequest("Executor cannot be found")
    return executor


def subscribe(
    agent: Agent, call: Subscribe, stream: EventStream, limitation: str | None = None
) -> JSON:
    """Attach `stream` to the executor; returns the SUBSCRIBED event. `limitation`: what the
    containerizer says about the executor's container (for its unacknowledged terminal
    updates)."""
    fid, eid = call.framework_id, call.executor_id
    executor = executor_of(agent, fid, eid)
    if executor.state in (ExecutorState.TERMINATING, ExecutorState.TERMINATED):
        raise BadRequest("Executor is terminating")
    for why in call.dropped:
        log.warning("dropping unacknowledged update executor=%s error=%s", eid, why)
    acknowledged = [
        record_update(agent, executor, status, limitation) for status in call.unacknowledged_updates
    ]
    if executor.stream is not None:
        agent.emit(CloseStream(executor.stream))
    executor.stream = stream
    agent.emit(CancelTimer(executor.container_id))
    resubscribed = executor.state is ExecutorState.RECOVERING
    executor.state = ExecutorState.RUNNING
    log.info("executor subscribed framework=%s executor=%s resubscribed=%s", fid, eid, resubscribed)
    for task_id in call.unacknowledged_tasks:
        task = executor.tasks.get(task_id)
        if task is not None:
            task.launched = True  # the executor has it; do not LAUNCH it twice
    for event in acknowledged:
        agent.emit(SendExecutor(stream, event))
    framework = agent.frameworks[fid]
    first = {
        "type": "SUBSCRIBED",
        "subscribed": {
            # pymesos compares these two ids by dict equality: nothing but "value".
            "executor_info": dict(executor.info.raw, executor_id=id_json(eid)),
            "framework_info": dict(framework.info.raw, id=id_json(fid)),
            "agent_info": agent.agent_info().to_json(),
            "container_id": id_json(executor.container_id),
        },
    }
    deliver(agent, executor, executor.queued())
    for task_id, kill_policy in executor.pending_kills.items():
        agent.emit(SendExecutor(stream, kill_event(task_id, kill_policy)))
    executor.pending_kills.clear()
    return first


def stream_closed(agent: Agent, fid: str, eid: str, stream: EventStream) -> None:
    executor = agent.executor(fid, eid)
    if executor is not None and executor.stream is stream:
        executor.stream = None
        log.info("executor disconnected executor=%s", eid)


def update(agent: Agent, call: Update, limitation: str | None = None) -> None:
    """UPDATE; ServiceUnavailable when its status cannot be checkpointed."""
    executor = executor_of(agent, call.framework_id, call.executor_id)
    try:
        event = record_update(agent, executor, call.status, limitation)
    except ServiceUnavailable:
        if executor.stream is not None:
            agent.emit(CloseStream(executor.stream))
            executor.stream = None
        raise
    if executor.stream is not None:
        agent.emit(SendExecutor(executor.stream, event))


def record_update(
    agent: Agent, executor: Executor, status: TaskStatus, limitation: str | None
) -> JSON:
    """Checkpoint and queue an executor's update; returns the ACKNOWLEDGED event for it."""
    status = forwarded(
        status,
        agent_id=agent.agent_id or "",
        executor_id=executor.executor_id,
        container_id=executor.container_id,
        executor_pid=executor.pid,
        timestamp=agent.clock(),
    )
    if status.is_terminal and limitation == MEMORY_LIMITATION:
        status = memory_limited(status, "Memory limit exceeded: the task was OOM-killed")
    task_id = status.task_id
    try:
        agent.forward(executor.framework_id, status, executor.tasks.get(task_id), strict=True)
    except CheckpointError as err:
        agent.checkpoint_failed(f"status update of task {task_id}", err)
        raise ServiceUnavailable(
            f"Status update of task {task_id} not checkpointed ({err}); send it again"
        ) from None
    assert status.uuid is not None  # an executor's update has one (messages.executor_status)
    return {
        "type": "ACKNOWLEDGED",
        "acknowledged": {"task_id": id_json(task_id), "uuid": b64(status.uuid)},
    }


def message(agent: Agent, call: Message) -> None:
    fid, eid = call.framework_id, call.executor_id
    executor_of(agent, fid, eid)
    agent.emit(
        SendMaster(
            {
                "type": "MESSAGE",
                "message": {
                    "framework_id": id_json(fid),
                    "executor_id": id_json(eid),
                    "data": b64(call.data),
                },
            }
        )
    )
