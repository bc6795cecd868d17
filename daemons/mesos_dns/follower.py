"""Mesos-DNS's part of following the leading master: each snapshot of the leader's state
(`daemons.mesos_client.master_follower`: the leader from ZooKeeper or the static masters, the
state read, the operator events applied, coalesced) made into records (`records.generate`, with
the masters known now) and handed to `on_records`.

The shared follower hands a snapshot at most once per `coalesce` seconds after an event or a
read that may change records. A state that makes no records (`records.StateError`), or records
the consumer fails to install, leave the last good records in use: while the master is
unreachable they are served as they were. Before the first good load nothing is handed over
(Mesos-DNS serves nothing either); with `zk`, if no leader's state is loaded within
`zkDetectionTimeout` of the start, `on_fatal` ends the daemon.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from daemons.mesos_client.master_follower import MasterFollower, MasterSnapshot
from daemons.mesos_client.transport import Endpoint
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import RecordSet, generate

log = logging.getLogger(__name__)

# A rebuild slower than this is logged at INFO (others at DEBUG).
SLOW_REBUILD = 0.5


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
        self._clock = clock
        self._serial = 0  # only the follower's hand-on thread rebuilds
        self._records: RecordSet | None = None  # the last generated: the next starts from it
        self.master = MasterFollower(
            self._rebuild,
            zk_url=config.zk,
            masters=config.masters,
            refresh_seconds=float(config.refresh_seconds),
            timeout=float(config.timeout),
            state_timeout=float(config.state_timeout_seconds),
            coalesce=coalesce,
            zk_session_timeout=zk_session_timeout,
            detection_timeout=float(config.zk_detection_timeout) if config.zk else None,
            on_fatal=on_fatal,
            name="mesos-dns",
        )

    @property
    def loaded(self) -> threading.Event:
        """Set once the first records were handed over."""
        return self.master.loaded

    def start(self) -> None:
        self.master.start()

    def stop(self) -> None:
        self.master.stop()

    def leader(self) -> Endpoint:
        return self.master.leader()

    def masters(self) -> list[str]:
        return self.master.masters()

    def _rebuild(self, snapshot: MasterSnapshot) -> None:
        """From the follower's thread: records of the snapshot, handed over. StateError (a
        ValueError: the follower keeps the last records) for a state that makes none."""
        self._serial = max(int(self._clock()), self._serial + 1)
        started = time.monotonic()
        records = generate(
            snapshot.state,
            self.config,
            list(snapshot.masters),
            serial=self._serial,
            listener_ips=self._listener_ips,
            previous=self._records,
        )
        self._records = records
        generated = time.monotonic()
        self._on_records(records)
        done = time.monotonic()
        log.log(
            logging.INFO if done - started > SLOW_REBUILD else logging.DEBUG,
            "records rebuilt serial=%s names=%s generate_s=%.3f install_s=%.3f",
            self._serial,
            len(records.a) + len(records.aaaa) + len(records.srv),
            generated - started,
            done - generated,
        )
