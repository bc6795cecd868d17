"""The operator API's event stream (`SUBSCRIBE` on `POST /api/v1`) on the client's reconnecting
subscription loop (`daemons.mesos_client.subscription`): events as parsed JSON, a watchdog of
a few heartbeat intervals, and a way to drop the stream when the leader moved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daemons.mesos_client.errors import EventParseError, SubscriptionEnded
from daemons.mesos_client.subscription import Backoff, Subscription
from daemons.mesos_client.transport import Endpoint
from daemons.protocols import JSON
from daemons.protocols.recordio import RecordIOError

# A stream with no event (heartbeats included) for this many heartbeat intervals is dead.
HEARTBEAT_MISSES = 3


class OperatorSubscription(Subscription[JSON]):
    """The operator API's `SUBSCRIBE` (`POST /api/v1`), events as parsed JSON, delivered to
    `on_event` on the subscription's thread; `endpoint()` says where the leader is now."""

    path = "/api/v1"

    def __init__(
        self,
        endpoint: Callable[[], Endpoint],
        on_event: Callable[[JSON], None],
        *,
        backoff: Backoff,
        timeout: float,
    ) -> None:
        super().__init__(
            on_event=on_event, backoff=backoff, subscribe_timeout=timeout, call_timeout=timeout
        )
        self._where = endpoint

    def _endpoint(self) -> Endpoint:
        return self._where()

    def _subscribe_call(self) -> JSON:
        return {"type": "SUBSCRIBE"}

    def _parse(self, raw: Any) -> JSON:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise EventParseError("an operator event is an object with a type")
        return raw

    def _accept_first(self, event: JSON) -> SubscriptionEnded | None:
        if event["type"] != "SUBSCRIBED":
            # Not the operator API: drop this stream and try again (the loop backs off).
            raise RecordIOError(f"first event is {event['type']}, not SUBSCRIBED")
        interval = (event.get("subscribed") or {}).get("heartbeat_interval_seconds")
        if isinstance(interval, (int, float)) and interval > 0:
            self._watchdog_seconds = float(interval) * HEARTBEAT_MISSES
        return None

    def reconnect(self) -> None:
        """Drop the stream now (the leader moved); the loop subscribes again."""
        self._drop_stream()

    @property
    def endpoint(self) -> Endpoint | None:
        """The master of the stream now open (None between streams)."""
        with self._lock:
            return self._endpoint_now if self._stream is not None else None
