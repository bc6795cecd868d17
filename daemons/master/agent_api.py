"""`POST /api/v1/agent`: agents subscribe and report (docs/agent-protocol.md)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, request

from daemons.common.body import read_call, require_json_accept
from daemons.common.errors import BadRequest
from daemons.common.streams import EventStream
from daemons.master import agent_calls
from daemons.master.http import accepted, master, require_leader, stream_response

bp = Blueprint("agent_link", __name__)


@bp.route("/api/v1/agent", methods=["POST"])
def agent_link() -> Response:
    m = master()
    require_leader(m)
    kind, body = read_call(request, m.config.max_body_bytes)
    stream_id = request.headers.get("Mesos-Stream-Id")
    if kind == "SUBSCRIBE":
        if stream_id is not None:
            raise BadRequest("Expecting 'Mesos-Stream-Id' to be absent on SUBSCRIBE")
        require_json_accept(request)
        stream = EventStream(str(uuid.uuid4()), m.config.heartbeat_interval)
        agent, first = agent_calls.subscribe(m, body, stream)
        agent_id = agent.agent_id
        stream.on_close = lambda s: agent_calls.disconnected(m, agent_id, s)
        m.wake.set()
        return stream_response(stream.records(first), stream.stream_id)
    agent_calls.handle(m, kind, body, stream_id)
    if kind in ("UPDATE", "UPDATES"):
        m.wake.set()
    return accepted()
