"""The running Marathon: the framework daemon (leadership, FrameworkID, subscription) wired to
the state, and the background loops — the tick, Marathon-side health probes, reconciliation.

A leader loads its state from ZooKeeper before subscribing; standbys hold no state and proxy.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from daemons.frameworks.daemon import FrameworkDaemon, framework_info
from daemons.marathon import health, planning, probes, scheduling
from daemons.marathon.config import MarathonConfig
from daemons.marathon.events import EventBus
from daemons.marathon.marathon import Marathon
from daemons.marathon.model import HealthCheck, Instance
from daemons.marathon.planner import Planner
from daemons.marathon.store import MarathonStore
from daemons.marathon.timestamps import marathon_ts
from daemons.mesos_client.events import Event, Offers, Update

log = logging.getLogger(__name__)

TICK = 1.0


class MarathonService:
    def __init__(self, config: MarathonConfig, on_fatal: Callable[[str], None]) -> None:
        self.config = config
        self.bus = EventBus(lambda: marathon_ts(time.time()))
        self.marathon = Marathon(config, _NoStore(), self.bus, time.time, lambda: str(uuid.uuid4()))
        host = config.advertised.rpartition(":")[0]
        self.daemon = FrameworkDaemon(
            zk_url=config.zk,
            advertised=config.advertised,
            master=config.master,
            framework_info=framework_info(
                config.framework_name,
                user=config.mesos_user,
                role=config.mesos_role,
                failover_timeout=config.failover_timeout,
                hostname=host,
                webui_url=f"http://{config.advertised}",
            ),
            session_timeout=config.zk_session_timeout,
            on_fatal=on_fatal,
        )
        self.daemon.on_elected = self._elected
        self.daemon.has_instances = self.marathon.has_instances
        self.daemon.on_subscribed = self._subscribed
        self.daemon.on_event = self._event
        self._on_fatal = on_fatal
        self._stop = threading.Event()
        self._planner = Planner(self.marathon, lambda: self.daemon.is_leader)
        self._probes = ThreadPoolExecutor(max_workers=8, thread_name_prefix="probe")
        self._last_reconcile = 0.0

    def start(self) -> None:
        self.daemon.start()

    def _elected(self, client: Any) -> None:
        # A write after a newer leader took the state ends this process (it restarts as a
        # standby): the store calls `on_fatal` before it raises `Fenced`.
        self.marathon.store = MarathonStore(
            client, self.daemon.path, self.config.max_versions, on_fenced=self._on_fatal
        )
        self.marathon.load()
        self._planner.start()
        for name, target in (("tick", self._tick_loop), ("health", self._health_loop)):
            threading.Thread(target=target, name=name, daemon=True).start()

    def _subscribed(self, framework_id: str) -> None:
        self.marathon.driver = self.daemon.client
        self._last_reconcile = time.monotonic()
        scheduling.reconcile(self.marathon)

    def _event(self, event: Event) -> None:
        if isinstance(event, Offers):
            scheduling.handle_offers(self.marathon, event.offers)
        elif isinstance(event, Update):
            scheduling.record_update(self.marathon, event.status)
            self._planner.wake()

    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK):
            if not self.daemon.is_leader:
                continue
            try:
                scheduling.tick(self.marathon)
                scheduling.forget_wiped(self.marathon)
                if time.monotonic() - self._last_reconcile > self.config.reconciliation_interval:
                    self._last_reconcile = time.monotonic()
                    scheduling.reconcile(self.marathon)
            except Exception:  # one bad tick must not stop the loop
                log.exception("tick failed")

    # --- Marathon-side health checks (HTTP, HTTPS, TCP) -----------------------------------------

    def _health_loop(self) -> None:
        while not self._stop.wait(0.5):
            if not self.daemon.is_leader:
                continue
            try:
                self._probe_due()
            except Exception:
                log.exception("health round failed")

    def _probe_due(self) -> None:
        m = self.marathon
        now = time.time()
        due: list[tuple[Instance, int, HealthCheck]] = []
        with m.lock:
            for inst in m.instances.values():
                app = m.apps.get(inst.app_id)
                if app is None or inst.state != "TASK_RUNNING" or inst.task_id in m.killing:
                    continue
                for index, check in enumerate(app.health_checks):
                    if not check.is_marathon_side:
                        continue
                    key = (inst.task_id, index)
                    first = inst.started_at or now
                    if m.health_due.get(key, first) <= now:
                        m.health_due[key] = now + check.interval_seconds
                        due.append((inst, index, check))
        for inst, index, check in due:
            self._probes.submit(self._probe_one, inst, index, check)

    def _probe_one(self, inst: Instance, index: int, check: HealthCheck) -> None:
        port = check.port
        if port is None:
            position = check.port_index or 0
            port = inst.ports[position] if position < len(inst.ports) else None
        ok: bool | None
        cause: str | None
        if port is None:
            ok, cause = False, "no port to probe"
        elif check.protocol == "TCP":
            ok, cause = probes.probe_tcp(inst.host, port, timeout=check.timeout_seconds)
        else:
            ok, cause = probes.probe_http(
                inst.host,
                port,
                check.path or "/",
                timeout=check.timeout_seconds,
                https=check.protocol == "HTTPS",
                ignore_1xx=check.ignore_http1xx,
            )
        if ok is not None:  # None: an ignored 1xx answer leaves the health as it was
            self._record(inst.task_id, index, check, ok, cause)

    def _record(
        self, task_id: str, index: int, check: HealthCheck, ok: bool, cause: str | None
    ) -> None:
        m = self.marathon
        with m.lock:
            inst = m.instances.get(task_id)
            app = m.apps.get(inst.app_id) if inst is not None else None
            if inst is None or app is None or index >= len(app.health_checks):
                return
            now = m.now()
            results = list(inst.health) or [health.initial(c) for c in app.health_checks]
            while len(results) < len(app.health_checks):
                results.append(health.initial(app.health_checks[len(results)]))
            before = results[index].alive
            results[index] = health.observe(
                check, results[index], ok=ok, now=now, cause=cause, started_at=inst.started_at
            )
            inst = replace(inst, health=tuple(results), healthy=health.instance_healthy(results))
            m.instances[task_id] = inst
            if before != results[index].alive:
                self.bus.publish(
                    "health_status_changed_event",
                    appId=app.id,
                    instanceId=task_id,
                    taskId=task_id,
                    version=marathon_ts(app.version),
                    alive=results[index].alive,
                )
            if not ok:
                self.bus.publish(
                    "failed_health_check_event",
                    appId=app.id,
                    taskId=task_id,
                    instanceId=task_id,
                    healthCheck={"protocol": check.protocol},
                )
            if health.should_kill(check, results[index], started_at=inst.started_at, now=now):
                log.warning("killing unhealthy task=%s cause=%s", task_id, cause)
                m.apply(planning.kill(m.state(), [inst]))
                self.bus.publish(
                    "unhealthy_instance_kill_event",
                    appId=app.id,
                    taskId=task_id,
                    instanceId=task_id,
                    version=marathon_ts(app.version),
                    reason=cause or "health check failed",
                    host=inst.host,
                    slaveId=inst.agent_id,
                )
        m.flush()

    def stop(self) -> None:
        self._stop.set()
        self._planner.stop()
        self.daemon.stop()
        self.bus.close()  # end the SSE streams, so gunicorn's graceful stop need not wait
        self._probes.shutdown(wait=False, cancel_futures=True)


class _NoStore:
    """Before the election there is nothing to read or write: a standby holds no state."""

    def load(self) -> Any:
        raise RuntimeError("not the leader: no store")

    def commit(self, writes: Any) -> None:
        raise RuntimeError("not the leader: no store")

    def versions(self, app_id: str) -> list[int]:
        return []

    def version(self, app_id: str, version_ms: int) -> Any:
        return None

    def delete_versions(self, app_id: str) -> None:
        return None
