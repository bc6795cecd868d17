"""Argon2id hashing: round trip, refusal, parameters carried in the hash, the config check."""

from __future__ import annotations

import argon2
import pytest

from daemons.iam import passwords
from tests.unit.iam.factories import CHEAP, SALT


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    phc = passwords.hash_password("correct horse", SALT, CHEAP)
    assert phc.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert passwords.verify_password(phc, "correct horse")
    assert not passwords.verify_password(phc, "correct hors")
    assert not passwords.verify_password(phc, "")


def test_the_salt_changes_the_hash() -> None:
    one = passwords.hash_password("secret", SALT, CHEAP)
    other = passwords.hash_password("secret", bytes(16), CHEAP)
    assert one != other
    assert passwords.verify_password(other, "secret")


def test_the_default_parameters_are_rfc_9106s_low_memory_option() -> None:
    params = passwords.RFC_9106_LOW_MEMORY
    profile = argon2.profiles.RFC_9106_LOW_MEMORY
    assert (params.time_cost, params.memory_kib, params.parallelism, params.hash_len) == (
        profile.time_cost,
        profile.memory_cost,
        profile.parallelism,
        profile.hash_len,
    )
    assert profile.salt_len == passwords.SALT_BYTES


def test_a_malformed_hash_verifies_nothing() -> None:
    assert not passwords.verify_password("not a hash", "secret")
    assert not passwords.verify_password("", "secret")


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (passwords.hash_password("secret", SALT, CHEAP), True),
        ("$argon2i$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", False),
        ("$2b$12$abcdefghijklmnopqrstuu", False),  # bcrypt
        ("secret", False),
        ("", False),
    ],
)
def test_is_hash_accepts_argon2id_only(text: str, ok: bool) -> None:
    assert passwords.is_hash(text) is ok


def test_a_salt_of_the_wrong_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        passwords.hash_password("secret", b"short", CHEAP)


@pytest.mark.parametrize(
    ("password", "problem"),
    [("12345", None), ("1234", "5 to 1024"), ("x" * 1025, "5 to 1024"), (12345, "string")],
)
def test_password_rules(password: object, problem: str | None) -> None:
    found = passwords.password_problem(password)
    assert (found is None) if problem is None else (found is not None and problem in found)
