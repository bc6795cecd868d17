"""The app factory every daemon is built with, and the one place errors become responses.

`make_app` gives a Flask app with the daemon's blueprints, a body-size limit (Flask answers 413
past it, and `daemons.kit.serve` closes such connections), JSON that keeps key order, the
request-target guard in front (`daemons.kit.guard`), and one error handler: any `ApiError`
renders as its `body()` with its status and headers, any werkzeug HTTP error (404 of an unknown
route, 405 with its `Allow`) as `{"message": ...}`, plus the fields a blueprint's API adds to
every error it answers (`error_fields`: Exhibitor's config API says `"succeeded": false`).
Nothing else renders an error: views and before-request hooks raise. A daemon then adds only its
own domain code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from daemons.kit.errors import ApiError
from daemons.kit.guard import RequestGuard, WSGIApp

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


ErrorFields = Mapping[str, Mapping[str, Any]]


def _error_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str], fields: ErrorFields
) -> Response:
    response = jsonify({**body, **fields.get(request.blueprint or "", {})})
    response.status_code = status
    for key, value in headers.items():
        response.headers[key] = value
    return response


def _error_handlers(
    fields: ErrorFields,
) -> tuple[Callable[[ApiError], Response], Callable[[HTTPException], Response]]:
    def render_api_error(err: ApiError) -> Response:
        return _error_response(err.status, err.body(), err.headers, fields)

    def render_http_error(err: HTTPException) -> Response:
        headers = {}
        if err.code == 405:
            headers = {k: v for k, v in err.get_headers() if k.lower() == "allow"}
        message = {"message": err.description or err.name}
        return _error_response(err.code or 500, message, headers, fields)

    return render_api_error, render_http_error


def make_app(
    name: str,
    blueprints: Iterable[Blueprint],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    extensions: Mapping[str, Any] | None = None,
    ascii_json: bool = True,
    strict_slashes: bool = True,
    wrap: Iterable[Callable[[WSGIApp], WSGIApp]] = (),
    error_fields: ErrorFields | None = None,
) -> Flask:
    """`extensions` are what the blueprints look up in `current_app.extensions`; `wrap` are
    WSGI middlewares applied outside the request guard, innermost first; `error_fields` maps a
    blueprint's name to the fields every error body of its routes carries."""
    app = Flask(name)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = ascii_json  # type: ignore[attr-defined]
    app.url_map.strict_slashes = strict_slashes
    app.extensions.update(extensions or {})
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    render_api_error, render_http_error = _error_handlers(dict(error_fields or {}))
    app.register_error_handler(ApiError, render_api_error)
    app.register_error_handler(HTTPException, render_http_error)
    wsgi: WSGIApp = RequestGuard(app.wsgi_app)
    for middleware in wrap:
        wsgi = middleware(wsgi)
    app.wsgi_app = wsgi  # type: ignore[method-assign, assignment]
    return app
