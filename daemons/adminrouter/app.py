"""The auth daemon's Flask app, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.adminrouter import api
from daemons.adminrouter.service import AdminRouterAuth
from daemons.kit.app import make_app

# nginx's auth subrequest carries no body (proxy_pass_request_body off).
MAX_BODY_BYTES = 16 * 1024


def create_app(service: AdminRouterAuth) -> Flask:
    return make_app(
        "dcos-adminrouter-auth",
        (api.bp,),
        max_body_bytes=MAX_BODY_BYTES,
        extensions={"adminrouter": service},
    )
