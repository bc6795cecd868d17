"""Metronome's Flask app factory: blueprints, the error tree, the request guard, and (with a
framework daemon) proxying to the leader from standbys."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

from daemons.common import errors, leader_proxy
from daemons.common.guard import RequestGuard
from daemons.metronome import api_info, api_jobs, api_runs, api_schedules
from daemons.metronome.errors import InvalidObject, MetronomeError
from daemons.metronome.metronome import Metronome
from daemons.metronome.validation import Invalid

# Answered by every instance itself; everything else a standby forwards to the leader.
LOCAL_PATHS = frozenset({"/ping", "/leader", "/v1/leader"})


def create_app(
    metronome: Metronome,
    leadership: Any,
    *,
    max_body_bytes: int = 4 * 1024 * 1024,
    proxy: bool = True,
) -> Flask:
    """`leadership` has `leader` (host:port or None); with `proxy` it is a
    `daemons.common.framework.FrameworkDaemon` and standbys forward to the leader."""
    app = Flask("dcos-metronome")
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    app.extensions["metronome"] = metronome
    app.extensions["metronome.leadership"] = leadership
    if proxy:
        leader_proxy.install(app, leadership, LOCAL_PATHS)
    for blueprint in (api_jobs.bp, api_schedules.bp, api_runs.bp, api_info.bp):
        app.register_blueprint(blueprint)
    errors.register(app)

    @app.errorhandler(MetronomeError)
    def _metronome_error(err: MetronomeError) -> Response:
        response = jsonify(err.body())
        response.status_code = err.status
        return response

    @app.errorhandler(Invalid)
    def _invalid(err: Invalid) -> Response:
        return _metronome_error(InvalidObject(err.details))

    wsgi: Any = app.wsgi_app
    app.wsgi_app = RequestGuard(wsgi)  # type: ignore[method-assign]
    return app
