"""Following the leading master: which master leads, its state, and its operator events; each
change handed on, coalesced, as a snapshot of the state. Mesos-DNS makes its records of it
(`daemons.mesos_dns.follower`), the DNS proxy its `dcos.thisdcos.directory` names.

Three sources, one `MasterState` (`daemons.mesos_client.master_view`):
- **the leader**: with `zk`, the masters registered in ZooKeeper (`daemons.kit.zk.watch_masters`:
  the leader and every master, leader first, on every change); with `masters` only, those,
  tried in order (a standby's 307 leads to the leader);
- **the state**: `GET /master/state` of the leader, read whenever a subscription starts (so a
  new stream and a new leader both begin from a fresh state), every `refresh_seconds` as a
  safety net, and when an event cannot be placed (`Change.RESYNC`);
- **the events**: the operator API's `SUBSCRIBE` stream of the leader (`OperatorSubscription`,
  on the Mesos client's reconnecting subscription loop), applied to the state as they come.

Every event received while a state read is in flight is kept and applied again to the state
read, which then replaces the one in use: replaying events the state already shows changes
nothing, so no event is lost between the read and the swap. An agent the previous state knew
and a new read lacks is carried over for `CARRY_SECONDS` (`MasterState.carry`: after a
failover the new leader knows an agent's tasks only once the agent has registered again).

Handing on: an event or a read that may change what a consumer shows marks the state dirty;
one thread waits `coalesce` seconds for more, then hands `on_state` a `MasterSnapshot` (the
state and the masters known now, and which tasks changed since the snapshot before when only
task events came between: `MasterState.take_changes`) on that thread, so a burst of events
makes one call and a slow consumer delays only the next one. A consumer refuses a snapshot by
raising ValueError (a state it cannot use): it keeps what it had, as it does while the master
is unreachable (no snapshot comes then), and the next snapshot is a whole one. `loaded` is set
once a snapshot was taken. With `detection_timeout`, a follower that has had none taken that
long after its start calls `on_fatal`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from daemons.kit import zk
from daemons.mesos_client.errors import MasterUnavailable
from daemons.mesos_client.leader import endpoint_from_master_info
from daemons.mesos_client.master_view import Change, FrameworkChanges, MasterState
from daemons.mesos_client.operator_subscription import OperatorSubscription
from daemons.mesos_client.subscription import Backoff
from daemons.mesos_client.transport import Endpoint, parse_endpoint
from daemons.protocols import JSON

log = logging.getLogger(__name__)

MASTER_PORT = 5050
# An agent the last state knew and a new read lacks (with no AGENT_REMOVED) is kept this long:
# after a master failover, agents register again with the new leader within seconds (their
# tasks run on meanwhile); one that does not is gone for good long before this.
CARRY_SECONDS = 120.0
# A failed state read is tried again after this long (the stream's reconnects back off too).
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class MasterSnapshot:
    """The leading master's state as followed (`/master/state`'s shape, the fields
    `MasterState` keeps), and the masters known when it was taken (`ip:port`, leader first
    when known). `changes`: the tasks changed since the snapshot handed on before, by
    framework, when task events alone came between (and that one was taken); None when
    anything may have changed (the first, after a read, an agent or a framework event)."""

    state: JSON
    masters: tuple[str, ...]
    changes: tuple[FrameworkChanges, ...] | None = None


def master_address(info: dict[str, Any]) -> str:
    """A MasterInfo's `ip:port`."""
    return str(endpoint_from_master_info(info))


