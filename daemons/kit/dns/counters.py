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


class Counters:
    """Thread-safe counters: several threads serve (one per UDP socket, TCP connections, the
    forwarder), and `+=` on a shared int is not atomic across them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def answered(self, rcode: int) -> None:
        with self._lock:
            self._counts["answers." + RCODE_NAMES.get(rcode, str(rcode))] += 1

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
