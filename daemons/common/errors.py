"""The error tree shared by every daemon: each error carries its HTTP status and a message.

One Flask handler (`register`) renders any `ApiError` as `{"message": ...}` with its status, so
views raise and never build error responses themselves. Adapters translate library errors into
these at the boundary.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 500

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class NotAcceptable(ApiError):
    status = 406


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class UnprocessableEntity(ApiError):
    status = 422


class ServiceUnavailable(ApiError):
    status = 503


class Redirect(ApiError):
    """Not an error for the client: a standby pointing at the leader (307)."""

    status = 307

    def __init__(self, location: str) -> None:
        super().__init__(f"not the leader; try {location}", {"Location": location})


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"message": message})
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def register(app: Flask) -> None:
    """Render ApiError and werkzeug's HTTP errors as JSON with a message."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> Response:
        return error_response(err.status, err.message, err.headers)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        headers = {}
        if err.code == 405:
            allow = err.get_headers()
            headers = {k: v for k, v in allow if k.lower() == "allow"}
        return error_response(err.code or 500, err.description or err.name, headers)
