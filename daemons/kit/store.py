"""The fenced ZooKeeper store every leader-bound daemon writes through (the master's registry,
Marathon, Metronome). Each daemon keeps only its own layout of znodes on top of it.

Fencing: a new leader takes `<path>/epoch` (`take_epoch` sets it and keeps the znode version it
got), and every write is one ZooKeeper transaction `check(epoch, version)` followed by the
writes. Once a newer leader has taken the epoch, every write of an older one (paused, cut off,
not yet told it lost) fails as a whole with `Fenced`, and `on_fenced` runs first: the daemon
steps down instead of going on with state it no longer owns.

Writes are values (`Create`, `SetData`, `Delete`, `Check`); `commit` returns the version each
written node has now (0 for a created one, None for a delete or check). A write ZooKeeper
refuses (the node exists, is missing, has another version, has children) raises `Refused`
naming the write, and nothing of the transaction is written. ZooKeeper away, a lost session or
a write not answered within `write_timeout` (a read within `read_timeout`) raise
`StoreUnavailable`. Nothing of kazoo leaves
this module.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kazoo.exceptions import (
    BadVersionError,
    KazooException,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
)
from kazoo.handlers.threading import KazooTimeoutError

from daemons.kit.errors import Fenced, StoreUnavailable

log = logging.getLogger(__name__)

# A write not answered in this long counts as failed: its outcome is unknown, so the caller
# must not assume either way (the master steps down, the REST APIs answer 503).
WRITE_TIMEOUT = 10.0
READ_TIMEOUT = 60.0

# Why ZooKeeper refused one write of a transaction.
NODE_EXISTS = "node exists"
NO_NODE = "no node"
BAD_VERSION = "bad version"
NOT_EMPTY = "not empty"
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (NodeExistsError, NODE_EXISTS),
    (NoNodeError, NO_NODE),
    (BadVersionError, BAD_VERSION),
    (NotEmptyError, NOT_EMPTY),
)


@dataclass(frozen=True)
class Create:
    path: str
    data: bytes


@dataclass(frozen=True)
class SetData:
    """Replace the data; with `version` only if the node still has that version."""

    path: str
    data: bytes
    version: int = -1


@dataclass(frozen=True)
class Delete:
    path: str
    version: int = -1


@dataclass(frozen=True)
class Check:
    """Write nothing unless the node still has `version`."""

    path: str
    version: int


Write = Create | SetData | Delete | Check


class Refused(StoreUnavailable):
    """ZooKeeper refused `write` (`reason`: NODE_EXISTS, NO_NODE, BAD_VERSION, NOT_EMPTY or
    another error's name); nothing of its transaction was written."""

    def __init__(self, write: Write, reason: str) -> None:
        super().__init__(f"ZooKeeper refused {type(write).__name__} {write.path}: {reason}")
        self.write = write
        self.reason = reason


def _reason(error: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return error.__class__.__name__


class FencedZkStore:
    def __init__(
        self,
        client: Any,
        path: str,
        *,
        on_fenced: Callable[[str], None] | None = None,
        write_timeout: float = WRITE_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.client = client
        self.path = path.rstrip("/") or "/"
        self.epoch_path = self.node("epoch")
        self.epoch_version: int | None = None
        self.on_fenced = on_fenced
        self.write_timeout = write_timeout
        self.read_timeout = read_timeout

    def node(self, *parts: str) -> str:
        return "/".join((self.path if self.path != "/" else "", *parts))

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except (KazooException, KazooTimeoutError) as err:
            raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__} ({what})") from None

    # --- leadership -----------------------------------------------------------------------------

    def take_epoch(self, stamp: bytes = b"") -> int:
        """Become the one writer: every earlier holder's writes fail from now on."""
        with self._translated("taking the epoch"):
            self.client.ensure_path(self.path)
            with contextlib.suppress(NodeExistsError):
                self.client.create(self.epoch_path, stamp)
            version = int(self.client.set(self.epoch_path, stamp).version)
        self.epoch_version = version
        log.info("epoch taken path=%s version=%d", self.epoch_path, version)
        return version

    def release(self) -> None:
        """Write nothing more (a stepped-down leader)."""
        self.epoch_version = None

    # --- reading --------------------------------------------------------------------------------

    def ensure(self, *paths: str) -> None:
        """Create missing folders (the layout; idempotent, so safe for any instance)."""
        with self._translated("layout"):
            for path in paths:
                self.client.ensure_path(path)

    def children(self, path: str) -> list[str]:
        with self._translated(f"children of {path}"):
            try:
                found: list[str] = self.client.get_children_async(path).get(
                    timeout=self.read_timeout
                )
            except NoNodeError:
                return []
        return found

    def read(self, path: str) -> tuple[bytes, int] | None:
        """(data, version), or None when there is no such node."""
        return self.read_all([path]).get(path)

    def read_all(self, paths: Iterable[str]) -> dict[str, tuple[bytes, int]]:
        """Many nodes at once, all requests in flight together (one round trip's latency);
        nodes that vanished meanwhile are left out."""
        out: dict[str, tuple[bytes, int]] = {}
        with self._translated("reading"):
            pending = [(path, self.client.get_async(path)) for path in paths]
            for path, result in pending:
                try:
                    data, stat = result.get(timeout=self.read_timeout)
                except NoNodeError:
                    continue
                out[path] = (data or b"", int(stat.version))
        return out

    # --- writing --------------------------------------------------------------------------------

    def commit(self, writes: Sequence[Write]) -> list[int | None]:
        """Write all of `writes` in one fenced transaction, or nothing."""
        if not writes:
            return []
        if self.epoch_version is None:
            raise StoreUnavailable("the state was not loaded (no epoch taken): not the leader")
        transaction = self.client.transaction()
        transaction.check(self.epoch_path, self.epoch_version)
        for write in writes:
            if isinstance(write, Create):
                transaction.create(write.path, write.data)
            elif isinstance(write, SetData):
                transaction.set_data(write.path, write.data, write.version)
            elif isinstance(write, Delete):
                transaction.delete(write.path, write.version)
            else:
                transaction.check(write.path, write.version)
        with self._translated("write"):
            results = transaction.commit_async().get(timeout=self.write_timeout)
        failed = next(
            (
                (i, r)
                for i, r in enumerate(results)
                if isinstance(r, Exception) and not isinstance(r, RolledBackError)
            ),
            None,
        )
        if failed is None:
            done = zip(writes, results[1:], strict=True)
            return [_version(write, result) for write, result in done]
        index, error = failed
        if index == 0:
            message = f"fenced: a newer leader has taken {self.epoch_path} since this one"
            log.warning("%s", message)
            if self.on_fenced is not None:
                self.on_fenced(message)
            raise Fenced(message)
        raise Refused(writes[index - 1], _reason(error))


def _version(write: Write, result: Any) -> int | None:
    if isinstance(write, Create):
        return 0
    if isinstance(write, SetData):
        return int(result.version)
    return None
