"""The addresses of named VIPs: every node computes the same ones from the same names. Pure.

A name (`<label>.<framework>`) starts at its **home**, the pool address at SHA-1(name) modulo
the pool's size, and takes the first address from there, wrapping, that is free: not taken by
a name placed before it and not one of the `reserved` addresses (the IP VIPs declared inside
the pool: an address written in a label wins over a hashed one). Names are placed in sorted
order, so the result is a function of the set of names alone, whatever order a node learned
them in (dcos-net kept the first-come order of each node's own history, so two nodes could
disagree after a collision).

A name keeps its address while the set changes unless a name sorting before it comes to take
that address first: a collision, as likely as the pool is full (10,000 names in the default
/16: about 15 % of homes are taken). The pool's network and broadcast addresses are never
given (for pools of /30 and larger). A name beyond the pool's room gets none (`Allocation.full`).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

DEFAULT_POOL = ipaddress.IPv4Network("198.19.0.0/16")
DCOS_POOL = ipaddress.IPv4Network("11.0.0.0/8")


@dataclass(frozen=True)
class Allocation:
    addresses: dict[str, ipaddress.IPv4Address] = field(default_factory=dict)
    full: tuple[str, ...] = ()


def usable(pool: ipaddress.IPv4Network) -> tuple[int, int]:
    """(first address as an int, how many) of the addresses a pool gives."""
    first, size = int(pool.network_address), pool.num_addresses
    if pool.prefixlen <= 30:
        first, size = first + 1, size - 2
    return first, size


@lru_cache(maxsize=65536)
def _digest(name: str) -> int:
    return int.from_bytes(hashlib.sha1(name.encode(), usedforsecurity=False).digest()[:8], "big")


def home(name: str, pool: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    first, size = usable(pool)
    return ipaddress.IPv4Address(first + _digest(name) % size)


def allocate(
    names: Iterable[str],
    pool: ipaddress.IPv4Network = DEFAULT_POOL,
    reserved: Collection[ipaddress.IPv4Address] = (),
) -> Allocation:
    first, size = usable(pool)
    taken = {int(ip) - first for ip in reserved if ip in pool}
    addresses: dict[str, ipaddress.IPv4Address] = {}
    full: list[str] = []
    for name in sorted(set(names)):
        if len(taken) >= size:
            full.append(name)
            continue
        slot = _digest(name) % size
        while slot in taken:
            slot = (slot + 1) % size
        taken.add(slot)
        addresses[name] = ipaddress.IPv4Address(first + slot)
    return Allocation(addresses, tuple(full))
