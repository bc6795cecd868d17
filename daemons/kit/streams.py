"""One outgoing RecordIO event stream per subscriber (framework, agent, executor, operator).

The producer side calls `send(event)` from any thread; the HTTP side iterates `records()`, which
yields RecordIO bytes and a HEARTBEAT whenever the stream has been idle for the heartbeat interval.
Closing ends the iteration; a write error in the server (client gone) closes the generator, which
calls `on_close`.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from typing import Any

from daemons.protocols.recordio import encode_json

_CLOSE = object()
HEARTBEAT = {"type": "HEARTBEAT"}
_HEARTBEAT_RECORD = encode_json(HEARTBEAT)


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

    def send(self, event: dict[str, Any]) -> None:
        if not self.closed:
            self._queue.put(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put(_CLOSE)

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
                yield encode_json(first) + _HEARTBEAT_RECORD
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
                    batch.append(_HEARTBEAT_RECORD)
                yield b"".join(batch)
        finally:
            self.closed = True
            if self.on_close is not None:
                self.on_close(self)
