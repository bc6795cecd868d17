"""Marathon's errors: each carries its HTTP status and Marathon's JSON body (`body()`), which
the kit's one handler renders."""

from __future__ import annotations

from typing import Any

from daemons.kit.errors import ApiError, Conflict, NotFound, UnprocessableEntity


class Invalid(UnprocessableEntity):
    """422 `{"message": "Object is not valid", "details": [{"path", "errors"}]}`."""

    def __init__(self, details: list[dict[str, Any]], message: str = "Object is not valid"):
        super().__init__(message)
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "details": self.details}


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

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "deployments": [{"id": d} for d in self.deployment_ids]}


__all__ = ["ApiError", "AppNotFound", "Invalid", "Locked"]
