"""Where a query goes when it is not answered locally: upstream resolvers, and the `Forward`
a daemon's `resolve` answers. Pure values (the forwarding itself is `daemons.kit.dns.forward`),
so a daemon's pure routing core can name upstreams and return `Forward`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Upstream:
    """A resolver, by IP literal (v4 or v6) and port."""

    ip: str
    port: int = 53


@dataclass(frozen=True, slots=True)
class Forward:
    """What `resolve` answers for a query that is not its own: send it to these (none: REFUSED)."""

    upstreams: tuple[Upstream, ...]


def parse_upstream(text: str, default_port: int = 53) -> Upstream:
    """`ip`, `ip:port`, `[v6]:port` or a bare IPv6 address; ValueError for anything else (a
    host name too: a resolver must be reachable without resolving)."""
    host, port = text.strip(), default_port
    if host.startswith("["):
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad resolver address {text!r}")
        host = inside
        if rest:
            port = _port(rest[1:], text)
    elif host.count(":") == 1:
        host, _, number = host.partition(":")
        port = _port(number, text)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"bad resolver address {text!r}: not an IP address") from None
    return Upstream(str(ip), port)


def _port(number: str, text: str) -> int:
    if not number.isdigit() or not 0 < int(number) < 65536:
        raise ValueError(f"bad resolver port in {text!r}")
    return int(number)
