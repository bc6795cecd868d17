"""The route cache: every `refresh_interval` the leading master's `/master/state-summary` and
Marathon's labelled apps, turned into a `routes.RouteTable` (pure) and swapped in whole.

Each source keeps its last good body: Marathon away leaves the agents routable, and the table's
age is that of its older source, so a route answered from a body older than `max_age` is 503
(routes.resolve), never a guess.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from daemons.adminrouter import routes
from daemons.adminrouter.config import AdminRouterAuthConfig
from daemons.mesos_client.errors import MasterUnavailable
from daemons.mesos_client.leader import detector_for

log = logging.getLogger(__name__)

APPS_PATH = "/v2/apps?embed=apps.tasks&label=DCOS_SERVICE_NAME"
SUMMARY_PATH = "/master/state-summary"


class RouteCache:
    def __init__(
        self, config: AdminRouterAuthConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self._config = config
        self._clock = clock
        self._detector = detector_for(config.master)
        self._session = requests.Session()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._apps: tuple[Any, float] | None = None
        self._summary: tuple[Any, str, float] | None = None
        self.table = routes.RouteTable()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="route-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._config.request_timeout + 1)
        self._detector.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self._config.refresh_interval)

    def _get(self, url: str) -> Any:
        response = self._session.get(url, timeout=self._config.request_timeout)
        response.raise_for_status()
        return response.json()

    def refresh(self) -> None:
        """Fetch both sources (each failure logged, its last good body kept) and swap the
        table."""
        try:
            leader = self._detector.leader()
            address = f"{leader.host}:{leader.port}"
            self._summary = (self._get(f"http://{address}{SUMMARY_PATH}"), address, self._clock())
        except (MasterUnavailable, requests.RequestException, ValueError) as err:
            log.warning("route cache: master state-summary failed error=%s", err)
        try:
            apps = self._get(self._config.marathon.rstrip("/") + APPS_PATH)
            self._apps = (apps, self._clock())
        except (requests.RequestException, ValueError) as err:
            log.warning("route cache: Marathon apps failed error=%s", err)
        if self._summary is None or self._apps is None:
            return
        summary, address, summary_at = self._summary
        apps, apps_at = self._apps
        self.table = routes.build_table(apps, summary, address, min(summary_at, apps_at))
