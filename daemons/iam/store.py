"""IAM's state in ZooKeeper (kazoo), under the config's znode path (`/dcos/iam` by default):

    <path>/users/<uid>     one account: accounts.to_record's JSON (users and service accounts)
    <path>/signing-key     the cluster's private key (PEM, PKCS#8) when no key file is given

IAM is not leader-bound: every master's IAM reads and writes, so there is no epoch fence.
Each write is one ZooKeeper operation that cannot half-happen: a create that fails when the
node exists (a new account; the signing key, made once), a set or delete guarded by the
version read (a change that lost a race with another master is a 409, never a lost update).
Every read and write waits `timeout` at most. kazoo's errors stay in this module: ZooKeeper
away is `Unavailable` (503).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from kazoo.exceptions import BadVersionError, KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from daemons.iam import accounts
from daemons.iam.accounts import Account
from daemons.iam.errors import Conflict, Unavailable, UnknownUser, UserExists

log = logging.getLogger(__name__)

TIMEOUT = 10.0


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except (KazooException, KazooTimeoutError) as err:
        raise Unavailable(f"ZooKeeper: {err.__class__.__name__} ({what})") from None


class IamStore:
    def __init__(self, client: Any, path: str, timeout: float = TIMEOUT) -> None:
        self.client = client
        self.path = path.rstrip("/")
        self.users_path = f"{self.path}/users"
        self.key_path = f"{self.path}/signing-key"
        self.timeout = timeout

    def _user(self, uid: str) -> str:
        return f"{self.users_path}/{accounts.check_uid(uid)}"

    def ensure_layout(self) -> None:
        with _translated("layout"):
            self.client.ensure_path(self.users_path)

    # --- accounts -------------------------------------------------------------------------

    def read(self, uid: str) -> tuple[Account, int] | None:
        """The account and its znode version, or None."""
        if accounts.uid_problem(uid) is not None:
            return None  # a name that cannot be stored cannot exist
        with _translated(f"reading {uid}"):
            try:
                data, stat = self.client.get_async(self._user(uid)).get(timeout=self.timeout)
            except NoNodeError:
                return None
        return accounts.from_record(data), int(stat.version)

    def exists(self, uid: str) -> bool:
        if accounts.uid_problem(uid) is not None:
            return False
        with _translated(f"checking {uid}"):
            stat = self.client.exists_async(self._user(uid)).get(timeout=self.timeout)
        return stat is not None

    def all(self) -> list[Account]:
        with _translated("listing accounts"):
            try:
                uids = self.client.get_children_async(self.users_path).get(timeout=self.timeout)
            except NoNodeError:
                return []
            pending = [self.client.get_async(f"{self.users_path}/{uid}") for uid in uids]
            found = []
            for result in pending:
                try:
                    data, _ = result.get(timeout=self.timeout)
                except NoNodeError:
                    continue  # deleted meanwhile
                found.append(accounts.from_record(data))
        return found

    def create(self, account: Account) -> None:
        with _translated(f"creating {account.uid}"):
            try:
                self.client.create_async(self._user(account.uid), accounts.to_record(account)).get(
                    timeout=self.timeout
                )
            except NodeExistsError:
                raise UserExists(account.uid) from None

    def update(self, account: Account, version: int) -> None:
        with _translated(f"updating {account.uid}"):
            try:
                self.client.set_async(
                    self._user(account.uid), accounts.to_record(account), version
                ).get(timeout=self.timeout)
            except NoNodeError:
                raise UnknownUser(account.uid) from None
            except BadVersionError:
                raise Conflict(f"`{account.uid}` was changed meanwhile; try again") from None

    def delete(self, uid: str, version: int) -> None:
        with _translated(f"deleting {uid}"):
            try:
                self.client.delete_async(self._user(uid), version).get(timeout=self.timeout)
            except NoNodeError:
                raise UnknownUser(uid) from None
            except BadVersionError:
                raise Conflict(f"`{uid}` was changed meanwhile; try again") from None

    # --- the signing key ------------------------------------------------------------------

    def create_or_read_key(self, pem: bytes) -> bytes:
        """Store `pem` as the cluster key unless one is there already; the key stored either
        way. Two masters starting at once both end with the first one's key."""
        with _translated("the signing key"):
            self.client.ensure_path(self.path)
            try:
                self.client.create_async(self.key_path, pem).get(timeout=self.timeout)
                log.info("cluster signing key stored path=%s", self.key_path)
            except NodeExistsError:
                pass
            data, _ = self.client.get_async(self.key_path).get(timeout=self.timeout)
        stored: bytes = data
        return stored

    def read_key(self) -> bytes | None:
        with _translated("the signing key"):
            try:
                data, _ = self.client.get_async(self.key_path).get(timeout=self.timeout)
            except NoNodeError:
                return None
        found: bytes = data
        return found
