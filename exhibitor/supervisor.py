"""Running ZooKeeper as Exhibitor does: write its config, start the JVM, restart it when it dies.

`ZooKeeperSupervisor` owns one child process, Debian's ZooKeeper (`QuorumPeerMain`), started with
an argv list (config values are data and never reach a shell). `write_config()` renders zoo.cfg
and myid from the ensemble; `check()` restarts the child when it has exited (Exhibitor's
"restarts" switch) and otherwise asks it `ruok`. The clock and the process starter come in as
arguments so that tests can drive it without waiting.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from exhibitor import ensemble, fourletter
from exhibitor.config import ExhibitorConfig

log = logging.getLogger(__name__)

# Debian's zookeeper package: log4j.properties (logs to the console) and the jars.
CONF_DIR = Path("/etc/zookeeper/conf")
JARS = (
    Path("/usr/share/java/zookeeper.jar"),
    # slf4j -> log4j 1.2, configured by log4j.properties in CONF_DIR (both are deps of the package).
    Path("/usr/share/java/slf4j-log4j12.jar"),
    Path("/usr/share/java/log4j-1.2.jar"),
)
MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
Starter = Callable[[Sequence[str]], "subprocess.Popen[bytes]"]


def zookeeper_argv(
    java: str,
    zoo_cfg: Path,
    *,
    classpath: str | None = None,
    main_class: str = MAIN_CLASS,
    log_dir: Path | None = None,
    heap: str = "256m",
) -> list[str]:
    """The JVM's argv for Debian's ZooKeeper (also tools.zookeeper's, for tests)."""
    argv = [java, "-Xms32m", f"-Xmx{heap}", "-XX:+UseSerialGC"]
    if log_dir is not None:
        argv.append(f"-Dzookeeper.log.dir={log_dir}")
    return [
        *argv,
        "-Dzookeeper.root.logger=INFO,CONSOLE",
        "-Dzookeeper.admin.enableServer=false",
        "-cp",
        classpath or ":".join([str(CONF_DIR), *(str(j) for j in JARS)]),
        main_class,
        str(zoo_cfg),
    ]


def _start(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL)


class ZooKeeperSupervisor:
    def __init__(
        self,
        config: ExhibitorConfig,
        starter: Starter = _start,
        ask: Callable[[str, int, str], str | None] = fourletter.ask,
        java: str | None = None,
    ) -> None:
        self.config = config
        self._starter = starter
        self._ask = ask
        self._java = java or shutil.which("java") or "/usr/bin/java"
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.restarts = 0

    @property
    def zoo_cfg_path(self) -> Path:
        return Path(self.config.conf_dir) / "zoo.cfg"

    def write_config(self) -> None:
        """zoo.cfg in conf_dir and myid in data_dir, each replaced atomically."""
        servers = self.config.servers
        text = ensemble.zoo_cfg(
            servers,
            self.config.hostname,
            self.config.data_dir,
            self.config.client_port,
            self.config.connect_port,
            self.config.election_port,
            {str(k): str(v) for k, v in self.config.zoo_cfg_extra.items()},
        )
        _write_atomic(self.zoo_cfg_path, text)
        server_id = ensemble.myid(servers, self.config.hostname)
        myid = Path(self.config.data_dir) / "myid"
        if server_id is None or len(servers) == 1:
            myid.unlink(missing_ok=True)  # standalone, as Exhibitor does
        else:
            _write_atomic(myid, f"{server_id}\n")

    @property
    def pid(self) -> int | None:
        child = self._child
        return None if child is None or child.poll() is not None else child.pid

    def start(self) -> int:
        with self._lock:
            running = self.pid
            if running is not None:
                return running
            self.write_config()
            self._child = self._starter(zookeeper_argv(self._java, self.zoo_cfg_path))
            log.info("zookeeper started pid=%d", self._child.pid)
            return self._child.pid

    def check(self) -> bool:
        """Restart ZooKeeper if it exited; True when it answers `ruok`."""
        if self._stopping.is_set():
            return False
        with self._lock:
            child = self._child
            exited = child is not None and child.poll() is not None
        if child is None or exited:
            if exited and child is not None:
                log.warning("zookeeper exited status=%s; restarting", child.returncode)
                self.restarts += 1
            self.start()
            return False
        return self._ask(self.config.hostname, self.config.client_port, "ruok") == "imok"

    def run(self, interval: float | None = None) -> threading.Thread:
        """Check every `interval` seconds (check_ms by default) on a daemon thread."""
        period = interval if interval is not None else self.config.check_ms / 1000.0

        def loop() -> None:
            while not self._stopping.wait(period):
                try:
                    self.check()
                except Exception:  # a failed check must not end supervision
                    log.exception("zookeeper check failed")

        thread = threading.Thread(target=loop, name="zk-supervisor", daemon=True)
        thread.start()
        return thread

    def stop(self, grace: float = 10.0) -> None:
        self._stopping.set()
        with self._lock:
            child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    tmp.write_text(text)
    os.replace(tmp, path)
