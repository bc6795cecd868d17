"""The loop every Exhibitor runs: read the shared config, run what it says, move a roll on.

Each tick (every `config_check_ms`): read the store (seeding it when empty); make ZooKeeper run
`rolling.target` for this host; ask `srvr` of every server the config or the roll names; let
`rolling.decide` say what changes; write that back with compare-and-set. Losing the race is
fine: the next tick reads the winner's document. All the judgement is in `exhibitor.rolling`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from daemons.kit.errors import StoreUnavailable
from exhibitor import ensemble, fourletter, rolling
from exhibitor.config import ExhibitorConfig
from exhibitor.stores import ConfigStore, read_or_seed
from exhibitor.supervisor import ZooKeeperSupervisor

log = logging.getLogger(__name__)
Ask = Callable[[str, int, str], "str | None"]


def observe(answer: str | None) -> str | None:
    """A host's mode for the planner: None when it does not answer at all."""
    if answer is None:
        return None
    return ensemble.mode_from_srvr(answer) or rolling.NOT_SERVING


def hosts_of(shared: rolling.Shared) -> set[str]:
    hosts = set(shared.config.hosts)
    if shared.roll is not None:
        hosts |= set(shared.roll.before.hosts) | set(shared.roll.after.hosts)
    return hosts


class ConfigActivity:
    def __init__(
        self,
        config: ExhibitorConfig,
        store: ConfigStore,
        supervisor: ZooKeeperSupervisor,
        ask: Ask = lambda h, p, w: fourletter.ask(h, p, w, 1.0),
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.config = config
        self.store = store
        self.supervisor = supervisor
        self._ask = ask
        self._clock_ms = clock_ms
        self._stopping = threading.Event()

    def tick(self) -> None:
        found = read_or_seed(self.store, self.config.properties)
        shared = found.shared
        me = self.config.hostname
        self.supervisor.apply(rolling.target(shared, me))
        port = shared.config.client_port  # a roll never changes ports
        observed = {h: observe(self._ask(h, port, "srvr")) for h in sorted(hosts_of(shared))}
        changed = rolling.decide(
            shared,
            observed,
            me,
            self.supervisor.applied,
            self._clock_ms(),
            self.config.roll_timeout_ms,
        )
        if changed is None:
            return
        if self.store.write(changed, found.version):
            in_progress, text, _ = rolling.status(changed)
            log.info("roll %s", text if in_progress else f"ended: {text}")
        else:
            log.info("roll update lost to another Exhibitor version=%d", found.version)

    def run(self) -> threading.Thread:
        period = self.config.config_check_ms / 1000.0

        def loop() -> None:
            while not self._stopping.wait(period):
                try:
                    self.tick()
                except StoreUnavailable as err:
                    log.warning("shared config unavailable: %s", err.message)
                except Exception:  # one bad tick must not end supervision
                    log.exception("config activity failed")

        thread = threading.Thread(target=loop, name="exhibitor-activity", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stopping.set()
