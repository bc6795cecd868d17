"""Forwarding queries to upstream resolvers: dcos-net's dual dispatch.

Which upstreams (`choose`, pure): with one or two, all of them; with three or more, two, picked
among those that failed least recently: upstreams are grouped by their count of failures since
their last success, two are drawn at random from the best group, or its only member and one
drawn from the next group. The queries go out in parallel; the first good reply wins and the
others are ignored; when every chosen upstream has failed or timed out the client gets
SERVFAIL; with no upstream at all it gets REFUSED (the server answers that one itself).

How (`Forwarder`): a query goes to each upstream under a fresh random ID (the client's ID is
written back into the reply), over the protocol the client used. UDP never blocks the caller:
each upstream has one connected UDP socket (the kernel drops datagrams from anyone else, and a
closed port comes back as ECONNREFUSED, failing that upstream at once instead of at its
timeout), and one thread waits on all of them, matching replies to a pending-query table by
(upstream, ID) and checking that the question is the one asked. A stray or late reply finds
nothing in the table and is counted and dropped. TCP (rare: clients fall back to it after TC)
runs in the client connection's own thread, one short-lived thread per chosen upstream.
"""

from __future__ import annotations

import collections
import contextlib
import ipaddress
import logging
import queue
import random
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from daemons.kit.dns import wire
from daemons.kit.dns.counters import Counters
from daemons.kit.dns.upstream import Forward as Forward
from daemons.kit.dns.upstream import Upstream as Upstream
from daemons.kit.dns.wire import Query

log = logging.getLogger(__name__)

_ID = struct.Struct("!H")
# More queries in flight than this are answered SERVFAIL at once: the table and the ID space
# per upstream (65,536) stay bounded whatever the clients do.
MAX_PENDING = 10_000
# Answered queries stay in the deadline queue until their deadline: it is compacted (answered
# ones dropped) once it holds this many more than twice the queries in flight. Without it, at
# 25k forwarded queries a second it held 5 s of them (~125k, their queries and reply closures:
# the proxy's worker grew by ~70 MiB and its collections showed in the forwarded p99).
COMPACT_SLACK = 1024


def choose(
    upstreams: Sequence[Upstream], failures: Mapping[Upstream, int], rng: random.Random
) -> list[Upstream]:
    """dcos-net's dual dispatch: every upstream when there are at most two, else two of those
    with the fewest failures since their last success (ties broken at random)."""
    if len(upstreams) <= 2:
        return list(upstreams)
    groups: dict[int, list[Upstream]] = collections.defaultdict(list)
    for upstream in upstreams:
        groups[failures.get(upstream, 0)].append(upstream)
    ranked = [groups[count] for count in sorted(groups)]
    if len(ranked[0]) >= 2:
        return rng.sample(ranked[0], 2)
    return [ranked[0][0], rng.choice(ranked[1])]


class _Pending:
    """One client query in flight over UDP."""

    __slots__ = ("deadline", "done", "failed", "keys", "query", "reply")

    def __init__(self, query: Query, reply: Callable[[bytes], None], deadline: float) -> None:
        self.query = query
        self.reply = reply
        self.keys: list[tuple[Upstream, int]] = []
        self.deadline = deadline
        self.failed: set[Upstream] = set()
        self.done = False


