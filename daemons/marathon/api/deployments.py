"""/v2/deployments: running deployments; DELETE rolls one back (or, with force, stops it)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from daemons.kit import args
from daemons.marathon import changes
from daemons.marathon.api.params import marathon
from daemons.marathon.views import deployments_view

bp = Blueprint("deployments", __name__)


@bp.get("/v2/deployments")
def list_deployments() -> Response:
    m = marathon()
    with m.lock:
        return jsonify(deployments_view(m))


@bp.delete("/v2/deployments/<deployment_id>")
def cancel(deployment_id: str) -> Response:
    m = marathon()
    result = changes.cancel_deployment(m, deployment_id, force=args.flag("force"))
    m.flush()
    if result is None:
        return Response(status=202)
    response = jsonify(result.json())
    response.headers["Marathon-Deployment-Id"] = result.deployment_id
    return response
