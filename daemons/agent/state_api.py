"""The agent's state endpoints: `/state` (Mesos' agent state JSON), `/metrics/snapshot`,
`/version`, `/flags` and `/health`, each also under Mesos' `/slave(1)/` prefix where Mesos has it.
The JSON is built in state.py."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from daemons.agent.state import flags, version_json
from daemons.agent.web import current_runtime

bp = Blueprint("agent_state", __name__)


@bp.get("/state")
@bp.get("/state.json")
@bp.get("/slave(1)/state")
@bp.get("/slave(1)/state.json")
def state() -> Response:
    return jsonify(current_runtime().state())


@bp.get("/metrics/snapshot")
def metrics_snapshot() -> Response:
    return jsonify(current_runtime().metrics())


@bp.get("/version")
def version() -> Response:
    return jsonify(version_json(current_runtime().agent))


@bp.get("/flags")
@bp.get("/slave(1)/flags")
def flags_endpoint() -> Response:
    return jsonify({"flags": flags(current_runtime().agent)})


@bp.get("/health")
@bp.get("/slave(1)/health")
def health() -> Response:
    return Response(b"", status=200)
