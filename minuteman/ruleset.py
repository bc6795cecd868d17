"""The nftables program of a VIP table: the whole table, or the one transaction that takes
the kernel from one VIP table to the next. Pure: text in `nft -f` syntax.

Our one table, `ip dcos_l4lb` (nothing outside it is ever named):

    map services        (VIP address . protocol . port) -> goto pick_<W>, or goto refuse
    map backends        (VIP address . protocol . port . slot) -> backend address . port
    set vip_addresses   every VIP address
    chain prerouting    nat, dstnat: marks traffic to a VIP address, then the services map
    chain output        nat, -100: the services map (locally originated traffic)
    chain postrouting   nat, srcnat: masquerades marked traffic, and traffic leaving the node
                        from a VIP address (a connection to a VIP routed `local` on the node
                        without `route_source` starts with the VIP as its source; DNATed to a
                        backend on another node, the backend's replies must come back to this
                        node; with `route_source`, as the role configures, it starts from the
                        node's address and needs only the DNAT)
    chain pick_<W>      DNAT to `backends[VIP . protocol . port . numgen random mod W]`
    chain refuse        TCP reset, or ICMP port unreachable for UDP

A VIP whose backends' weights sum to W > 0 owns slots 0…W-1 of `backends`, a backend of
weight w w consecutive ones, and its `services` element sends it to `pick_<W>`: one random
number, one hash lookup, so each new connection goes to a backend with probability weight / W.
Weight 0 owns no slot. A VIP with no slot goes to `refuse` (IPVS: no real server, the
connection times out). `pick_1` … `pick_<PICKS>` always exist; a larger W gets its chain
with a full load of the table (`changes` returns `full(new)`: nft 1.0.6 cannot add a rule
naming @backends to the table once it exists), and loses it in the transaction that last
stops needing it.

There is no chain per VIP: a transaction names only elements and a few chains, so the cost
of a change does not grow with the number of VIPs (libnftables reads the table's chains to
check a transaction; at 10,000 chains that alone took ≈ 20 ms).

NAT rules see only a connection's first packet: conntrack keeps every later packet of it on the
backend chosen then, so an established connection keeps its backend whatever the table becomes
(a backend of weight 0 keeps its connections and gets no new one).

`full(table)` replaces the table in one transaction (first load, repair); `changes(old, new)`
writes only the elements of the VIPs that differ. Every line is written as `nft list` prints
it back, so `parse_listing(kernel's listing) == expected(table)` says the kernel holds exactly
our program: anything else is drift, repaired with `full(table)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address

from daemons.kit.l4lb.table import Service, Vip, VipTable

FAMILY = "ip"
TABLE = "dcos_l4lb"
MARK = 0x4C340000
PICKS = 64
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
    "refuse": ("reject with tcp reset", "reject"),
}
# `nft list` prints a map's declaration line like this (the `mod` is only the key's type).
_MAPS = {
    "services": "type ipv4_addr . inet_proto . inet_service : verdict",
    "backends": (
        "typeof ip daddr . meta l4proto . th dport . numgen random mod 64 : ip daddr . th dport"
    ),
}
_SETS = {"vip_addresses": "type ipv4_addr"}


def pick_rule(weight: int) -> str:
    return (
        f"dnat ip to ip daddr . meta l4proto . th dport . numgen random mod {weight} map @backends"
    )


def verdict(vip: Vip) -> str:
    total = vip.weight
    return f"goto pick_{total}" if total else "goto refuse"


def _key(service: Service) -> str:
    return f"{service.address} . {service.protocol} . {service.port}"


def service_element(vip: Vip, key: str | None = None) -> str:
    return f"{key or _key(vip.service)} : {verdict(vip)}"


def slot_elements(vip: Vip, key: str | None = None) -> list[str]:
    """`<VIP> . <slot> : <backend>`, a backend of weight w on w consecutive slots."""
    key = key or _key(vip.service)
    slots: list[str] = []
    for backend in vip.backends:
        for _ in range(max(backend.weight, 0)):
            slots.append(f"{key} . {len(slots)} : {backend.ip} . {backend.port}")
    return slots


def _slot_keys(vip: Vip) -> list[str]:
    return [f"{_key(vip.service)} . {slot}" for slot in range(vip.weight)]


def _picks(table: VipTable) -> set[int]:
    return {w for w in table.weights if w > PICKS}


def _chains(extra: Iterable[int]) -> dict[str, tuple[str, ...]]:
    chains = dict(BASE_CHAINS)
    for w in [*range(1, PICKS + 1), *sorted(extra)]:
        chains[f"pick_{w}"] = (pick_rule(w),)
    return chains


def full(table: VipTable) -> str:
    """Replace our table with `table`'s, in one transaction (creating it when absent)."""
    lines = [f"table {_T}", f"delete table {_T}", f"table {_T} {{"]
    for kind, declarations in (("map", _MAPS), ("set", _SETS)):
        for name, declaration in declarations.items():
            lines += [f"    {kind} {name} {{", f"        {declaration}", "    }"]
    for name, body in _chains(_picks(table)).items():
        lines += [f"    chain {name} {{", *(f"        {line}" for line in body), "    }"]
    lines.append("}")
    keyed = [(vip, _key(vip.service)) for vip in table.vips.values()]
    lines += _elements("add", "services", (service_element(vip, key) for vip, key in keyed))
    slots = (slot for vip, key in keyed for slot in slot_elements(vip, key))
    lines += _elements("add", "backends", slots)
    # Sorted by the address's number: 10,000 ipaddress comparisons in Python cost more.
    addresses = sorted(table.addresses, key=_number)
    lines += _elements("add", "vip_addresses", addresses)
    return "\n".join(lines) + "\n"


