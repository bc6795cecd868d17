"""The master's durable registry: which agents are admitted, unreachable or gone, and which
frameworks exist (with their FrameworkInfo, so their failover timeouts survive a failover).

Like Mesos' registrar, the leading master writes an entry *before* the change takes effect; a
write that fails raises the kit's `StoreUnavailable` (`Fenced` when a newer leader has recovered
since) and the master steps down rather than go on. A new leader starts from `recover()`, which
also fences: after it, writes by any earlier leader fail. A malformed entry is a `ValueError`.

This module holds the records and the in-memory store (`MemoryRegistry`, Mesos'
`--registry=in_memory`, for a single master without ZooKeeper and for tests); the ZooKeeper
store is `zk_registry.ZkRegistry`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from daemons.kit.errors import StoreUnavailable
from daemons.protocols import JSON

ADMITTED = "admitted"
UNREACHABLE = "unreachable"
GONE = "gone"
AGENT_STATES = (ADMITTED, UNREACHABLE, GONE)
ACTIVE = "active"
REMOVED = "removed"
FRAMEWORK_STATES = (ACTIVE, REMOVED)


@dataclass(frozen=True)
class Entry:
    """One agent's or framework's record: its state, the info it was admitted with, and when."""

    state: str
    info: JSON
    time: float

    def to_json(self) -> JSON:
        return {"state": self.state, "info": self.info, "time": self.time}

    @classmethod
    def from_json(cls, data: Any, states: tuple[str, ...]) -> Entry:
        if not isinstance(data, dict) or data.get("state") not in states:
            raise ValueError(f"malformed registry entry: {str(data)[:200]}")
        info = data.get("info")
        when = data.get("time")
        return cls(
            str(data["state"]),
            info if isinstance(info, dict) else {},
            float(when) if isinstance(when, (int, float)) else 0.0,
        )


@dataclass
class RegistryState:
    agents: dict[str, Entry] = field(default_factory=dict)
    frameworks: dict[str, Entry] = field(default_factory=dict)

    def agents_in(self, state: str) -> dict[str, Entry]:
        return {k: v for k, v in self.agents.items() if v.state == state}

    def agent_in(self, agent_id: str, state: str) -> Entry | None:
        """The agent's entry if the registry has it in `state` (one lookup, for hot paths)."""
        entry = self.agents.get(agent_id)
        return entry if entry is not None and entry.state == state else None

    def to_mesos_json(self) -> JSON:
        """Mesos' `/registrar(1)/registry` shape (slaves, unreachable, gone) plus frameworks."""
        return {
            "slaves": {
                "slaves": [{"info": e.info} for _, e in sorted(self.agents_in(ADMITTED).items())]
            },
            "unreachable": {
                "slaves": [
                    {"id": {"value": k}, "timestamp": {"nanoseconds": int(e.time * 1e9)}}
                    for k, e in sorted(self.agents_in(UNREACHABLE).items())
                ]
            },
            "gone": {
                "slaves": [
                    {"id": {"value": k}, "timestamp": {"nanoseconds": int(e.time * 1e9)}}
                    for k, e in sorted(self.agents_in(GONE).items())
                ]
            },
            "frameworks": [
                {"info": e.info, "state": e.state} for _, e in sorted(self.frameworks.items())
            ],
        }


class Registry(Protocol):
    def recover(self, master_id: str) -> RegistryState:
        """Fence earlier leaders and read everything (called once, on election)."""

    def put_agent(self, agent_id: str, entry: Entry) -> None: ...

    def remove_agent(self, agent_id: str) -> None: ...

    def put_framework(self, framework_id: str, entry: Entry) -> None: ...

    def close(self) -> None: ...


class MemoryRegistry:
    """A registry kept in memory (lost with the process). `fail_writes` makes writes fail, the
    way a full disk or a lost quorum does."""

    def __init__(self) -> None:
        self.state = RegistryState()
        self.epoch = 0
        self.fail_writes = False
        self.writes = 0
        self._lock = threading.Lock()

    def recover(self, master_id: str) -> RegistryState:
        with self._lock:
            self.epoch += 1
            return RegistryState(dict(self.state.agents), dict(self.state.frameworks))

    def _write(self) -> None:
        if self.fail_writes:
            raise StoreUnavailable("registry store refused the write")
        self.writes += 1

    def put_agent(self, agent_id: str, entry: Entry) -> None:
        with self._lock:
            self._write()
            self.state.agents[agent_id] = entry

    def remove_agent(self, agent_id: str) -> None:
        with self._lock:
            self._write()
            self.state.agents.pop(agent_id, None)

    def put_framework(self, framework_id: str, entry: Entry) -> None:
        with self._lock:
            self._write()
            self.state.frameworks[framework_id] = entry

    def close(self) -> None:
        return None
