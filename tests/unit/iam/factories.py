"""Builders for IAM's unit tests: cheap KDF parameters, a fixed salt, RSA keys."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from daemons.iam import accounts, passwords
from daemons.iam.accounts import Account
from daemons.iam.errors import Conflict, UnknownUser, UserExists

# Argon2id at its minimum cost: the tests check behaviour, not the cost (docs/iam.md has that).
CHEAP = passwords.KdfParams(time_cost=1, memory_kib=8, parallelism=1)
SALT = bytes(range(16))


def new_private(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_pem(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class MemoryStore:
    """IamStore's interface over a dict, for driving the service and its API without
    ZooKeeper (tests/integration/iam runs the real one)."""

    key_path = "/memory/signing-key"

    def __init__(self) -> None:
        self.records: dict[str, tuple[bytes, int]] = {}
        self.key: bytes | None = None

    def ensure_layout(self) -> None:
        pass

    def read(self, uid: str) -> tuple[Account, int] | None:
        found = self.records.get(uid)
        return (accounts.from_record(found[0]), found[1]) if found else None

    def exists(self, uid: str) -> bool:
        return uid in self.records

    def all(self) -> list[Account]:
        return [accounts.from_record(data) for data, _ in self.records.values()]

    def create(self, account: Account) -> None:
        if account.uid in self.records:
            raise UserExists(account.uid)
        self.records[account.uid] = (accounts.to_record(account), 0)

    def update(self, account: Account, version: int) -> None:
        found = self.records.get(account.uid)
        if found is None:
            raise UnknownUser(account.uid)
        if found[1] != version:
            raise Conflict("changed meanwhile")
        self.records[account.uid] = (accounts.to_record(account), version + 1)

    def delete(self, uid: str, version: int) -> None:
        if self.records.pop(uid, None) is None:
            raise UnknownUser(uid)

    def read_key(self) -> bytes | None:
        return self.key

    def create_or_read_key(self, pem: bytes) -> bytes:
        if self.key is None:
            self.key = pem
        return self.key
