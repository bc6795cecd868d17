"""This node's components, read from systemd (systemctl, journalctl) or from pid files.

`systemctl` is asked three questions per reading: the `dcos-*` units it has loaded
(transient ones included), the `dcos-*` unit files (installed units not loaded at the
moment), and the properties of all of them in one `show`. Each unhealthy unit adds one
`journalctl` for its excerpt. systemctl talks to systemd over its private socket when run as
root, so no D-Bus daemon is needed on the node.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping

from daemons.diagnostics import units
from daemons.diagnostics.units import Unit

log = logging.getLogger(__name__)

TIMEOUT = 10.0


class SystemdUnavailable(Exception):
    pass


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=TIMEOUT, check=False, errors="replace"
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SystemdUnavailable(f"{argv[0]}: {err}") from None
    if done.returncode != 0 and not done.stdout:
        raise SystemdUnavailable(f"{' '.join(argv[:2])}: {done.stderr.strip()[:500]}")
    return done.stdout


def journal(unit: str, lines: int) -> str:
    if lines <= 0:
        return ""
    try:
        return _run(
            ["journalctl", "--no-pager", "-q", "-o", "short-iso", "-n", str(lines), "-u", unit]
        )
    except SystemdUnavailable as err:
        return f"(no journal: {err})"


def read_units(prefix: str, journal_lines: int) -> list[Unit]:
    glob = f"{prefix}*"
    loaded = _run(["systemctl", "list-units", "--all", "--plain", "--no-legend", "--full", glob])
    files = _run(["systemctl", "list-unit-files", "--no-legend", "--full", glob])
    names = sorted(set(units.unit_names(loaded, prefix)) | set(units.unit_names(files, prefix)))
    if not names:
        return []
    shown = _run(["systemctl", "show", "-p", ",".join(units.PROPERTIES), "--", *names])
    blocks = units.parse_show(shown)
    journals = {
        b["Id"]: journal(b["Id"], journal_lines)
        for b in blocks
        if b.get("Id") and units.is_component(b) and units.judge(b)[0] != units.HEALTHY
    }
    return units.units_of(blocks, journals)


def _pid(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is no component.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def read_pid_units(pid_files: Mapping[str, str]) -> list[Unit]:
    found = []
    for unit_id, path in sorted(pid_files.items()):
        pid = _pid(path)
        found.append(units.pid_unit(unit_id, path, pid, pid is not None and _alive(pid)))
    return found