class Forwarder:
    """Dual dispatch over UDP and TCP. `start()` before use, `stop()` at the end.

    `upstream_timeout` is each upstream's (dcos-net: 5 s), `timeout` the client's whole wait
    (dcos-net: 10 s); the queries go out in parallel, so a client waits at most the smaller."""

    def __init__(
        self,
        counters: Counters,
        upstream_timeout: float = 5.0,
        timeout: float = 10.0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.counters = counters
        self.upstream_timeout = upstream_timeout
        self.timeout = timeout
        self._rng = rng or random.SystemRandom()
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[Upstream, int] = {}
        self._pending: dict[tuple[Upstream, int], _Pending] = {}
        self._deadlines: collections.deque[_Pending] = collections.deque()
        self._sockets: dict[Upstream, socket.socket] = {}
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dns-forwarder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(5.0)
        for sock in self._sockets.values():
            sock.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def queued(self) -> int:
        """Queries in the deadline queue, answered ones not yet dropped (diagnostics)."""
        with self._lock:
            return len(self._deadlines)

    def failures(self) -> dict[Upstream, int]:
        """Each upstream's failures since its last success (what `choose` ranks by)."""
        with self._lock:
            return dict(self._failures)

    # -- UDP ---------------------------------------------------------------------------------

    def forward_udp(
        self, query: Query, upstreams: Sequence[Upstream], reply: Callable[[bytes], None]
    ) -> None:
        """Send `query` on and return at once; `reply(bytes)` is called once, from the
        forwarder's thread, with the winning reply or SERVFAIL."""
        self.counters.add("forwarded")
        deadline = self._clock() + min(self.upstream_timeout, self.timeout)
        pending = _Pending(query, reply, deadline)
        with self._lock:
            chosen = choose(upstreams, self._failures, self._rng)
            if len(self._pending) + len(chosen) > MAX_PENDING:
                self.counters.add("forward_overload")
                reply(wire.rcode_reply(query, wire.SERVFAIL, wire.RA))
                return
            if len(self._deadlines) > 2 * len(self._pending) + COMPACT_SLACK:
                self._deadlines = collections.deque(p for p in self._deadlines if not p.done)
            was_idle = not self._deadlines
            self._deadlines.append(pending)
            sends = []
            for upstream in chosen:
                ident = self._rng.getrandbits(16)
                while (upstream, ident) in self._pending:
                    ident = self._rng.getrandbits(16)
                self._pending[(upstream, ident)] = pending
                pending.keys.append((upstream, ident))
                sends.append((self._socket(upstream), upstream, ident))
        for sock, upstream, ident in sends:
            try:
                sock.send(_ID.pack(ident) + query.packet[2:])
            except OSError:
                self._upstream_failed(pending, upstream)
        if was_idle:
            self._wake()

    def _socket(self, upstream: Upstream) -> socket.socket:
        # Under the lock. One connected socket per upstream, made on first use.
        sock = self._sockets.get(upstream)
        if sock is None:
            family = (
                socket.AF_INET6
                if ipaddress.ip_address(upstream.ip).version == 6
                else (socket.AF_INET)
            )
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.connect((upstream.ip, upstream.port))
            self._sockets[upstream] = sock
            self._selector.register(sock, selectors.EVENT_READ, upstream)
        return sock

    def _wake(self) -> None:
        # Full: a wake is already due; closed: stopping. Neither needs another.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _run(self) -> None:
        while not self._stopping:
            with self._lock:
                first = self._deadlines[0].deadline if self._deadlines else None
            wait = None if first is None else max(0.0, first - self._clock())
            try:
                events = self._selector.select(wait)
            except OSError:
                if self._stopping:
                    return
                raise
            for key, _ in events:
                try:
                    if key.data is None:
                        self._wake_r.recv(4096)
                    else:
                        self._receive(key.fileobj, key.data)  # type: ignore[arg-type]
                except Exception:  # one bad reply must not stop forwarding for everyone
                    self.counters.add("errors")
                    log.exception("dns forwarder: reply handling failed")
            self._expire()

    def _receive(self, sock: socket.socket, upstream: Upstream) -> None:
        for _ in range(256):  # drain what has arrived, bounded so timeouts still run
            try:
                data = sock.recv(65535)
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                self._refused(upstream)
                continue
            self._answer(upstream, data)

    def _answer(self, upstream: Upstream, data: bytes) -> None:
        if len(data) < 12:
            self.counters.add("stray")
            return
        with self._lock:
            pending = self._pending.get((upstream, _ID.unpack_from(data)[0]))
            question = pending.query.question if pending is not None else b""
            if (
                pending is None
                or pending.done
                or data[12 : 12 + len(question)].lower() != question.lower()
            ):
                self.counters.add("stray")
                return
            self._finish(pending)
            self._failures[upstream] = 0
        self._deliver(pending, _ID.pack(pending.query.id) + data[2:])

    def _refused(self, upstream: Upstream) -> None:
        """ICMP port unreachable: the upstream fails for every query in flight to it."""
        with self._lock:
            waiting = [p for (u, _), p in self._pending.items() if u == upstream]
        for pending in waiting:
            self._upstream_failed(pending, upstream)

    def _upstream_failed(self, pending: _Pending, upstream: Upstream) -> None:
        with self._lock:
            if pending.done or upstream in pending.failed:
                return
            pending.failed.add(upstream)
            self._failures[upstream] = self._failures.get(upstream, 0) + 1
            self.counters.add("upstream_failures")
            if len(pending.failed) < len(pending.keys):
                return
            self._finish(pending)
        self.counters.add("forward_failures")
        self._deliver(pending, wire.rcode_reply(pending.query, wire.SERVFAIL, wire.RA))

    def _expire(self) -> None:
        now = self._clock()
        while True:
            with self._lock:
                if not self._deadlines or self._deadlines[0].deadline > now:
                    return
                pending = self._deadlines.popleft()
                if pending.done:
                    continue
                for upstream, _ in pending.keys:
                    if upstream not in pending.failed:
                        self._failures[upstream] = self._failures.get(upstream, 0) + 1
                        self.counters.add("upstream_failures")
                self._finish(pending)
            self.counters.add("forward_failures")
            self._deliver(pending, wire.rcode_reply(pending.query, wire.SERVFAIL, wire.RA))

    def _finish(self, pending: _Pending) -> None:
        # Under the lock: the query leaves the table, so later replies to it are strays.
        pending.done = True
        for key in pending.keys:
            self._pending.pop(key, None)

    def _deliver(self, pending: _Pending, data: bytes) -> None:
        try:
            pending.reply(data)
        except OSError:
            self.counters.add("send_errors")

    # -- TCP ---------------------------------------------------------------------------------

    def forward_tcp(self, query: Query, upstreams: Sequence[Upstream]) -> bytes:
        """Send `query` to the chosen upstreams over TCP in parallel; the first good reply (with
        the client's ID), or SERVFAIL once all failed or the time is up. Blocks its caller."""
        self.counters.add("forwarded")
        with self._lock:
            chosen = choose(upstreams, self._failures, self._rng)
        start = self._clock()
        budget = min(self.upstream_timeout, self.timeout)
        results: queue.SimpleQueue[tuple[Upstream, bytes | None]] = queue.SimpleQueue()
        for upstream in chosen:
            ident = self._rng.getrandbits(16)
            threading.Thread(
                target=self._tcp_exchange,
                args=(upstream, ident, query, budget, results),
                name="dns-forward-tcp",
                daemon=True,
            ).start()
        for _ in chosen:
            left = start + budget - self._clock()
            try:
                upstream, data = results.get(timeout=max(0.0, left))
            except queue.Empty:
                break
            with self._lock:
                if data is None:
                    self._failures[upstream] = self._failures.get(upstream, 0) + 1
                else:
                    self._failures[upstream] = 0
            if data is None:
                self.counters.add("upstream_failures")
                continue
            return _ID.pack(query.id) + data[2:]
        self.counters.add("forward_failures")
        return wire.rcode_reply(query, wire.SERVFAIL, wire.RA)

    @staticmethod
    def _tcp_exchange(
        upstream: Upstream,
        ident: int,
        query: Query,
        timeout: float,
        results: queue.SimpleQueue[tuple[Upstream, bytes | None]],
    ) -> None:
        message = _ID.pack(ident) + query.packet[2:]
        data: bytes | None = None
        try:
            with socket.create_connection((upstream.ip, upstream.port), timeout) as sock:
                sock.settimeout(timeout)
                sock.sendall(_ID.pack(len(message)) + message)
                size = _ID.unpack(recv_exactly(sock, 2))[0]
                reply = recv_exactly(sock, size)
            question = query.question.lower()
            if (
                size >= 12
                and _ID.unpack_from(reply)[0] == ident
                and reply[12 : 12 + len(question)].lower() == question
            ):
                data = reply
        except (OSError, EOFError):
            data = None
        results.put((upstream, data))


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """`size` bytes from a stream socket; EOFError when it closes first."""
    chunks = []
    while size:
        chunk = sock.recv(min(size, 65536))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
