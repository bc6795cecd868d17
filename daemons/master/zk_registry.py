"""The registry in ZooKeeper (kazoo), fenced by the election's version.

Layout under `<masters' path>/registry`:

    epoch                    {"master_id", "time"}: set by every new leader; its version fences
    agents/<agent_id>        {"state": admitted|unreachable|gone, "info": AgentInfo, "time"}
    frameworks/<fw_id>       {"state": active|removed, "info": FrameworkInfo, "time"}

On election `recover()` sets `epoch` and keeps the version it got. Every later write is one ZK
transaction `check(epoch, version) + create/set/delete`, so once a newer leader has recovered,
every write of an older one fails (BadVersion) and that master steps down. One znode per entry
keeps each write small, far below ZooKeeper's 1 MB node limit at any cluster size.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import Any

from kazoo.exceptions import KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from daemons.master.registry import (
    AGENT_STATES,
    FRAMEWORK_STATES,
    Entry,
    RegistryError,
    RegistryState,
)

log = logging.getLogger(__name__)

# A write that has not been answered in this long counts as failed (its outcome is unknown, so
# the master steps down rather than assume either way).
WRITE_TIMEOUT = 10.0
READ_TIMEOUT = 60.0


def _encode(entry: Entry) -> bytes:
    return json.dumps(entry.to_json(), separators=(",", ":")).encode()


class ZkRegistry:
    def __init__(self, client: Any, masters_path: str) -> None:
        self.client = client
        self.base = masters_path.rstrip("/") + "/registry"
        self.epoch_path = f"{self.base}/epoch"
        self.version: int | None = None
        self._exists: set[str] = set()

    # --- recovery ---------------------------------------------------------------------------

    def recover(self, master_id: str) -> RegistryState:
        try:
            for sub in ("agents", "frameworks"):
                self.client.ensure_path(f"{self.base}/{sub}")
            stamp = json.dumps({"master_id": master_id, "time": time.time()}).encode()
            with contextlib.suppress(NodeExistsError):
                self.client.create(self.epoch_path, stamp)
            stat = self.client.set(self.epoch_path, stamp)
            self.version = stat.version
            agents = self._read_all("agents", AGENT_STATES)
            frameworks = self._read_all("frameworks", FRAMEWORK_STATES)
        except (KazooException, KazooTimeoutError) as err:
            raise RegistryError(f"registry recovery failed: {err.__class__.__name__}") from None
        self._exists = {f"agents/{k}" for k in agents} | {f"frameworks/{k}" for k in frameworks}
        log.info(
            "registry recovered epoch=%s agents=%d frameworks=%d",
            self.version,
            len(agents),
            len(frameworks),
        )
        return RegistryState(agents, frameworks)

    def _read_all(self, sub: str, states: tuple[str, ...]) -> dict[str, Entry]:
        path = f"{self.base}/{sub}"
        children = self.client.get_children(path)
        # All reads in flight at once: one round trip's latency, not one per entry.
        pending = [(c, self.client.get_async(f"{path}/{c}")) for c in children]
        out: dict[str, Entry] = {}
        for child, result in pending:
            try:
                data, _ = result.get(timeout=READ_TIMEOUT)
            except NoNodeError:
                continue
            try:
                out[child] = Entry.from_json(json.loads(data), states)
            except (ValueError, RegistryError) as err:
                raise RegistryError(f"registry entry {sub}/{child} is unreadable: {err}") from None
        return out

    # --- fenced writes ----------------------------------------------------------------------

    def _commit(self, key: str, data: bytes | None) -> None:
        if self.version is None:
            raise RegistryError("registry written before recovery")
        path = f"{self.base}/{key}"
        # A create where the node exists (or a set where it does not) is retried once the
        # other way round: our view of which nodes exist can lag a write whose answer was lost.
        for exists in (key in self._exists, key not in self._exists):
            txn = self.client.transaction()
            txn.check(self.epoch_path, self.version)
            if data is None:
                txn.delete(path)
            elif exists:
                txn.set_data(path, data)
            else:
                txn.create(path, data)
            try:
                results = txn.commit_async().get(timeout=WRITE_TIMEOUT)
            except (KazooException, KazooTimeoutError) as err:
                raise RegistryError(f"registry write failed: {err.__class__.__name__}") from None
            check, op = results[0], results[1]
            if isinstance(check, Exception):
                raise RegistryError("registry write fenced: another master has been elected since")
            if not isinstance(op, Exception):
                if data is None:
                    self._exists.discard(key)
                else:
                    self._exists.add(key)
                return
            if data is None and isinstance(op, NoNodeError):
                self._exists.discard(key)
                return
            if not isinstance(op, (NodeExistsError, NoNodeError)):
                raise RegistryError(f"registry write failed: {op.__class__.__name__}")
        raise RegistryError(f"registry write of {key} failed")

    def put_agent(self, agent_id: str, entry: Entry) -> None:
        self._commit(f"agents/{agent_id}", _encode(entry))

    def remove_agent(self, agent_id: str) -> None:
        self._commit(f"agents/{agent_id}", None)

    def put_framework(self, framework_id: str, entry: Entry) -> None:
        self._commit(f"frameworks/{framework_id}", _encode(entry))

    def close(self) -> None:
        self.version = None
