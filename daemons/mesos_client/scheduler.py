"""`SchedulerClient`: a framework's side of the Mesos v1 scheduler API.

It subscribes to the leading master (fixed `host:port`, or found in ZooKeeper for `zk://`),
delivers typed events, and sends calls on a separate keep-alive session with the stream's
`Mesos-Stream-Id`. After a broken stream, or when no event (HEARTBEAT included) arrived for
`heartbeat_interval_seconds * heartbeat_misses`, it re-subscribes with the same framework id
(failover), re-sending the roles it had suppressed. Updates that carry a `uuid` are acknowledged
after the handler returned (with the iterator API: just before they are queued) unless
`auto_acknowledge=False`.
An ERROR event is fatal: the master has removed the framework or another scheduler took over.

Every call method is thread-safe and raises `NotSubscribed` while there is no live stream.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import daemons.mesos_client.calls as calls
from daemons.mesos_client.errors import MesosClientError, NotSubscribed, SubscriptionEnded
from daemons.mesos_client.events import (
    Error,
    Event,
    Subscribed,
    TaskStatus,
    Update,
    parse_event,
)
from daemons.mesos_client.leader import MasterDetector, detector_for
from daemons.mesos_client.subscription import Backoff, Subscription
from daemons.mesos_client.transport import Endpoint
from daemons.protocols import JSON
from daemons.protocols.ids import id_json
from daemons.protocols.models import FrameworkInfo, TaskInfo

log = logging.getLogger(__name__)

SCHEDULER_PATH = "/api/v1/scheduler"


class SchedulerClient(Subscription[Event]):
    path = SCHEDULER_PATH

    def __init__(
        self,
        master: str | MasterDetector,
        framework_info: Mapping[str, Any] | FrameworkInfo,
        *,
        on_event: Callable[[Event], None] | None = None,
        auto_acknowledge: bool = True,
        acknowledge_in_background: bool = True,
        heartbeat_misses: float = 3.0,
        backoff: Backoff | None = None,
        subscribe_timeout: float = 10.0,
        call_timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            on_event=on_event,
            backoff=backoff or Backoff(),
            subscribe_timeout=subscribe_timeout,
            call_timeout=call_timeout,
            headers=headers,
        )
        self._detector = detector_for(master) if isinstance(master, str) else master
        self._framework_info = (
            framework_info.to_json()
            if isinstance(framework_info, FrameworkInfo)
            else dict(framework_info)
        )
        self._auto_acknowledge = auto_acknowledge
        # Auto-acknowledgements go out from a thread of their own, in order, so that event
        # delivery never waits on a round trip per update (a burst of launches means thousands).
        self._ack_queue: queue.SimpleQueue[TaskStatus | None] | None = (
            queue.SimpleQueue() if acknowledge_in_background else None
        )
        self._ack_thread: threading.Thread | None = None
        self._heartbeat_misses = heartbeat_misses
        self._suppressed: set[str] = set()
        self._state_lock = threading.Lock()
        self.master_info: JSON | None = None

    @property
    def framework_id(self) -> str | None:
        with self._state_lock:
            value = (self._framework_info.get("id") or {}).get("value")
        return value if isinstance(value, str) else None

    @property
    def framework_info(self) -> JSON:
        with self._state_lock:
            return dict(self._framework_info)

    # --- subscription hooks ---------------------------------------------------------------------

    def _endpoint(self) -> Endpoint:
        return self._detector.leader()

    def _subscribe_call(self) -> JSON:
        with self._state_lock:
            return calls.subscribe(self._framework_info, suppressed_roles=self._suppressed)

    def _parse(self, raw: Any) -> Event:
        return parse_event(raw)

    def _accept_first(self, event: Event) -> SubscriptionEnded | None:
        if isinstance(event, Error):
            return SubscriptionEnded(f"master refused the subscription: {event.message}")
        if not isinstance(event, Subscribed):
            return SubscriptionEnded(f"first event is {type(event).__name__}, not SUBSCRIBED")
        with self._state_lock:
            self._framework_info["id"] = id_json(event.framework_id)
        self.master_info = event.master_info
        interval = event.heartbeat_interval_seconds
        self._watchdog_seconds = interval * self._heartbeat_misses if interval else None
        log.info("subscribed framework=%s heartbeat=%s", event.framework_id, interval)
        return None

    def _after_delivery(self, event: Event, delivered: bool) -> SubscriptionEnded | None:
        if isinstance(event, Error):
            return SubscriptionEnded(f"master sent ERROR: {event.message}")
        if isinstance(event, Update) and delivered and self._auto_acknowledge:
            self._acknowledge_quietly(event.status)
        return None

    def _acknowledge_quietly(self, status: TaskStatus) -> None:
        if status.uuid is None:
            return  # master-generated (e.g. reconciliation): never acknowledged
        if self._ack_queue is not None:
            with self._state_lock:
                if self._ack_thread is None:
                    self._ack_thread = threading.Thread(
                        target=self._acknowledger, name="acknowledger", daemon=True
                    )
                    self._ack_thread.start()
            self._ack_queue.put(status)
            return
        self._send_acknowledgement(status)

    def _acknowledger(self) -> None:
        assert self._ack_queue is not None
        while (status := self._ack_queue.get()) is not None:
            self._send_acknowledgement(status)

    def _send_acknowledgement(self, status: TaskStatus) -> None:
        try:
            self.acknowledge(status)
        except MesosClientError as err:
            # Unacknowledged updates are resent by the agent, so this only costs a duplicate.
            log.warning("acknowledge failed task=%s error=%s", status.task_id, err)

    # --- calls ----------------------------------------------------------------------------------

    def _framework_id_or_raise(self) -> str:
        framework_id = self.framework_id
        if framework_id is None:
            raise NotSubscribed("no framework id yet: not subscribed")
        return framework_id

    def call(self, call: JSON) -> None:
        """Send any call as JSON (`framework_id` is filled in when absent)."""
        call = dict(call)
        call.setdefault("framework_id", id_json(self._framework_id_or_raise()))
        self._post(call)

    def accept(
        self,
        offer_ids: Iterable[str],
        operations: Iterable[Mapping[str, Any]],
        *,
        refuse_seconds: float | None = None,
    ) -> None:
        fid = self._framework_id_or_raise()
        self._post(calls.accept(fid, offer_ids, operations, refuse_seconds=refuse_seconds))

    def launch(
        self,
        offer_ids: Iterable[str],
        task_infos: Iterable[Mapping[str, Any] | TaskInfo],
        *,
        refuse_seconds: float | None = None,
    ) -> None:
        """ACCEPT with one LAUNCH operation (what pymesos' launchTasks sends)."""
        self.accept(offer_ids, [calls.launch(task_infos)], refuse_seconds=refuse_seconds)

    def decline(self, offer_ids: Iterable[str], *, refuse_seconds: float | None = None) -> None:
        fid = self._framework_id_or_raise()
        self._post(calls.decline(fid, offer_ids, refuse_seconds=refuse_seconds))

    def _framework_roles(self) -> set[str]:
        with self._state_lock:
            roles = self._framework_info.get("roles") or [self._framework_info.get("role", "*")]
        return {str(r) for r in roles}

    def revive(self, roles: Iterable[str] = ()) -> None:
        names = list(roles)
        self._post(calls.revive(self._framework_id_or_raise(), names))
        with self._state_lock:
            self._suppressed -= set(names) if names else set(self._suppressed)

    def suppress(self, roles: Iterable[str] = ()) -> None:
        names = list(roles)
        self._post(calls.suppress(self._framework_id_or_raise(), names))
        suppressed = set(names) if names else self._framework_roles()
        with self._state_lock:
            self._suppressed |= suppressed

    def kill(
        self,
        task_id: str,
        agent_id: str | None = None,
        *,
        grace_period_seconds: float | None = None,
    ) -> None:
        fid = self._framework_id_or_raise()
        self._post(calls.kill(fid, task_id, agent_id, grace_period_seconds=grace_period_seconds))

    def shutdown(self, executor_id: str, agent_id: str) -> None:
        self._post(calls.shutdown(self._framework_id_or_raise(), executor_id, agent_id))

    def acknowledge(self, status: TaskStatus) -> None:
        """ACKNOWLEDGE an update; only updates with a `uuid` (and an agent id) need it."""
        if status.uuid is None or status.agent_id is None:
            raise ValueError(f"update of task {status.task_id} has no uuid/agent_id to acknowledge")
        fid = self._framework_id_or_raise()
        self._post(calls.acknowledge(fid, status.agent_id, status.task_id, status.uuid))

    def reconcile(self, tasks: Iterable[tuple[str, str | None]] = ()) -> None:
        self._post(calls.reconcile(self._framework_id_or_raise(), tasks))

    def message(self, agent_id: str, executor_id: str, data: bytes) -> None:
        self._post(calls.message(self._framework_id_or_raise(), agent_id, executor_id, data))

    def request(self, requests: Iterable[Mapping[str, Any]]) -> None:
        self._post(calls.request(self._framework_id_or_raise(), requests))

    def teardown(self) -> None:
        """TEARDOWN: the master kills every task and removes the framework, then ends the stream."""
        self._post(calls.teardown(self._framework_id_or_raise()))

    def close(self, teardown: bool = False) -> None:
        """Stop; with `teardown` first remove the framework (otherwise it can fail over)."""
        # Stop first, so the stream the master closes after TEARDOWN is not re-subscribed.
        self._stop.set()
        self._flush_acknowledgements()
        if teardown and self.is_subscribed:
            try:
                self.teardown()
            except MesosClientError as err:
                log.warning("teardown failed error=%s", err)
        super().close()
        self._detector.close()

    def _flush_acknowledgements(self, timeout: float = 10.0) -> None:
        """Send what is queued before the connection goes (the last ACKs must not be lost)."""
        if self._ack_queue is None or self._ack_thread is None:
            return
        self._ack_queue.put(None)
        self._ack_thread.join(timeout)
        self._ack_thread = None
