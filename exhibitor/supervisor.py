"""Running ZooKeeper as Exhibitor does: write its config, start the JVM, restart it when it dies.

`ZooKeeperSupervisor` owns one child process, Debian's ZooKeeper (`QuorumPeerMain`), started with
an argv list (config values are data and never reach a shell). `apply(props)` makes the child run
`props` (the config the shared store says this host runs now): nothing when zoo.cfg would not
change, a restart when it would, a stop when this host is not a server. `write_config()` renders
zoo.cfg and myid; `check()` restarts the child when it has exited (Exhibitor's "restarts" switch)
and otherwise asks it `ruok`. The process starter comes in as an argument so that tests can drive
it without a JVM.

A member of a multi-server ensemble is never restarted with a one-server (standalone) zoo.cfg.
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
from exhibitor.properties import Properties, render

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
        props = config.properties
        self._target: Properties | None = props if props.server(config.hostname) else None
        self._running: str | None = None  # the zoo.cfg the child was started with
        self._ensemble_size = 0  # servers in the last config this host ran

    @property
    def zoo_cfg_path(self) -> Path:
        return Path(self.config.conf_dir) / "zoo.cfg"

    @property
    def target(self) -> Properties | None:
        return self._target

    def _render(self, props: Properties) -> str | None:
        return render(
            props, self.config.hostname, self.config.data_dir, self.config.client_port_address
        )

    def write_config(self) -> None:
        """zoo.cfg in conf_dir and myid in data_dir, each replaced atomically."""
        props = self._target
        text = None if props is None else self._render(props)
        if props is None or text is None:
            raise ValueError(f"{self.config.hostname} is not a server of the ensemble")
        _write_atomic(self.zoo_cfg_path, text)
        servers = props.servers
        server_id = ensemble.myid(servers, self.config.hostname)
        myid = Path(self.config.data_dir) / "myid"
        if server_id is None or len(servers) == 1:
            myid.unlink(missing_ok=True)  # standalone, as Exhibitor does
        else:
            _write_atomic(myid, f"{server_id}\n")

    def apply(self, props: Properties | None) -> bool:
        """Run `props` (None: run nothing); True when ZooKeeper was (re)started or stopped."""
        if self._stopping.is_set():
            return False
        with self._lock:
            if props is not None and props.server(self.config.hostname) is None:
                props = None
            if props is not None and len(props.servers) == 1 and self._ensemble_size > 1:
                log.error(
                    "refusing a standalone zoo.cfg on a member of a %d-server ensemble",
                    self._ensemble_size,
                )
                return False
            alive = self._child is not None and self._child.poll() is None
            text = None if props is None else self._render(props)
            self._target = props
            if alive and text == self._running:
                return False
            if not alive and props is None:
                return False
            self._stop_child()
            if props is None:
                log.info("zookeeper stopped: this host is not a server of the ensemble")
                return True
            self._start_locked()
            log.info("zookeeper restarted for servers=%s", props.servers_spec)
            return True

    @property
    def applied(self) -> bool:
        """ZooKeeper runs (was started with) the target config."""
        props = self._target
        return props is not None and self.pid is not None and self._running == self._render(props)

    @property
    def pid(self) -> int | None:
        child = self._child
        return None if child is None or child.poll() is not None else child.pid

    def start(self) -> int | None:
        """Start ZooKeeper with the target config (None: this host is no server)."""
        with self._lock:
            running = self.pid
            if running is not None or self._target is None:
                return running
            return self._start_locked()

    def _start_locked(self) -> int:
        self.write_config()
        props = self._target
        assert props is not None  # write_config checked it
        self._running = self._render(props)
        self._ensemble_size = len(props.servers)
        argv = zookeeper_argv(self._java, self.zoo_cfg_path, heap=self.config.zookeeper_heap)
        self._child = self._starter(argv)
        log.info("zookeeper started pid=%d", self._child.pid)
        return self._child.pid

    def _stop_child(self, grace: float = 10.0) -> None:
        child, self._child = self._child, None
        self._running = None
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)

    def check(self) -> bool:
        """Restart ZooKeeper if it exited; True when it answers `ruok`."""
        if self._stopping.is_set():
            return False
        with self._lock:
            child = self._child
            exited = child is not None and child.poll() is not None
            if self._target is None:
                return False
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
            self._stop_child(grace)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    tmp.write_text(text)
    os.replace(tmp, path)
