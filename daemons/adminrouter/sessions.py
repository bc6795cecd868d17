"""One keep-alive `requests.Session` per server thread: a session is not promised thread-safe,
and one per thread keeps its connection open between requests. `drop()` after a failed call
makes the thread's next call start a new one."""

from __future__ import annotations

import threading

import requests


class ThreadSessions:
    def __init__(self) -> None:
        self._local = threading.local()

    def get(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def drop(self) -> None:
        self._local.session = None
