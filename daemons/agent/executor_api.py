"""The v1 executor HTTP API: `POST /api/v1/executor` (reference §2.1).

SUBSCRIBE answers 200 with a chunked RecordIO stream that starts with SUBSCRIBED, then the
executor's queued LAUNCHes; UPDATE is checkpointed and queued for the master before the agent
answers the executor with ACKNOWLEDGED (echoing its uuid); MESSAGE goes to the master;
HEARTBEAT is accepted. Every call but SUBSCRIBE answers 202 with `Content-Length: 0`.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from daemons.agent.master_events import deliver
from daemons.agent.model import Executor, ExecutorState
from daemons.agent.monitor import container_limitation
from daemons.agent.protocol import (
    MEMORY_LIMITATION,
    InvalidCall,
    id_json,
    id_of,
    memory_limited,
    validate_executor_status,
)
from daemons.kit.body import read_call, require_json_accept
from daemons.kit.errors import BadRequest, ServiceUnavailable
from daemons.kit.streams import EventStream
from daemons.protocols import JSON
from daemons.protocols.states import is_terminal

if TYPE_CHECKING:
    from daemons.agent.agent import Agent

log = logging.getLogger(__name__)


bp = Blueprint("executor_api", __name__)


@bp.post("/api/v1/executor")
@bp.post("/slave(1)/api/v1/executor")
def executor_call() -> Response:
    from daemons.agent.agent import current_agent

    agent = current_agent()
    kind, body = read_call(request, agent.config.max_body_bytes)
    try:
        fid, eid = id_of(body, "framework_id"), id_of(body, "executor_id")
    except InvalidCall as err:
        raise BadRequest(f"Failed to validate executor::Call: {err}") from None
    if not agent.recovered:
        raise ServiceUnavailable("Agent has not finished recovery")
    if kind == "SUBSCRIBE":
        require_json_accept(request)
        stream, first = subscribe(agent, fid, eid, body.get("subscribe") or {})
        return Response(stream.records(first), status=200, content_type="application/json")
    if kind == "UPDATE":
        update(agent, fid, eid, body.get("update"))
    elif kind == "MESSAGE":
        message(agent, fid, eid, body.get("message"))
    elif kind == "HEARTBEAT":
        _executor(agent, fid, eid)
    else:
        raise BadRequest(f"Failed to validate executor::Call: unknown type {kind!r}")
    return Response(b"", status=202)


def _executor(agent: Agent, fid: str, eid: str) -> Executor:
    if fid not in agent.frameworks:
        raise BadRequest("Framework cannot be found")
    executor = agent.executor(fid, eid)
    if executor is None:
        raise BadRequest("Executor cannot be found")
    return executor


def subscribe(agent: Agent, fid: str, eid: str, payload: JSON) -> tuple[EventStream, JSON]:
    with agent.lock:
        executor = _executor(agent, fid, eid)
        if executor.state in (ExecutorState.TERMINATING, ExecutorState.TERMINATED):
            raise BadRequest("Executor is terminating")
        if executor.stream is not None:
            executor.stream.close()
        stream = EventStream(
            str(uuid.uuid4()),
            agent.config.heartbeat_interval,
            on_close=lambda s: _stream_closed(agent, executor, s),
        )
        executor.stream = stream
        executor.cancel_timer()
        resubscribed = executor.state is ExecutorState.RECOVERING
        executor.state = ExecutorState.RUNNING
        log.info(
            "executor subscribed framework=%s executor=%s resubscribed=%s", fid, eid, resubscribed
        )
        for task_info in payload.get("unacknowledged_tasks") or []:
            task = executor.tasks.get(_task_id(task_info))
            if task is not None:
                task.launched = True  # the executor has it; do not LAUNCH it twice
        for unacked in payload.get("unacknowledged_updates") or []:
            try:
                status = validate_executor_status((unacked or {}).get("status"))
            except InvalidCall as err:
                log.warning("dropping unacknowledged update executor=%s error=%s", eid, err)
                continue
            record_update(agent, executor, status)
        framework = agent.frameworks[fid]
        first = {
            "type": "SUBSCRIBED",
            "subscribed": {
                # pymesos compares these two ids by dict equality: nothing but "value".
                "executor_info": {**executor.info, "executor_id": id_json(eid)},
                "framework_info": {**framework.info, "id": id_json(fid)},
                "agent_info": agent.agent_info(),
                "container_id": id_json(executor.container_id),
            },
        }
        deliver(executor, executor.queued())
        for kill in executor.pending_kills.values():
            stream.send({"type": "KILL", "kill": kill})
        executor.pending_kills.clear()
        agent.changed.notify_all()
        return stream, first


def _task_id(task_info: Any) -> str:
    try:
        return id_of(task_info, "task_id")
    except InvalidCall:
        return ""


def _stream_closed(agent: Agent, executor: Executor, stream: EventStream) -> None:
    with agent.lock:
        if executor.stream is stream:
            executor.stream = None
            log.info("executor disconnected executor=%s", executor.executor_id)


def update(agent: Agent, fid: str, eid: str, payload: Any) -> None:
    try:
        status = validate_executor_status((payload or {}).get("status"))
    except InvalidCall as err:
        raise BadRequest(f"Failed to validate executor::Call: {err}") from None
    with agent.lock:
        record_update(agent, _executor(agent, fid, eid), status)


def record_update(agent: Agent, executor: Executor, status: JSON) -> None:
    """Checkpoint and queue an executor's update, then ACKNOWLEDGED to it (its exact uuid)."""
    status = dict(status)
    status["agent_id"] = id_json(agent.agent_id or "")
    status["executor_id"] = id_json(executor.executor_id)
    status.setdefault("source", "SOURCE_EXECUTOR")
    status.setdefault("timestamp", agent.clock())
    container_status = dict(status.get("container_status") or {})
    container_status["container_id"] = id_json(executor.container_id)
    if executor.pid is not None:
        container_status["executor_pid"] = executor.pid
    status["container_status"] = container_status
    if (
        is_terminal(str(status["state"]))
        and container_limitation(agent, executor.container_id) == MEMORY_LIMITATION
    ):
        status = memory_limited(status, "Memory limit exceeded: the task was OOM-killed")
    task_id = str(status["task_id"]["value"])
    agent.forward(executor.framework_id, status, executor.tasks.get(task_id))
    if executor.stream is not None:
        executor.stream.send(
            {
                "type": "ACKNOWLEDGED",
                "acknowledged": {"task_id": id_json(task_id), "uuid": status["uuid"]},
            }
        )


def message(agent: Agent, fid: str, eid: str, payload: Any) -> None:
    data = (payload or {}).get("data") if isinstance(payload, dict) else None
    if not isinstance(data, str):
        raise BadRequest("Failed to validate executor::Call: Expecting 'message.data'")
    with agent.lock:
        _executor(agent, fid, eid)
    agent.send_master(
        {
            "type": "MESSAGE",
            "message": {"framework_id": id_json(fid), "executor_id": id_json(eid), "data": data},
        }
    )
