"""What IAM's blueprints share: the running service, the caller of a request, and JSON bodies
whose errors keep IAM's error shape."""

from __future__ import annotations

from flask import Response, current_app, request

from daemons.iam.accounts import Account
from daemons.iam.errors import InvalidData
from daemons.iam.login import AUTH_COOKIE, Cookie
from daemons.iam.service import IamService
from daemons.kit.body import read_json
from daemons.kit.errors import ApiError


def service() -> IamService:
    found: IamService = current_app.extensions["iam"]
    return found


def caller() -> Account:
    """The account whose valid token the request carries (401 otherwise)."""
    return service().caller(request.headers.get("Authorization"), request.cookies.get(AUTH_COOKIE))


def json_body() -> object:
    """The request's JSON (415 unless `application/json`, 413 too large, 400 not JSON), its
    errors in IAM's shape."""
    try:
        return read_json(request)
    except ApiError as err:
        raise InvalidData(err.message, err.status) from None


def set_cookies(response: Response, cookies: list[Cookie]) -> Response:
    for cookie in cookies:
        response.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            expires=0 if cookie.max_age == 0 else None,
            path=cookie.path,
            secure=cookie.secure,
            httponly=cookie.http_only,
            samesite=cookie.same_site,
        )
    return response
