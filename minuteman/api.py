"""Minuteman's HTTP API (127.0.0.1:61421): `/v1/vips` in dcos-net's shape, `/metrics` for
Prometheus, `/health`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from minuteman import views
from minuteman.service import MinutemanService

bp = Blueprint("minuteman", __name__)


def service() -> MinutemanService:
    found: MinutemanService = current_app.extensions["minuteman"]
    return found


@bp.get("/v1/vips")
def vips() -> Response:
    body = views.vips(service().table)
    tag = views.etag(body)
    if request.if_none_match.contains(tag):
        return Response(status=304, headers={"ETag": f'"{tag}"'})
    response = jsonify(body)
    response.set_etag(tag)
    return response


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(service().metrics.registry), mimetype=CONTENT_TYPE_LATEST)


@bp.get("/health")
def health() -> tuple[dict[str, Any], int]:
    """200 once a state was programmed."""
    running = service()
    body = {"loaded": running.loaded, "vips": len(running.table.vips)}
    return body, 200 if running.loaded else 503
