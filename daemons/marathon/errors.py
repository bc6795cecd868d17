"""Marathon's errors: each carries its HTTP status and renders as Marathon's JSON body."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

from daemons.common.errors import ApiError, Conflict, NotFound, UnprocessableEntity


class Invalid(UnprocessableEntity):
    """422 `{"message": "Object is not valid", "details": [{"path", "errors"}]}`."""

    def __init__(self, details: list[dict[str, Any]], message: str = "Object is not valid"):
        super().__init__(message)
        self.details = details


class AppNotFound(NotFound):
    def __init__(self, app_id: str) -> None:
        super().__init__(f"App '{app_id}' does not exist")


class Locked(Conflict):
    """409 while another deployment touches the app (unless `force=true`)."""

    def __init__(self, deployment_ids: list[str]) -> None:
        first = deployment_ids[0] if deployment_ids else ""
        super().__init__(
            "App is locked by one or more deployments. Override with the option"
            f" '?force=true'. View details at '/v2/deployments/{first}'."
        )
        self.deployment_ids = deployment_ids


def register(app: Flask) -> None:
    """Render the bodies that carry more than a message (422 details, 409 deployments)."""

    @app.errorhandler(Invalid)
    def _invalid(err: Invalid) -> Response:
        response = jsonify({"message": err.message, "details": err.details})
        response.status_code = 422
        return response

    @app.errorhandler(Locked)
    def _locked(err: Locked) -> Response:
        response = jsonify(
            {"message": err.message, "deployments": [{"id": d} for d in err.deployment_ids]}
        )
        response.status_code = 409
        return response


__all__ = ["ApiError", "AppNotFound", "Invalid", "Locked", "register"]
