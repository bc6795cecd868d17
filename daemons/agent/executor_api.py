"""The v1 executor HTTP API: `POST /api/v1/executor` (also under Mesos' `/slave(1)/` prefix).

SUBSCRIBE answers 200 with a chunked RecordIO stream that starts with SUBSCRIBED, then the
executor's queued LAUNCHes; UPDATE is checkpointed and queued for the master before the agent
answers the executor with ACKNOWLEDGED (echoing its uuid), and answers 503 when it cannot be
checkpointed (executor_calls.py); MESSAGE goes to the master; HEARTBEAT is accepted. Every call
but SUBSCRIBE answers 202 with `Content-Length: 0`; all of them 503 until recovery is done. A
call is parsed first (messages.py): a bad field is a 400 whose message names its path,
`Failed to validate executor::Call: call.update.status: field 'uuid' is not valid base64`.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from daemons.agent.messages import Heartbeat, Message, Subscribe, Update, parse_executor_call
from daemons.agent.web import current_runtime
from daemons.kit import streams
from daemons.kit.body import read_call, require_json_accept
from daemons.kit.errors import BadRequest, ServiceUnavailable
from daemons.protocols.fields import ProtocolError

bp = Blueprint("executor_api", __name__)


@bp.post("/api/v1/executor")
@bp.post("/slave(1)/api/v1/executor")
def executor_call() -> Response:
    runtime = current_runtime()
    kind, body = read_call(request, runtime.config.max_body_bytes)
    try:
        call = parse_executor_call(kind, body)
    except ProtocolError as err:
        raise BadRequest(f"Failed to validate executor::Call: {err}") from None
    if not runtime.agent.recovered:
        raise ServiceUnavailable("Agent has not finished recovery")
    match call:
        case Subscribe():
            require_json_accept(request)
            stream, first = runtime.executor_subscribe(call)
            return streams.response(stream, first, {})
        case Update():
            runtime.executor_update(call)
        case Message():
            runtime.executor_message(call)
        case Heartbeat():
            runtime.executor_heartbeat(call.framework_id, call.executor_id)
    return Response(b"", status=202)
