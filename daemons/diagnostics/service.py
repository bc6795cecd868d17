"""The running dcos-diagnostics: this node's units (read at most every `check_interval`) and,
on an aggregating master, every node's report, polled every `poll_interval` by one thread.

A poll finds the nodes (the configured masters; the agents from the leading master's
`/master/slaves`, asked of each master in turn, a standby redirecting to the leader; when no
master answers, the agents of the last poll), then asks each node's `/system/health/v1` at
once, `poll_timeout` each. A node that does not answer is unknown (cluster.unreachable). The
master's own report is read in-process, not over HTTP.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import requests

from daemons.diagnostics import cluster, systemd
from daemons.diagnostics.cluster import NodeReport
from daemons.diagnostics.config import DiagnosticsConfig
from daemons.diagnostics.units import Unit
from daemons.kit.errors import ServiceUnavailable

log = logging.getLogger(__name__)

VERSION = "0.1.0"
# Nodes asked at once during a poll.
POLL_THREADS = 16


class DiagnosticsService:
    def __init__(
        self,
        config: DiagnosticsConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall = wall
        self._hostname = socket.gethostname()
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._units: list[Unit] | None = None
        self._read_at = 0.0
        self._nodes: dict[str, NodeReport] = {}
        self._agents: list[tuple[str, str, str]] = []
        self._leader = ""
        self._updated = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self.config.aggregate:
            self._thread = threading.Thread(target=self._run, name="poll", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.config.poll_timeout * 2 + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a poll that fails is logged; the next one runs on time
                log.exception("poll failed")
            self._stop.wait(self.config.poll_interval)

    # --- this node ------------------------------------------------------------------------

    def local_units(self) -> list[Unit]:
        with self._read_lock:
            now = self._clock()
            if self._units is None or now - self._read_at >= self.config.check_interval:
                try:
                    if self.config.pid_files:
                        self._units = systemd.read_pid_units(self.config.pid_files)
                    else:
                        self._units = systemd.read_units(
                            self.config.unit_prefix, self.config.journal_lines
                        )
                except systemd.SystemdUnavailable as err:
                    raise ServiceUnavailable(f"cannot read this node's units: {err}") from None
                self._read_at = now
            return list(self._units)

    def local_report(self) -> NodeReport:
        return NodeReport(
            self.config.node_ip,
            self.config.role,
            tuple(self.local_units()),
            hostname=self._hostname,
            mesos_id=self._mesos_id(self.config.node_ip),
        )

    def local_json(self) -> dict[str, Any]:
        """`/system/health/v1`."""
        report = self.local_report()
        return {
            "units": [u.full() for u in report.units],
            "hostname": report.hostname,
            "ip": report.ip,
            "dcos_version": self.config.dcos_version,
            "node_role": report.role,
            "mesos_id": report.mesos_id,
            "dcos_diagnostics_version": VERSION,
        }

    def _mesos_id(self, ip: str) -> str:
        with self._lock:
            return next((i for a, _, i in self._agents if a == ip), "")

    # --- the cluster ----------------------------------------------------------------------

    def nodes(self) -> list[NodeReport]:
        """The last poll's reports (this node's own read now); a node that does not
        aggregate answers for itself alone."""
        own = self.local_report()
        if not self.config.aggregate:
            return [own]
        with self._lock:
            others = [n for ip, n in self._nodes.items() if ip != own.ip]
        return [own, *others]

    def leader_and_time(self) -> tuple[str, str]:
        with self._lock:
            return self._leader, self._updated

    def poll(self) -> None:
        agents, leader = self._discover()
        wanted = [(m, "master") for m in self.config.masters if m != self.config.node_ip]
        wanted += [(ip, role) for ip, role, _ in agents if ip not in self.config.masters]
        with self._lock:
            previous = dict(self._nodes)
        with ThreadPoolExecutor(max_workers=POLL_THREADS) as pool:
            reports = list(pool.map(lambda w: self._ask(w[0], w[1], previous.get(w[0])), wanted))
        updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._wall()))
        with self._lock:
            self._nodes = {r.ip: r for r in reports}
            self._agents = agents
            self._leader = leader
            self._updated = updated

    def _ask(self, ip: str, role: str, previous: NodeReport | None) -> NodeReport:
        url = f"http://{ip}:{self.config.node_port}/system/health/v1"
        try:
            answer = self._session.get(url, timeout=self.config.poll_timeout)
            if answer.status_code != 200:
                raise cluster.BadReport(f"HTTP {answer.status_code}")
            report = cluster.report_from_json(ip, role, answer.json())
        except (requests.RequestException, ValueError) as err:
            log.info("node %s: %s", ip, err)
            return cluster.unreachable(ip, role, str(err)[:300], previous)
        return report

    def _discover(self) -> tuple[list[tuple[str, str, str]], str]:
        """The agents and the leading master's address; the last known agents when no master
        answers."""
        for master in self.config.masters:
            url = f"http://{master}:{self.config.master_port}/master/slaves"
            try:
                answer = self._session.get(url, timeout=self.config.poll_timeout)
                if answer.status_code != 200:
                    continue
                agents = cluster.nodes_from_slaves(answer.json())
            except (requests.RequestException, ValueError) as err:
                log.debug("master %s: %s", master, err)
                continue
            return agents, urlsplit(answer.url).hostname or master
        with self._lock:
            return list(self._agents), ""
