"""Users and service accounts: the rules for their fields, what IAM stores of them, and their
wire shapes in DC/OS's `/acs/api/v1/users`. Pure: hashing a password needs a salt, which
comes in as an argument.

An account is a user (it has a password hash) or a service account (it has an RSA public key);
never both. Rules:
- uid: 1 to 96 characters out of letters, digits, `@`, `.`, `_` and `-`, not starting with `.`
  or `-` (the set DC/OS's IAM accepts for uids, minus what could not be a znode name or looks
  like a command-line option);
- description: a string of at most 512 characters, no control characters;
- password: passwords.password_problem; public key: keys.public_key (RSA, 2048 bits or more);
- the superuser flag is set only by IAM's config (the seeded superuser), never over the API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from daemons.iam import keys, passwords
from daemons.iam.errors import InvalidData

UID_RE = re.compile(r"[A-Za-z0-9@_][A-Za-z0-9@._-]{0,95}")
MAX_DESCRIPTION = 512
USERS_PATH = "/acs/api/v1/users"


@dataclass(frozen=True)
class Account:
    uid: str
    description: str = ""
    password_hash: str | None = None  # users
    public_key: str | None = None  # service accounts (PEM)
    is_superuser: bool = False

    @property
    def is_service(self) -> bool:
        return self.public_key is not None


def uid_problem(uid: str) -> str | None:
    if not UID_RE.fullmatch(uid):
        return "uid: 1 to 96 letters, digits, '@', '.', '_' or '-', not starting with '.' or '-'"
    return None


def _description(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidData("description: expected a string")
    if len(value) > MAX_DESCRIPTION:
        raise InvalidData(f"description: at most {MAX_DESCRIPTION} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidData("description: no control characters")
    return value


def _object(body: object) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise InvalidData("expected a JSON object")
    return body


def check_uid(uid: str) -> str:
    if (why := uid_problem(uid)) is not None:
        raise InvalidData(why)
    return uid


def _password_hash(password: object, salt: bytes, params: passwords.KdfParams) -> str:
    if (why := passwords.password_problem(password)) is not None:
        raise InvalidData(why)
    assert isinstance(password, str)
    return passwords.hash_password(password, salt, params)


def _public_key(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidData("public_key: expected a PEM string")
    try:
        keys.public_key(value)
    except keys.KeyProblem as err:
        raise InvalidData(str(err)) from None
    return value


ACCOUNT_FIELDS = frozenset(
    {"password", "public_key", "description", "provider_type", "provider_id"}
)


def new_account(
    uid: str, body: object, salt: bytes, params: passwords.KdfParams = passwords.RFC_9106_LOW_MEMORY
) -> Account:
    """The account `PUT /users/<uid>` asks for: a password makes a user, a public key a
    service account. Remote (OIDC) users are not supported yet: 400."""
    check_uid(uid)
    fields = _object(body)
    unknown = sorted(set(fields) - ACCOUNT_FIELDS)
    if unknown:
        raise InvalidData(f"unknown field(s): {', '.join(unknown)}")
    if fields.get("provider_type", "internal") != "internal" or fields.get("provider_id", ""):
        raise InvalidData("provider_type: only internal accounts are supported")
    description = _description(fields.get("description", ""))
    if ("password" in fields) == ("public_key" in fields):
        raise InvalidData("give either a password (a user) or a public_key (a service account)")
    if "public_key" in fields:
        return Account(uid, description, public_key=_public_key(fields["public_key"]))
    return Account(uid, description, password_hash=_password_hash(fields["password"], salt, params))


PATCH_FIELDS = frozenset({"password", "description"})


def patched(
    account: Account,
    body: object,
    salt: bytes,
    params: passwords.KdfParams = passwords.RFC_9106_LOW_MEMORY,
) -> Account:
    """`PATCH /users/<uid>`: a user's new description and/or password."""
    fields = _object(body)
    unknown = sorted(set(fields) - PATCH_FIELDS)
    if unknown:
        raise InvalidData(f"unknown field(s): {', '.join(unknown)}")
    if not fields:
        raise InvalidData("nothing to change: give description and/or password")
    changed = account
    if "description" in fields:
        changed = replace(changed, description=_description(fields["description"]))
    if "password" in fields:
        changed = replace(changed, password_hash=_password_hash(fields["password"], salt, params))
    return changed


# --- what ZooKeeper holds -----------------------------------------------------------------------


def to_record(account: Account) -> bytes:
    record: dict[str, Any] = {
        "uid": account.uid,
        "description": account.description,
        "is_superuser": account.is_superuser,
    }
    if account.password_hash is not None:
        record["password_hash"] = account.password_hash
    if account.public_key is not None:
        record["public_key"] = account.public_key
    return json.dumps(record, separators=(",", ":")).encode()


def from_record(data: bytes) -> Account:
    record = json.loads(data)
    return Account(
        uid=record["uid"],
        description=record.get("description", ""),
        password_hash=record.get("password_hash"),
        public_key=record.get("public_key"),
        is_superuser=bool(record.get("is_superuser", False)),
    )


# --- wire shapes --------------------------------------------------------------------------------


def user_json(account: Account) -> dict[str, Any]:
    """One entry of `GET /acs/api/v1/users` (and `GET /users/<uid>`), DC/OS's shape."""
    body: dict[str, Any] = {
        "uid": account.uid,
        "url": f"{USERS_PATH}/{account.uid}",
        "description": account.description,
        "is_remote": False,
        "is_service": account.is_service,
        "provider_type": "internal",
        "provider_id": "",
    }
    if account.public_key is not None:
        body["public_key"] = account.public_key
    return body


def users_json(accounts: list[Account], service: bool) -> dict[str, Any]:
    """`GET /acs/api/v1/users` lists users; `?type=service` lists service accounts."""
    chosen = sorted((a for a in accounts if a.is_service == service), key=lambda a: a.uid)
    return {"array": [user_json(a) for a in chosen]}
