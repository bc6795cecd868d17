"""IAM's `/internal/v1/authenticate` over HTTP, one keep-alive session per server thread (a
`requests.Session` is not promised thread-safe; one per thread keeps its connection open).

IAM answers 200 with `X-Dcos-Uid` and `X-Dcos-Authorization: token=<jwt>` for a valid token of
an existing account, 401 otherwise. Anything else (IAM down, a 5xx, a timeout) is
`IamUnavailable`: Admin Router then fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from daemons.adminrouter.cookies import AUTH_COOKIE
from daemons.adminrouter.sessions import ThreadSessions

AUTHENTICATE = "/internal/v1/authenticate"


class IamUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Caller:
    uid: str
    # What nginx forwards upstream as `Authorization`: `token=<jwt>`.
    authorization: str


class IamClient:
    def __init__(self, base_url: str, timeout: float) -> None:
        self._url = base_url.rstrip("/") + AUTHENTICATE
        self._timeout = timeout
        self._sessions = ThreadSessions()

    def authenticate(self, authorization: str | None, cookie_token: str | None) -> Caller | None:
        """The caller of a valid token (header first, else the cookie's), None for a refused
        one; IamUnavailable when IAM cannot say."""
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif cookie_token is not None:
            headers["Cookie"] = f"{AUTH_COOKIE}={cookie_token}"
        else:
            return None
        try:
            response = self._sessions.get().get(self._url, headers=headers, timeout=self._timeout)
        except requests.RequestException as err:
            self._sessions.drop()
            raise IamUnavailable(f"IAM {self._url}: {type(err).__name__}") from None
        if response.status_code == 401:
            return None
        uid = response.headers.get("X-Dcos-Uid", "")
        forwarded = response.headers.get("X-Dcos-Authorization", "")
        if response.status_code != 200 or not uid or not forwarded.startswith("token="):
            raise IamUnavailable(f"IAM {self._url}: status {response.status_code}")
        return Caller(uid, forwarded)
