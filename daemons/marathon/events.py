"""Marathon's event bus: what `/v2/events` streams as Server-Sent Events.

Every event is `{"eventType": …, "timestamp": …, …}`. Each subscriber gets its own bounded
queue; one that falls that far behind is dropped (its stream ends, the client reconnects)
rather than letting memory grow without bound.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from daemons.protocols import JSON

log = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000

# The event types marathon-python 0.13.0 knows; any other type aborts its stream. Real Marathon
# also sends scheduler_(re)registered/disconnected events: only to those who ask for them.
KNOWN_TYPES = frozenset(
    {
        "api_post_event",
        "status_update_event",
        "framework_message_event",
        "subscribe_event",
        "unsubscribe_event",
        "add_health_check_event",
        "remove_health_check_event",
        "failed_health_check_event",
        "health_status_changed_event",
        "unhealthy_task_kill_event",
        "group_change_success",
        "group_change_failed",
        "deployment_success",
        "deployment_failed",
        "deployment_info",
        "deployment_step_success",
        "deployment_step_failure",
        "event_stream_attached",
        "event_stream_detached",
        "app_terminated_event",
        "instance_changed_event",
        "unknown_instance_terminated_event",
        "unhealthy_instance_kill_event",
        "instance_health_changed_event",
        "pod_created_event",
        "pod_updated_event",
        "pod_deleted_event",
    }
)
OPT_IN_TYPES = frozenset(
    {"scheduler_registered_event", "scheduler_reregistered_event", "scheduler_disconnected_event"}
)

_CLOSED = object()


class Subscriber:
    def __init__(self, types: frozenset[str]) -> None:
        self.types = types
        self.queue: queue.Queue[Any] = queue.Queue(QUEUE_LIMIT)

    def wants(self, event_type: str) -> bool:
        if self.types:
            return event_type in self.types
        return event_type in KNOWN_TYPES


class EventBus:
    def __init__(self, clock: Callable[[], str]) -> None:
        self.clock = clock  # the Marathon timestamp of "now"
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._closed = False

    def publish(self, event_type: str, **payload: Any) -> None:
        event = {"eventType": event_type, "timestamp": self.clock(), **payload}
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            if not subscriber.wants(event_type):
                continue
            try:
                subscriber.queue.put_nowait(event)
            except queue.Full:
                log.warning("event subscriber too slow; dropping it")
                self.unsubscribe(subscriber)
                _end(subscriber, drop_queued=True)

    def subscribe(self, types: frozenset[str]) -> Subscriber:
        subscriber = Subscriber(types)
        with self._lock:
            if self._closed:
                _end(subscriber)
            else:
                self._subscribers.add(subscriber)
        return subscriber

    def close(self) -> None:
        """End every stream after what it has queued (the daemon is stopping): otherwise a
        graceful stop waits its whole timeout for SSE clients that never hang up."""
        with self._lock:
            subscribers, self._subscribers = list(self._subscribers), set()
            self._closed = True
        for subscriber in subscribers:
            _end(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)


def _end(subscriber: Subscriber, *, drop_queued: bool = False) -> None:
    """Make the subscriber's stream return; with `drop_queued` (or a full queue) at once."""
    if drop_queued:
        subscriber.queue.queue.clear()
    try:
        subscriber.queue.put_nowait(_CLOSED)
    except queue.Full:
        subscriber.queue.queue.clear()
        subscriber.queue.put_nowait(_CLOSED)


def sse(event: JSON) -> bytes:
    """One Server-Sent Event: `event:` line, one compact `data:` line, a blank line."""
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['eventType']}\ndata: {data}\n\n".encode()


def stream(
    bus: EventBus, subscriber: Subscriber, first: JSON, keepalive: float = 15.0
) -> Iterator[bytes]:
    """The SSE body: the attach event, then events; a comment line every `keepalive` seconds
    so proxies and dead clients are noticed."""
    try:
        yield sse(first)
        while True:
            try:
                event = subscriber.queue.get(timeout=keepalive)
            except queue.Empty:
                yield b":\n\n"
                continue
            if event is _CLOSED:
                return
            yield sse(event)
    finally:
        bus.unsubscribe(subscriber)
