"""Resource numbers -> cgroup values. Pure: no files, no clock.

The formulas are Mesos' cgroups isolators' (cpu: `cpu.shares = 1024 * cpus` with a floor of 2 and
`cfs_quota_us = cpus * period` with a floor of 1 ms; memory: at least 32 MiB), plus the standard
v1 -> v2 conversion of shares to `cpu.weight` (the one runc and systemd use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIB = 1024 * 1024
CPU_SHARES_PER_CPU = 1024
MIN_CPU_SHARES = 2  # the kernel's floor for cpu.shares
MAX_CPU_SHARES = 262_144
MIN_CFS_QUOTA_US = 1_000  # the kernel refuses quotas under 1 ms
MIN_MEMORY_BYTES = 32 * MIB  # Mesos MIN_MEMORY: below this even the executor cannot start
_CONTAINER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")


@dataclass(frozen=True)
class Limits:
    cpu_shares: int
    cfs_quota_us: int | None  # None: no CFS bandwidth limit
    cfs_period_us: int
    memory_bytes: int
    pids_max: int | None  # None: unlimited

    @property
    def cpus(self) -> float:
        """The CPU limit as a number of cores (what `usage()` reports as cpus_limit)."""
        if self.cfs_quota_us is not None:
            return self.cfs_quota_us / self.cfs_period_us
        return self.cpu_shares / CPU_SHARES_PER_CPU


def cpu_shares(cpus: float) -> int:
    return min(MAX_CPU_SHARES, max(MIN_CPU_SHARES, int(CPU_SHARES_PER_CPU * cpus)))


def cfs_quota_us(cpus: float, period_us: int) -> int:
    return max(MIN_CFS_QUOTA_US, int(cpus * period_us))


def memory_bytes(mem_mb: float) -> int:
    return max(MIN_MEMORY_BYTES, int(mem_mb * MIB))


def cpu_weight(shares: int) -> int:
    """v1 shares [2, 262144] -> v2 weight [1, 10000]: 1 + (shares - 2) * 9999 / 262142."""
    shares = min(MAX_CPU_SHARES, max(MIN_CPU_SHARES, shares))
    return 1 + ((shares - MIN_CPU_SHARES) * 9999) // (MAX_CPU_SHARES - MIN_CPU_SHARES)


def limits_for(
    cpus: float, mem_mb: float, pids_max: int | None, cfs_enabled: bool, cfs_period_us: int
) -> Limits:
    if not cpus > 0:
        raise ValueError(f"cpus must be positive, not {cpus!r}")
    if not mem_mb > 0:
        raise ValueError(f"mem_mb must be positive, not {mem_mb!r}")
    if pids_max is not None and pids_max < 1:
        raise ValueError(f"pids_max must be at least 1, not {pids_max!r}")
    if not 1_000 <= cfs_period_us <= 1_000_000:
        raise ValueError(f"cfs_period_us must be within [1000, 1000000], not {cfs_period_us!r}")
    return Limits(
        cpu_shares=cpu_shares(cpus),
        cfs_quota_us=cfs_quota_us(cpus, cfs_period_us) if cfs_enabled else None,
        cfs_period_us=cfs_period_us,
        memory_bytes=memory_bytes(mem_mb),
        pids_max=pids_max,
    )


def valid_container_id(container_id: str) -> bool:
    """Ids become directory names: letters, digits, '_', '.', '-', no leading dot, <= 200."""
    return _CONTAINER_ID.fullmatch(container_id) is not None
