"""`POST /api/v1/scheduler`: the Mesos v1 scheduler HTTP API."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from daemons.master import scheduler_calls
from daemons.master.http import accepted, master, new_stream, read_v1_call, stream_response

bp = Blueprint("scheduler", __name__)

_WAKES_ALLOCATOR = frozenset({"ACCEPT", "DECLINE", "REVIVE", "UPDATE_FRAMEWORK", "TEARDOWN"})


@bp.route("/api/v1/scheduler", methods=["POST"])
def scheduler() -> Response:
    m = master()
    kind, body, stream_id = read_v1_call(m)
    if kind == "SUBSCRIBE":
        stream = new_stream(m)
        framework, first = scheduler_calls.subscribe(m, body, stream)
        if framework is None:
            stream.close()
        else:
            framework_id = framework.framework_id
            stream.on_close = lambda s: scheduler_calls.disconnected(m, framework_id, s)
            m.wake.set()
        return stream_response(stream, first)
    result = scheduler_calls.handle(m, kind, body, stream_id)
    if kind in _WAKES_ALLOCATOR:
        m.wake.set()
    if kind in scheduler_calls.SYNCHRONOUS:
        return jsonify(result or {})
    return accepted()
