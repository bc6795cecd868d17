"""The registry kept in memory: lost with the process (Mesos' `--registry=in_memory`).

The master uses it when it is given no store (tests, a single master for development).
"""

from __future__ import annotations

import threading

from daemons.kit.errors import StoreUnavailable
from daemons.master.registry import Entry, RegistryState


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
