"""A cluster for the Marathon tests: a master, two agents with different hostnames (so UNIQUE
hostname constraints mean something on one machine) and one or more dcos-marathon daemons.
Fixtures are in conftest.py; tests import these names from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from e2e_cluster import wait_for

JSON = dict[str, Any]

# 127.0.0.1 and 127.0.0.2 are both loopback: tasks binding 0.0.0.0 answer on either.
AGENT_HOSTS = ("127.0.0.1", "127.0.0.2")
MARATHON_CONFIG: JSON = {
    "zk_session_timeout": 4.0,
    "reconciliation_interval": 30.0,
    "decline_offer_duration": 2.0,
    "failover_timeout": 3600.0,
    "threads": 32,
}


@dataclass
class MarathonCluster:
    master: Any
    agents: list[Any]
    marathons: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.marathons[0].url)

    def get(self, path: str, marathon: int = 0, **params: Any) -> Any:
        response = requests.get(self.marathons[marathon].url + path, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def leader_url(self) -> str:
        for m in self.marathons:
            if not m.running():
                continue
            try:
                info = requests.get(m.url + "/v2/info", timeout=5)
            except requests.RequestException:
                continue
            if info.status_code == 200 and info.json().get("elected") and info.json()["leader"]:
                return "http://" + info.json()["leader"]
        return ""

    def wait_leader(self, timeout: float = 30.0) -> str:
        return str(wait_for(self.leader_url, timeout, "a Marathon leader"))

    def app(self, app_id: str) -> JSON:
        found: JSON = requests.get(self.leader_url() + f"/v2/apps{app_id}", timeout=10).json()
        return found.get("app", found)

    def wait_running(self, app_id: str, count: int, *, healthy: bool = False, timeout: float = 60):
        def ready() -> Any:
            app = self.app(app_id)
            if app.get("tasksRunning") != count or app.get("deployments"):
                return None
            if healthy and app.get("tasksHealthy") != count:
                return None
            return app

        return wait_for(ready, timeout, f"{count} running tasks of {app_id}")

    def master_tasks(self, state: str = "TASK_RUNNING") -> list[JSON]:
        tasks = requests.get(self.master.url + "/master/tasks", timeout=10).json()["tasks"]
        return [t for t in tasks if t["state"] == state]
