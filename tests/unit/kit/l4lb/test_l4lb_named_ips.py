"""Named VIPs' addresses (`daemons.kit.l4lb.named_ips`): a function of the set of names alone."""

from __future__ import annotations

import ipaddress
import random

from daemons.kit.l4lb.named_ips import DCOS_POOL, DEFAULT_POOL, allocate, home, usable

NAMES = [f"app{i}.marathon" for i in range(2000)]


def test_a_name_lives_at_its_home_when_it_is_free() -> None:
    allocation = allocate(["web.marathon"])
    assert allocation.addresses == {"web.marathon": home("web.marathon", DEFAULT_POOL)}
    assert allocation.addresses["web.marathon"] in DEFAULT_POOL


def test_every_node_computes_the_same_addresses_whatever_order_it_learned_the_names() -> None:
    shuffled = NAMES[:]
    random.Random(7).shuffle(shuffled)
    assert allocate(NAMES).addresses == allocate(shuffled).addresses


def test_addresses_are_unique_and_inside_the_pool_but_not_its_network_or_broadcast() -> None:
    pool = ipaddress.IPv4Network("198.19.0.0/22")  # 1,022 usable: collisions are many
    addresses = list(allocate(NAMES[:1000], pool).addresses.values())
    assert len(set(addresses)) == 1000
    assert all(a in pool for a in addresses)
    assert pool.network_address not in addresses and pool.broadcast_address not in addresses


def test_a_collision_takes_the_next_free_address_in_name_order() -> None:
    pool = ipaddress.IPv4Network("198.19.0.0/29")  # 6 usable
    by_home: dict[ipaddress.IPv4Address, list[str]] = {}
    for name in NAMES:
        by_home.setdefault(home(name, pool), []).append(name)
    first, second = sorted(next(names for names in by_home.values() if len(names) >= 2))[:2]
    addresses = allocate([second, first], pool).addresses
    assert addresses[first] == home(first, pool)
    start, size = usable(pool)
    expected = start + (int(home(first, pool)) - start + 1) % size
    assert int(addresses[second]) == expected


def test_ip_vips_inside_the_pool_are_never_given_to_a_name() -> None:
    taken = home("web.marathon", DEFAULT_POOL)
    addresses = allocate(["web.marathon"], reserved=[taken]).addresses
    assert addresses["web.marathon"] != taken
    assert int(addresses["web.marathon"]) == int(taken) + 1


def test_names_beyond_the_pools_room_get_no_address() -> None:
    pool = ipaddress.IPv4Network("198.19.0.0/30")  # 2 usable
    allocation = allocate(["a.m", "b.m", "c.m"], pool)
    assert len(allocation.addresses) == 2
    assert allocation.full == ("c.m",)


def test_most_names_keep_their_address_when_one_is_added() -> None:
    before = allocate(NAMES).addresses
    after = allocate([*NAMES, "new.marathon"]).addresses
    moved = [n for n in NAMES if before[n] != after[n]]
    assert len(moved) <= 1


def test_the_dcos_pool_is_configurable() -> None:
    assert allocate(["web.marathon"], DCOS_POOL).addresses["web.marathon"] in DCOS_POOL
