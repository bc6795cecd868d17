"""Sends due status updates to the master: the thread around the (pure) status-update manager.

It sleeps on the agent's condition until the earliest retry time or until something changes (a new
update, an ACK, a (re)subscription), takes the due heads under the lock and POSTs them outside it.
While the agent is not subscribed nothing is sent; `resume` on SUBSCRIBED sends every head again.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from daemons.agent.protocol import id_json
from daemons.protocols import JSON

if TYPE_CHECKING:
    from daemons.agent.agent import Agent

IDLE_WAKEUP = 1.0
# Due updates go to the master in batches of at most this many (one UPDATES call each).
BATCH = 256


def update_call(agent_id: str, framework_id: str, status: JSON) -> JSON:
    return {
        "type": "UPDATE",
        "agent_id": id_json(agent_id),
        "update": {"status": status, "framework_id": id_json(framework_id)},
    }


def updates_call(agent_id: str, due: list[tuple[str, JSON]]) -> JSON:
    """Several updates in one call; the master applies them in order (docs/agent-protocol.md)."""
    return {
        "type": "UPDATES",
        "agent_id": id_json(agent_id),
        "updates": {
            "updates": [
                {"status": status, "framework_id": id_json(framework_id)}
                for framework_id, status in due
            ]
        },
    }


class StatusForwarder:
    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="status-updates", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self.agent.changed:
            self._stopped = True
            self.agent.changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _due(self) -> tuple[str, list[tuple[str, JSON]]] | None:
        """Block until updates are due; None once stopped."""
        agent = self.agent
        with agent.changed:
            while not self._stopped:
                timeout = IDLE_WAKEUP
                if agent.link.connected and agent.agent_id is not None:
                    now = agent.monotonic()
                    due = agent.updates.due(now)
                    if due:
                        return agent.agent_id, due
                    deadline = agent.updates.next_deadline()
                    if deadline is not None:
                        timeout = max(0.0, min(deadline - now, IDLE_WAKEUP))
                agent.changed.wait(timeout)
        return None

    def _run(self) -> None:
        while (batch := self._due()) is not None:
            agent_id, due = batch
            if len(due) == 1:
                framework_id, status = due[0]
                self.agent.link.send(update_call(agent_id, framework_id, status))
                continue
            for start in range(0, len(due), BATCH):
                self.agent.link.send(updates_call(agent_id, due[start : start + BATCH]))
