"""IAM's errors, in DC/OS IAM's body shape: `{"title", "description", "code"}`. Pure.

Every one is an `ApiError` of the kit, so the kit's one handler renders it; a 401 carries
`WWW-Authenticate: acsjwt` (the value that tells the `dcos` CLI to log in with a uid and a
password or a service key, where `oauthjwt` would send it into the Auth0 flow).
"""

from __future__ import annotations

from typing import Any

from daemons.kit.errors import ApiError

CHALLENGE = {"WWW-Authenticate": "acsjwt"}


class IamError(ApiError):
    title = "Internal Server Error"
    code = "ERR_INTERNAL"

    def body(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.message, "code": self.code}


class InvalidData(IamError):
    """A body, a uid, a password or a key that is not acceptable; nothing was changed."""

    status = 400
    title = "Bad Request"
    code = "ERR_INVALID_DATA"

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status  # 413 and 415 from the kit's body reader keep their status


class InvalidCredentials(IamError):
    status = 401
    title = "Unauthorized"
    code = "ERR_INVALID_CREDENTIALS"

    def __init__(self, message: str = "Invalid credentials") -> None:
        super().__init__(message, dict(CHALLENGE))


class InvalidToken(IamError):
    """No token, or one that is not valid now (signature, algorithm, expiry, unknown user)."""

    status = 401
    title = "Unauthorized"
    code = "ERR_INVALID_AUTH_TOKEN"

    def __init__(self, message: str) -> None:
        super().__init__(message, dict(CHALLENGE))


class Forbidden(IamError):
    status = 403
    title = "Forbidden"
    code = "ERR_FORBIDDEN"


class _AboutUser(IamError):
    template = "User with uid `{uid}`."

    def __init__(self, uid: str) -> None:
        super().__init__(self.template.format(uid=uid))


class UnknownUser(_AboutUser):
    status = 404
    title = "Not Found"
    code = "ERR_UNKNOWN_USER_ID"
    template = "User with uid `{uid}` not known."


class UserExists(_AboutUser):
    status = 409
    title = "Conflict"
    code = "ERR_USER_EXISTS"
    template = "User with uid `{uid}` already exists."


class Conflict(IamError):
    """A write lost a race with another master's write to the same account: retry."""

    status = 409
    title = "Conflict"
    code = "ERR_CONFLICT"


class NotImplementedForServiceAccounts(IamError):
    status = 501
    title = "Not Implemented"
    code = "ERR_NOT_IMPLEMENTED"


class Unavailable(IamError):
    status = 503
    title = "Service Unavailable"
    code = "ERR_SERVICE_UNAVAILABLE"
