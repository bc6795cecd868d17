"""`DnsServer`: UDP and TCP listeners driven by the daemon's `resolve(query)`.

`resolve` is the daemon's whole say: given a parsed `Query` it returns the reply's bytes (built
from its zones, `daemons.kit.dns.zone`) or `Forward(upstreams)` (`daemons.kit.dns.forward`).
Everything else is here: reading, parsing, error replies, forwarding, counting.

UDP: one thread per socket runs recvfrom -> parse -> resolve -> sendto, with no thread or object
per query beyond the parsed `Query`; a forwarded query is handed to the `Forwarder`, whose own
thread sends the reply, so a slow upstream never holds the loop. TCP (RFC 7766): an accept
thread per address, one thread per connection, several length-prefixed messages per
connection, an idle timeout per connection, at most `max_tcp_connections` at once (more are
closed at accept). A message's size is bounded by its 2-byte length (65,535).

With `generation` (what the daemon's `resolve` answers from: its routing table or zone, a new
object when that changes), the UDP loop answers a query it has answered before from an
`AnswerMemo` (`daemons.kit.dns.memo`): the reply's bytes kept by the query's bytes, with the
new ID, no parse and no `resolve` (about twice the queries per second).

A daemon never dies of a packet: any exception while handling one is counted (`errors`),
logged, and answered SERVFAIL when the packet had an ID to answer.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any

from daemons.kit.dns import wire
from daemons.kit.dns.counters import Counters
from daemons.kit.dns.forward import Forward, Forwarder, recv_exactly
from daemons.kit.dns.memo import AnswerMemo
from daemons.kit.dns.wire import RA, REFUSED, SERVFAIL, BadQuery, Query, Unanswerable

log = logging.getLogger(__name__)

Resolve = Callable[[Query], "bytes | Forward"]
_LENGTH = struct.Struct("!H")


class DnsServer:
    """Serve `resolve` on UDP and TCP at each (ip, port) of `addresses`.

    `forwarder` (started and stopped by its owner) is needed only when `resolve` may answer
    `Forward`; without one such queries are REFUSED. `recursion_available` sets RA in the
    replies the server makes itself (errors, REFUSED, SERVFAIL). `generation` turns on the
    UDP memo (module docstring)."""

    def __init__(
        self,
        addresses: Sequence[tuple[str, int]],
        resolve: Resolve,
        forwarder: Forwarder | None = None,
        counters: Counters | None = None,
        tcp_idle_timeout: float = 10.0,
        max_tcp_connections: int = 64,
        recursion_available: bool = True,
        generation: Callable[[], object] | None = None,
    ) -> None:
        self.addresses = list(addresses)
        self.memo = AnswerMemo(generation) if generation is not None else None
        self.resolve = resolve
        self.forwarder = forwarder
        self.counters = counters or (forwarder.counters if forwarder else Counters())
        self.tcp_idle_timeout = tcp_idle_timeout
        self._flags = RA if recursion_available else 0
        self._connections = threading.BoundedSemaphore(max_tcp_connections)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def start(self) -> None:
        """Bind every address (UDP and TCP on the same port) and start serving."""
        for ip, port in self.addresses:
            udp, tcp = _bind_pair(ip, port)
            self._sockets += [udp, tcp]
            self._spawn(self._serve_udp, udp, f"dns-udp-{ip}:{port}")
            self._spawn(self._accept, tcp, f"dns-tcp-{ip}:{port}")

    def bound(self) -> list[tuple[str, int]]:
        """The addresses as bound (a port 0 becomes the one the kernel picked)."""
        return [s.getsockname()[:2] for s in self._sockets if s.type == socket.SOCK_DGRAM]

    def stop(self) -> None:
        """Stop serving: every listener and open connection is shut down and its thread joined."""
        self._stopping = True
        with self._open_lock:
            conns = list(self._open)
        for sock in [*self._sockets, *conns]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv or accept
        for thread in self._threads:
            thread.join(5.0)
        for sock in self._sockets:
            sock.close()

    def _spawn(
        self, target: Callable[[socket.socket], None], sock: socket.socket, name: str
    ) -> None:
        thread = threading.Thread(target=target, args=(sock,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- one packet -----------------------------------------------------------------------

    def handle(
        self,
        packet: bytes,
        tcp: bool,
        sock: socket.socket | None = None,
        client: Any = None,
        memo: AnswerMemo | None = None,
    ) -> bytes | None:
        """The reply to one packet, or None when there is none to send now: nothing is owed
        (`Unanswerable`), or it was forwarded over UDP and the forwarder will send the reply
        to `client` on `sock` (without a socket, a forward waits here as over TCP). With
        `memo`, a reply `resolve` made is remembered there."""
        counters = self.counters
        counters.add("queries")
        try:
            generation = memo.generation() if memo is not None else None
            query = wire.parse(packet, tcp)
            result = self.resolve(query)
            if isinstance(result, bytes):
                reply = result
                if memo is not None:
                    memo.remember(packet, reply, generation)
            elif not result.upstreams or self.forwarder is None:
                reply = wire.rcode_reply(query, REFUSED, self._flags)
            elif tcp or sock is None:
                reply = self.forwarder.forward_tcp(query, result.upstreams)
            else:
                send = functools.partial(self._send_later, sock, client)
                self.forwarder.forward_udp(query, result.upstreams, send)
                return None
        except Unanswerable:
            counters.add("dropped")
            return None
        except BadQuery as bad:
            reply = wire.error_reply(packet, bad.rcode, self._flags)
        except Exception:  # a bug in resolve or here: count it, answer, keep serving
            counters.add("errors")
            log.exception("dns: handling a packet failed size=%s", len(packet))
            if len(packet) < 12:
                return None
            reply = wire.error_reply(packet, SERVFAIL, self._flags)
        counters.answered(reply[3] & 0x0F)
        return reply

    def _send_later(self, sock: socket.socket, client: Any, reply: bytes) -> None:
        # From the forwarder's thread; its caller counts an OSError.
        self.counters.answered(reply[3] & 0x0F)
        sock.sendto(reply, client)

    # -- UDP ------------------------------------------------------------------------------

    def _serve_udp(self, sock: socket.socket) -> None:
        recvfrom, sendto, handle = sock.recvfrom, sock.sendto, self.handle
        memo, tally = self.memo, self.counters.tally()
        while not self._stopping:
            try:
                packet, client = recvfrom(65535)
            except OSError:
                if self._stopping:
                    return
                self.counters.add("errors")
                continue
            if not packet and self._stopping:
                return
            if memo is not None:
                reply = memo.reply(packet)
                if reply is not None:
                    tally.answered(reply[3])
                    try:
                        sendto(reply, client)
                    except OSError:
                        self.counters.add("send_errors")
                    continue
            reply = handle(packet, False, sock, client, memo)
            if reply is not None:
                try:
                    sendto(reply, client)
                except OSError:
                    self.counters.add("send_errors")

    # -- TCP ------------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping:
            try:
                conn, _ = listener.accept()
            except OSError:
                if self._stopping:
                    return
                continue
            if not self._connections.acquire(blocking=False):
                self.counters.add("tcp_refused")
                conn.close()
                continue
            with self._open_lock:
                self._open.add(conn)
            threading.Thread(
                target=self._serve_tcp, args=(conn,), name="dns-tcp-conn", daemon=True
            ).start()

    def _serve_tcp(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(self.tcp_idle_timeout)
            while not self._stopping:
                try:
                    size = _LENGTH.unpack(recv_exactly(conn, 2))[0]
                    packet = recv_exactly(conn, size)
                except (OSError, EOFError):
                    return  # closed, reset or idle past the timeout
                reply = self.handle(packet, True)
                if reply is None:
                    continue
                if len(reply) > wire.TCP_LIMIT:
                    reply = wire.error_reply(packet, SERVFAIL, self._flags)
                try:
                    conn.sendall(_LENGTH.pack(len(reply)) + reply)
                except OSError:
                    self.counters.add("send_errors")
                    return
        finally:
            with self._open_lock:
                self._open.discard(conn)
            conn.close()
            self._connections.release()


def _bind_pair(ip: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on one port. Port 0 lets the kernel pick the UDP port, which TCP
    may hold already: then try again (a few times)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    for _ in range(20):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        # Room for bursts while the loop is busy: the default (~200 KB) drops under dnsperf.
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        udp.bind((ip, port))
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((ip, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
            continue
        tcp.listen(128)
        return udp, tcp
    raise OSError(f"no port free for both UDP and TCP on {ip}")
