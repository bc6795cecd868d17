"""/v2/queue: apps waiting for launches, and resetting an app's launch delay."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from daemons.kit import args
from daemons.marathon import changes
from daemons.marathon.api.params import marathon
from daemons.marathon.views import queue_view

bp = Blueprint("queue", __name__)


@bp.get("/v2/queue")
def queue() -> Response:
    m = marathon()
    last = "lastUnusedOffers" in args.repeated("embed")
    with m.lock:
        return jsonify(queue_view(m, last_unused_offers=last))


@bp.delete("/v2/queue/<path:app_id>/delay")
def reset_delay(app_id: str) -> Response:
    changes.reset_delay(marathon(), app_id)
    return Response(status=204)
