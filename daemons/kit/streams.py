"""One outgoing RecordIO event stream per subscriber (framework, agent, executor, operator).

The producer side calls `send(event)` from any thread; the HTTP side iterates `records()`, which
yields RecordIO bytes and a HEARTBEAT whenever the stream has been idle for the heartbeat interval.
Closing ends the iteration; a write error in the server (client gone) closes the generator, which
calls `on_close`. Under gunicorn a subscription is not iterated by a thread of its own: `response`
marks it for `daemons.kit.stream_hub`, which writes the same bytes from one thread for all.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, request

from daemons.protocols.recordio import encode_json

_CLOSE = object()
HEARTBEAT = {"type": "HEARTBEAT"}
HEARTBEAT_RECORD = encode_json(HEARTBEAT)
# The WSGI environ key under which `response` leaves (stream, first event) for the hand-off.
STREAM_KEY = "pydcos.stream"


class EventStream:
    def __init__(
        self,
        stream_id: str,
        heartbeat_interval: float,
        on_close: Callable[[EventStream], None] | None = None,
    ) -> None:
        self.stream_id = stream_id
        self.heartbeat_interval = heartbeat_interval
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.on_close = on_close
        self.closed = False
        # Set while the stream hub writes this stream: tells it there is something to write.
        self.notify: Callable[[], None] | None = None

    def send(self, event: dict[str, Any]) -> None:
        if not self.closed:
            self._queue.put(event)
            notify = self.notify
            if notify is not None:
                notify()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put(_CLOSE)
            notify = self.notify
            if notify is not None:
                notify()

    def take(self) -> list[Any]:
        """Everything queued, the close marker included (the stream hub's side)."""
        out: list[Any] = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def closed_by_hub(self) -> None:
        """The hub has ended this stream (its client gone, or the stream closed and written)."""
        self.closed = True
        if self.on_close is not None:
            self.on_close(self)

    def pending(self) -> list[dict[str, Any]]:
        """Take every queued event without waiting (diagnostics and tests)."""
        out: list[dict[str, Any]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return out
            if item is _CLOSE:
                self._queue.put(_CLOSE)
                return out
            out.append(item)

    def records(self, first: dict[str, Any] | None = None) -> Iterator[bytes]:
        try:
            if first is not None:
                # A heartbeat right behind it, so line-splitting clients see it at once.
                yield encode_json(first) + HEARTBEAT_RECORD
            while True:
                try:
                    item = self._queue.get(timeout=self.heartbeat_interval)
                except queue.Empty:
                    item = HEARTBEAT
                if item is _CLOSE:
                    return
                batch = [encode_json(item)]
                idle = item is HEARTBEAT
                # Drain what is already queued so a burst goes out in one write.
                while len(batch) < 256:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _CLOSE:
                        yield b"".join(batch)
                        return
                    batch.append(encode_json(more))
                if not idle:
                    # mesoshttp hands over record N only once the length line of record N+1 has
                    # arrived (it splits on newlines), so a burst ends with a heartbeat.
                    batch.append(HEARTBEAT_RECORD)
                yield b"".join(batch)
        finally:
            self.closed = True
            if self.on_close is not None:
                self.on_close(self)


def encode_batch(items: list[Any]) -> tuple[bytes, bool]:
    """The RecordIO bytes of `items` up to the close marker, and whether it was among them."""
    out: list[bytes] = []
    for item in items:
        if item is _CLOSE:
            return b"".join(out), True
        out.append(encode_json(item))
    return b"".join(out), False


def response(
    stream: EventStream, first: dict[str, Any] | None, headers: dict[str, str]
) -> Response:
    """The Flask response of a subscription: `first`, then whatever the stream sends, until it
    closes. Under gunicorn the stream hub serves it (see `daemons.kit.stream_hub`); elsewhere a
    thread iterates `records()`."""
    request.environ[STREAM_KEY] = (stream, first)
    out = Response(
        stream.records(first), status=200, mimetype="application/json", direct_passthrough=True
    )
    out.headers.update(headers)
    return out
