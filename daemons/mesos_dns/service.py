"""The running Mesos-DNS: the follower's records, served over DNS and read by the HTTP API.

Each record set the follower hands over (`daemons.mesos_dns.follower`) is turned into its DNS
zone (`dns_zone.zone_of`) off the query path, and the two are swapped in as one `Loaded` value:
a query or an API call reads `self.loaded` once and sees one record set throughout, never half
of two. The DNS server (`daemons.kit.dns.server.DnsServer`, UDP and TCP on `listener:port`) is
started with the first records, as Mesos-DNS serves nothing before its first load (a client
asking then is refused by the kernel and tries another server, instead of caching an NXDOMAIN).
Names outside the domain go to the configured resolvers through the kit's `Forwarder` (REFUSED
without one, SERVFAIL when they fail).

The clock, randomness, sockets and threads live here and in the follower, not in the cores.
"""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from daemons.kit.dns.counters import Counters
from daemons.kit.dns.forward import Forwarder
from daemons.kit.dns.server import DnsServer
from daemons.kit.dns.upstream import Forward
from daemons.kit.dns.wire import Query
from daemons.kit.dns.zone import Zone
from daemons.kit.memory import release_free_memory
from daemons.mesos_dns.dns_zone import Built, forwarding, zone_of
from daemons.mesos_dns.follower import Follower
from daemons.mesos_dns.records import RecordSet, mname_addresses
from daemons.mesos_dns.settings import MesosDnsSettings

log = logging.getLogger(__name__)

_SIOCGIFADDR = 0x8915


@dataclass(frozen=True)
class Loaded:
    """One record set and the zone made of it."""

    records: RecordSet
    zone: Zone
    built_at: float  # time.time() when it was swapped in


def interface_ipv4s() -> list[str]:
    """The IPv4 address of every network interface (Linux `SIOCGIFADDR`)."""
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                reply = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # no IPv4 address on it
            found.append(str(ipaddress.IPv4Address(reply[20:24])))
    return found


class MesosDnsService:
    def __init__(self, settings: MesosDnsSettings, on_fatal: Callable[[str], None]) -> None:
        self.settings = settings
        self.config = config = settings.dns
        self._on_fatal = on_fatal
        self.loaded: Loaded | None = None
        self.counters = Counters()
        self._rng = random.Random()
        self._forwarding = forwarding(config)
        self.forwarder: Forwarder | None = None
        if self._forwarding.upstreams:
            self.forwarder = Forwarder(
                self.counters, upstream_timeout=float(config.timeout), timeout=float(config.timeout)
            )
        self.dns: DnsServer | None = None
        self._dns_lock = threading.Lock()
        self.follower = Follower(
            config,
            self._install,
            listener_ips=mname_addresses(config.listener, interface_ipv4s()),
            on_fatal=on_fatal,
            coalesce=settings.coalesce_seconds,
            zk_session_timeout=settings.zk_session_timeout,
        )
        self._built: Built | None = None  # the zone in use, what the next one is patched from
        # `/v1/axfr`'s ETag of a record set (the API's: a digest of its body).
        self.axfr_etag: tuple[RecordSet, str] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.forwarder is not None:
            self.forwarder.start()
        self.follower.start()

    def stop(self) -> None:
        self.follower.stop()
        with self._dns_lock:
            if self.dns is not None:
                self.dns.stop()
        if self.forwarder is not None:
            self.forwarder.stop()

    # -- records -----------------------------------------------------------------------------

    def _install(self, records: RecordSet) -> None:
        """From the follower's thread: the new records, zone built, swapped in whole."""
        built = zone_of(records, self.config, self._built)
        self._built = built
        if built.skipped:
            log.warning("records the DNS wire cannot carry were left out count=%s", built.skipped)
        self.loaded = Loaded(records, built.zone, time.time())
        # The previous record set and zone, and the garbage of this rebuild (and of the state
        # read before it), are freed by now: give their pages back (docs/dns.md, memory).
        release_free_memory()
        if self.config.dns_on and self.dns is None:
            self._start_dns()

    def _start_dns(self) -> None:
        with self._dns_lock:
            if self.dns is not None:
                return
            server = DnsServer(
                [(self.config.listener, self.config.port)],
                self.resolve,
                self.forwarder,
                counters=self.counters,
                recursion_available=self.config.recurse_on,
                generation=lambda: self.loaded,  # what `resolve` answers from; new per install
            )
            try:
                server.start()
            except OSError as err:
                self._on_fatal(
                    f"cannot serve DNS on {self.config.listener}:{self.config.port}: {err}"
                )
                return
            self.dns = server
        log.info("serving DNS listener=%s port=%s", self.config.listener, self.config.port)

    def resolve(self, query: Query) -> bytes | Forward:
        """The DNS server's question: our zone's answer, else where to forward it."""
        loaded = self.loaded
        if loaded is not None:
            reply = loaded.zone.reply(query, self._rng)
            if reply is not None:
                return reply
        return self._forwarding.forward_for(query.qname)
