"""The v1 executor HTTP API: `POST /api/v1/executor` (also under Mesos' `/slave(1)/` prefix).

SUBSCRIBE answers 200 with a chunked RecordIO stream that starts with SUBSCRIBED, then the
executor's queued LAUNCHes; UPDATE is checkpointed and queued for the master before the agent
answers the executor with ACKNOWLEDGED (echoing its uuid), and answers 503 when it cannot be
checkpointed (executor_calls.py); MESSAGE goes to the master; HEARTBEAT is accepted. Every call
but SUBSCRIBE answers 202 with `Content-Length: 0`; all of them 503 until recovery is done.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from daemons.agent.protocol import InvalidCall, id_of, validate_executor_status
from daemons.agent.web import current_runtime
from daemons.kit.body import read_call, require_json_accept
from daemons.kit.errors import BadRequest, ServiceUnavailable
from daemons.protocols import JSON

bp = Blueprint("executor_api", __name__)


@bp.post("/api/v1/executor")
@bp.post("/slave(1)/api/v1/executor")
def executor_call() -> Response:
    runtime = current_runtime()
    kind, body = read_call(request, runtime.config.max_body_bytes)
    try:
        fid, eid = id_of(body, "framework_id"), id_of(body, "executor_id")
    except InvalidCall as err:
        raise BadRequest(f"Failed to validate executor::Call: {err}") from None
    if not runtime.agent.recovered:
        raise ServiceUnavailable("Agent has not finished recovery")
    if kind == "SUBSCRIBE":
        require_json_accept(request)
        stream, first = runtime.executor_subscribe(fid, eid, body.get("subscribe") or {})
        return Response(stream.records(first), status=200, content_type="application/json")
    if kind == "UPDATE":
        runtime.executor_update(fid, eid, _status(body.get("update")))
    elif kind == "MESSAGE":
        runtime.executor_message(fid, eid, _data(body.get("message")))
    elif kind == "HEARTBEAT":
        runtime.executor_heartbeat(fid, eid)
    else:
        raise BadRequest(f"Failed to validate executor::Call: unknown type {kind!r}")
    return Response(b"", status=202)


def _status(payload: Any) -> JSON:
    try:
        return validate_executor_status(
            payload.get("status") if isinstance(payload, dict) else None
        )
    except InvalidCall as err:
        raise BadRequest(f"Failed to validate executor::Call: {err}") from None


def _data(payload: Any) -> str:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, str):
        raise BadRequest("Failed to validate executor::Call: Expecting 'message.data'")
    return data
