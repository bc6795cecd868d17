"""The nftables program of a VIP table: the whole table, or the one transaction that takes
the kernel from one VIP table to the next. Pure: text in `nft -f` syntax.

Our one table, `ip dcos_l4lb` (nothing outside it is ever named):

    map services        (address . protocol . port) -> goto the VIP's chain
    set vip_addresses   every VIP address (traffic routed in for them is masqueraded)
    chain prerouting    nat, dstnat:    marks traffic to a VIP address, then the services map
    chain output        nat, -100:      the services map (locally originated traffic)
    chain postrouting   nat, srcnat:    masquerades marked traffic, and traffic leaving the
                        node from a VIP address (a connection to a VIP routed `local` on the
                        node starts with the VIP as its source; DNATed to a backend on another
                        node, the backend's replies must come back to this node)
    chain vip_<address>_<protocol>_<port>
                        one rule: DNAT to a backend chosen by `numgen random` over the sum of
                        the weights (a backend of weight w owns w consecutive numbers); with no
                        backend of weight > 0: TCP reset, or ICMP port unreachable for UDP

NAT rules see only a connection's first packet: conntrack keeps every later packet of it on the
backend chosen then, so an established connection keeps its backend whatever the table becomes
(a backend of weight 0 keeps its connections and gets no new one).

`full(table)` replaces the table in one transaction (first load, repair); `changes(old, new)`
writes only what differs: a changed VIP's chain is flushed and written again, a new one added
with its map element, a gone one's element and chain deleted, the address set following.

Every line is written as `nft list` prints it back, so `parse_listing(kernel's listing) ==
expected(table)` says the kernel holds exactly our program: anything else is drift, repaired
with `full(table)`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from minuteman.table import Service, Vip, VipTable

FAMILY = "ip"
TABLE = "dcos_l4lb"
MARK = 0x4C340000
_T = f"{FAMILY} {TABLE}"

# The base chains, each line as `nft list` prints it back (so a listing can be compared).
BASE_CHAINS: dict[str, tuple[str, ...]] = {
    "prerouting": (
        "type nat hook prerouting priority dstnat; policy accept;",
        f"ip daddr @vip_addresses meta mark set meta mark | {MARK:#010x}",
        "ip daddr . meta l4proto . th dport vmap @services",
    ),
    "output": (
        "type nat hook output priority -100; policy accept;",
        "ip daddr . meta l4proto . th dport vmap @services",
    ),
    "postrouting": (
        "type nat hook postrouting priority srcnat; policy accept;",
        f"meta mark & {MARK:#010x} == {MARK:#010x} masquerade",
        'oifname != "lo" ip saddr @vip_addresses masquerade',
    ),
}
_SETS = """\
    map services {
        type ipv4_addr . inet_proto . inet_service : verdict
    }
    set vip_addresses {
        type ipv4_addr
    }
"""


def chain_name(service: Service) -> str:
    return f"vip_{str(service.address).replace('.', '_')}_{service.protocol}_{service.port}"


def _element(service: Service) -> str:
    return f"{service.address} . {service.protocol} . {service.port}"


def vip_rule(vip: Vip) -> str:
    """The one rule of a VIP's chain."""
    protocol = vip.service.protocol
    total = sum(b.weight for b in vip.backends)
    if total == 0:
        return "reject with tcp reset" if protocol == "tcp" else "reject"
    slots: list[str] = []
    start = 0
    for backend in vip.backends:
        if backend.weight <= 0:
            continue
        end = start + backend.weight - 1
        number = str(start) if end == start else f"{start}-{end}"
        slots.append(f"{number} : {backend.ip} . {backend.port}")
        start = end + 1
    return (
        f"meta l4proto {protocol} dnat ip to numgen random mod {total} map {{ {', '.join(slots)} }}"
    )


def full(table: VipTable) -> str:
    """Replace our table with `table`'s, in one transaction (creating it when absent)."""
    lines = [f"table {_T}", f"delete table {_T}", f"table {_T} {{", _SETS.rstrip("\n")]
    chains = {**BASE_CHAINS, **{chain_name(v.service): (vip_rule(v),) for v in table.vips.values()}}
    for name, body in chains.items():
        lines += [f"    chain {name} {{", *(f"        {line}" for line in body), "    }"]
    lines.append("}")
    lines += _service_elements("add", table.vips.values())
    lines += _address_elements("add", {vip.service.address for vip in table.vips.values()})
    return "\n".join(lines) + "\n"


