"""Marathon's state in ZooKeeper: apps and their versions, groups, deployments, instances and
launch delays, as JSON in znodes, written through the kit's fenced store.

Layout under the daemon's path (e.g. /marathon/state):
    epoch                      taken by every new leader on `load` (daemons/kit/store.py)
    apps/<key>                 the current AppDefinition (appdef.stored_json)
    versions/<key>/<ms>        every stored version of an app, the newest `max_versions` kept
    groups                     the explicitly created groups (JSON list of ids)
    deployments/<id>           running deployment plans (deployment.stored_json): resumed after
                               a failover
    instances/<task id>        the tasks Marathon launched (so a new leader knows their versions)
    delays/<key>               launch backoff (backoff.stored_json): survives a failover
`<key>` is the app id without its leading slash and with `/` turned into `_` (ids cannot hold
`_`, so the mapping is one to one).

A change that belongs together (an app and the deployment that rolls it out) is one fenced
ZooKeeper transaction: all of it or none, and none at all once a newer leader has loaded the
state (Marathon's incidents of an old leader undoing a new one's work); the fenced leader steps
down (`on_fenced`). Nodes are created or overwritten according to what this process knows
exists.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from daemons.kit import store as fenced
from daemons.kit.errors import Fenced, StoreUnavailable
from daemons.protocols import JSON

log = logging.getLogger(__name__)

KINDS = ("apps", "deployments", "instances", "delays")


def key_of(app_id: str) -> str:
    return app_id.strip("/").replace("/", "_")


def app_id_of(key: str) -> str:
    return "/" + key.replace("_", "/")


@dataclass
class Snapshot:
    """Everything stored, as raw JSON by kind and key."""

    apps: dict[str, JSON] = field(default_factory=dict)
    deployments: dict[str, JSON] = field(default_factory=dict)
    instances: dict[str, JSON] = field(default_factory=dict)
    delays: dict[str, JSON] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Put:
    kind: str  # apps | deployments | instances | delays
    key: str
    value: JSON


@dataclass(frozen=True)
class Delete:
    kind: str
    key: str


@dataclass(frozen=True)
class PutGroups:
    groups: tuple[str, ...]


@dataclass(frozen=True)
class PutVersion:
    """One more stored version of an app (in the same transaction as the app itself)."""

    app_id: str
    version_ms: int
    value: JSON


Write = Put | Delete | PutGroups | PutVersion


def encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


class MarathonStore:
    def __init__(
        self,
        client: Any,
        path: str,
        max_versions: int = 25,
        on_fenced: Callable[[str], None] | None = None,
    ) -> None:
        self.zk = fenced.FencedZkStore(client, path.rstrip("/") + "/state", on_fenced=on_fenced)
        self.path = self.zk.path
        self.max_versions = max_versions
        self._known: set[str] = set()  # nodes that exist (loaded or written by us)

    def _node(self, kind: str, key: str) -> str:
        return self.zk.node(kind, key)

    def load(self) -> Snapshot:
        """Take the epoch (fencing every earlier leader), then read everything."""
        self.zk.take_epoch()
        self.zk.ensure(*(self.zk.node(kind) for kind in (*KINDS, "versions")))
        snapshot = Snapshot()
        for kind in KINDS:
            nodes = [self._node(kind, key) for key in self.zk.children(self.zk.node(kind))]
            target: dict[str, JSON] = getattr(snapshot, kind)
            for node, (data, _) in self.zk.read_all(nodes).items():
                target[node.rsplit("/", 1)[1]] = json.loads(data)
                self._known.add(node)
        folders = self.zk.children(self.zk.node("versions"))
        self._known.update(self.zk.node("versions", key) for key in folders)
        groups = self.zk.read(self.zk.node("groups"))
        if groups is not None:
            snapshot.groups = list(json.loads(groups[0]))
            self._known.add(self.zk.node("groups"))
        log.info(
            "state loaded apps=%d deployments=%d instances=%d",
            len(snapshot.apps),
            len(snapshot.deployments),
            len(snapshot.instances),
        )
        return snapshot

    def commit(self, writes: Iterable[Write]) -> None:
        """Write all of `writes` in one fenced transaction, or raise and write none."""
        ops: list[fenced.Write] = []
        created: set[str] = set()
        deleted: set[str] = set()
        versioned: list[str] = []

        def exists(node: str) -> bool:
            return (node in self._known and node not in deleted) or node in created

        def put(node: str, data: bytes) -> None:
            if exists(node):
                ops.append(fenced.SetData(node, data))
            else:
                ops.append(fenced.Create(node, data))
                created.add(node)
                deleted.discard(node)

        for op in writes:
            if isinstance(op, PutVersion):
                folder = self.zk.node("versions", key_of(op.app_id))
                node = f"{folder}/{op.version_ms}"
                if not exists(node):
                    if not exists(folder):
                        put(folder, b"")
                    put(node, encode(op.value))
                    versioned.append(op.app_id)
            elif isinstance(op, PutGroups):
                put(self.zk.node("groups"), encode(sorted(op.groups)))
            elif isinstance(op, Put):
                put(self._node(op.kind, op.key), encode(op.value))
            elif exists(node := self._node(op.kind, op.key)):
                ops.append(fenced.Delete(node))
                deleted.add(node)
                created.discard(node)
        self.zk.commit(ops)
        self._known -= deleted
        self._known |= created
        for app_id in versioned:
            self._prune_versions(app_id)

    # --- app versions ----------------------------------------------------------------------------

    def _prune_versions(self, app_id: str) -> None:
        folder = self.zk.node("versions", key_of(app_id))
        try:
            stored = sorted(self.zk.children(folder), key=int)
            old = [f"{folder}/{v}" for v in stored[: max(0, len(stored) - self.max_versions)]]
            self.zk.commit([fenced.Delete(node) for node in old])
        except StoreUnavailable as err:
            log.warning("pruning versions failed app=%s error=%s", app_id, err.message)
            return
        self._known.difference_update(old)

    def versions(self, app_id: str) -> list[int]:
        """Stored versions of an app in milliseconds, newest first."""
        children = self.zk.children(self.zk.node("versions", key_of(app_id)))
        return sorted((int(c) for c in children), reverse=True)

    def version(self, app_id: str, version_ms: int) -> JSON | None:
        found = self.zk.read(self.zk.node("versions", key_of(app_id), str(version_ms)))
        if found is None:
            return None
        value: JSON = json.loads(found[0])
        return value

    def delete_versions(self, app_id: str) -> None:
        folder = self.zk.node("versions", key_of(app_id))
        try:
            nodes = [f"{folder}/{v}" for v in self.zk.children(folder)]
            if folder in self._known or nodes:
                self.zk.commit([*(fenced.Delete(n) for n in nodes), fenced.Delete(folder)])
        except StoreUnavailable as err:
            log.warning("deleting versions failed app=%s error=%s", app_id, err.message)
            return
        self._known.difference_update([folder, *nodes])


class MemoryStore:
    """The same interface in memory: unit tests of the core and a store that cannot fail."""

    def __init__(self, on_fenced: Callable[[str], None] | None = None) -> None:
        self.snapshot = Snapshot()
        self.version_data: dict[str, dict[int, JSON]] = {}
        self.commits: list[list[Write]] = []
        # True: the next commit fails as if ZooKeeper were away; "fenced": as if a newer leader
        # had taken the store (then, like the ZooKeeper store, it calls `on_fenced` first).
        self.fail_next: bool | str = False
        self.on_fenced = on_fenced

    def load(self) -> Snapshot:
        return Snapshot(
            apps=dict(self.snapshot.apps),
            deployments=dict(self.snapshot.deployments),
            instances=dict(self.snapshot.instances),
            delays=dict(self.snapshot.delays),
            groups=list(self.snapshot.groups),
        )

    def commit(self, writes: Iterable[Write]) -> None:
        ops = list(writes)
        if self.fail_next == "fenced":
            self.fail_next = False
            message = "fenced: a newer Marathon leader owns the state"
            if self.on_fenced is not None:
                self.on_fenced(message)
            raise Fenced(message)
        if self.fail_next:
            self.fail_next = False
            raise StoreUnavailable("injected failure")
        for op in ops:
            if isinstance(op, PutVersion):
                self.version_data.setdefault(op.app_id, {})[op.version_ms] = json.loads(
                    encode(op.value)
                )
            elif isinstance(op, PutGroups):
                self.snapshot.groups = sorted(op.groups)
            elif isinstance(op, Put):
                getattr(self.snapshot, op.kind)[op.key] = json.loads(encode(op.value))
            else:
                getattr(self.snapshot, op.kind).pop(op.key, None)
        self.commits.append(ops)

    def versions(self, app_id: str) -> list[int]:
        return sorted(self.version_data.get(app_id, {}), reverse=True)

    def version(self, app_id: str, version_ms: int) -> JSON | None:
        return self.version_data.get(app_id, {}).get(version_ms)

    def delete_versions(self, app_id: str) -> None:
        self.version_data.pop(app_id, None)
