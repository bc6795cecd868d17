"""RS256 tokens: what validation accepts and refuses, table-driven over forged and broken
tokens, with the clock given."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from daemons.iam import keys, tokens
from daemons.iam.errors import InvalidToken

NOW = 1_800_000_000.0
LEEWAY = 30.0
USERS = {"alice", "bob"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def signed(key: keys.SigningKey, claims: dict[str, Any], **header: Any) -> str:
    return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid, **header})


def validate(token: str, key: keys.SigningKey, now: float = NOW) -> tokens.Claims:
    return tokens.validate_auth_token(token, key, now, LEEWAY, USERS.__contains__)


def test_an_issued_token_validates_and_carries_uid_iat_exp_and_kid(
    cluster_key: keys.SigningKey,
) -> None:
    token = tokens.issue(cluster_key, "alice", NOW, 3600)
    assert jwt.get_unverified_header(token) == {
        "alg": "RS256",
        "kid": cluster_key.kid,
        "typ": "JWT",
    }
    assert validate(token, cluster_key) == tokens.Claims("alice", NOW + 3600)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload == {"uid": "alice", "iat": int(NOW), "exp": int(NOW + 3600)}


def hs256_with_public_key(key: keys.SigningKey) -> str:
    """The classic confusion: HMAC keyed with the public key's PEM, which anyone can fetch."""
    import hashlib
    import hmac

    pem = key.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64({"alg": "HS256", "typ": "JWT", "kid": key.kid})
    body = b64({"uid": "alice", "exp": NOW + 600})
    mac = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def alg_none(key: keys.SigningKey) -> str:
    return f"{b64({'alg': 'none', 'kid': key.kid})}.{b64({'uid': 'alice', 'exp': NOW + 600})}."


def es256(key: keys.SigningKey) -> str:
    other = ec.generate_private_key(ec.SECP256R1())
    claims = {"uid": "alice", "exp": NOW + 600}
    return jwt.encode(claims, other, algorithm="ES256", headers={"kid": key.kid})


def rs256_header_swapped_kid(key: keys.SigningKey, other: keys.SigningKey) -> str:
    """Signed by another key but claiming the cluster key's kid."""
    claims = {"uid": "alice", "exp": NOW + 600}
    return jwt.encode(claims, other.private, algorithm="RS256", headers={"kid": key.kid})


def tampered(key: keys.SigningKey) -> str:
    head, _, sig = signed(key, {"uid": "bob", "exp": NOW + 600}).split(".")
    return f"{head}.{b64({'uid': 'alice', 'exp': NOW + 600})}.{sig}"


Forge = Callable[[keys.SigningKey, keys.SigningKey], str]

REFUSED: list[tuple[str, Forge, str]] = [
    ("expired", lambda k, o: signed(k, {"uid": "alice", "exp": NOW - 100}), "expired"),
    ("past leeway", lambda k, o: signed(k, {"uid": "alice", "exp": NOW - LEEWAY}), "expired"),
    ("missing exp", lambda k, o: signed(k, {"uid": "alice"}), "exp"),
    ("missing uid", lambda k, o: signed(k, {"exp": NOW + 60}), "uid"),
    ("uid not a string", lambda k, o: signed(k, {"uid": 7, "exp": NOW + 60}), "uid"),
    ("exp not a number", lambda k, o: signed(k, {"uid": "alice", "exp": "soon"}), "exp"),
    ("deleted user", lambda k, o: signed(k, {"uid": "carol", "exp": NOW + 60}), "not exist"),
    (
        "iat not a number",
        lambda k, o: signed(k, {"uid": "alice", "exp": NOW + 900, "iat": "now"}),
        "iat",
    ),
    (
        "nbf in the future",
        lambda k, o: signed(k, {"uid": "alice", "exp": NOW + 900, "nbf": NOW + 60}),
        "not valid yet",
    ),
    ("HS256 keyed with the public key", lambda k, o: hs256_with_public_key(k), "algorithm"),
    ("alg none", lambda k, o: alg_none(k), "algorithm"),
    ("ES256", lambda k, o: es256(k), "algorithm"),
    (
        "another cluster's key",
        lambda k, o: signed(o, {"uid": "alice", "exp": NOW + 60}),
        "not signed by this cluster",
    ),
    ("another key claiming our kid", rs256_header_swapped_kid, "signature"),
    (
        "no kid",
        lambda k, o: jwt.encode({"uid": "alice", "exp": NOW + 60}, k.private, algorithm="RS256"),
        "not signed by this cluster",
    ),
    ("payload swapped", lambda k, o: tampered(k), "signature"),
    ("garbage", lambda k, o: "not.a.jwt", "malformed"),
    ("empty", lambda k, o: "", "not a token"),
    ("huge", lambda k, o: "a" * 20_000, "not a token"),
]


