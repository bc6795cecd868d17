"""`ExecutorClient`: an executor's side of the Mesos v1 executor API (agent `/api/v1/executor`).

Reliability follows Mesos' executor library: every UPDATE gets a fresh uuid and is kept until the
agent sends ACKNOWLEDGED for it; a launched task is kept until one of its updates is acknowledged.
When the stream breaks, the client re-subscribes listing both (`unacknowledged_tasks`,
`unacknowledged_updates`) so the agent can recover them, retrying for up to the recovery timeout
when the executor checkpoints; a non-checkpointing executor gives up as soon as its agent is gone
(the agent will not recover it). After SHUTDOWN the client ends cleanly once the stream closes.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import daemons.mesos_client.calls as calls
from daemons.mesos_client.errors import (
    CallRejected,
    MasterUnavailable,
    Redirected,
    SubscriptionEnded,
)
from daemons.mesos_client.events import Error
from daemons.mesos_client.executor_events import (
    Acknowledged,
    ExecutorEvent,
    Launch,
    LaunchGroup,
    Shutdown,
    Subscribed,
    parse_executor_event,
)
from daemons.mesos_client.executor_settings import ExecutorSettings
from daemons.mesos_client.subscription import Backoff, Subscription
from daemons.mesos_client.transport import Endpoint, parse_endpoint
from daemons.protocols import JSON

log = logging.getLogger(__name__)

EXECUTOR_PATH = "/api/v1/executor"
AGENT_PORT = 5051


def _new_uuid() -> bytes:
    return uuidlib.uuid4().bytes


class ExecutorClient(Subscription[ExecutorEvent]):
    path = EXECUTOR_PATH

    def __init__(
        self,
        settings: ExecutorSettings,
        *,
        on_event: Callable[[ExecutorEvent], None] | None = None,
        backoff: Backoff | None = None,
        subscribe_timeout: float = 10.0,
        call_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        new_uuid: Callable[[], bytes] = _new_uuid,
    ) -> None:
        token = settings.authentication_token
        super().__init__(
            on_event=on_event,
            backoff=backoff
            or Backoff(
                min(0.5, settings.subscription_backoff_max), settings.subscription_backoff_max
            ),
            subscribe_timeout=subscribe_timeout,
            call_timeout=call_timeout,
            headers={"Authorization": f"Bearer {token}"} if token else None,
        )
        self.settings = settings
        self._agent = parse_endpoint(settings.agent_endpoint, AGENT_PORT)
        self._clock = clock
        self._monotonic = monotonic
        self._new_uuid = new_uuid
        self._state_lock = threading.Lock()  # guards the fields below
        self._tasks: dict[str, JSON] = {}  # launched; no update acknowledged yet
        self._updates: dict[bytes, JSON] = {}  # sent; not ACKNOWLEDGED yet (insertion order)
        self._agent_id = settings.agent_id
        self._ever_subscribed = False
        self._disconnected_at: float | None = monotonic()  # not subscribed yet counts as lost
        self._shutting_down = False

    @property
    def unacknowledged_updates(self) -> list[JSON]:
        with self._state_lock:
            return list(self._updates.values())

    @property
    def unacknowledged_tasks(self) -> list[JSON]:
        with self._state_lock:
            return list(self._tasks.values())

    # --- subscription hooks ---------------------------------------------------------------------

    def _endpoint(self) -> Endpoint:
        return self._agent

    def _subscribe_call(self) -> JSON:
        with self._state_lock:
            tasks, updates = list(self._tasks.values()), list(self._updates.values())
        return calls.executor_subscribe(
            self.settings.framework_id, self.settings.executor_id, tasks, updates
        )

    def _parse(self, raw: Any) -> ExecutorEvent:
        return parse_executor_event(raw)

    def _accept_first(self, event: ExecutorEvent) -> SubscriptionEnded | None:
        if isinstance(event, Error):
            return SubscriptionEnded(f"agent refused the subscription: {event.message}")
        if not isinstance(event, Subscribed):
            return SubscriptionEnded(f"first event is {type(event).__name__}, not SUBSCRIBED")
        with self._state_lock:
            self._agent_id = event.agent_id or self._agent_id
            self._ever_subscribed = True
            self._disconnected_at = None
            pending = len(self._updates)
        log.info(
            "executor subscribed executor=%s pending_updates=%s", self.settings.executor_id, pending
        )
        return None

    def _observe(self, event: ExecutorEvent) -> None:
        with self._state_lock:
            if isinstance(event, Launch):
                self._tasks[event.task_id] = event.task
            elif isinstance(event, LaunchGroup):
                self._tasks.update(zip(event.task_ids, event.tasks, strict=True))
            elif isinstance(event, Acknowledged):
                self._updates.pop(event.uuid, None)
                self._tasks.pop(event.task_id, None)
            elif isinstance(event, Shutdown):
                self._shutting_down = True

    def _after_delivery(self, event: ExecutorEvent, delivered: bool) -> SubscriptionEnded | None:
        if isinstance(event, Error):
            return SubscriptionEnded(f"agent sent ERROR: {event.message}")
        return None

    def _stop_reason(self, cause: Exception | None) -> SubscriptionEnded | None:
        now = self._monotonic()
        with self._state_lock:
            if self._shutting_down:
                self._stop.set()  # asked to shut down: a clean end, no error
                return None
            if self._disconnected_at is None:
                self._disconnected_at = now
            lost_for = now - self._disconnected_at
            was_subscribed = self._ever_subscribed
        if was_subscribed and not self.settings.checkpoint:
            return SubscriptionEnded("lost the agent; a non-checkpointing executor cannot recover")
        if lost_for > self.settings.recovery_timeout:
            return SubscriptionEnded(
                f"agent unreachable for {lost_for:.1f}s (recovery timeout "
                f"{self.settings.recovery_timeout:.1f}s): {cause}"
            )
        return None

    # --- calls ----------------------------------------------------------------------------------

    def update(
        self,
        task_id: str,
        state: str,
        *,
        message: str | None = None,
        reason: str | None = None,
        data: bytes | None = None,
        healthy: bool | None = None,
    ) -> bytes:
        """Send a status update; returns its uuid. Kept (and resent) until ACKNOWLEDGED."""
        uuid = self._new_uuid()
        with self._state_lock:
            status = calls.task_status(
                task_id,
                state,
                uuid=uuid,
                timestamp=self._clock(),
                executor_id=self.settings.executor_id,
                agent_id=self._agent_id,
                message=message,
                reason=reason,
                data=data,
                healthy=healthy,
            )
            self._updates[uuid] = status
        call = calls.executor_update(self.settings.framework_id, self.settings.executor_id, status)
        try:
            self._send(call)
        except (MasterUnavailable, Redirected) as err:
            log.warning(
                "update kept for re-subscribe task=%s state=%s error=%s", task_id, state, err
            )
        except CallRejected:
            if not self.is_subscribed:
                log.warning("update kept for re-subscribe task=%s state=%s", task_id, state)
                return uuid
            with self._state_lock:
                self._updates.pop(uuid, None)
            raise
        return uuid

    def message(self, data: bytes) -> None:
        """Send bytes to the scheduler (best effort, not retried)."""
        self._send(
            calls.executor_message(self.settings.framework_id, self.settings.executor_id, data)
        )

    def _send(self, call: JSON) -> None:
        # Unlike the master, the agent needs no subscription to take a call (updates may go out
        # while re-subscribing, and after SHUTDOWN while the stream is closing).
        with self._lock:
            stream_id = self._stream_id
        self._sender.post(self._agent, self.path, call, stream_id)
