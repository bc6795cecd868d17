"""Following the leading master: which master leads, its state, and its operator events.

Three sources, one `MasterState` (`daemons.mesos_dns.state`):
- **the leader**: with `zk`, the masters registered in ZooKeeper (`daemons.kit.zk.watch_masters`:
  the leader and every master, leader first, on every change); with `masters` only, those,
  tried in order (a standby's 307 leads to the leader);
- **the state**: `GET /master/state` of the leader, read whenever a subscription starts (so a
  new stream and a new leader both begin from a fresh state), every `refreshSeconds` as a safety
  net, and when an event cannot be placed (`Change.RESYNC`);
- **the events**: the operator API's `SUBSCRIBE` stream of the leader (`OperatorSubscription`,
  on the Mesos client's reconnecting subscription loop), applied to the state as they come.

Every event received while a state read is in flight is kept and applied again to the state
read, which then replaces the one in use: replaying events the state already shows changes
nothing, so no event is lost between the read and the swap.

Rebuilding: an event or a read that may change records marks the record set dirty; one thread
rebuilds it (`records.generate` over a snapshot of the state, with the masters known now), at
most once per `coalesce` seconds, and hands it to `on_records`. A state or rebuild that fails
leaves the last good records in use: while the master is unreachable they are served as they
were. Before the first good load nothing is handed over (Mesos-DNS serves nothing either); if
no leader is found within `zkDetectionTimeout` of the start, `on_fatal` ends the daemon.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests

from daemons.kit import zk
from daemons.mesos_client.errors import EventParseError, MasterUnavailable, SubscriptionEnded
from daemons.mesos_client.leader import endpoint_from_master_info
from daemons.mesos_client.subscription import Backoff, Subscription
from daemons.mesos_client.transport import Endpoint, parse_endpoint
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import RecordSet, StateError, generate
from daemons.mesos_dns.state import Change, MasterState
from daemons.protocols import JSON
from daemons.protocols.recordio import RecordIOError

log = logging.getLogger(__name__)

MASTER_PORT = 5050
# A stream with no event (heartbeats included) for this many heartbeat intervals is dead.
HEARTBEAT_MISSES = 3
# An agent the last state knew and a new read lacks (with no AGENT_REMOVED) keeps its records
# this long: after a master failover, agents register again with the new leader within seconds
# (their tasks run on meanwhile); one that does not is gone for good long before this.
CARRY_SECONDS = 120.0
# A rebuild slower than this is logged at INFO (others at DEBUG).
SLOW_REBUILD = 0.5
# A failed state read is tried again after this long (the stream's reconnects back off too).
RETRY_SECONDS = 1.0


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


def master_address(info: dict[str, Any]) -> str:
    """A MasterInfo's `ip:port`, as record generation lists masters."""
    endpoint = endpoint_from_master_info(info)
    return str(endpoint)


