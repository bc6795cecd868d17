"""The registry in ZooKeeper, written through the kit's fenced store (daemons/kit/store.py).

Layout under `<masters' path>/registry`:

    epoch                    {"master_id", "time"}: taken by every new leader on `recover()`
    agents/<agent_id>        {"state": admitted|unreachable|gone, "info": AgentInfo, "time"}
    frameworks/<fw_id>       {"state": active|removed, "info": FrameworkInfo, "time"}

Every write is one fenced transaction, so once a newer leader has recovered, every write of an
older one fails (`Fenced`, a `StoreUnavailable`) and that master steps down. A write not
answered within the store's write timeout counts as failed too (its outcome is unknown, so the
master steps down rather than assume either way). One znode per entry keeps each write small,
far below ZooKeeper's 1 MB node limit at any cluster size.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from daemons.kit import store as fenced
from daemons.kit.errors import StoreUnavailable
from daemons.master.registry import AGENT_STATES, FRAMEWORK_STATES, Entry, RegistryState

log = logging.getLogger(__name__)


def _encode(entry: Entry) -> bytes:
    return json.dumps(entry.to_json(), separators=(",", ":")).encode()


class ZkRegistry:
    def __init__(self, client: Any, masters_path: str) -> None:
        self.store = fenced.FencedZkStore(client, masters_path.rstrip("/") + "/registry")
        self._exists: set[str] = set()

    # --- recovery ---------------------------------------------------------------------------

    def recover(self, master_id: str) -> RegistryState:
        self.store.ensure(self.store.node("agents"), self.store.node("frameworks"))
        stamp = json.dumps({"master_id": master_id, "time": time.time()}).encode()
        version = self.store.take_epoch(stamp)
        agents = self._read_all("agents", AGENT_STATES)
        frameworks = self._read_all("frameworks", FRAMEWORK_STATES)
        self._exists = {f"agents/{k}" for k in agents} | {f"frameworks/{k}" for k in frameworks}
        log.info(
            "registry recovered epoch=%s agents=%d frameworks=%d",
            version,
            len(agents),
            len(frameworks),
        )
        return RegistryState(agents, frameworks)

    def _read_all(self, sub: str, states: tuple[str, ...]) -> dict[str, Entry]:
        nodes = [self.store.node(sub, c) for c in self.store.children(self.store.node(sub))]
        out: dict[str, Entry] = {}
        for node, (data, _) in self.store.read_all(nodes).items():
            child = node.rsplit("/", 1)[1]
            try:
                out[child] = Entry.from_json(json.loads(data), states)
            except ValueError as err:
                raise StoreUnavailable(
                    f"registry entry {sub}/{child} is unreadable: {err}"
                ) from None
        return out

    # --- fenced writes ----------------------------------------------------------------------

    def _commit(self, key: str, data: bytes | None) -> None:
        path = self.store.node(*key.split("/"))
        # A create where the node exists (or a set where it does not) is retried once the
        # other way round: our view of which nodes exist can lag a write whose answer was lost.
        for exists in (key in self._exists, key not in self._exists):
            write: fenced.Write
            if data is None:
                write = fenced.Delete(path)
            elif exists:
                write = fenced.SetData(path, data)
            else:
                write = fenced.Create(path, data)
            try:
                self.store.commit([write])
            except fenced.Refused as refused:
                if data is None and refused.reason == fenced.NO_NODE:
                    self._exists.discard(key)
                    return
                if refused.reason not in (fenced.NODE_EXISTS, fenced.NO_NODE):
                    raise
                continue
            if data is None:
                self._exists.discard(key)
            else:
                self._exists.add(key)
            return
        raise StoreUnavailable(f"registry write of {key} failed")

    def put_agent(self, agent_id: str, entry: Entry) -> None:
        self._commit(f"agents/{agent_id}", _encode(entry))

    def remove_agent(self, agent_id: str) -> None:
        self._commit(f"agents/{agent_id}", None)

    def put_framework(self, framework_id: str, entry: Entry) -> None:
        self._commit(f"frameworks/{framework_id}", _encode(entry))

    def close(self) -> None:
        self.store.release()
