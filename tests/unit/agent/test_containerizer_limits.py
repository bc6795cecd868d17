"""Resource numbers -> cgroup values (daemons.agent.containerizer.limits)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.agent.containerizer.limits import (
    MIB,
    MIN_MEMORY_BYTES,
    cfs_quota_us,
    cpu_shares,
    cpu_weight,
    limits_for,
    memory_bytes,
    valid_container_id,
)


@pytest.mark.parametrize(
    ("cpus", "shares"),
    [(1.0, 1024), (0.5, 512), (0.1, 102), (0.001, 2), (2.5, 2560), (1000.0, 262_144)],
)
def test_cpu_shares_is_1024_per_cpu_with_the_kernel_floor_and_ceiling(
    cpus: float, shares: int
) -> None:
    assert cpu_shares(cpus) == shares


def test_cfs_quota_is_cpus_times_period_at_least_one_millisecond() -> None:
    assert cfs_quota_us(0.5, 100_000) == 50_000
    assert cfs_quota_us(2.0, 100_000) == 200_000
    assert cfs_quota_us(0.001, 100_000) == 1_000  # 100 us would be refused by the kernel


def test_memory_has_mesos_floor_of_32_mib() -> None:
    assert memory_bytes(64) == 64 * MIB
    assert memory_bytes(8) == MIN_MEMORY_BYTES
    assert memory_bytes(100.5) == int(100.5 * MIB)


def test_cpu_weight_maps_the_shares_range_onto_the_weight_range() -> None:
    assert cpu_weight(2) == 1
    assert cpu_weight(262_144) == 10_000
    assert cpu_weight(1024) == 39  # what runc and systemd compute for the default shares


@given(st.integers(min_value=2, max_value=262_143))
def test_cpu_weight_is_monotonic_and_in_range(shares: int) -> None:
    assert 1 <= cpu_weight(shares) <= cpu_weight(shares + 1) <= 10_000


def test_limits_for_with_and_without_cfs() -> None:
    with_cfs = limits_for(0.5, 64, 100, cfs_enabled=True, cfs_period_us=100_000)
    assert (with_cfs.cpu_shares, with_cfs.cfs_quota_us, with_cfs.memory_bytes) == (
        512,
        50_000,
        64 * MIB,
    )
    assert with_cfs.pids_max == 100
    assert with_cfs.cpus == 0.5
    without = limits_for(0.25, 64, None, cfs_enabled=False, cfs_period_us=100_000)
    assert without.cfs_quota_us is None
    assert without.pids_max is None
    assert without.cpus == 0.25  # from the shares when there is no quota


@pytest.mark.parametrize(
    ("cpus", "mem", "pids", "period"),
    [(0, 64, None, 100_000), (1, 0, None, 100_000), (1, 64, 0, 100_000), (1, 64, None, 10)],
)
def test_limits_for_rejects_nonsense(
    cpus: float, mem: float, pids: int | None, period: int
) -> None:
    with pytest.raises(ValueError):
        limits_for(cpus, mem, pids, cfs_enabled=True, cfs_period_us=period)


@pytest.mark.parametrize(
    ("container_id", "ok"),
    [
        ("3f1c2b7e-9d1a-4e55-a0f4-6f0c1d2e3a4b", True),
        ("task.web_1-2", True),
        ("", False),
        ("..", False),
        (".hidden", False),
        ("a/b", False),
        ("../escape", False),
        ("x" * 201, False),
        ("spaces are bad", False),
    ],
)
def test_container_ids_must_be_plain_directory_names(container_id: str, ok: bool) -> None:
    assert valid_container_id(container_id) is ok