class Follower:
    """See the module docstring. `start()`, then records arrive at `on_records`; `stop()`."""

    def __init__(
        self,
        config: MesosDnsConfig,
        on_records: Callable[[RecordSet], None],
        *,
        listener_ips: Sequence[str] = (),
        on_fatal: Callable[[str], None] = lambda reason: None,
        clock: Callable[[], float] = time.time,
        coalesce: float = 0.02,
        zk_session_timeout: float = 10.0,
    ) -> None:
        self.config = config
        self._on_records = on_records
        self._listener_ips = tuple(listener_ips)
        self._on_fatal = on_fatal
        self._clock = clock
        self._coalesce = coalesce
        self._zk_session_timeout = zk_session_timeout
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = False
        # Guarded by the lock:
        self._state: MasterState | None = None
        self._replay: list[JSON] | None = None  # events since a state read began
        self._read_wanted = True
        self._dirty = False
        self._masters: list[str] = list(config.masters)  # leader first, when known
        self._leader: Endpoint | None = None
        self._subscribed_to: Endpoint | None = None
        self._serial = 0
        self.loaded = threading.Event()  # the first records were handed over
        self._rotation = itertools.cycle(range(max(1, len(config.masters))))
        self._http = requests.Session()
        self._http.trust_env = False  # loopback and cluster addresses, never through a proxy
        self._zk: Any = None
        self._subscription = self._new_subscription()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._started = time.monotonic()
        for target, name in ((self._reader, "mesos-dns-state"), (self._builder, "mesos-dns-build")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.config.zk:
            threading.Thread(target=self._watch_zk, name="mesos-dns-zk", daemon=True).start()
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
        hosts, path = zk.parse_zk_url(self.config.zk)
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
        if self.config.zk:
            with self._lock:
                leader = self._leader
            if leader is None:
                raise MasterUnavailable(f"no leading master in ZooKeeper at {self.config.zk}")
            return leader
        # Static masters: the next one, in turn (a standby redirects to the leader).
        return parse_endpoint(self.config.masters[next(self._rotation)], MASTER_PORT)

    def masters(self) -> list[str]:
        with self._lock:
            return list(self._masters)

    # -- events ------------------------------------------------------------------------------

    def _new_subscription(self) -> OperatorSubscription:
        return OperatorSubscription(
            self.leader,
            self._on_event,
            backoff=Backoff(initial=0.1, maximum=2.0),
            timeout=float(self.config.timeout),
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
        """Reads the state when wanted, and every refreshSeconds."""
        refresh = float(self.config.refresh_seconds)
        next_refresh = time.monotonic() + refresh
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
            next_refresh = time.monotonic() + refresh
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
                followed = MasterState(state)
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
        tries = 1 if self.config.zk else max(1, len(self.config.masters))
        for _ in range(tries):
            try:
                endpoint = self.leader()
            except MasterUnavailable as err:
                log.warning("no master to read the state from error=%s", err)
                break
            try:
                response = self._http.get(
                    f"{endpoint.url}/master/state",
                    timeout=float(self.config.state_timeout_seconds),
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
        """No records yet and nothing found for zkDetectionTimeout: give up (systemd restarts)."""
        waited = time.monotonic() - self._started
        if (
            self.config.zk
            and not self.loaded.is_set()
            and waited > self.config.zk_detection_timeout
        ):
            self._on_fatal(f"no leading master's state within {self.config.zk_detection_timeout}s")

    # -- the records -------------------------------------------------------------------------

    def _builder(self) -> None:
        previous: RecordSet | None = None  # the last records generated: the next starts from them
        while True:
            with self._lock:
                while not self._stopping and not (self._dirty and self._state is not None):
                    self._wake.wait()
                if self._stopping:
                    return
            time.sleep(self._coalesce)  # let a burst of events land in one rebuild
            with self._lock:
                self._dirty = False
                state = self._state
                snapshot = state.snapshot() if state is not None else None
                masters = list(self._masters)
                self._serial = max(int(self._clock()), self._serial + 1)
                serial = self._serial
            if snapshot is None:
                continue
            started = time.monotonic()
            try:
                records = generate(
                    snapshot,
                    self.config,
                    masters,
                    serial=serial,
                    listener_ips=self._listener_ips,
                    previous=previous,
                )
            except StateError as err:
                log.warning("the state gave no records, keeping the last ones error=%s", err)
                continue
            previous = records
            generated = time.monotonic()
            try:
                self._on_records(records)
            except Exception:  # a bug in the consumer: keep following, log it loudly
                log.exception("installing records failed")
                continue
            done = time.monotonic()
            log.log(
                logging.INFO if done - started > SLOW_REBUILD else logging.DEBUG,
                "records rebuilt serial=%s names=%s generate_s=%.3f install_s=%.3f",
                serial,
                len(records.a) + len(records.aaaa) + len(records.srv),
                generated - started,
                done - generated,
            )
            self.loaded.set()