def changes(old: VipTable, new: VipTable) -> str:
    """The transaction from `old` (what the kernel holds) to `new`; "" when nothing differs."""
    gone = [vip for service, vip in old.vips.items() if service not in new.vips]
    added = [vip for service, vip in new.vips.items() if service not in old.vips]
    changed = [
        vip
        for service, vip in new.vips.items()
        if service in old.vips and vip_rule(old.vips[service]) != vip_rule(vip)
    ]
    lines = _service_elements("delete", gone)
    for vip in gone:
        name = chain_name(vip.service)
        lines += [f"flush chain {_T} {name}", f"delete chain {_T} {name}"]
    for vip in changed:
        name = chain_name(vip.service)
        lines += [f"flush chain {_T} {name}", f"add rule {_T} {name} {vip_rule(vip)}"]
    for vip in added:
        name = chain_name(vip.service)
        lines += [f"add chain {_T} {name}", f"add rule {_T} {name} {vip_rule(vip)}"]
    lines += _service_elements("add", added)
    before = {service.address for service in old.vips}
    after = {service.address for service in new.vips}
    lines += _address_elements("delete", before - after)
    lines += _address_elements("add", after - before)
    return "\n".join(lines) + "\n" if lines else ""


def _service_elements(verb: str, vips: Iterable[Vip]) -> list[str]:
    if verb == "delete":
        items = [_element(vip.service) for vip in vips]
    else:
        items = [f"{_element(v.service)} : goto {chain_name(v.service)}" for v in vips]
    return [f"{verb} element {_T} services {{ {', '.join(items)} }}"] if items else []


def _address_elements(verb: str, addresses: Iterable[ipaddress.IPv4Address]) -> list[str]:
    items = sorted(addresses)
    if not items:
        return []
    return [f"{verb} element {_T} vip_addresses {{ {', '.join(map(str, items))} }}"]


@dataclass(frozen=True)
class Listing:
    """What our table holds, as `nft list table ip dcos_l4lb` shows it: each chain's lines
    (a base chain's `type` line first), the services map's elements, the address set's."""

    chains: dict[str, tuple[str, ...]]
    services: frozenset[str]
    addresses: frozenset[str]


def expected(table: VipTable) -> Listing:
    """The listing of the kernel holding exactly `table`'s program."""
    chains = dict(BASE_CHAINS)
    for vip in table.vips.values():
        chains[chain_name(vip.service)] = (vip_rule(vip),)
    return Listing(
        chains,
        frozenset(
            f"{_element(v.service)} : goto {chain_name(v.service)}" for v in table.vips.values()
        ),
        frozenset(str(v.service.address) for v in table.vips.values()),
    )


def parse_listing(text: str) -> Listing:
    """`nft list table ip dcos_l4lb` -> Listing. Lines it does not know (comments, counters of
    someone else's edits) stay in their chain, so they show as drift."""
    chains: dict[str, list[str]] = {}
    elements: dict[str, list[str]] = {"services": [], "vip_addresses": []}
    chain: list[str] | None = None
    collection: list[str] | None = None
    open_elements = False
    for raw in text.splitlines():
        line = raw.strip()
        if open_elements and collection is not None:
            open_elements = _elements_into(line, collection)
        elif line.startswith("chain ") and line.endswith("{"):
            chain = chains.setdefault(line[len("chain ") : -1].strip(), [])
        elif line.startswith(("map ", "set ")) and line.endswith("{"):
            collection = elements.setdefault(line.split()[1], [])
        elif line == "}":
            chain = collection = None
        elif collection is not None and line.startswith("elements = {"):
            open_elements = _elements_into(line[len("elements = {") :], collection)
        elif chain is not None and line:
            chain.append(line)
    return Listing(
        {name: tuple(lines) for name, lines in chains.items()},
        frozenset(elements["services"]),
        frozenset(elements["vip_addresses"]),
    )


def _elements_into(text: str, into: list[str]) -> bool:
    """Adds the comma-separated elements of `text`; True while the `{ … }` stays open."""
    closed = text.endswith("}")
    into.extend(item.strip() for item in text.rstrip("}").split(",") if item.strip())
    return not closed
