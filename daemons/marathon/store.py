"""Marathon's state in ZooKeeper (kazoo): apps and their versions, groups, deployments,
instances and launch delays. The adapter: JSON in znodes, kazoo errors turned into
`StoreUnavailable`.

Layout under the daemon's path (e.g. /marathon/state):
    apps/<key>                 the current AppDefinition (appdef.stored_json)
    versions/<key>/<ms>        every stored version of an app, the newest `max_versions` kept
    groups                     the explicitly created groups (JSON list of ids)
    deployments/<id>           running deployment plans (deployment.stored_json): resumed after
                               a failover
    instances/<task id>        the tasks Marathon launched (so a new leader knows their versions)
    delays/<key>               launch backoff (backoff.stored_json): survives a failover (F17)
`<key>` is the app id without its leading slash and with `/` turned into `_` (ids cannot hold
`_`, so the mapping is one to one).

    epoch                      set by every new leader on `load`; its znode version fences
A change that belongs together (an app and the deployment that rolls it out) is written in one
ZooKeeper transaction: all of it or none, and always with `check(epoch, version)`: once a newer
leader has loaded the state, an older one (paused, cut off, not yet told) can write nothing
(Marathon's incidents of an old leader undoing a new one's work). Nodes are created or
overwritten according to what this process knows exists.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kazoo.exceptions import KazooException, NoNodeError

from daemons.kit.zk import StoreUnavailable
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
    def __init__(self, client: Any, path: str, max_versions: int = 25) -> None:
        self.client = client
        self.path = path.rstrip("/") + "/state"
        self.max_versions = max_versions
        self._known: set[str] = set()  # nodes that exist (loaded or written by us)
        self.epoch_path = f"{self.path}/epoch"
        self.epoch_version: int | None = None  # set by load(): this leader's fence

    def _node(self, kind: str, key: str) -> str:
        return f"{self.path}/{kind}/{key}"

    def load(self) -> Snapshot:
        """Take the epoch (fencing every earlier leader), then read everything."""
        snapshot = Snapshot()
        try:
            self.client.ensure_path(self.epoch_path)
            self.epoch_version = self.client.set(self.epoch_path, b"").version
            for kind in KINDS:
                self.client.ensure_path(f"{self.path}/{kind}")
                self.client.ensure_path(f"{self.path}/versions")
                target: dict[str, JSON] = getattr(snapshot, kind)
                for key in self.client.get_children(f"{self.path}/{kind}"):
                    try:
                        data, _ = self.client.get(self._node(kind, key))
                    except NoNodeError:
                        continue
                    target[key] = json.loads(data)
                    self._known.add(self._node(kind, key))
            try:
                data, _ = self.client.get(f"{self.path}/groups")
                snapshot.groups = list(json.loads(data))
                self._known.add(f"{self.path}/groups")
            except NoNodeError:
                pass
        except KazooException as err:
            raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
        log.info(
            "state loaded apps=%d deployments=%d instances=%d",
            len(snapshot.apps),
            len(snapshot.deployments),
            len(snapshot.instances),
        )
        return snapshot

    def commit(self, writes: Iterable[Write]) -> None:
        """Write all of `writes` in one transaction, or raise StoreUnavailable and write none."""
        ops = list(writes)
        if not ops:
            return
        if self.epoch_version is None:
            raise StoreUnavailable("the state was not loaded: not the leader")
        transaction = self.client.transaction()
        transaction.check(self.epoch_path, self.epoch_version)
        created: set[str] = set()
        deleted: set[str] = set()
        versioned: list[str] = []
        for op in ops:
            if isinstance(op, PutVersion):
                base = f"{self.path}/versions/{key_of(op.app_id)}"
                try:
                    self.client.ensure_path(base)  # an empty folder is harmless if we fail
                except KazooException as err:
                    raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
                node = f"{base}/{op.version_ms}"
                if node not in self._known and node not in created:
                    transaction.create(node, encode(op.value))
                    created.add(node)
                    versioned.append(op.app_id)
                continue
            if isinstance(op, PutGroups):
                node, data = f"{self.path}/groups", encode(sorted(op.groups))
            elif isinstance(op, Put):
                node, data = self._node(op.kind, op.key), encode(op.value)
            else:
                node = self._node(op.kind, op.key)
                if node in self._known or node in created:
                    transaction.delete(node)
                    deleted.add(node)
                    created.discard(node)
                continue
            if (node in self._known and node not in deleted) or node in created:
                transaction.set_data(node, data)
            else:
                transaction.create(node, data)
                created.add(node)
                deleted.discard(node)
        try:
            results = transaction.commit()
        except KazooException as err:
            raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            if failures[0].__class__.__name__ == "BadVersionError":
                raise StoreUnavailable("fenced: a newer Marathon leader owns the state")
            raise StoreUnavailable(f"ZooKeeper transaction failed: {failures[0]!r}")
        self._known -= deleted
        self._known |= created
        for app_id in versioned:
            self._prune_versions(app_id)

    # --- app versions ----------------------------------------------------------------------------

    def _prune_versions(self, app_id: str) -> None:
        base = f"{self.path}/versions/{key_of(app_id)}"
        try:
            stored = sorted(self.client.get_children(base), key=int)
            for old in stored[: max(0, len(stored) - self.max_versions)]:
                self.client.delete(f"{base}/{old}")
                self._known.discard(f"{base}/{old}")
        except KazooException as err:
            log.warning("pruning versions failed app=%s error=%s", app_id, err)

    def versions(self, app_id: str) -> list[int]:
        """Stored versions of an app in milliseconds, newest first."""
        try:
            children = self.client.get_children(f"{self.path}/versions/{key_of(app_id)}")
        except NoNodeError:
            return []
        except KazooException as err:
            raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
        return sorted((int(c) for c in children), reverse=True)

    def version(self, app_id: str, version_ms: int) -> JSON | None:
        try:
            data, _ = self.client.get(f"{self.path}/versions/{key_of(app_id)}/{version_ms}")
        except NoNodeError:
            return None
        except KazooException as err:
            raise StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
        value: JSON = json.loads(data)
        return value

    def delete_versions(self, app_id: str) -> None:
        try:
            self.client.delete(f"{self.path}/versions/{key_of(app_id)}", recursive=True)
        except NoNodeError:
            pass
        except KazooException as err:
            log.warning("deleting versions failed app=%s error=%s", app_id, err)


class MemoryStore:
    """The same interface in memory: unit tests of the core and a store that cannot fail."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()
        self.version_data: dict[str, dict[int, JSON]] = {}
        self.commits: list[list[Write]] = []
        self.fail_next: bool | str = False  # True or a message: the next commit fails

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
        if self.fail_next:
            message = self.fail_next if isinstance(self.fail_next, str) else "injected failure"
            self.fail_next = False
            raise StoreUnavailable(message)
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
