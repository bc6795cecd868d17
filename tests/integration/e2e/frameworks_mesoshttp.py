"""A one-task mesoshttp framework, shared by the e2e test and `mesoshttp_once`."""

from __future__ import annotations

import threading
from typing import Any

from mesoshttp.client import MesosClient

JSON = dict[str, Any]


class OneTaskFramework:
    """Accepts the first offer with one command task; declines every other offer."""

    def __init__(self, client: MesosClient, task_id: str, command: str) -> None:
        self.client = client
        self.task_id, self.command = task_id, command
        self.lock = threading.Lock()
        self.launched = False
        self.driver: Any = None
        self.updates: list[JSON] = []
        self.errors: list[str] = []
        client.on(MesosClient.SUBSCRIBED, self.subscribed)
        client.on(MesosClient.OFFERS, self.offers)
        client.on(MesosClient.UPDATE, self.update)
        client.on(MesosClient.ERROR, self.errors.append)

    def subscribed(self, driver: Any) -> None:
        self.driver = driver

    def offers(self, offers: list[Any]) -> None:
        for offer in offers:
            with self.lock:
                launch, self.launched = not self.launched, True
            if not launch:
                offer.decline({"filters": {"refuse_seconds": 5.0}})
                continue
            body = offer.get_offer()
            offer.accept(
                [
                    {
                        "name": self.task_id,
                        "task_id": {"value": self.task_id},
                        "agent_id": body["agent_id"],
                        "resources": [
                            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}},
                        ],
                        "command": {"value": self.command},
                    }
                ]
            )

    def update(self, update: JSON) -> None:
        with self.lock:
            self.updates.append(update["status"])

    def states(self) -> list[str]:
        with self.lock:
            return [s["state"] for s in self.updates]
