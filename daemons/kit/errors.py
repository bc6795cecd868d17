"""The error tree every daemon shares: each error carries its HTTP status and its JSON body.

Views and cores raise; the one handler of `daemons.kit.app` renders any `ApiError` as
`err.body()` (by default `{"message": ...}`) with `err.status` and `err.headers`, so nothing
builds an error response itself. A daemon whose API sends richer bodies (Marathon's 422
`details`, Metronome's 404 `id`) subclasses a class here and overrides `body()`. Adapters
translate library errors into these at the boundary (`kazoo.ConnectionLoss` ->
`StoreUnavailable`). Pure: no Flask, so the protocols-level clients can raise them too.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 500

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


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


class StoreUnavailable(ServiceUnavailable):
    """The state store cannot be read or written now: ZooKeeper does not answer, the session is
    gone, or a write was not answered in time (its outcome is unknown)."""


class Fenced(StoreUnavailable):
    """A newer leader has taken the store since this one loaded it: this one must never write
    again, and steps down (`daemons.kit.store`)."""


class Redirect(ApiError):
    """Not an error for the client: a standby pointing at the leader (307)."""

    status = 307

    def __init__(self, location: str) -> None:
        super().__init__(f"not the leader; try {location}", {"Location": location})
