"""Login (users and service accounts), the cookies, JWKS, and who may manage accounts."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from daemons.iam import access, keys, login, passwords
from daemons.iam.accounts import Account
from daemons.iam.errors import Forbidden, InvalidCredentials, InvalidData
from tests.unit.iam.factories import CHEAP, SALT, public_pem

NOW = 1_800_000_000.0
DUMMY = passwords.hash_password("dummy", SALT, CHEAP)


@pytest.fixture(scope="module")
def directory(service_private: rsa.RSAPrivateKey) -> dict[str, Account]:
    return {
        "alice": Account(
            "alice", "Alice", password_hash=passwords.hash_password("secret", SALT, CHEAP)
        ),
        "svc": Account("svc", public_key=public_pem(service_private)),
    }


def authenticate(body: Any, directory: dict[str, Account]) -> Account:
    return login.authenticate(body, directory.get, NOW, 30.0, DUMMY)


def test_a_user_logs_in_with_its_password(directory: dict[str, Account]) -> None:
    assert authenticate({"uid": "alice", "password": "secret"}, directory).uid == "alice"


def test_a_service_account_logs_in_with_a_token_signed_by_its_key(
    directory: dict[str, Account], service_private: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode({"uid": "svc", "exp": NOW + 300}, service_private, algorithm="RS256")
    assert authenticate({"uid": "svc", "token": token}, directory).uid == "svc"


def bad_credentials(service_private: rsa.RSAPrivateKey, other: keys.SigningKey) -> list[Any]:
    good_svc = jwt.encode({"uid": "svc", "exp": NOW + 300}, service_private, algorithm="RS256")
    return [
        {"uid": "alice", "password": "wrong"},
        {"uid": "nobody", "password": "secret"},
        {"uid": "svc", "password": "secret"},  # a service account has no password
        {"uid": "alice", "token": good_svc},  # a user has no key
        {
            "uid": "svc",
            "token": jwt.encode({"uid": "svc", "exp": NOW + 300}, other.private, algorithm="RS256"),
        },
        {
            "uid": "svc",
            "token": jwt.encode(
                {"uid": "svc", "exp": NOW - 300}, service_private, algorithm="RS256"
            ),
        },
        {"uid": "svc", "token": jwt.encode({"uid": "svc"}, service_private, algorithm="RS256")},
        {"uid": "svc", "token": "garbage"},
    ]


def test_every_wrong_credential_is_the_same_401(
    directory: dict[str, Account], service_private: rsa.RSAPrivateKey, other_key: keys.SigningKey
) -> None:
    for body in bad_credentials(service_private, other_key):
        with pytest.raises(InvalidCredentials) as raised:
            authenticate(body, directory)
        assert raised.value.status == 401, body
        assert raised.value.headers["WWW-Authenticate"] == "acsjwt"
        assert raised.value.body()["code"] == "ERR_INVALID_CREDENTIALS"


def test_an_unknown_uid_still_costs_a_verification(
    directory: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    original = passwords.verify_password

    def spy(phc: str, password: str) -> bool:
        checked.append(phc)
        return original(phc, password)

    monkeypatch.setattr(passwords, "verify_password", spy)
    with pytest.raises(InvalidCredentials):
        authenticate({"uid": "nobody", "password": "secret"}, directory)
    assert checked == [DUMMY]


@pytest.mark.parametrize(
    "body",
    [
        [],
        "alice",
        {},
        {"uid": "alice"},
        {"uid": "alice", "password": "secret", "token": "t"},
        {"uid": 5, "password": "secret"},
        {"uid": "alice", "password": 5},
        {"uid": "svc", "token": 5},
        {"token": "an OIDC id token"},
    ],
)
def test_malformed_bodies_are_400s(directory: dict[str, Account], body: Any) -> None:
    with pytest.raises(InvalidData) as raised:
        authenticate(body, directory)
    assert raised.value.status == 400


def test_the_login_cookies(directory: dict[str, Account]) -> None:
    auth, info = login.login_cookies("TOKEN", directory["alice"], 5 * 86400, secure=False)
    assert auth == login.Cookie(
        "dcos-acs-auth-cookie", "TOKEN", 388_800, http_only=True, secure=False, same_site="Strict"
    )
    assert info.name == "dcos-acs-info-cookie" and not info.http_only
    assert info.same_site == "Strict" and info.path == "/" and info.max_age == 388_800
    assert json.loads(base64.b64decode(info.value)) == {
        "uid": "alice",
        "description": "Alice",
        "is_remote": False,
    }
    short = login.login_cookies("T", directory["alice"], 3600, secure=True)
    assert [(c.max_age, c.secure) for c in short] == [(3600, True), (3600, True)]


def test_logout_expires_both_cookies() -> None:
    cookies = login.logout_cookies(secure=False)
    assert [(c.name, c.value, c.max_age) for c in cookies] == [
        ("dcos-acs-auth-cookie", "", 0),
        ("dcos-acs-info-cookie", "", 0),
    ]


def test_the_jwks_document(cluster_key: keys.SigningKey) -> None:
    document = keys.jwks(cluster_key)
    (entry,) = document["keys"]
    assert entry["kty"] == "RSA" and entry["alg"] == "RS256" and entry["use"] == "sig"
    assert entry["e"] == "AQAB" and entry["kid"] == cluster_key.kid
    # A client can verify our tokens from the document alone.
    public = jwt.PyJWK(entry).key
    token = jwt.encode({"uid": "a", "exp": NOW}, cluster_key.private, algorithm="RS256")
    assert (
        jwt.decode(token, public, algorithms=["RS256"], options={"verify_exp": False})["uid"] == "a"
    )


def test_the_kid_is_the_rfc_7638_thumbprint_and_stable(cluster_key: keys.SigningKey) -> None:
    again = keys.signing_key(keys.private_pem(cluster_key.private))
    assert again.kid == cluster_key.kid
    assert len(cluster_key.kid) == 43  # base64url of 32 bytes, unpadded


def test_unusable_cluster_keys_are_refused() -> None:
    with pytest.raises(keys.KeyProblem):
        keys.signing_key(b"not a key")
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(keys.KeyProblem, match="2048"):
        keys.signing_key(keys.private_pem(small))


def test_only_the_superuser_manages_accounts() -> None:
    access.require_superuser(Account("root", is_superuser=True))
    with pytest.raises(Forbidden) as raised:
        access.require_superuser(Account("alice"))
    assert raised.value.status == 403
    with pytest.raises(Forbidden):
        access.check_deletable(Account("root", is_superuser=True))
    access.check_deletable(Account("alice"))
