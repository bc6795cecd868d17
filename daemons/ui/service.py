"""The running UI backend: one sampler thread reads the leading master's state-summary every
`sample_interval` seconds, keeps the dashboard's ring, and hands every sample (and the summary,
when it changed) to the browsers following `/ui/api/v1/events`. However many browsers are open,
the master sees one read per interval. The clock is read here and nowhere below.

A failed read (no leader, a timeout, a body that is not a state-summary) is counted and shown
to the browsers as the stream's status; the last good summary stays on screen, and the next
interval tries again."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from daemons.mesos_client.errors import MasterUnavailable
from daemons.mesos_client.leader import MasterDetector, detector_for
from daemons.ui import summary
from daemons.ui.config import UiConfig
from daemons.ui.ring import Ring

log = logging.getLogger(__name__)

JSON = dict[str, Any]
# Events queued for one browser that is not reading; past this it is dropped (it reconnects,
# and gets the whole snapshot again).
SUBSCRIBER_BACKLOG = 32
CLOSED = ("closed", None)


class Subscriber:
    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue(SUBSCRIBER_BACKLOG)


class UiService:
    def __init__(
        self,
        config: UiConfig,
        on_fatal: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
        detector: Callable[[str], MasterDetector] = detector_for,
        reader: Callable[[], Any] | None = None,
    ) -> None:
        """`reader` replaces the HTTP read of the leader's state-summary (the unit tests feed
        the sampler with it; the daemon always reads the master)."""
        self.config = config
        self._on_fatal = on_fatal
        self._clock = clock
        self._make_detector = detector
        self._detector: MasterDetector | None = None
        self._http = requests.Session()
        self._reader = reader or self._read_summary
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscribers: set[Subscriber] = set()
        self.ring = Ring(config.ring_capacity)
        self._current: JSON | None = None  # {"t", "dashboard", "nodes"} of the last good read
        self._current_text = ""
        self.reads = 0
        self.failures = 0
        self.last_error = ""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._detector = self._make_detector(self.config.master)
        self._thread = threading.Thread(target=self._run, name="ui-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            subscribers, self._subscribers = self._subscribers, set()
        for subscriber in subscribers:
            _offer(subscriber, CLOSED)
        if self._detector is not None:
            self._detector.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self.sample_once()
            elapsed = time.monotonic() - started
            self._stopping.wait(max(0.0, self.config.sample_interval - elapsed))

    # --- sampling -------------------------------------------------------------------------

    def _read_summary(self) -> Any:
        if self._detector is None:
            raise MasterUnavailable("not started")
        leader = self._detector.leader()
        response = self._http.get(
            f"{leader.url}/master/state-summary", timeout=self.config.read_timeout
        )
        response.raise_for_status()
        return response.json()

    def sample_once(self) -> bool:
        """Read the state-summary once and publish it; False when the read failed."""
        self.reads += 1
        try:
            body = self._reader()
            rows = summary.nodes(body)
            board = summary.dashboard(body, rows)
        except (MasterUnavailable, requests.RequestException, ValueError) as err:
            self.failures += 1
            self.last_error = str(err) or type(err).__name__
            log.warning("state-summary read failed: %s", self.last_error)
            self._publish("status", self.status())
            return False
        t = self._clock()
        point = summary.sample(t, board)
        text = json.dumps({"dashboard": board, "nodes": rows}, sort_keys=True)
        with self._lock:
            self.last_error = ""
            self.ring.push(point)
            changed = text != self._current_text
            self._current = {"t": t, "dashboard": board, "nodes": rows}
            self._current_text = text
            current = self._current
        if changed:
            self._publish("summary", current)
        self._publish("sample", point.to_json())
        return True

    # --- what the API reads ---------------------------------------------------------------

    def status(self) -> JSON:
        return {
            "ok": not self.last_error,
            "error": self.last_error,
            "reads": self.reads,
            "failures": self.failures,
            "interval": self.config.sample_interval,
            "streams": len(self._subscribers),
        }

    def current(self) -> JSON | None:
        with self._lock:
            return self._current

    def history(self, since: float = 0.0) -> list[JSON]:
        with self._lock:
            return [s.to_json() for s in self.ring.since(since)]

    def subscribe(self) -> tuple[Subscriber, JSON] | None:
        """A new follower and its first event (history, summary, status); None when
        `max_streams` browsers follow already."""
        with self._lock:
            if len(self._subscribers) >= self.config.max_streams or self._stopping.is_set():
                return None
            subscriber = Subscriber()
            self._subscribers.add(subscriber)
            snapshot = {
                "history": [s.to_json() for s in self.ring],
                "summary": self._current,
                "capacity": self.ring.capacity,
            }
        snapshot["status"] = self.status()
        return subscriber, snapshot

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def _publish(self, kind: str, data: Any) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            if not _offer(subscriber, (kind, data)):
                log.info("dropping a browser stream that stopped reading")
                self.unsubscribe(subscriber)
                _offer(subscriber, CLOSED, force=True)


def _offer(subscriber: Subscriber, item: tuple[str, Any], force: bool = False) -> bool:
    try:
        subscriber.queue.put_nowait(item)
        return True
    except queue.Full:
        if force:
            # Make room for the close marker: the events it drops would never be read anyway.
            with_room = subscriber.queue
            while True:
                try:
                    with_room.get_nowait()
                except queue.Empty:
                    break
            with_room.put_nowait(item)
        return False


def sse(kind: str, data: Any) -> bytes:
    """One Server-Sent Event."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
