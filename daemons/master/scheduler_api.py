"""`POST /api/v1/scheduler`: the Mesos v1 scheduler HTTP API (reference §1)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, jsonify, request

from daemons.common.body import read_call, require_json_accept
from daemons.common.errors import BadRequest
from daemons.common.streams import EventStream
from daemons.master import scheduler_calls
from daemons.master.http import accepted, master, require_leader, stream_response

bp = Blueprint("scheduler", __name__)

_WAKES_ALLOCATOR = frozenset({"ACCEPT", "DECLINE", "REVIVE", "UPDATE_FRAMEWORK", "TEARDOWN"})


@bp.route("/api/v1/scheduler", methods=["POST"])
def scheduler() -> Response:
    m = master()
    require_leader(m)
    kind, body = read_call(request, m.config.max_body_bytes)
    stream_id = request.headers.get("Mesos-Stream-Id")
    if kind == "SUBSCRIBE":
        if stream_id is not None:
            raise BadRequest("Expecting 'Mesos-Stream-Id' to be absent on SUBSCRIBE")
        require_json_accept(request)
        stream = EventStream(str(uuid.uuid4()), m.config.heartbeat_interval)
        framework, first = scheduler_calls.subscribe(m, body, stream)
        if framework is None:
            stream.close()
        else:
            framework_id = framework.framework_id
            stream.on_close = lambda s: scheduler_calls.disconnected(m, framework_id, s)
            m.wake.set()
        return stream_response(stream.records(first), stream.stream_id)
    result = scheduler_calls.handle(m, kind, body, stream_id)
    if kind in _WAKES_ALLOCATOR:
        m.wake.set()
    if kind in scheduler_calls.SYNCHRONOUS:
        return jsonify(result or {})
    return accepted()
