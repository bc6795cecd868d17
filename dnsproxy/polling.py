"""`JsonPoller`: reads a JSON document every few seconds from the first of several URLs that
answers, and hands it on. The DNS proxy reads a Mesos-DNS's `/v1/axfr` with it (each master's
in turn); the master's state is followed through its event stream instead
(`daemons.mesos_client.master_follower`).

A failed read (no master answers, a body that is not JSON, a consumer refusing it with
ValueError) is logged once per change of outcome and leaves the consumer with what it had:
the last good records keep being served.

Each read sends the ETag of the last body the consumer took (`If-None-Match`): a 304 means
that body is still the document, and nothing is read, parsed or handed on (Mesos-DNS's
`/v1/axfr` tags are a digest of the body, the same on every master).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import requests

from daemons.kit.memory import release_free_memory

log = logging.getLogger(__name__)


class JsonPoller:
    def __init__(
        self,
        name: str,
        urls: Sequence[str],
        interval: float,
        on_body: Callable[[Any], object],
        timeout: float = 5.0,
    ) -> None:
        self.name = name
        self.urls = list(urls)
        self.interval = interval
        self.on_body = on_body
        self.timeout = timeout
        self.reads = 0
        self.failures = 0
        self._session = requests.Session()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: str | None = None
        self.etag: str | None = None  # of the last body the consumer took
        self.unchanged = 0  # reads answered 304

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"poll-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 1.0)
        self._session.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            # The body read and what the consumer replaced are freed by now (a 10,000-task
            # `/v1/axfr` parses to ≈ 20 MiB): give their pages back (docs/dns.md, memory).
            release_free_memory()
            self._stop.wait(self.interval)

    def poll_once(self) -> bool:
        """One read: True when a URL answered and the consumer took the body."""
        problems = []
        for url in self.urls:
            headers = {"If-None-Match": self.etag} if self.etag else {}
            try:
                response = self._session.get(url, timeout=self.timeout, headers=headers)
                response.raise_for_status()
                if response.status_code == 304 and self.etag:
                    self.unchanged += 1
                else:
                    self.on_body(response.json())
                    self.etag = response.headers.get("ETag")
            except (requests.RequestException, ValueError) as err:
                problems.append(f"{url}: {err}")
                continue
            self.reads += 1
            if self._failing is not None:
                log.info("poll recovered name=%s url=%s", self.name, url)
            self._failing = None
            return True
        self.failures += 1
        summary = "; ".join(problems) or "no URL"
        if summary != self._failing:
            log.warning("poll failed name=%s keeping the last records: %s", self.name, summary)
        self._failing = summary
        return False