class MasterFollower:
    """See the module docstring. `start()`, then snapshots arrive at `on_state`; `stop()`."""

    def __init__(
        self,
        on_state: Callable[[MasterSnapshot], None],
        *,
        zk_url: str = "",
        masters: Sequence[str] = (),
        refresh_seconds: float = 30.0,
        timeout: float = 5.0,
        state_timeout: float = 5.0,
        coalesce: float = 0.02,
        zk_session_timeout: float = 10.0,
        detection_timeout: float | None = None,
        on_fatal: Callable[[str], None] = lambda reason: None,
        name: str = "master-follower",
    ) -> None:
        if not zk_url and not masters:
            raise ValueError("give the masters or ZooKeeper")
        self.zk_url = zk_url
        self._static = tuple(masters)
        self._on_state = on_state
        self._refresh = refresh_seconds
        self._timeout = timeout
        self._state_timeout = state_timeout
        self._coalesce = coalesce
        self._zk_session_timeout = zk_session_timeout
        self._detection_timeout = detection_timeout
        self._on_fatal = on_fatal
        self._name = name
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = False
        # Guarded by the lock:
        self._state: MasterState | None = None
        self._replay: list[JSON] | None = None  # events since a state read began
        self._read_wanted = True
        self._dirty = False
        self._handed: MasterState | None = None  # the view of the last snapshot taken
        self._masters: list[str] = list(masters)  # leader first, when known
        self._leader: Endpoint | None = None
        self._subscribed_to: Endpoint | None = None
        self.loaded = threading.Event()  # a snapshot was taken
        self._rotation = itertools.cycle(range(max(1, len(self._static))))
        self._http = requests.Session()
        self._http.trust_env = False  # loopback and cluster addresses, never through a proxy
        self._zk: Any = None
        self._subscription = self._new_subscription()
        self._threads: list[threading.Thread] = []
        self._started = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._started = time.monotonic()
        for target, role in ((self._reader, "state"), (self._notifier, "notify")):
            thread = threading.Thread(target=target, name=f"{self._name}-{role}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.zk_url:
            threading.Thread(target=self._watch_zk, name=f"{self._name}-zk", daemon=True).start()
        self._subscription.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        self._subscription.close()
        for thread in self._threads:
            thread.join(5.0)
        if self._zk is not None:
            self._zk.stop()
            self._zk.close()
        self._http.close()

    # -- the leader --------------------------------------------------------------------------

    def _watch_zk(self) -> None:
        hosts, path = zk.parse_zk_url(self.zk_url)
        while not self._stopping:
            try:
                self._zk = zk.connect(hosts, self._zk_session_timeout, self._zk_session_timeout)
                break
            except zk.StoreUnavailable as err:
                log.warning("ZooKeeper unreachable hosts=%s error=%s", hosts, err.message)
                time.sleep(1.0)
        else:
            return
        zk.watch_masters(self._zk, path, self._masters_changed)

    def _masters_changed(self, infos: list[dict[str, Any]]) -> None:
        """From kazoo's thread: the registered masters, leader first."""
        addresses: list[str] = []
        for info in infos:
            try:
                addresses.append(master_address(info))
            except MasterUnavailable as err:
                log.warning("a registered master has no address error=%s", err)
        leader = parse_endpoint(addresses[0], MASTER_PORT) if addresses else None
        with self._lock:
            moved = leader is not None and leader != self._leader
            self._leader = leader
            if addresses:  # keep the last known masters while there is no leader
                self._masters = addresses
                self._dirty = True
            if moved:
                self._read_wanted = True
            subscribed = self._subscribed_to
            self._wake.notify_all()
        log.info("masters changed leader=%s masters=%s", leader, ",".join(addresses))
        if moved and subscribed is not None and subscribed != leader:
            self._subscription.reconnect()  # its next subscription reads the state again

    def leader(self) -> Endpoint:
        """Where to subscribe and read the state now; MasterUnavailable when nobody leads."""
        if self.zk_url:
            with self._lock:
                leader = self._leader
            if leader is None:
                raise MasterUnavailable(f"no leading master in ZooKeeper at {self.zk_url}")
            return leader
        # Static masters: the next one, in turn (a standby redirects to the leader).
        return parse_endpoint(self._static[next(self._rotation)], MASTER_PORT)

    def masters(self) -> list[str]:
        with self._lock:
            return list(self._masters)

    # -- events ------------------------------------------------------------------------------

    def _new_subscription(self) -> OperatorSubscription:
        return OperatorSubscription(
            self.leader,
            self._on_event,
            backoff=Backoff(initial=0.1, maximum=2.0),
            timeout=self._timeout,
        )

    def _on_event(self, event: JSON) -> None:
        """From the subscription's thread, in the order the master sent them."""
        with self._lock:
            if event["type"] == "SUBSCRIBED":
                # A new stream (a new leader, or the old one after a break): read the state
                # again; every event from here on is kept to be replayed on it.
                self._subscribed_to = self._subscription.endpoint
                if self._replay is None:
                    self._replay = []
                self._read_wanted = True
                self._wake.notify_all()
                return
            if event["type"] == "HEARTBEAT":
                return
            if self._replay is not None:
                self._replay.append(event)
            if self._state is None:
                return
            change = self._state.apply(event)
            if change is Change.RESYNC:
                log.info("an event did not fit the state: reading it again type=%s", event["type"])
                if self._replay is None:
                    self._replay = []
                self._read_wanted = True
            if change is not Change.NONE:
                self._dirty = True
                self._wake.notify_all()

    # -- the state ---------------------------------------------------------------------------

    def _reader(self) -> None:
        """Reads the state when wanted, and every refresh_seconds."""
        next_refresh = time.monotonic() + self._refresh
        while True:
            with self._lock:
                while not self._stopping and not self._read_wanted:
                    left = next_refresh - time.monotonic()
                    if left <= 0:
                        break
                    self._wake.wait(left)
                if self._stopping:
                    return
                self._read_wanted = False
                self._replay = []  # what arrives from now on may be newer than the read
            next_refresh = time.monotonic() + self._refresh
            if self._subscription.error is not None:  # refused for good: start afresh
                log.warning(
                    "subscription ended error=%s: subscribing again", self._subscription.error
                )
                self._subscription.close()
                self._subscription = self._new_subscription()
                self._subscription.start()
            state = self._read_state()
            with self._lock:
                replay, self._replay = self._replay or [], None
                if state is None:
                    # Try again soon (the master may be back), not a whole refresh later.
                    next_refresh = min(next_refresh, time.monotonic() + RETRY_SECONDS)
                    continue
                followed = MasterState(state, self._state)  # keeps the unchanged tasks
                # The parsed state is ≈ 26 MiB at 10,000 tasks: not kept while this thread
                # waits for the next read (the view holds what consumers read of it).
                state = None
                if self._state is not None:
                    carried = followed.carry(self._state, time.monotonic(), CARRY_SECONDS)
                    if carried:
                        log.info("agents not in the state kept agents=%s", ",".join(carried))
                followed.apply_all(replay)
                self._state = followed
                self._dirty = True
                self._wake.notify_all()
            self._check_detection()

    def _read_state(self) -> dict[str, Any] | None:
        """`/master/state` of the leader (or of the first static master that answers)."""
        tries = 1 if self.zk_url else max(1, len(self._static))
        for _ in range(tries):
            try:
                endpoint = self.leader()
            except MasterUnavailable as err:
                log.warning("no master to read the state from error=%s", err)
                break
            try:
                response = self._http.get(
                    f"{endpoint.url}/master/state", timeout=self._state_timeout
                )
                response.raise_for_status()
                state = response.json()
            except (requests.RequestException, ValueError) as err:
                log.warning("reading the state failed master=%s error=%s", endpoint, err)
                continue
            if isinstance(state, dict) and state.get("leader"):
                return state
            log.warning("the state names no leader master=%s", endpoint)
        self._check_detection()
        return None

    def _check_detection(self) -> None:
        """Nothing taken for detection_timeout since the start: give up (systemd restarts)."""
        if self._detection_timeout is None or self.loaded.is_set():
            return
        if time.monotonic() - self._started > self._detection_timeout:
            self._on_fatal(f"no leading master's state within {self._detection_timeout:g}s")

    # -- handing on --------------------------------------------------------------------------

    def _notifier(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and not (self._dirty and self._state is not None):
                    self._wake.wait()
                if self._stopping:
                    return
            time.sleep(self._coalesce)  # let a burst of events land in one snapshot
            with self._lock:
                self._dirty = False
                state = self._state
                if state is None:
                    continue
                changes = state.take_changes()
                if state is not self._handed:  # a new view: changes since a read, not a snapshot
                    changes = None
                snapshot = MasterSnapshot(state.snapshot(), tuple(self._masters), changes)
                self._handed = None  # until this one is taken
            try:
                self._on_state(snapshot)
            except ValueError as err:
                log.warning("the state was refused, keeping the last one error=%s", err)
                continue
            except Exception:  # a bug in the consumer: keep following, log it loudly
                log.exception("handing on the state failed")
                continue
            with self._lock:
                self._handed = state
            self.loaded.set()
