"""`/acs/api/v1/auth/*` (open: login, logout, jwks, providers), `/internal/v1/authenticate`
(Admin Router's `auth_request`, never routed from outside) and `/health`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from daemons.iam.http import json_body, service, set_cookies
from daemons.iam.login import AUTH_COOKIE

bp = Blueprint("iam_auth", __name__)

AUTH = "/acs/api/v1/auth"
LOGIN = f"{AUTH}/login"


@bp.post(LOGIN)
def login() -> Response:
    token, cookies = service().login(json_body())
    return set_cookies(jsonify({"token": token}), cookies)


@bp.get(f"{AUTH}/logout")
def logout() -> Response:
    return set_cookies(jsonify({}), service().logout_cookies())


@bp.get(f"{AUTH}/jwks")
def jwks() -> dict[str, Any]:
    return service().jwks()


@bp.get(f"{AUTH}/providers")
def providers() -> dict[str, Any]:
    """What `dcos auth login` asks first: the two login kinds DC/OS Open lists."""
    flow = {"start_flow_url": LOGIN}
    return {
        "dcos-users": {
            "authentication-type": "dcos-uid-password",
            "client-method": "dcos-usercredential-post-receive-authtoken",
            "config": flow,
            "description": "Default DC/OS login provider",
        },
        "dcos-services": {
            "authentication-type": "dcos-uid-servicekey",
            "client-method": "dcos-servicecredential-post-receive-authtoken",
            "config": flow,
            "description": "Default DC/OS login provider",
        },
    }


@bp.route("/internal/v1/authenticate", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def authenticate() -> Response:
    """200 with `X-Dcos-Uid` and `X-Dcos-Authorization: token=<jwt>` (what Admin Router
    forwards upstream as `Authorization`) for a valid token from the `Authorization` header or
    the auth cookie; 401 with `WWW-Authenticate: acsjwt` otherwise."""
    uid, token = service().authenticate(
        request.headers.get("Authorization"), request.cookies.get(AUTH_COOKIE)
    )
    response = jsonify({"uid": uid})
    response.headers["X-Dcos-Uid"] = uid
    response.headers["X-Dcos-Authorization"] = f"token={token}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/health")
def health() -> tuple[dict[str, Any], int]:
    """200 once the store and the cluster key are loaded."""
    ready = service().ready
    return {"ready": ready}, 200 if ready else 503
