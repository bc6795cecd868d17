"""The running IAM: the ZooKeeper store, the cluster key, and the operations the API calls,
each a core's decision applied to the store. The clock (`time.time`) and the salts
(`os.urandom`) are read here and nowhere below.

Started in the gunicorn worker (`daemons.kit.entry`): it connects to ZooKeeper, loads or
makes the cluster key (keypair), and seeds the superuser from the config when absent. Until
then every call answers 503; a key or a ZooKeeper it cannot use at start is fatal (systemd
restarts the daemon).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from daemons.iam import access, accounts, keys, login, passwords, tokens
from daemons.iam.accounts import Account
from daemons.iam.config import IamConfig
from daemons.iam.errors import (
    IamError,
    InvalidToken,
    NotImplementedForServiceAccounts,
    Unavailable,
    UnknownUser,
    UserExists,
)
from daemons.iam.keypair import load_signing_key
from daemons.iam.login import Cookie
from daemons.iam.store import IamStore
from daemons.kit import zk

log = logging.getLogger(__name__)


# Argon2 runs (logins, new passwords) at once, at most: each holds 64 MiB for ~0.1-0.8 s, and
# the threads left keep answering Admin Router's authenticate calls, which cost no KDF.
KDF_SLOTS = 2


def _salt() -> bytes:
    return os.urandom(passwords.SALT_BYTES)


class IamService:
    def __init__(
        self,
        config: IamConfig,
        on_fatal: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
        salt: Callable[[], bytes] = _salt,
        kdf: passwords.KdfParams = passwords.RFC_9106_LOW_MEMORY,
    ) -> None:
        self.config = config
        self._on_fatal = on_fatal
        self._clock = clock
        self._salt = salt
        self._kdf = kdf
        self._kdf_slots = threading.BoundedSemaphore(KDF_SLOTS)
        self._client: Any = None
        self._store: IamStore | None = None
        self._key: keys.SigningKey | None = None
        self._dummy_hash = ""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        hosts, path = zk.parse_zk_url(self.config.zk)
        try:
            self._client = zk.connect(hosts)
            store = IamStore(self._client, path)
            self.open(store)
        except (zk.StoreUnavailable, IamError, keys.KeyProblem, OSError) as err:
            self._on_fatal(f"cannot start IAM: {err}")

    def open(self, store: IamStore) -> None:
        """Take `store` as the state: its layout, the cluster key, the seeded superuser."""
        store.ensure_layout()
        key = load_signing_key(self.config.key_file, store)
        self._dummy_hash = passwords.hash_password("not a password", self._salt(), self._kdf)
        self._seed_superuser(store)
        self._store, self._key = store, key

    def stop(self) -> None:
        if self._client is not None:
            self._client.stop()
            self._client.close()

    @property
    def ready(self) -> bool:
        return self._store is not None and self._key is not None

    def _seed_superuser(self, store: IamStore) -> None:
        uid = self.config.superuser_uid
        if not uid:
            return
        found = store.read(uid)
        if found is None:
            superuser = Account(
                uid,
                "superuser",
                password_hash=self.config.superuser_password_hash,
                is_superuser=True,
            )
            try:
                store.create(superuser)
                log.info("superuser seeded uid=%s", uid)
            except UserExists:
                pass  # another master seeded it at the same moment
        elif not found[0].is_superuser:
            account, version = found
            store.update(replace(account, is_superuser=True), version)
            log.warning("existing account made superuser from the config uid=%s", uid)

    def _ready(self) -> tuple[IamStore, keys.SigningKey]:
        if self._store is None or self._key is None:
            raise Unavailable("IAM is starting")
        return self._store, self._key

    # --- tokens ---------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return keys.jwks(self._ready()[1])

    def login(self, body: object) -> tuple[str, list[Cookie]]:
        store, key = self._ready()
        now = self._clock()

        def lookup(uid: str) -> Account | None:
            found = store.read(uid)
            return found[0] if found is not None else None

        with self._kdf_slots:
            account = login.authenticate(body, lookup, now, self.config.leeway, self._dummy_hash)
        token = tokens.issue(key, account.uid, now, self.config.token_lifetime)
        log.info("login uid=%s service=%s", account.uid, account.is_service)
        cookies = login.login_cookies(
            token, account, self.config.token_lifetime, self.config.secure_cookies
        )
        return token, cookies

    def logout_cookies(self) -> list[Cookie]:
        return login.logout_cookies(self.config.secure_cookies)

    def authenticate(self, authorization: str | None, cookie: str | None) -> tuple[str, str]:
        """(uid, token) of a request's valid token; InvalidToken otherwise."""
        store, key = self._ready()
        token = tokens.token_from(authorization, cookie)
        if token is None:
            raise InvalidToken("no authentication token")
        claims = tokens.validate_auth_token(
            token, key, self._clock(), self.config.leeway, store.exists
        )
        return claims.uid, token

    def caller(self, authorization: str | None, cookie: str | None) -> Account:
        store, _ = self._ready()
        uid, _ = self.authenticate(authorization, cookie)
        found = store.read(uid)
        if found is None:
            raise InvalidToken(f"user `{uid}` does not exist")
        return found[0]

    # --- accounts (the superuser's) -------------------------------------------------------

    def list_accounts(self, caller: Account, service: bool) -> dict[str, Any]:
        access.require_superuser(caller)
        return accounts.users_json(self._ready()[0].all(), service)

    def get_account(self, caller: Account, uid: str) -> dict[str, Any]:
        access.require_superuser(caller)
        found = self._ready()[0].read(uid)
        if found is None:
            raise UnknownUser(uid)
        return accounts.user_json(found[0])

    def create_account(self, caller: Account, uid: str, body: object) -> None:
        access.require_superuser(caller)
        store, _ = self._ready()
        with self._kdf_slots:
            account = accounts.new_account(uid, body, self._salt(), self._kdf)
        store.create(account)
        log.info("account created uid=%s service=%s by=%s", uid, account.is_service, caller.uid)

    def change_account(self, caller: Account, uid: str, body: object) -> None:
        access.require_superuser(caller)
        store, _ = self._ready()
        found = store.read(uid)
        if found is None:
            raise UnknownUser(uid)
        account, version = found
        if account.is_service:
            raise NotImplementedForServiceAccounts(
                "A service account cannot be changed: delete it and create it again."
            )
        with self._kdf_slots:
            changed = accounts.patched(account, body, self._salt(), self._kdf)
        store.update(changed, version)
        log.info("account changed uid=%s by=%s", uid, caller.uid)

    def delete_account(self, caller: Account, uid: str) -> None:
        access.require_superuser(caller)
        store, _ = self._ready()
        found = store.read(uid)
        if found is None:
            raise UnknownUser(uid)
        access.check_deletable(found[0])
        store.delete(uid, found[1])
        log.info("account deleted uid=%s by=%s", uid, caller.uid)
