"""The auth daemon's HTTP face, for nginx only (it listens on 127.0.0.1):
- `/v1/auth`, any method: the `auth_request` subrequest (service.py has the decision);
- `/v1/metadata` and `/v1/capabilities`: the bodies of Admin Router's `/metadata` and
  `/capabilities` (behind the same `auth_request` in nginx);
- `/v1/unresolved/<status>/<kind>`: the 404/503 of a dynamic route nothing answers;
- `/health`."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

from daemons.adminrouter.service import AdminRouterAuth, Request

bp = Blueprint("adminrouter_auth", __name__)

CAPABILITIES_TYPE = "application/vnd.dcos.capabilities+json;charset=utf-8;version=v1"
UNRESOLVED = {
    (404, "service"): "404 Not Found: service not found.",
    (404, "agent"): "404 Not Found: agent not found.",
    (503, "service"): "503 Service Unavailable: the route cache is stale.",
    (503, "agent"): "503 Service Unavailable: the route cache is stale.",
    (503, "mesos_dns"): "503 Service Unavailable: the Mesos-DNS request failed.",
}
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def auth() -> AdminRouterAuth:
    found: AdminRouterAuth = current_app.extensions["adminrouter"]
    return found


@bp.route("/v1/auth", methods=ALL_METHODS)
def check() -> Response:
    headers = request.headers
    decision = auth().decide(
        Request(
            method=headers.get("X-Original-Method", request.method),
            uri=headers.get("X-Original-URI", "/"),
            host=headers.get("Host"),
            origin=headers.get("Origin"),
            referer=headers.get("Referer"),
            authorization=headers.get("Authorization"),
            cookie=headers.get("Cookie"),
        )
    )
    body = json.dumps({"message": decision.message} if decision.message else {})
    response = Response(body, decision.status, mimetype="application/json")
    response.headers.update(decision.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/v1/metadata")
def metadata() -> dict[str, str]:
    config = auth().config
    return {"PUBLIC_IPV4": config.public_ipv4, "CLUSTER_ID": config.cluster_id}


@bp.get("/v1/capabilities")
def capabilities() -> Response:
    names = [{"name": name} for name in auth().config.capabilities]
    return Response(json.dumps({"capabilities": names}), 200, content_type=CAPABILITIES_TYPE)


@bp.route("/v1/unresolved/<int:status>/<kind>", methods=ALL_METHODS)
def unresolved(status: int, kind: str) -> Response:
    message = UNRESOLVED.get((status, kind), "404 Not Found")
    return Response(
        message + "\n", status if (status, kind) in UNRESOLVED else 404, mimetype="text/plain"
    )


@bp.get("/health")
def health() -> dict[str, bool]:
    return {"ok": True}
