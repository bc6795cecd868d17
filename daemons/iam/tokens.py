"""Issuing and validating RS256 JWTs (PyJWT over cryptography). Pure: the clock comes in as
`now` (seconds since the epoch), and whether a user still exists as `user_exists`.

Auth tokens: `{"uid", "iat", "exp"}`, signed with the cluster key, its `kid` in the header.
Validation (`validate_auth_token`), in this order:
- the header's `alg` must be RS256 and nothing else: `none`, HS256 (whose "secret" could be the
  public key anyone can fetch), ES256 and the rest are refused before any key is chosen, and
  PyJWT is given only RS256 and an RSA public key object, which it will not use as an HMAC
  secret;
- the `kid` must name the cluster key;
- the signature must verify;
- `uid` (a string) and `exp` (a number) are required;
- `exp` is compared with `now` by us, not by PyJWT (which reads the wall clock itself): a token
  is expired once `now >= exp + leeway`, PyJWT's own rule; `nbf`, when present, must not be
  later than `now + leeway`. `iat` is informative only (a number when present): a master whose
  clock runs ahead stamps it in others' future, and refusing those tokens would turn that
  master's skew into failed logins everywhere. The leeway is IAM's config (docs/iam.md: 30 s
  at most);
- the uid must still be an account: deleting a user ends its tokens at once.

Service login tokens (`{"uid", "exp"}` signed by a service account's own private key, made by
the `dcos` CLI for 5 minutes) are checked the same way against that account's public key, their
`uid` must be the account's, and they may not reach further than `MAX_SERVICE_LOGIN_LIFETIME`
ahead: DC/OS's IAM refuses more than 10 minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from daemons.iam.errors import InvalidToken
from daemons.iam.keys import SigningKey

ALGORITHM = "RS256"
MAX_SERVICE_LOGIN_LIFETIME = 600.0
# Refuse what cannot be a token before parsing it (an auth_request may carry anything).
MAX_TOKEN_CHARS = 16 * 1024


@dataclass(frozen=True)
class Claims:
    uid: str
    exp: float


def issue(key: SigningKey, uid: str, now: float, lifetime: float) -> str:
    """A cluster auth token for `uid`, valid `lifetime` seconds from `now`."""
    claims = {"uid": uid, "iat": int(now), "exp": int(now + lifetime)}
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


def _header(token: str) -> Mapping[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("not a token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("malformed token") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"token algorithm must be {ALGORITHM}")
    return header


def _verified_claims(
    token: str, public: rsa.RSAPublicKey, now: float, leeway: float
) -> tuple[Claims, dict[str, Any]]:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            public,
            algorithms=[ALGORITHM],
            options={
                "require": ["uid", "exp"],
                "verify_exp": False,  # checked below against `now`
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.MissingRequiredClaimError as err:
        raise InvalidToken(f"token has no `{err.claim}` claim") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("token signature does not verify") from None
    except jwt.PyJWTError:
        raise InvalidToken("invalid token") from None
    uid, exp = payload["uid"], payload["exp"]
    if not isinstance(uid, str) or not uid:
        raise InvalidToken("token `uid` must be a string")
    if not _is_time(exp):
        raise InvalidToken("token `exp` must be a number")
    if now >= exp + leeway:
        raise InvalidToken("token has expired")
    for claim in ("nbf", "iat"):
        if claim in payload and not _is_time(payload[claim]):
            raise InvalidToken(f"token `{claim}` must be a number")
    if "nbf" in payload and payload["nbf"] > now + leeway:
        raise InvalidToken("token is not valid yet (`nbf`)")
    return Claims(uid, float(exp)), payload


def _is_time(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_auth_token(
    token: str,
    key: SigningKey,
    now: float,
    leeway: float,
    user_exists: Callable[[str], bool],
) -> Claims:
    """The claims of a cluster auth token valid at `now`; InvalidToken otherwise."""
    header = _header(token)
    if header.get("kid") != key.kid:
        raise InvalidToken("token was not signed by this cluster's key")
    claims, _ = _verified_claims(token, key.public, now, leeway)
    if not user_exists(claims.uid):
        raise InvalidToken(f"user `{claims.uid}` does not exist")
    return claims


def validate_service_login(
    token: str, uid: str, public: rsa.RSAPublicKey, now: float, leeway: float
) -> Claims:
    """The claims of a service account's login token, signed by the account's private key."""
    _header(token)
    claims, _ = _verified_claims(token, public, now, leeway)
    if claims.uid != uid:
        raise InvalidToken("service login token is for another uid")
    if claims.exp > now + MAX_SERVICE_LOGIN_LIFETIME + leeway:
        raise InvalidToken(
            f"service login token lives too long (at most {MAX_SERVICE_LOGIN_LIFETIME:.0f} s)"
        )
    return claims


def token_from(authorization: str | None, cookie: str | None) -> str | None:
    """The token a request carries, Admin Router's order: the `Authorization` header,
    `token=<jwt>` then `Bearer <jwt>`; without that header, the `dcos-acs-auth-cookie`."""
    if authorization is not None:
        value = authorization.strip()
        for prefix in ("token=", "Bearer "):
            if value[: len(prefix)].lower() == prefix.lower():
                return value[len(prefix) :].strip() or None
        return None
    return cookie or None
