"""The subscription loop both clients share: SUBSCRIBE, read events, reconnect with backoff.

One thread per client owns the streaming connection. It delivers events either to an `on_event`
callback (called on that thread) or into a queue read by `events()` / `next_event()`. When the
stream breaks it reconnects after a backoff delay (`initial * factor**n`, capped at `maximum`;
reset once a subscription succeeds), following a standby's 307 at once. The subclass says where
to connect, what SUBSCRIBE says, what an event means, and whether a lost stream is worth
re-subscribing; the base class knows nothing about frameworks or executors.
"""

from __future__ import annotations

import http.client
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from daemons.mesos_client.errors import (
    CallRejected,
    EventParseError,
    MasterUnavailable,
    NotSubscribed,
    Redirected,
    SubscriptionEnded,
)
from daemons.mesos_client.events import decode_json
from daemons.mesos_client.transport import CallSender, Endpoint, Stream, open_stream, parse_endpoint
from daemons.protocols import JSON
from daemons.protocols.recordio import RecordIOError

log = logging.getLogger(__name__)

E = TypeVar("E")
_MAX_REDIRECTS = 3  # in a row; beyond that two masters are pointing at each other: back off


@dataclass(frozen=True)
class Backoff:
    """Delay before reconnect attempt `n` (0-based): min(maximum, initial * factor**n) seconds."""

    initial: float = 0.5
    maximum: float = 10.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * self.factor ** min(attempt, 64)))


class _End:
    """Queue sentinel: the subscription is over."""


_END = _End()


