"""A leader-bound framework daemon (Marathon, Metronome): ZooKeeper leadership, the FrameworkID
kept in ZooKeeper, and the scheduler client's lifecycle. The adapter every framework shares.

Rules (Marathon's high-availability.md, framework-id.md, exit-codes.md):
- several instances contend under `<zk path>/leader` (Mesos-style `json.info_` nodes holding
  `{"address": "host:port"}`); the lowest is the leader; the others answer by proxying to it;
- the leader loads its state (`on_elected`), then subscribes to the Mesos master with the
  FrameworkID stored at `<zk path>/framework-id`. With no stored id it registers a new one, unless
  it already has instances (`has_instances`): then it exits, since a new FrameworkID would orphan
  every running task. A master that answers with a different id than the stored one is fatal too;
- after every (re)subscription `on_subscribed` runs (the daemon reconciles all its tasks there);
- a lost ZooKeeper session, lost leadership or an ERROR event from the master ends the process
  (`on_fatal`; systemd restarts it as a standby). While ZooKeeper is only disconnected
  (SUSPENDED) the leader does not act (`is_leader` is False) until the connection is back.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooState
from kazoo.exceptions import NodeExistsError, NoNodeError

from daemons.kit import zk
from daemons.mesos_client.events import Error, Event, Subscribed
from daemons.mesos_client.scheduler import SchedulerClient

log = logging.getLogger(__name__)

# Capabilities every PyDCOS framework asks for: unreachable is not lost, KILLING is reported.
CAPABILITIES = ("PARTITION_AWARE", "TASK_KILLING_STATE")


def framework_info(
    name: str,
    *,
    user: str,
    role: str,
    failover_timeout: float,
    hostname: str,
    webui_url: str,
) -> dict[str, Any]:
    return {
        "name": name,
        "user": user,
        "roles": [role],
        "failover_timeout": failover_timeout,
        "checkpoint": True,
        "hostname": hostname,
        "webui_url": webui_url,
        "capabilities": [{"type": "MULTI_ROLE"}] + [{"type": c} for c in CAPABILITIES],
    }


class FrameworkDaemon:
    def __init__(
        self,
        *,
        zk_url: str,
        advertised: str,
        master: str,
        framework_info: dict[str, Any],
        session_timeout: float,
        on_fatal: Callable[[str], None],
    ) -> None:
        self.hosts, self.path = zk.parse_zk_url(zk_url)
        self.advertised = advertised
        self.master = master
        self.framework_info = dict(framework_info)
        self.session_timeout = session_timeout
        self._on_fatal = on_fatal
        # Hooks the daemon assigns before start().
        self.on_elected: Callable[[Any], None] = lambda client: None
        self.has_instances: Callable[[], bool] = lambda: False
        self.on_subscribed: Callable[[str], None] = lambda framework_id: None
        self.on_event: Callable[[Event], None] = lambda event: None
        self.zk: Any = None
        self.client: SchedulerClient | None = None
        self._contender: zk.MasterContender | None = None
        self._leader: str | None = None
        self._elected = False
        self._connected = True
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.node_id = str(uuid.uuid4())

    # --- state ----------------------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """Acting as the leader: elected, state loaded and ZooKeeper connected."""
        return self._elected and self._connected and not self._stop.is_set()

    @property
    def leader(self) -> str | None:
        """The leader's `host:port` (ours when we lead), None while there is none."""
        return self._leader

    @property
    def framework_id(self) -> str | None:
        return self.client.framework_id if self.client is not None else None

    def _fatal(self, reason: str) -> None:
        if not self._stop.is_set():
            log.critical("framework daemon giving up: %s", reason)
            self._on_fatal(reason)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Join the election; when ZooKeeper does not answer, keep trying in the background
        (the API answers 503 meanwhile)."""
        try:
            client = zk.connect(self.hosts, self.session_timeout)
        except zk.StoreUnavailable as err:
            log.warning("%s; retrying in the background", err.message)
            threading.Thread(target=self._join, name="zookeeper", daemon=True).start()
            return
        self._contend(client)

    def _join(self) -> None:
        while not self._stop.wait(1.0):
            try:
                client = zk.connect(self.hosts, self.session_timeout)
            except zk.StoreUnavailable as err:
                log.warning("%s; retrying", err.message)
                continue
            self._contend(client)
            return

    def _contend(self, client: Any) -> None:
        self.zk = client
        client.add_listener(self._zk_state)
        host, _, port = self.advertised.rpartition(":")
        info = {"address": self.advertised, "hostname": host, "port": int(port), "id": self.node_id}
        self._contender = zk.contend(
            client, f"{self.path}/leader", info, self._leadership_changed, self._fatal
        )

    def _zk_state(self, state: str) -> None:
        if state == KazooState.SUSPENDED:
            log.warning("ZooKeeper connection lost; not acting until it is back")
            self._connected = False
        elif state == KazooState.CONNECTED:
            self._connected = True

    def _leadership_changed(self, is_leader: bool, info: dict[str, Any] | None) -> None:
        if self._stop.is_set():
            return
        address = (info or {}).get("address")
        self._leader = address if isinstance(address, str) else None
        with self._lock:
            if is_leader and not self._elected and self.client is None:
                # Leading takes ZooKeeper reads; never block kazoo's watch thread with them.
                threading.Thread(target=self._lead, name="elected", daemon=True).start()
            elif not is_leader and (self._elected or self.client is not None):
                self._fatal("lost leadership")

    def _lead(self) -> None:
        log.info("elected leader address=%s", self.advertised)
        try:
            self.on_elected(self.zk)
            stored = self._stored_framework_id()
            if stored is None and self.has_instances():
                self._fatal(
                    "no FrameworkID in ZooKeeper but instances exist: refusing to register a"
                    " new framework (it would orphan every running task)"
                )
                return
        except Exception as err:
            self._fatal(f"could not load state after election: {err.__class__.__name__}: {err}")
            return
        info = dict(self.framework_info)
        if stored is not None:
            info["id"] = {"value": stored}
        with self._lock:
            if self._stop.is_set():
                return
            self.client = SchedulerClient(self.master, info, on_event=self._event)
            self._elected = True
        self.client.start()

    def _stored_framework_id(self) -> str | None:
        try:
            data, _ = self.zk.get(f"{self.path}/framework-id")
        except NoNodeError:
            return None
        return data.decode() or None

    def _store_framework_id(self, framework_id: str) -> None:
        node = f"{self.path}/framework-id"
        with contextlib.suppress(NodeExistsError):
            self.zk.create(node, framework_id.encode(), makepath=True)
        if self._stored_framework_id() != framework_id:
            raise RuntimeError("another FrameworkID is stored")

    def _event(self, event: Event) -> None:
        if isinstance(event, Subscribed):
            stored = self._stored_framework_id()
            if stored is None:
                self._store_framework_id(event.framework_id)
                log.info("registered framework_id=%s", event.framework_id)
            elif stored != event.framework_id:
                self._fatal(f"master answered FrameworkID {event.framework_id}, stored {stored}")
                return
            self.on_event(event)
            self.on_subscribed(event.framework_id)
            return
        self.on_event(event)
        if isinstance(event, Error):
            self._fatal(f"the master ended the framework: {event.message}")

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        client = self.client
        if client is not None:
            client.close()
        if self._contender is not None:
            self._contender.stop()
        if self.zk is not None:
            try:
                self.zk.stop()
                self.zk.close()
            except Exception:
                log.exception("closing the ZooKeeper client failed")
