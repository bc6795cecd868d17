"""The app factory every daemon is built with, and the one place errors become responses.

`make_app` gives a Flask app with the daemon's blueprints, a body-size limit (Flask answers 413
past it, and `daemons.kit.serve` closes such connections), JSON that keeps key order, the
request-target guard in front (`daemons.kit.guard`), and one error handler: any `ApiError`
renders as its `body()` with its status and headers, any werkzeug HTTP error (404 of an unknown
route, 405 with its `Allow`) as `{"message": ...}`. A daemon then adds only its own domain code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from daemons.kit.errors import ApiError
from daemons.kit.guard import RequestGuard, WSGIApp

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


def error_response(
    status: int, body: Mapping[str, Any] | str, headers: Mapping[str, str] | None = None
) -> Response:
    """`body` is the JSON object to send, or a message (sent as `{"message": ...}`)."""
    response = jsonify({"message": body} if isinstance(body, str) else dict(body))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _render_api_error(err: ApiError) -> Response:
    return error_response(err.status, err.body(), err.headers)


def _render_http_error(err: HTTPException) -> Response:
    headers = {}
    if err.code == 405:
        headers = {k: v for k, v in err.get_headers() if k.lower() == "allow"}
    return error_response(err.code or 500, err.description or err.name, headers)


def make_app(
    name: str,
    blueprints: Iterable[Blueprint],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    extensions: Mapping[str, Any] | None = None,
    ascii_json: bool = True,
    strict_slashes: bool = True,
    wrap: Iterable[Callable[[WSGIApp], WSGIApp]] = (),
) -> Flask:
    """`extensions` are what the blueprints look up in `current_app.extensions`; `wrap` are
    WSGI middlewares applied outside the request guard, innermost first."""
    app = Flask(name)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = ascii_json  # type: ignore[attr-defined]
    app.url_map.strict_slashes = strict_slashes
    app.extensions.update(extensions or {})
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_error_handler(ApiError, _render_api_error)
    app.register_error_handler(HTTPException, _render_http_error)
    wsgi: WSGIApp = RequestGuard(app.wsgi_app)
    for middleware in wrap:
        wsgi = middleware(wsgi)
    app.wsgi_app = wsgi  # type: ignore[method-assign, assignment]
    return app