class Subscription(Generic[E]):
    path = ""

    def __init__(
        self,
        *,
        on_event: Callable[[E], None] | None,
        backoff: Backoff,
        subscribe_timeout: float,
        call_timeout: float,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._on_event = on_event
        self._backoff = backoff
        self._subscribe_timeout = subscribe_timeout
        self._headers = dict(headers or {})
        self._sender = CallSender(call_timeout, self._headers)
        self._queue: queue.SimpleQueue[E | _End] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._lock = threading.Lock()  # guards the fields below
        self._stream: Stream | None = None
        self._stream_id: str | None = None
        self._endpoint_now: Endpoint | None = None
        self._thread: threading.Thread | None = None
        self._watchdog_seconds: float | None = None  # read timeout once SUBSCRIBED
        self._got_first = False  # the current stream delivered its first event
        self.error: SubscriptionEnded | None = None

    # --- what subclasses provide ----------------------------------------------------------------

    def _endpoint(self) -> Endpoint:
        raise NotImplementedError

    def _subscribe_call(self) -> JSON:
        raise NotImplementedError

    def _parse(self, raw: Any) -> E:
        raise NotImplementedError

    def _accept_first(self, event: E) -> SubscriptionEnded | None:
        """Check the first event of a stream (must be SUBSCRIBED) and take its facts."""
        raise NotImplementedError

    def _observe(self, event: E) -> None:
        """Update client state before the event is delivered."""

    def _after_delivery(self, event: E, delivered: bool) -> SubscriptionEnded | None:
        """Act after delivery (e.g. acknowledge); a returned error ends the subscription."""
        return None

    def _stop_reason(self, cause: Exception | None) -> SubscriptionEnded | None:
        """Whether to give up instead of re-subscribing after a lost stream or failed attempt."""
        return None

    # --- public API -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()

    @property
    def is_subscribed(self) -> bool:
        return self._subscribed.is_set()

    def wait_subscribed(self, timeout: float | None = None) -> bool:
        return self._subscribed.wait(timeout)

    def next_event(self, timeout: float | None = None) -> E | None:
        """The next event, or None after `timeout`; raises SubscriptionEnded once it is over."""
        if self._on_event is not None:
            raise RuntimeError("events go to on_event; the iterator API is not in use")
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(item, _End):
            self._queue.put(item)  # every later reader sees the end too
            raise self.error or SubscriptionEnded("closed")
        return item

    def events(self) -> Iterator[E]:
        """Events until `close()`; raises SubscriptionEnded if the subscription failed for good."""
        while True:
            try:
                event = self.next_event()
            except SubscriptionEnded:
                if self.error is not None:
                    raise
                return
            if event is not None:
                yield event

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the subscription thread to end; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Stop the loop, drop the stream, wait for the thread (unless called from it)."""
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.interrupt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._subscribe_timeout + 5.0)
        self._sender.close()
        self._queue.put(_END)

    # --- calls ----------------------------------------------------------------------------------

    def _post(self, call: JSON) -> None:
        with self._lock:
            endpoint, stream_id = self._endpoint_now, self._stream_id
        if endpoint is None or not self._subscribed.is_set():
            raise NotSubscribed(f"{call.get('type')} needs a live subscription")
        try:
            self._sender.post(endpoint, self.path, call, stream_id)
        except Redirected as err:
            # The master we subscribed to lost leadership: re-subscribe to the new leader.
            self._drop_stream()
            raise MasterUnavailable(f"{endpoint} is no longer the leader ({err})") from None

    def _drop_stream(self) -> None:
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.interrupt()

    # --- the loop -------------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        redirects = 0
        redirect: Endpoint | None = None
        try:
            while not self._stop.is_set():
                try:
                    endpoint = redirect or self._endpoint()
                    redirect = None
                    stream = open_stream(
                        endpoint,
                        self.path,
                        self._subscribe_call(),
                        timeout=self._subscribe_timeout,
                        headers=self._headers,
                    )
                except Redirected as err:
                    log.info("subscribe redirected location=%s", err.location)
                    redirect = parse_endpoint(err.location, 0)
                    redirects += 1
                    if redirects <= _MAX_REDIRECTS:
                        continue
                    if not self._pause(failures, err):
                        return
                    failures += 1
                    continue
                except MasterUnavailable as err:
                    log.warning("subscribe failed error=%s", err)
                    if not self._pause(failures, err):
                        return
                    failures += 1
                    continue
                except CallRejected as err:
                    self._end(SubscriptionEnded(f"SUBSCRIBE rejected: {err}"))
                    return
                redirects = 0
                if self._serve(endpoint, stream):
                    failures = 0
                if self._stop.is_set() or self.error is not None:
                    return
                if not self._pause(failures, None):
                    return
                failures += 1
        finally:
            self._subscribed.clear()
            self._queue.put(_END)

    def _pause(self, attempt: int, cause: Exception | None) -> bool:
        """Sleep before the next attempt; False when the loop must stop instead."""
        reason = self._stop_reason(cause)
        if reason is not None:
            self._end(reason)
            return False
        return not self._stop.wait(self._backoff.delay(attempt))

    def _end(self, reason: SubscriptionEnded) -> None:
        log.error("subscription ended reason=%s", reason)
        self.error = reason
        self._stop.set()

    def _serve(self, endpoint: Endpoint, stream: Stream) -> bool:
        """Read one stream until it ends; True when it got as far as SUBSCRIBED."""
        with self._lock:
            if self._stop.is_set():
                stream.close()
                return False
            self._stream = stream
            self._endpoint_now = endpoint
        self._got_first = False
        self._watchdog_seconds = None
        try:
            return self._consume(stream)
        except TimeoutError:
            log.warning("no event in time, reconnecting endpoint=%s", endpoint)
        except (OSError, http.client.HTTPException, RecordIOError) as err:
            if not self._stop.is_set():
                log.warning("event stream broken endpoint=%s error=%r", endpoint, err)
        finally:
            self._subscribed.clear()
            with self._lock:
                self._stream = None
                self._stream_id = None
            stream.close()
        return self._got_first

    def _consume(self, stream: Stream) -> bool:
        last_event = time.monotonic()
        for batch in stream.batches():
            now = time.monotonic()
            if batch:
                last_event = now
            elif self._watchdog_seconds is not None and now - last_event > self._watchdog_seconds:
                raise TimeoutError("bytes but no complete event within the heartbeat deadline")
            for record in batch:
                if self._stop.is_set():
                    return self._got_first
                try:
                    event = self._parse(decode_json(record))
                except EventParseError as err:
                    if not self._got_first:
                        raise RecordIOError(f"first event is malformed: {err}") from None
                    log.error("dropping a malformed event error=%s", err)
                    continue
                if not self._got_first:
                    self._got_first = True
                    refused = self._accept_first(event)
                    if refused is None:
                        with self._lock:
                            self._stream_id = stream.stream_id
                        stream.set_read_timeout(self._watchdog_seconds)
                        self._subscribed.set()
                    else:
                        self._deliver(event)
                        self._end(refused)
                        return True
                self._observe(event)
                ended = self._deliver(event)
                if ended is not None:
                    self._end(ended)
                    return True
        log.info("event stream closed by the other side")
        return self._got_first

    def _deliver(self, event: E) -> SubscriptionEnded | None:
        """Hand the event over, with `_after_delivery` done once the handler returned, or, for
        the iterator API, before it is queued (so a reader never outruns its acknowledgement)."""
        if self._on_event is None:
            ended = self._after_delivery(event, True)
            self._queue.put(event)
            return ended
        try:
            self._on_event(event)
        except Exception:
            # A handler bug must not kill the stream; the event is not acknowledged, so Mesos
            # delivers it again.
            log.exception("event handler failed event=%s", type(event).__name__)
            return self._after_delivery(event, False)
        return self._after_delivery(event, True)
