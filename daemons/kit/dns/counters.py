"""What a DNS server counts, for the daemons to expose (and tests to check).

Names: `queries` (packets received), `answers.<RCODE>` (replies sent, by RCODE name),
`dropped` (nothing sent: shorter than a header, or a response), `errors` (an exception while
handling one packet, contained), `forwarded`, `forward_failures` (the client got SERVFAIL),
`upstream_failures` (one upstream timed out, refused or broke), `stray` (an upstream reply
nobody waits for), `forward_overload`, `send_errors`, `tcp_refused` (over the connection limit).
"""

from __future__ import annotations

import threading
from collections import Counter

RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class Tally:
    """One thread's own count of the queries it answered from the memo (`daemons.kit.dns.memo`)
    and their RCODEs: written by that thread alone, so without a lock; `Counters` adds every
    tally into what it reports."""

    __slots__ = ("queries", "rcodes")

    def __init__(self) -> None:
        self.queries = 0
        self.rcodes = [0] * 16

    def answered(self, rcode: int) -> None:
        self.queries += 1
        self.rcodes[rcode & 0x0F] += 1


class Counters:
    """Thread-safe counters: several threads serve (one per UDP socket, TCP connections, the
    forwarder), and `+=` on a shared int is not atomic across them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._tallies: list[Tally] = []

    def tally(self) -> Tally:
        """A new tally for one thread, counted in from now on."""
        tally = Tally()
        with self._lock:
            self._tallies.append(tally)
        return tally

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def answered(self, rcode: int) -> None:
        with self._lock:
            self._counts["answers." + RCODE_NAMES.get(rcode, str(rcode))] += 1

    def get(self, name: str) -> int:
        return self.snapshot().get(name, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = Counter(self._counts)
            tallies = list(self._tallies)
        for tally in tallies:
            if tally.queries:
                counts["queries"] += tally.queries
            for rcode, n in enumerate(tally.rcodes):
                if n:
                    counts["answers." + RCODE_NAMES.get(rcode, str(rcode))] += n
        return dict(counts)
