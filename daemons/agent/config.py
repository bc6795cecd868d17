"""The agent's configuration (`/etc/dcos/mesos-agent.toml`), as a frozen dataclass.

Also the agent's view of its machine: resources detected when none are configured (Mesos'
defaults, adjusted as DC/OS does) and attributes parsed from `rack:a;zone:b` text.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from daemons.kit.zk import parse_zk_url
from daemons.protocols import JSON
from daemons.protocols import resources as res
from daemons.protocols.models import AttributeValue

MIB = 1024 * 1024
DEFAULT_PORTS = "[31000-32000]"
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$")
_CGROUP_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class AgentConfig:
    # zk://host:port[,host:port]/mesos (leader detection) or host:port (one master).
    master: str
    ip: str = "127.0.0.1"
    port: int = 5051
    hostname: str = ""  # empty: the ip, as DC/OS advertises agents
    work_dir: str = "/var/lib/dcos/agent"
    # Mesos text form `cpus:2;mem:1024;ports:[31000-32000]`; empty: detected from the machine.
    resources: str = ""
    attributes: str = ""  # `rack:a;zone:b`
    agent_type: str = "private"  # "public" adds the attribute public_ip:true
    task_user: str = "nobody"
    # false: every task runs as task_user; true: as CommandInfo.user or FrameworkInfo.user.
    allow_framework_user: bool = False
    isolation: bool = True
    cgroups_root: str = "pydcos"
    cfs_enabled: bool = True
    cfs_period_us: int = 100_000
    pids_max: int = 1024  # 0: no pids limit
    executor_registration_timeout: float = 60.0
    # After a restart, how long recovered executors have to re-subscribe (DC/OS: 10 s).
    executor_reregistration_timeout: float = 10.0
    executor_shutdown_grace_period: float = 5.0
    # Mesos' --recover: "reconnect" re-attaches the executors of the previous run, and refuses
    # to start when its checkpoints cannot be read; "cleanup" starts afresh (every container of
    # the previous run is destroyed, a new agent id): for one start, then back to reconnect.
    recover: str = "reconnect"
    recovery_timeout: float = 900.0
    # Idle interval of executor streams; also the master watchdog until SUBSCRIBED says otherwise.
    heartbeat_interval: float = 15.0
    registration_backoff_max: float = 10.0
    # Status update retries: first after `initial`, doubling up to `max` (Mesos: 10 s, 10 min).
    status_update_retry_initial: float = 10.0
    status_update_retry_max: float = 600.0
    zk_session_timeout: float = 10.0
    # Interpreter (any Python 3.11, stdlib only, readable by task users) and scripts of the
    # built-in command and default (task group) executors; empty means the one shipped with the
    # agent.
    executor_python: str = "/usr/bin/python3"
    # Where the built-in executors are copied to, readable by the task user (see
    # builtin_executors.py); ignored when both executors below are set.
    libexec_dir: str = "/var/lib/dcos/libexec"
    command_executor: str = ""
    default_executor: str = ""
    # How containers start (isolation on): "exec" (an interpreter per executor, launched by
    # util-linux unshare) or "fork_server" (a per-agent fork server forks the built-in command
    # executor warm -- unless command_executor is set -- and execs anything else itself;
    # containerizer/fork_server.py).
    executor_launch: str = "exec"
    max_completed_executors_per_framework: int = 150
    max_body_bytes: int = 4 * 1024 * 1024
    threads: int = 1100
    log_level: str = "INFO"

    def validate(self) -> list[str]:
        problems: list[str] = []
        problems.extend(_master_problems(self.master))
        try:
            ipaddress.IPv4Address(self.ip)
        except ValueError:
            problems.append(f"ip: {self.ip!r} is not an IPv4 address")
        if not 0 < self.port < 65536:
            problems.append("port: must be between 1 and 65535")
        if not os.path.isabs(self.work_dir):
            problems.append("work_dir: must be an absolute path")
        if self.agent_type not in ("private", "public"):
            problems.append("agent_type: must be 'private' or 'public'")
        if self.recover not in ("reconnect", "cleanup"):
            problems.append("recover: must be 'reconnect' or 'cleanup'")
        if self.executor_launch not in ("exec", "fork_server"):
            problems.append("executor_launch: must be 'exec' or 'fork_server'")
        try:
            res.parse_text(self.resources)
        except ValueError as err:
            problems.append(f"resources: {err}")
        try:
            parse_attributes(self.attributes)
        except ValueError as err:
            problems.append(f"attributes: {err}")
        if not self.task_user:
            problems.append("task_user: must not be empty")
        if not _CGROUP_NAME.match(self.cgroups_root) or self.cgroups_root in (".", ".."):
            problems.append("cgroups_root: a plain name of letters, digits, '_', '.', '-'")
        for name in (
            "executor_registration_timeout",
            "executor_reregistration_timeout",
            "recovery_timeout",
            "heartbeat_interval",
            "registration_backoff_max",
            "status_update_retry_initial",
            "status_update_retry_max",
            "zk_session_timeout",
        ):
            if getattr(self, name) <= 0:
                problems.append(f"{name}: must be positive")
        if self.executor_shutdown_grace_period < 0:
            problems.append("executor_shutdown_grace_period: must not be negative")
        if self.status_update_retry_max < self.status_update_retry_initial:
            problems.append("status_update_retry_max: must be at least status_update_retry_initial")
        if self.pids_max < 0:
            problems.append("pids_max: must not be negative")
        if self.threads < 8:
            problems.append("threads: must be at least 8")
        return problems

    @property
    def advertised_hostname(self) -> str:
        return self.hostname or self.ip

    @property
    def endpoint(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def pid(self) -> str:
        return f"slave(1)@{self.ip}:{self.port}"


def _master_problems(master: str) -> list[str]:
    if master.startswith("zk://"):
        try:
            parse_zk_url(master)
        except ValueError as err:
            return [f"master: {err}"]
        return []
    if not _HOST_PORT.match(master) or not 0 < int(master.rsplit(":", 1)[1]) < 65536:
        return [f"master: expected zk://host:port/path or host:port, got {master!r}"]
    return []


# --- machine resources ---------------------------------------------------------------------


def mem_total_mb(meminfo: str) -> float:
    """MemTotal from /proc/meminfo text, in MB."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024.0
    raise ValueError("MemTotal missing from /proc/meminfo")


