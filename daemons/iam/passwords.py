"""Password hashing with Argon2id (argon2-cffi), the memory-hard KDF of RFC 9106. Pure: the
salt comes in as an argument.

Parameters: RFC 9106's second recommended option, "if much less memory is available"
(argon2-cffi's `RFC_9106_LOW_MEMORY` profile): Argon2id, 64 MiB, 3 passes, 4 lanes, 16-byte
salt, 32-byte tag; about 0.1 s per hash on one core of a test host. The PHC string
(`$argon2id$v=19$m=65536,t=3,p=4$<salt>$<tag>`) carries its parameters, so a hash made with other
ones (a cheaper profile in tests, a costlier one later) still verifies. Verification is the
library's (`argon2_verify`, a constant-time comparison of the tags).
"""

from __future__ import annotations

from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SALT_BYTES = 16
MIN_PASSWORD = 5  # DC/OS: "The password must be at least five characters long."
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class KdfParams:
    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4
    hash_len: int = 32


RFC_9106_LOW_MEMORY = KdfParams()


def _hasher(params: KdfParams) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=SALT_BYTES,
        type=argon2.Type.ID,
    )


def password_problem(password: object) -> str | None:
    """Why `password` cannot be a password, or None."""
    if not isinstance(password, str):
        return "password: expected a string"
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"password: must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long"
    return None


def hash_password(password: str, salt: bytes, params: KdfParams = RFC_9106_LOW_MEMORY) -> str:
    """The PHC string of `password` with `salt` (SALT_BYTES random bytes from the caller)."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes")
    return _hasher(params).hash(password, salt=salt)


def verify_password(phc: str, password: str) -> bool:
    """Whether `password` matches `phc`; False for a malformed hash too."""
    try:
        return _hasher(RFC_9106_LOW_MEMORY).verify(phc, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def is_hash(text: str) -> bool:
    """Whether `text` is an Argon2id PHC string this module can verify against."""
    try:
        return argon2.extract_parameters(text).type is argon2.Type.ID
    except (InvalidHashError, ValueError):
        return False