@pytest.mark.parametrize(("why", "forge", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_validation_refuses(
    why: str,
    forge: Forge,
    message: str,
    cluster_key: keys.SigningKey,
    other_key: keys.SigningKey,
) -> None:
    with pytest.raises(InvalidToken, match=message) as raised:
        validate(forge(cluster_key, other_key), cluster_key)
    assert raised.value.status == 401
    assert raised.value.headers == {"WWW-Authenticate": "acsjwt"}


@pytest.mark.parametrize(
    ("exp", "valid"),
    [
        (NOW + 1, True),
        (NOW, True),  # expired by the clock, within the leeway
        (NOW - LEEWAY + 1, True),  # 29 s past exp: still accepted
        (NOW - LEEWAY, False),  # 30 s past exp: refused (now >= exp + leeway)
        (NOW - LEEWAY - 1, False),
    ],
)
def test_the_leeway_edge(cluster_key: keys.SigningKey, exp: float, valid: bool) -> None:
    token = signed(cluster_key, {"uid": "alice", "exp": exp})
    if valid:
        assert validate(token, cluster_key).uid == "alice"
    else:
        with pytest.raises(InvalidToken, match="expired"):
            validate(token, cluster_key)


def test_iat_in_the_future_is_accepted_and_nbf_within_the_leeway(
    cluster_key: keys.SigningKey,
) -> None:
    """A master whose clock runs 5 minutes ahead (F20) stamps `iat` in the others' future: its
    tokens still work everywhere."""
    ahead = signed(cluster_key, {"uid": "alice", "exp": NOW + 900, "iat": NOW + 300})
    assert validate(ahead, cluster_key).uid == "alice"
    soon = signed(cluster_key, {"uid": "alice", "exp": NOW + 900, "nbf": NOW + LEEWAY})
    assert validate(soon, cluster_key).uid == "alice"


def test_a_token_expires_when_its_lifetime_and_the_leeway_have_passed(
    cluster_key: keys.SigningKey,
) -> None:
    token = tokens.issue(cluster_key, "bob", NOW, 60)
    assert validate(token, cluster_key, NOW + 60 + LEEWAY - 1).uid == "bob"
    with pytest.raises(InvalidToken):
        validate(token, cluster_key, NOW + 60 + LEEWAY)


# --- service login tokens --------------------------------------------------------------------


def service_token(private: Any, claims: dict[str, Any], alg: str = "RS256") -> str:
    return jwt.encode(claims, private, algorithm=alg)


def test_a_service_login_token_is_checked_against_the_accounts_public_key(
    service_private: Any, other_key: keys.SigningKey
) -> None:
    public = service_private.public_key()
    good = service_token(service_private, {"uid": "svc", "exp": NOW + 300})
    assert tokens.validate_service_login(good, "svc", public, NOW, LEEWAY).uid == "svc"
    refused = {
        "signed by another key": service_token(other_key.private, {"uid": "svc", "exp": NOW + 300}),
        "for another uid": service_token(service_private, {"uid": "other", "exp": NOW + 300}),
        "no exp": service_token(service_private, {"uid": "svc"}),
        "expired": service_token(service_private, {"uid": "svc", "exp": NOW - 60}),
        "lives an hour": service_token(service_private, {"uid": "svc", "exp": NOW + 3600}),
        "alg none": f"{b64({'alg': 'none'})}.{b64({'uid': 'svc', 'exp': NOW + 300})}.",
    }
    for why, token in refused.items():
        with pytest.raises(InvalidToken):
            tokens.validate_service_login(token, "svc", public, NOW, LEEWAY)
            pytest.fail(why)


# --- where a request carries its token -------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "cookie", "found"),
    [
        ("token=abc", None, "abc"),
        ("Bearer abc", None, "abc"),
        ("bearer abc", None, "abc"),
        ("token=abc", "cookie", "abc"),  # the header wins
        ("Basic dXNlcjpwYXNz", "cookie", None),  # a header of another kind: no cookie either
        ("token=", None, None),
        (None, "fromcookie", "fromcookie"),
        (None, "", None),
        (None, None, None),
    ],
)
def test_token_from_follows_admin_routers_order(
    authorization: str | None, cookie: str | None, found: str | None
) -> None:
    assert tokens.token_from(authorization, cookie) == found
