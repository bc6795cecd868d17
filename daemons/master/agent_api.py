"""`POST /api/v1/agent`: agents subscribe and report (docs/agent-protocol.md)."""

from __future__ import annotations

from flask import Blueprint, Response

from daemons.master import agent_calls
from daemons.master.http import accepted, master, new_stream, read_v1_call, stream_response

bp = Blueprint("agent_link", __name__)


@bp.route("/api/v1/agent", methods=["POST"])
def agent_link() -> Response:
    m = master()
    kind, body, stream_id = read_v1_call(m)
    if kind == "SUBSCRIBE":
        stream = new_stream(m)
        agent, first = agent_calls.subscribe(m, body, stream)
        if agent is None:  # refused (marked gone): the ERROR event, then the stream ends
            stream.close()
        else:
            agent_id = agent.agent_id
            stream.on_close = lambda s: agent_calls.disconnected(m, agent_id, s)
            m.wake.set()
        return stream_response(stream, first)
    agent_calls.handle(m, kind, body, stream_id)
    if kind in ("UPDATE", "UPDATES"):
        m.wake.set()
    return accepted()
