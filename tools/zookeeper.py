"""Running Debian's real ZooKeeper (3.8) standalone on loopback, for tests and the local cluster.

The command is the one Debian's `zkServer.sh` builds: `java -cp <conf dir>:zookeeper.jar` (the jar's
manifest names its dependencies under /usr/share/java) plus the log4j binding so that the server
logs to stdout, with `ZooKeeperServerMain` on a generated `zoo.cfg`. The admin server (Jetty on
8080) is disabled and every four-letter word is allowed so that `ruok`/`mntr` work.

This module only builds configs and commands and speaks `ruok`; the caller owns the process.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from exhibitor import fourletter
from exhibitor.supervisor import CONF_DIR, JARS, zookeeper_argv

MAIN_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain"


class ZooKeeperMissing(RuntimeError):
    """Debian's zookeeper package (or a JRE) is not installed."""


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise ZooKeeperMissing("java not found: apt-get install zookeeper (it pulls a JRE)")
    return found


def classpath() -> str:
    if not JARS[0].exists():
        raise ZooKeeperMissing(f"{JARS[0]} not found: apt-get install zookeeper")
    parts = [str(CONF_DIR)] if CONF_DIR.is_dir() else []
    parts += [str(jar) for jar in JARS if jar.exists()]
    return ":".join(parts)


def write_config(state_dir: Path, port: int, host: str = "127.0.0.1") -> Path:
    """Write `zoo.cfg` for a standalone server with its data under `state_dir/data`."""
    data_dir = state_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = state_dir / "zoo.cfg"
    config.write_text(
        "\n".join(
            [
                "tickTime=2000",
                f"dataDir={data_dir}",
                f"clientPort={port}",
                f"clientPortAddress={host}",
                "maxClientCnxns=0",
                "admin.enableServer=false",
                "4lw.commands.whitelist=*",
                # Keep the data dir small across long test runs.
                "autopurge.snapRetainCount=3",
                "autopurge.purgeInterval=1",
                "",
            ]
        )
    )
    return config


def command(config: Path, log_dir: Path) -> list[str]:
    return zookeeper_argv(
        java(), config, classpath=classpath(), main_class=MAIN_CLASS, log_dir=log_dir
    )


def four_letter_word(host: str, port: int, word: str, timeout: float = 1.0) -> str:
    """Send a four-letter command and return the whole answer ("" when nothing answers)."""
    return fourletter.ask(host, port, word, timeout) or ""


def is_ok(host: str, port: int) -> bool:
    return four_letter_word(host, port, "ruok") == "imok"


def wait_ok(host: str, port: int, timeout: float, pid: int | None = None) -> bool:
    """Poll `ruok` until `imok`; give up early if process `pid` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ok(host, port):
            return True
        if pid is not None and not pid_alive(pid):
            return False
        time.sleep(0.1)
    return False


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may contain spaces.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def env() -> dict[str, str]:
    """The environment for the server: ours, minus anything that changes Java's behaviour."""
    out = dict(os.environ)
    for key in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH"):
        out.pop(key, None)
    return out
