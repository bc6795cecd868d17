"""The master's durable registry: which agents are admitted, unreachable or gone, and which
frameworks exist (with their FrameworkInfo, so their failover timeouts survive a failover).

Like Mesos' registrar, the leading master writes an entry *before* the change takes effect; a
write that fails raises the kit's `StoreUnavailable` (`Fenced` when a newer leader has recovered
since) and the master steps down rather than go on. A new leader starts from `recover()`, which
also fences: after it, writes by any earlier leader fail. A malformed entry is a `ValueError`.

This module holds the records and the store's interface (pure); the stores are
`memory_registry.MemoryRegistry` (Mesos' `--registry=in_memory`, for a single master without
ZooKeeper and for tests) and `zk_registry.ZkRegistry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

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
