"""The running Metronome: leadership and the FrameworkID through the shared FrameworkDaemon,
state loaded from ZooKeeper when elected, the scheduler on its events, and the cron loop.

The wall clock, random ids and threads live here (and in `cron`), nowhere in the cores.
"""

from __future__ import annotations

import logging
import secrets
import string
import time
import uuid
from collections.abc import Callable
from typing import Any

from daemons.frameworks.daemon import FrameworkDaemon, framework_info
from daemons.kit.zk import parse_zk_url
from daemons.metronome.config import MetronomeConfig
from daemons.metronome.cron import CronLoop
from daemons.metronome.metronome import Metronome
from daemons.metronome.scheduler import JobScheduler
from daemons.metronome.store import JobStore

log = logging.getLogger(__name__)

RUN_ID_ALPHABET = string.ascii_uppercase + string.digits


def run_suffix() -> str:
    """The random part of a run id: 5 alphanumerics, as Metronome's `20160715130259A34HX`."""
    return "".join(secrets.choice(RUN_ID_ALPHABET) for _ in range(5))


class MetronomeService:
    def __init__(self, config: MetronomeConfig, on_fatal: Callable[[str], None]) -> None:
        self.config = config
        self._on_fatal = on_fatal
        self.metronome = Metronome(
            clock=time.time,
            run_suffix=run_suffix,
            history_limit=config.history_limit,
            max_node_size=config.zk_max_node_size,
        )
        _, self.zk_path = parse_zk_url(config.zk)
        self.daemon = FrameworkDaemon(
            zk_url=config.zk,
            advertised=config.advertised,
            master=config.master,
            framework_info=framework_info(
                config.framework_name,
                user=config.mesos_user,
                role=config.mesos_role,
                failover_timeout=config.failover_timeout,
                hostname=config.advertised.rpartition(":")[0],
                webui_url=f"http://{config.advertised}",
            ),
            session_timeout=config.zk_session_timeout,
            on_fatal=on_fatal,
        )
        self.scheduler = JobScheduler(
            self.metronome,
            lambda: self.daemon.client,
            clock=time.time,
            task_suffix=lambda: uuid.uuid4().hex,
            role=config.mesos_role,
        )
        self.metronome.kill = self.scheduler.kill
        self.metronome.wake = self.scheduler.revive
        self.daemon.on_elected = self._elected
        self.daemon.has_instances = self.metronome.has_active_runs
        self.daemon.on_subscribed = self.scheduler.subscribed
        self.daemon.on_event = self.scheduler.handle
        self.cron = CronLoop(
            self.metronome,
            self.scheduler,
            lambda: self.daemon.is_leader,
            interval=config.tick_interval,
            reconciliation_interval=config.reconciliation_interval,
        )

    def _elected(self, zk_client: Any) -> None:
        # A write after a newer leader took the state ends this process (it restarts as a
        # standby): the store calls `on_fatal` before it raises `Fenced`.
        self.metronome.load(JobStore(zk_client, self.zk_path, on_fenced=self._on_fatal))

    def start(self) -> None:
        self.daemon.start()
        self.cron.start()

    def stop(self) -> None:
        self.cron.stop()
        self.daemon.stop()
