"""ZooKeeper adapter: connection, Mesos-style leader election and leader detection (kazoo).

Masters take part in a group the way Mesos does: each creates an ephemeral sequential node
`json.info_NNNNNNNNNN` under the masters' path holding its MasterInfo as JSON; the node with the
lowest sequence number is the leader. Mesos-DNS, Marathon and agents detect the leader from ZK
alone by reading that node. kazoo errors are translated into `StoreUnavailable` here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

from daemons.kit.errors import StoreUnavailable as StoreUnavailable  # the adapter's error

log = logging.getLogger(__name__)

INFO_PREFIX = "json.info_"


def parse_zk_url(url: str) -> tuple[str, str]:
    """`zk://h1:2181,h2:2181/mesos` -> ("h1:2181,h2:2181", "/mesos")."""
    if not url.startswith("zk://"):
        raise ValueError(f"ZooKeeper URL must start with zk://, got {url!r}")
    rest = url[len("zk://") :]
    hosts, _, path = rest.partition("/")
    if not hosts:
        raise ValueError(f"ZooKeeper URL has no hosts: {url!r}")
    return hosts, "/" + path.rstrip("/") if path else "/"


# Reconnecting backs off from 0.1 s doubling, but to 1 s at most (kazoo's default cap is an
# hour): after a quorum loss, clients are back within a second of the quorum.
RECONNECT_MAX_DELAY = 1.0


def connect(hosts: str, session_timeout: float = 10.0, connect_timeout: float = 15.0) -> Any:
    retry = KazooRetry(max_tries=-1, delay=0.1, backoff=2, max_delay=RECONNECT_MAX_DELAY)
    client = KazooClient(hosts=hosts, timeout=session_timeout, connection_retry=retry)
    try:
        client.start(timeout=connect_timeout)
    except KazooTimeoutError:
        client.close()
        raise StoreUnavailable(f"cannot connect to ZooKeeper at {hosts}") from None
    return client


def _contenders(client: Any, path: str) -> list[str]:
    try:
        children = client.get_children(path)
    except NoNodeError:
        return []
    return sorted(c for c in children if c.startswith(INFO_PREFIX))


def leading_master(client: Any, path: str) -> dict[str, Any] | None:
    """The MasterInfo JSON of the current leader, or None while there is none."""
    try:
        for child in _contenders(client, path):
            try:
                data, _ = client.get(f"{path}/{child}")
            except NoNodeError:
                continue  # it just went away; the next one is the leader
            info: dict[str, Any] = json.loads(data)
            return info
    except KazooException as err:
        raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
    return None


def registered_masters(client: Any, path: str) -> list[dict[str, Any]]:
    """The MasterInfo JSON of every master registered under `path`, the leader first (the
    order of their sequence numbers); empty while there is none."""
    masters: list[dict[str, Any]] = []
    try:
        for child in _contenders(client, path):
            try:
                data, _ = client.get(f"{path}/{child}")
            except NoNodeError:
                continue  # it just went away
            masters.append(json.loads(data))
    except KazooException as err:
        raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
    return masters


def watch_masters(
    client: Any, path: str, on_change: Callable[[list[dict[str, Any]]], None]
) -> None:
    """Call `on_change(registered_masters(...))` now and whenever the masters under `path`
    change (from kazoo's thread). The path may not exist yet: its creation is watched too, and
    the watch outlives a lost session (kazoo sets it again on the new one)."""
    children_watched = threading.Event()

    def changed(_: Any = None) -> None:
        try:
            on_change(registered_masters(client, path))
        except StoreUnavailable as err:
            log.warning("reading the masters failed path=%s error=%s", path, err.message)

    def children(_: list[str]) -> bool:
        changed()
        return True

    def node(data: bytes | None, stat: Any) -> bool:
        if stat is None:
            changed()  # gone (or not there yet): no masters
            children_watched.clear()
        elif not children_watched.is_set():
            children_watched.set()
            client.ChildrenWatch(path, children)
        return True

    client.DataWatch(path, node)


class MasterContender:
    """Contends for leadership; calls `on_change(is_leader, leader_info)` on every change.

    A lost session means we are not the leader any more (`on_session_lost` is called: the master
    exits, and systemd restarts it as a standby; `make local` does not: run it again).
    """

    def __init__(
        self,
        client: Any,
        path: str,
        info: dict[str, Any],
        on_change: Callable[[bool, dict[str, Any] | None], None],
        on_session_lost: Callable[[], None],
    ) -> None:
        self.client = client
        self.path = path
        self.info = info
        self.on_change = on_change
        self.on_session_lost = on_session_lost
        self.node: str | None = None
        self.is_leader = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self.client.add_listener(self._state_listener)
        self.client.ensure_path(self.path)
        created = self.client.create(
            f"{self.path}/{INFO_PREFIX}",
            json.dumps(self.info).encode(),
            ephemeral=True,
            sequence=True,
        )
        self.node = created.rsplit("/", 1)[1]
        log.info("contending for leadership node=%s", self.node)
        self.client.ChildrenWatch(self.path, self._children_changed)

    def _state_listener(self, state: str) -> None:
        if state == KazooState.LOST:
            log.error("ZooKeeper session lost; giving up leadership")
            self.is_leader = False
            self.on_session_lost()

    def _children_changed(self, children: list[str]) -> bool:
        contenders = sorted(c for c in children if c.startswith(INFO_PREFIX))
        with self._lock:
            leader_info: dict[str, Any] | None = None
            if contenders:
                try:
                    data, _ = self.client.get(f"{self.path}/{contenders[0]}")
                    leader_info = json.loads(data)
                except (NoNodeError, KazooException):
                    leader_info = None
            was = self.is_leader
            self.is_leader = bool(contenders) and contenders[0] == self.node
            if self.is_leader != was or not self.is_leader:
                self.on_change(self.is_leader, leader_info)
        return True

    def stop(self) -> None:
        if self.node is not None:
            with contextlib.suppress(KazooException):
                self.client.delete(f"{self.path}/{self.node}")


def contend(
    client: Any,
    path: str,
    info: dict[str, Any],
    on_change: Callable[[bool, dict[str, Any] | None], None],
    on_fatal: Callable[[str], None],
) -> MasterContender:
    """Join the election under `path`; a lost session or a candidacy that could not be made
    whole is fatal (a half-made one must not linger: the process starts afresh)."""
    contender = MasterContender(
        client, path, info, on_change, lambda: on_fatal("ZooKeeper session lost")
    )
    try:
        contender.start()
    except Exception as err:
        on_fatal(f"could not contend for leadership: {err.__class__.__name__}: {err}")
    return contender
