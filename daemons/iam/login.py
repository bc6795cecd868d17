"""`POST /acs/api/v1/auth/login` and the login cookies. Pure: the clock, the account lookup
and the dummy hash come in as arguments.

Credentials (DC/OS's body): `{"uid", "password"}` for a user, `{"uid", "token"}` for a service
account whose token is an RS256 JWT signed by its private key (tokens.validate_service_login).
Every failure is the same 401 "Invalid credentials", whether the uid is unknown, the account of
the other kind or the secret wrong; an unknown uid still costs one Argon2 verification (against
`dummy_hash`), so the answer's timing does not tell which uids exist.

Cookies (frontdoor reference §3, DC/OS's names, `Path=/`, Max-Age 388,800 s = 4.5 days as
DC/OS, or the token's lifetime when shorter):
- `dcos-acs-auth-cookie`: the token; `HttpOnly` (no script reads it) and `SameSite=Strict` (a
  page of another site never makes the browser send it: with Admin Router's Origin check on
  cookie-authenticated writes, the CSRF defence DC/OS lacked);
- `dcos-acs-info-cookie`: base64 of `{"uid", "description", "is_remote"}` for the UI to read
  (so not HttpOnly), `SameSite=Strict` too;
- `Secure` on both only when the config says Admin Router serves HTTPS: over plain http on a
  LAN a browser would store a Secure cookie but never send it back, and login would not stick.
Logout expires both with the same attributes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from daemons.iam import keys, passwords, tokens
from daemons.iam.accounts import Account
from daemons.iam.errors import InvalidCredentials, InvalidData, InvalidToken

AUTH_COOKIE = "dcos-acs-auth-cookie"
INFO_COOKIE = "dcos-acs-info-cookie"
COOKIE_MAX_AGE = 388_800


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    max_age: int
    http_only: bool
    secure: bool
    same_site: str = "Strict"
    path: str = "/"


def _credentials(body: object) -> tuple[str, str | None, str | None]:
    if not isinstance(body, dict):
        raise InvalidData("expected a JSON object with uid and password, or uid and token")
    uid, password, token = body.get("uid"), body.get("password"), body.get("token")
    if uid is None and token is not None:
        raise InvalidData("login with an OIDC token alone is not supported; give uid")
    if not isinstance(uid, str) or not uid:
        raise InvalidData("uid: expected a non-empty string")
    if (password is None) == (token is None):
        raise InvalidData("give either password (a user) or token (a service account)")
    if password is not None and not isinstance(password, str):
        raise InvalidData("password: expected a string")
    if token is not None and not isinstance(token, str):
        raise InvalidData("token: expected a string")
    return uid, password, token


def authenticate(
    body: object,
    lookup: Callable[[str], Account | None],
    now: float,
    leeway: float,
    dummy_hash: str,
) -> Account:
    """The account the credentials prove; InvalidData for a malformed body, InvalidCredentials
    for anything else that fails."""
    uid, password, token = _credentials(body)
    account = lookup(uid)
    if password is not None:
        stored = account.password_hash if account is not None else None
        ok = passwords.verify_password(stored or dummy_hash, password)
        if account is None or stored is None or not ok:
            raise InvalidCredentials()
        return account
    assert token is not None
    if account is None or account.public_key is None:
        raise InvalidCredentials()
    try:
        public = keys.public_key(account.public_key)
        tokens.validate_service_login(token, uid, public, now, leeway)
    except (InvalidToken, keys.KeyProblem) as err:
        raise InvalidCredentials(f"Invalid credentials: {err}") from None
    return account


def info(account: Account) -> str:
    """The info cookie's value: base64 of the JSON the UI reads."""
    body: Mapping[str, Any] = {
        "uid": account.uid,
        "description": account.description,
        "is_remote": False,
    }
    return base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def login_cookies(token: str, account: Account, lifetime: float, secure: bool) -> list[Cookie]:
    max_age = int(min(COOKIE_MAX_AGE, lifetime))
    return [
        Cookie(AUTH_COOKIE, token, max_age, http_only=True, secure=secure),
        Cookie(INFO_COOKIE, info(account), max_age, http_only=False, secure=secure),
    ]


def logout_cookies(secure: bool) -> list[Cookie]:
    return [
        Cookie(AUTH_COOKIE, "", 0, http_only=True, secure=secure),
        Cookie(INFO_COOKIE, "", 0, http_only=False, secure=secure),
    ]