def default_resources_text(cpus: int, mem_mb: float, disk_mb: float) -> str:
    """Mesos-style defaults: all CPUs; memory less 1 GiB (at least half kept); disk less 10 %."""
    mem = max(mem_mb - 1024.0, mem_mb / 2.0)
    disk = disk_mb * 0.9
    return f"cpus:{cpus};mem:{int(mem)};disk:{int(disk)};ports:{DEFAULT_PORTS}"


def detect_resources(work_dir: str) -> str:
    """The machine's resources in text form (reads /proc/meminfo and statvfs of work_dir)."""
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem = mem_total_mb(handle.read())
    probe = work_dir
    while not os.path.exists(probe):
        probe = os.path.dirname(probe) or "/"
    fs = os.statvfs(probe)
    disk = fs.f_blocks * fs.f_frsize / MIB
    return default_resources_text(os.cpu_count() or 1, mem, disk)


def total_resources(config: AgentConfig) -> dict[str, res.Resources]:
    """Role -> resources: the configured text, with anything not given filled by detection."""
    configured = res.parse_text(config.resources)
    detected = res.parse_text(detect_resources(config.work_dir))
    named = {n for r in configured.values() for n in (*r.scalars, *r.ranges, *r.sets)}
    missing = res.flatten(detected)
    fill = res.Resources.of(
        {k: v for k, v in missing.scalars.items() if k not in named},
        {k: v for k, v in missing.ranges.items() if k not in named},
    )
    out = dict(configured)
    out[res.UNRESERVED] = out.get(res.UNRESERVED, res.EMPTY) + fill
    return out


# --- attributes ---------------------------------------------------------------------------

_SCALAR = re.compile(r"^-?\d+(\.\d+)?$")
_RANGES = re.compile(r"^\[(\s*\d+\s*-\s*\d+\s*)(,\s*\d+\s*-\s*\d+\s*)*\]$")


def parse_attributes(text: str) -> dict[str, AttributeValue]:
    """`rack:a;zone:b;level:3;ids:[1-5]` -> name -> value, typed as Mesos types them: TEXT (a
    string), SCALAR (a number) or RANGES (`((1, 5),)`)."""
    out: dict[str, AttributeValue] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValueError(f"malformed attribute {part!r}; expected name:value")
        if _SCALAR.match(value):
            out[name] = float(value)
        elif _RANGES.match(value):
            ranges = []
            for piece in value[1:-1].split(","):
                begin, _, end = piece.partition("-")
                ranges.append((int(begin), int(end)))
            out[name] = tuple(ranges)
        else:
            out[name] = value
    return out


def agent_attributes(config: AgentConfig) -> dict[str, AttributeValue]:
    attributes = parse_attributes(config.attributes)
    if config.agent_type == "public":
        attributes.setdefault("public_ip", "true")
    return attributes


def attributes_state_map(attributes: Mapping[str, AttributeValue]) -> JSON:
    """`/state` form: name -> value (text, number or `[1-5]` string)."""
    out: JSON = {}
    for name, value in attributes.items():
        if isinstance(value, tuple):
            out[name] = "[" + ", ".join(f"{begin}-{end}" for begin, end in value) + "]"
        elif isinstance(value, frozenset):
            out[name] = "{" + ",".join(sorted(value)) + "}"
        else:
            out[name] = value
    return out
