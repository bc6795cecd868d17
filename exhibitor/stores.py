"""Where the shared config lives: the TOML (static), a file on a shared filesystem, or a znode.

Each store reads the document with its version and writes with compare-and-set: `write(shared,
version)` is True when it replaced exactly that version (None: created it), False when another
Exhibitor wrote first, so two writers never overwrite each other. The file store takes an
exclusive `flock` on `<name>.lock` (at most 10 s, like Exhibitor's config lock) around the version
check and an atomic rename; the ZooKeeper store uses the znode's version (`set(version=…)`).
Library and OS errors become the kit's `StoreUnavailable` here, at the boundary.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from daemons.kit.errors import Conflict, StoreUnavailable
from exhibitor import shared as document
from exhibitor.config import ExhibitorConfig
from exhibitor.properties import Properties
from exhibitor.rolling import Shared

log = logging.getLogger(__name__)
LOCK_TIMEOUT = 10.0


class StoreReadOnly(Conflict):
    """A static config cannot change from the API."""


@dataclass(frozen=True)
class Versioned:
    shared: Shared
    version: int


class ConfigStore(Protocol):
    def read(self) -> Versioned | None: ...

    def write(self, shared: Shared, version: int | None) -> bool: ...

    def close(self) -> None: ...


def read_or_seed(store: ConfigStore, seed: Properties) -> Versioned:
    """The stored document; an empty store is first seeded with `seed` (one writer wins)."""
    for _ in range(3):
        found = store.read()
        if found is not None:
            return found
        if store.write(Shared(seed), None):
            log.info("shared config seeded servers=%s", seed.servers_spec)
    raise StoreUnavailable("the shared config stays empty after seeding it")


class StaticStore:
    """The TOML's properties, version 0, forever."""

    def __init__(self, props: Properties) -> None:
        self._shared = Versioned(Shared(props), 0)

    def read(self) -> Versioned | None:
        return self._shared

    def write(self, shared: Shared, version: int | None) -> bool:
        raise StoreReadOnly(
            "config_type is static: the ensemble is fixed by /etc/dcos/exhibitor.toml; "
            "use config_type file or zookeeper to change it through Exhibitor"
        )

    def close(self) -> None:
        pass


class FileStore:
    """`{"version": n, "shared": {…}}` in one file, replaced atomically under a lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def read(self) -> Versioned | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StoreUnavailable(f"shared config {self.path}: {err.strerror}") from err
        try:
            wrapper = json.loads(raw)
            version = wrapper["version"]
            if not isinstance(version, int):
                raise ValueError("version is not a number")
            return Versioned(document.loads(json.dumps(wrapper["shared"]).encode()), version)
        except (ValueError, KeyError, TypeError) as err:
            raise StoreUnavailable(f"shared config {self.path} is unreadable: {err}") from err

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreUnavailable(f"lock {self.lock_path}: {err.strerror}") from err
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreUnavailable(
                            f"lock {self.lock_path} held for over {LOCK_TIMEOUT:.0f} s"
                        ) from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)  # releases the flock

    def write(self, shared: Shared, version: int | None) -> bool:
        with self._locked():
            found = self.read()
            if (found.version if found is not None else None) != version:
                return False
            new_version = 0 if version is None else version + 1
            body = b'{"version": %d, "shared": %s}' % (new_version, document.dumps(shared))
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as out:
                    out.write(body)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            except OSError as err:
                raise StoreUnavailable(f"shared config {self.path}: {err.strerror}") from err
            return True

    def close(self) -> None:
        pass


class ZooKeeperStore:
    """The document in one znode of another ZooKeeper; its znode version is the version."""

    def __init__(self, connect: str, zpath: str, timeout: float = 10.0) -> None:
        self.connect = connect
        self.zpath = zpath
        self._timeout = timeout
        self._zk: KazooClient | None = None

    def _client(self) -> KazooClient:
        if self._zk is None or not self._zk.connected:
            if self._zk is not None:
                self.close()
            client = KazooClient(hosts=self.connect, timeout=self._timeout)
            try:
                client.start(timeout=self._timeout)
            except KazooTimeoutError as err:
                client.close()
                raise StoreUnavailable(f"config ZooKeeper {self.connect} does not answer") from err
            self._zk = client
        return self._zk

    def read(self) -> Versioned | None:
        try:
            data, stat = self._client().get(self.zpath)
        except NoNodeError:
            return None
        except (KazooException, KazooTimeoutError) as err:
            raise StoreUnavailable(f"config ZooKeeper {self.connect}: {err!r}") from err
        try:
            return Versioned(document.loads(data), stat.version)
        except ValueError as err:
            raise StoreUnavailable(f"znode {self.zpath} is unreadable: {err}") from err

    def write(self, shared: Shared, version: int | None) -> bool:
        data = document.dumps(shared)
        try:
            if version is None:
                self._client().create(self.zpath, data, makepath=True)
            else:
                self._client().set(self.zpath, data, version=version)
        except (BadVersionError, NodeExistsError, NoNodeError):
            return False
        except (KazooException, KazooTimeoutError) as err:
            # Connection loss leaves the outcome unknown: the caller reads again.
            raise StoreUnavailable(f"config ZooKeeper {self.connect}: {err!r}") from err
        return True

    def close(self) -> None:
        client, self._zk = self._zk, None
        if client is not None:
            with contextlib.suppress(KazooException, KazooTimeoutError):
                client.stop()
            client.close()


def open_store(config: ExhibitorConfig) -> ConfigStore:
    if config.config_type == "file":
        return FileStore(Path(config.fs_config_dir) / config.fs_config_name)
    if config.config_type == "zookeeper":
        return ZooKeeperStore(config.zk_config_connect, config.zk_config_zpath)
    return StaticStore(config.properties)