def changes(old: VipTable, new: VipTable, touched: Iterable[Service] | None = None) -> str:
    """The transaction from `old` (what the kernel holds) to `new`; "" when nothing differs.
    `touched`: the only services that may differ (`TableBuilder.update` says which), so a
    change costs what it touches, not the whole table."""
    services = set(old.vips) | set(new.vips) if touched is None else set(touched)
    befores: list[Vip] = []
    afters: list[Vip] = []
    for service in sorted(services):
        before, after = old.vips.get(service), new.vips.get(service)
        if before is not None and after is not None and _same(before, after):
            continue
        if before is not None:
            befores.append(before)
        if after is not None:
            afters.append(after)
    old_picks, new_picks = _picks(old), _picks(new)
    if new_picks - old_picks:
        # nft 1.0.6 cannot add a rule using @backends once the map exists (it rebuilds the
        # map's `typeof` key from the kernel and fails: "conflicting protocols specified: ip
        # vs. th"), so a new pick chain comes with the whole table, still one transaction.
        return full(new)
    lines: list[str] = []
    lines += _elements("delete", "backends", (k for vip in befores for k in _slot_keys(vip)))
    lines += _elements("delete", "services", (_key(vip.service) for vip in befores))
    lines += _elements("add", "services", map(service_element, afters))
    lines += _elements("add", "backends", (s for vip in afters for s in slot_elements(vip)))
    lines += [f"delete chain {_T} pick_{w}" for w in sorted(old_picks - new_picks)]
    addresses = {service.address for service in services}
    had = {a for a in addresses if a in old.addresses}
    has = {a for a in addresses if a in new.addresses}
    lines += _elements("delete", "vip_addresses", sorted(had - has))
    lines += _elements("add", "vip_addresses", sorted(has - had))
    return "\n".join(lines) + "\n" if lines else ""


def _same(a: Vip, b: Vip) -> bool:
    return verdict(a) == verdict(b) and slot_elements(a) == slot_elements(b)


def _number(address: IPv4Address) -> int:
    return int(address)


def _elements(verb: str, name: str, items: Iterable[object]) -> list[str]:
    text = ", ".join(map(str, items))
    return [f"{verb} element {_T} {name} {{ {text} }}"] if text else []


@dataclass(frozen=True)
class Listing:
    """What our table holds, as `nft list table ip dcos_l4lb` shows it: each chain's lines
    (a base chain's `type` line first), each map's and set's declaration and elements."""

    chains: dict[str, tuple[str, ...]]
    declarations: dict[str, str]
    elements: dict[str, frozenset[str]]


def expected(table: VipTable) -> Listing:
    """The listing of the kernel holding exactly `table`'s program."""
    vips = list(table.vips.values())
    return Listing(
        _chains(_picks(table)),
        {**_MAPS, **_SETS},
        {
            "services": frozenset(map(service_element, vips)),
            "backends": frozenset(s for vip in vips for s in slot_elements(vip)),
            "vip_addresses": frozenset(map(str, table.addresses)),
        },
    )


def parse_listing(text: str) -> Listing:
    """`nft list table ip dcos_l4lb` -> Listing. Lines it does not know (comments, counters of
    someone else's edits) stay where they are, so they show as drift."""
    chains: dict[str, list[str]] = {}
    declarations: dict[str, list[str]] = {}
    elements: dict[str, list[str]] = {name: [] for name in (*_MAPS, *_SETS)}
    body: list[str] | None = None
    collection: list[str] | None = None
    open_elements = False
    for line in _lines(text):
        if open_elements and collection is not None:
            open_elements = _elements_into(line, collection)
        elif line.startswith("chain ") and line.endswith("{"):
            body, collection = chains.setdefault(line[len("chain ") : -1].strip(), []), None
        elif line.startswith(("map ", "set ")) and line.endswith("{"):
            name = line.split()[1]
            body, collection = declarations.setdefault(name, []), elements.setdefault(name, [])
        elif line == "}":
            body = collection = None
        elif collection is not None and line.startswith("elements = {"):
            open_elements = _elements_into(line[len("elements = {") :], collection)
        elif body is not None:
            body.append(line)
    return Listing(
        {name: tuple(lines) for name, lines in chains.items()},
        {name: "\n".join(lines) for name, lines in declarations.items()},
        {name: frozenset(items) for name, items in elements.items()},
    )


def _lines(text: str) -> Iterator[str]:
    for raw in text.splitlines():
        line = raw.strip()
        if line:
            yield line


def _elements_into(text: str, into: list[str]) -> bool:
    """Adds the comma-separated elements of `text`; True while the `{ … }` stays open."""
    closed = text.endswith("}")
    into.extend(item.strip() for item in text.rstrip("}").split(",") if item.strip())
    return not closed
