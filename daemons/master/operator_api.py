"""The v1 operator API on the master: `POST /api/v1` (and `/master/api/v1`, `/api/v1/operator`).

Synchronous calls answer 200 `{"type": X, "<x_lower>": {...}}`; SUBSCRIBE streams RecordIO
events (SUBSCRIBED with the full state, then TASK_ADDED, TASK_UPDATED, FRAMEWORK_*, AGENT_*).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from daemons.kit.body import read_call, require_json_accept
from daemons.kit.errors import NotFound
from daemons.kit.streams import EventStream
from daemons.master import metrics, state_json
from daemons.master.agent_removal import mark_gone
from daemons.master.calls.scheduler import payload_of
from daemons.master.http import master, require_leader, stream_response
from daemons.master.master import Master
from daemons.master.registry import GONE, UNREACHABLE
from daemons.master.validation import refused
from daemons.protocols import JSON
from daemons.protocols.fields import ProtocolError
from daemons.protocols.ids import id_value

bp = Blueprint("operator", __name__)

CALL = "master::Call"


def _master_info(m: Master) -> JSON:
    return {
        "master_info": m.master_info,
        "start_time": m.start_time,
        "elected_time": m.elected_time or 0.0,
    }


def _mark_agent_gone(m: Master, body: JSON) -> JSON:
    try:
        agent_id = id_value(payload_of(body, "mark_agent_gone"), "agent_id", "mark_agent_gone")
    except ProtocolError as err:
        raise refused(CALL, err) from None
    agent = m.agents.get(agent_id)
    known = m.recovered.get(agent_id) or m.registry_state.agent_in(agent_id, UNREACHABLE)
    if agent is None and known is None:
        if m.registry_state.agent_in(agent_id, GONE) is not None:
            return {}
        raise NotFound(f"Agent {agent_id} is not known")
    info = agent.info.raw if agent is not None else known.info if known is not None else {}
    mark_gone(
        m,
        agent_id,
        info,
        "TASK_GONE_BY_OPERATOR",
        "REASON_AGENT_REMOVED_BY_OPERATOR",
        "Agent marked gone by the operator",
    )
    return {}


_SYNC: dict[str, Callable[[Master, JSON], JSON]] = {
    "GET_HEALTH": lambda m, b: {"healthy": True},
    "GET_VERSION": lambda m, b: {"version_info": state_json.version_info()},
    "GET_FLAGS": lambda m, b: {
        "flags": [{"name": k, "value": v} for k, v in state_json.flags(m.config).items()]
    },
    "GET_METRICS": lambda m, b: {
        "metrics": [{"name": k, "value": v} for k, v in metrics.snapshot(m, m.clock()).items()]
    },
    "GET_STATE": lambda m, b: state_json.get_state(m),
    "GET_AGENTS": lambda m, b: state_json.get_agents(m),
    "GET_FRAMEWORKS": lambda m, b: state_json.get_frameworks(m),
    "GET_EXECUTORS": lambda m, b: state_json.get_executors(m),
    "GET_TASKS": lambda m, b: state_json.get_tasks(m),
    "GET_MASTER": lambda m, b: _master_info(m),
    "GET_ROLES": lambda m, b: {
        "roles": [{"name": r, "weight": w} for r, w in sorted(m.config.weights.items())]
    },
    "MARK_AGENT_GONE": _mark_agent_gone,
}
_LEADER_FREE = frozenset({"GET_HEALTH", "GET_VERSION", "GET_FLAGS"})


@bp.route("/api/v1", methods=["POST"])
@bp.route("/master/api/v1", methods=["POST"])
@bp.route("/api/v1/operator", methods=["POST"])
def operator() -> Response:
    m = master()
    kind, body = read_call(request, m.config.max_body_bytes)
    if kind not in _LEADER_FREE:
        require_leader(m)
    if kind == "SUBSCRIBE":
        require_json_accept(request)
        stream = EventStream(str(uuid.uuid4()), m.config.heartbeat_interval)
        with m.lock:
            first = {
                "type": "SUBSCRIBED",
                "subscribed": {
                    "get_state": state_json.get_state(m),
                    "heartbeat_interval_seconds": m.config.heartbeat_interval,
                },
            }
            m.operator_streams.add(stream)
        stream.on_close = lambda s: _forget(m, s)
        return stream_response(stream, first)
    handler = _SYNC.get(kind)
    if handler is None:
        raise refused(CALL, ProtocolError(f"unsupported call type '{kind}'", "type"))
    with m.lock:
        payload = handler(m, body)
    return jsonify({"type": kind, kind.lower(): payload})


def _forget(m: Master, stream: EventStream) -> None:
    with m.lock:
        m.operator_streams.discard(stream)
