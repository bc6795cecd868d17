"""The master's Flask app factory: blueprints, JSON errors, body limit, request guard."""

from __future__ import annotations

from typing import Any

from flask import Flask

from daemons.common import errors
from daemons.common.guard import RequestGuard
from daemons.master import agent_api, endpoints, operator_api, scheduler_api
from daemons.master.master import Master


def create_app(master: Master) -> Flask:
    app = Flask("dcos-mesos-master")
    app.config["MAX_CONTENT_LENGTH"] = master.config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["master"] = master
    for blueprint in (scheduler_api.bp, agent_api.bp, operator_api.bp, endpoints.bp):
        app.register_blueprint(blueprint)
    errors.register(app)
    wsgi: Any = app.wsgi_app
    app.wsgi_app = RequestGuard(wsgi)  # type: ignore[method-assign]
    return app
