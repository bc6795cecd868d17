"""Users and service accounts: uid and field rules, PUT/PATCH bodies, records, wire shapes."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from daemons.iam import accounts, passwords
from daemons.iam.accounts import Account
from daemons.iam.errors import InvalidData
from tests.unit.iam.factories import CHEAP, SALT, new_private, public_pem


@pytest.mark.parametrize(
    ("uid", "ok"),
    [
        ("alice", True),
        ("alice.smith@example.com", True),
        ("svc_account-1", True),
        ("A" * 96, True),
        ("A" * 97, False),
        ("", False),
        (".hidden", False),
        ("..", False),
        ("-rf", False),
        ("a/b", False),
        ("a b", False),
        ("ü", False),
        ("a\n", False),
    ],
)
def test_uid_rule(uid: str, ok: bool) -> None:
    assert (accounts.uid_problem(uid) is None) is ok


def test_a_password_makes_a_user_and_a_public_key_a_service_account(
    service_private: rsa.RSAPrivateKey,
) -> None:
    user = accounts.new_account(
        "alice", {"password": "secret", "description": "Alice"}, SALT, CHEAP
    )
    assert user.description == "Alice" and user.public_key is None and not user.is_superuser
    assert user.password_hash is not None
    assert passwords.verify_password(user.password_hash, "secret")
    pem = public_pem(service_private)
    svc = accounts.new_account("svc", {"public_key": pem}, SALT, CHEAP)
    assert svc.is_service and svc.password_hash is None and svc.public_key == pem


BAD_PUTS: list[tuple[str, Any]] = [
    ("alice", []),
    ("alice", {}),
    ("alice", {"password": "secret", "public_key": "x"}),
    ("alice", {"password": "1234"}),
    ("alice", {"password": None}),
    ("alice", {"password": "secret", "description": 5}),
    ("alice", {"password": "secret", "description": "x" * 513}),
    ("alice", {"password": "secret", "description": "bell\x07"}),
    ("alice", {"password": "secret", "is_superuser": True}),
    ("alice", {"password": "secret", "provider_type": "oidc"}),
    ("svc", {"public_key": "not a key"}),
    ("svc", {"public_key": 42}),
    ("../x", {"password": "secret"}),
]


@pytest.mark.parametrize(("uid", "body"), BAD_PUTS)
def test_bad_put_bodies_are_400s(uid: str, body: Any) -> None:
    with pytest.raises(InvalidData) as raised:
        accounts.new_account(uid, body, SALT, CHEAP)
    assert raised.value.status == 400
    assert raised.value.body()["code"] == "ERR_INVALID_DATA"


def test_small_or_non_rsa_public_keys_are_refused() -> None:
    small = new_private(1024)
    with pytest.raises(InvalidData, match="2048"):
        accounts.new_account("svc", {"public_key": public_pem(small)}, SALT, CHEAP)
    ecdsa = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidData, match="RSA"):
        accounts.new_account("svc", {"public_key": public_pem(ecdsa)}, SALT, CHEAP)


def test_patch_changes_description_and_password_only() -> None:
    user = accounts.new_account("alice", {"password": "secret"}, SALT, CHEAP)
    changed = accounts.patched(user, {"description": "new", "password": "other"}, bytes(16), CHEAP)
    assert changed.description == "new"
    assert changed.password_hash is not None
    assert passwords.verify_password(changed.password_hash, "other")
    for body in ({}, {"uid": "bob"}, {"public_key": "x"}, {"password": "1"}, "text"):
        with pytest.raises(InvalidData):
            accounts.patched(user, body, SALT, CHEAP)


def test_records_round_trip(service_private: rsa.RSAPrivateKey) -> None:
    for account in (
        Account("root", "boss", password_hash="$argon2id$x", is_superuser=True),
        Account("svc", public_key=public_pem(service_private)),
    ):
        assert accounts.from_record(accounts.to_record(account)) == account


def test_the_users_list_has_dcos_shape_and_never_a_password_hash(
    service_private: rsa.RSAPrivateKey,
) -> None:
    pem = public_pem(service_private)
    everyone = [
        Account("bob", password_hash="$argon2id$secret"),
        Account("alice", "Alice", password_hash="$argon2id$secret"),
        Account("svc", public_key=pem),
    ]
    users = accounts.users_json(everyone, service=False)
    assert users == {
        "array": [
            {
                "uid": "alice",
                "url": "/acs/api/v1/users/alice",
                "description": "Alice",
                "is_remote": False,
                "is_service": False,
                "provider_type": "internal",
                "provider_id": "",
            },
            {
                "uid": "bob",
                "url": "/acs/api/v1/users/bob",
                "description": "",
                "is_remote": False,
                "is_service": False,
                "provider_type": "internal",
                "provider_id": "",
            },
        ]
    }
    services = accounts.users_json(everyone, service=True)["array"]
    assert [s["uid"] for s in services] == ["svc"]
    assert services[0]["public_key"] == pem and services[0]["is_service"] is True
    assert "secret" not in repr(users) + repr(services)
