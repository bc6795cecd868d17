"""The ensemble, as pure data: Exhibitor's servers spec, `zoo.cfg`, `myid`, and instance states.

No I/O here. The servers spec is Exhibitor's (`S:1:10.0.0.1,O:4:10.0.0.4`) or DC/OS's static
ensemble form (`1:10.0.0.1,2:10.0.0.2`). Instance state codes are Exhibitor's: 0 latent, 1 down,
2 not serving, 3 serving.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# Exhibitor's instance states (InstanceStateTypes).
LATENT, DOWN, NOT_SERVING, SERVING = 0, 1, 2, 3
DESCRIPTIONS = {LATENT: "latent", DOWN: "down", NOT_SERVING: "not serving", SERVING: "serving"}
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,252})$")
# zoo.cfg keys a servers spec or the daemon's own settings own: zoo_cfg_extra may not set them.
# Dynamic reconfiguration is off: membership changes are Exhibitor's rolling restarts.
RESERVED_KEYS = frozenset(
    {
        "dataDir",
        "dataLogDir",
        "clientPort",
        "clientPortAddress",
        "peerType",
        "dynamicConfigFile",
        "reconfigEnabled",
        "standaloneEnabled",
    }
)
# Exhibitor itself asks these; a whitelist without them would blind it.
NEEDED_WORDS = ("ruok", "srvr")
_EXTRA_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,99}$")
_EXTRA_VALUE = re.compile(r"^[^\r\n\x00]{0,1000}$")


class SpecError(ValueError):
    """A servers spec or a zoo.cfg setting that cannot be used; `problems` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Server:
    server_id: int
    hostname: str
    observer: bool = False

    @property
    def spec(self) -> str:
        return f"{'O' if self.observer else 'S'}:{self.server_id}:{self.hostname}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST.match(host)) and ".." not in host
    return True


def parse_servers_spec(spec: str) -> tuple[Server, ...]:
    """Servers from `S:1:host,O:2:host` or `1:host,2:host`; SpecError lists every bad entry."""
    servers: list[Server] = []
    problems: list[str] = []
    entries = [e.strip() for e in spec.split(",") if e.strip()]
    if not entries:
        raise SpecError(["servers spec is empty"])
    for entry in entries:
        parts = entry.split(":")
        kind = "S"
        if len(parts) == 3:
            kind, sid, host = parts
        elif len(parts) == 2:
            sid, host = parts
        else:
            problems.append(f"{entry!r}: expected S:<id>:<host>, O:<id>:<host> or <id>:<host>")
            continue
        if kind not in ("S", "O"):
            problems.append(f"{entry!r}: type must be S (standard) or O (observer)")
            continue
        if not sid.isdigit() or not 1 <= int(sid) <= 255:
            problems.append(f"{entry!r}: server id must be a number from 1 to 255")
            continue
        if not _valid_host(host):
            problems.append(f"{entry!r}: {host!r} is not a host name or IP address")
            continue
        servers.append(Server(int(sid), host, kind == "O"))
    ids = [s.server_id for s in servers]
    hosts = [s.hostname for s in servers]
    problems += [
        f"server id {i} appears twice" for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    problems += [
        f"host {h} appears twice" for h in sorted({h for h in hosts if hosts.count(h) > 1})
    ]
    if problems:
        raise SpecError(problems)
    return tuple(sorted(servers, key=lambda s: s.server_id))


def servers_spec(servers: tuple[Server, ...]) -> str:
    return ",".join(s.spec for s in servers)


def check_extra(extra: dict[str, str]) -> None:
    """zoo.cfg settings are data, written as `key=value` lines: no newline may smuggle a line in."""
    problems = []
    for key, value in extra.items():
        if not _EXTRA_KEY.match(key):
            problems.append(f"zoo.cfg key {key!r} is not a plain property name")
        elif key in RESERVED_KEYS or key.startswith("server."):
            problems.append(f"zoo.cfg key {key!r} is set by the ensemble, not by zooCfgExtra")
        if not _EXTRA_VALUE.match(str(value)):
            problems.append(f"zoo.cfg value of {key!r} has a line break or NUL, or is too long")
        elif key == "4lw.commands.whitelist" and str(value).strip() != "*":
            allowed = {w.strip() for w in str(value).split(",")}
            missing = [w for w in NEEDED_WORDS if w not in allowed]
            if missing:
                problems.append(f"4lw.commands.whitelist must allow {', '.join(missing)}")
    if problems:
        raise SpecError(problems)


def myid(servers: tuple[Server, ...], hostname: str) -> int | None:
    """This host's server id, or None when it is not in the ensemble."""
    return next((s.server_id for s in servers if s.hostname == hostname), None)


def zoo_cfg(
    servers: tuple[Server, ...],
    hostname: str,
    data_dir: str,
    client_port: int,
    connect_port: int,
    election_port: int,
    extra: dict[str, str],
    client_address: str = "",
) -> str:
    """zoo.cfg as Exhibitor writes it: the extra settings, the client port, one server line each.

    A single server is standalone (no server lines), like Exhibitor with one instance.
    `client_address` (this host's own setting) binds the client port to one address.
    """
    check_extra(extra)
    lines = [f"{k}={v}" for k, v in sorted(extra.items())]
    lines += [f"dataDir={data_dir}", f"clientPort={client_port}"]
    if client_address:
        lines.append(f"clientPortAddress={client_address}")
    if len(servers) > 1:
        for s in servers:
            role = ":observer" if s.observer else ""
            lines.append(f"server.{s.server_id}={s.hostname}:{connect_port}:{election_port}{role}")
        me = next((s for s in servers if s.hostname == hostname), None)
        if me is not None and me.observer:
            lines.append("peerType=observer")
    return "\n".join(lines) + "\n"


def mode_from_srvr(answer: str | None) -> str | None:
    """The `Mode:` a server reports (leader, follower, observer, standalone, read-only), or None
    when it does not answer or is not serving (e.g. during a leader election)."""
    if answer is None:
        return None
    match = re.search(r"^Mode: ([\w-]+)", answer, re.MULTILINE)
    return None if match is None else match.group(1)


def state_from_srvr(answer: str | None) -> tuple[int, bool]:
    """(Exhibitor state code, is leader) from a server's `srvr` answer (None: no answer)."""
    if answer is None:
        return DOWN, False
    mode = mode_from_srvr(answer)
    if mode in ("leader", "follower", "standalone", "observer"):
        return SERVING, mode in ("leader", "standalone")
    return NOT_SERVING, False  # e.g. "This ZooKeeper instance is not currently serving"
