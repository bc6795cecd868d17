"""The agent's Flask app: thin blueprints over the `Agent`, JSON errors, the request guard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask

from daemons.agent import executor_api, files, state
from daemons.common import errors
from daemons.common.guard import RequestGuard

if TYPE_CHECKING:
    from daemons.agent.agent import Agent


def create_app(agent: Agent) -> Flask:
    app = Flask("daemons.agent")
    app.config["MAX_CONTENT_LENGTH"] = agent.config.max_body_bytes
    app.json.ensure_ascii = True  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["pydcos_agent"] = agent
    app.register_blueprint(executor_api.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(state.bp)
    errors.register(app)
    guarded: Any = RequestGuard(app.wsgi_app)
    app.wsgi_app = guarded  # type: ignore[method-assign]
    return app
