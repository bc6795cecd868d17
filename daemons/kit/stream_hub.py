"""Event streams served without a thread each: one thread writes every stream of the process.

A subscription (an agent's, a framework's, an operator's) used to hold one of gunicorn's threads
for as long as it lasted, blocked in `EventStream.records()`. At 10,000 agents that was 10,000
threads: a new leader created them at a few hundred a second, and once they were all there the
interpreter spent its time handing the GIL among them, until the ZooKeeper session's thread
starved and the master lost its leadership mid-registration.

Now the request thread answers the SUBSCRIBE as before, up to and including the first event,
and then hands the connection over (`handoff`, the WSGI side in `daemons.kit.serve`): the socket
is detached from gunicorn (which then forgets the connection without writing or closing
anything) and attached here. The hub's thread waits on every attached socket in one selector,
and when a stream has events queued it writes them as one HTTP chunk, with the HEARTBEAT that
ends every burst (what `records()` writes, byte for byte). It writes a HEARTBEAT after each
`heartbeat_interval` of silence, notices a client that has gone (end of file, or an error),
ends a closed stream with the terminating chunk, and closes the stream of a client that stops
reading for `MAX_BACKLOG` bytes. `on_close` callbacks run on a thread of their own, so a daemon
lock they take never holds up the writes.

Without gunicorn (Flask's test client) nothing is handed over and `records()` serves the stream.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from daemons.kit.streams import HEARTBEAT_RECORD, STREAM_KEY, EventStream, encode_batch

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

# A client that reads nothing while this much is queued for it is dropped (it reconnects).
MAX_BACKLOG = 64 * 1024 * 1024


def chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


def response_head(status: str, headers: Iterable[tuple[str, str]], date: str) -> bytes:
    """The head of a chunked HTTP/1.1 response (no `Connection: close`: http.client would then
    drop its socket from the connection at once, and clients that watch it would miss it)."""
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{name}: {value}" for name, value in headers if name.lower() != "content-length"]
    lines += [f"Date: {date}", "Transfer-Encoding: chunked", "", ""]
    return "\r\n".join(lines).encode("latin-1")


class _Conn:
    __slots__ = ("ending", "gone", "last_write", "out", "registered", "sock", "stream", "writing")

    def __init__(self, stream: EventStream, sock: socket.socket, now: float) -> None:
        self.stream = stream
        self.sock = sock
        self.out = bytearray()
        self.last_write = now
        self.ending = False
        self.gone = False
        self.writing = False  # registered for EVENT_WRITE too
        self.registered = False


class StreamHub:
    """Writes the attached streams from one thread (started at the first `attach`, in the
    process that serves: never in gunicorn's arbiter, whose selector a fork would share)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ready: list[_Conn] = []
        self._woken = False
        self._selector: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._closer: queue.SimpleQueue[EventStream] = queue.SimpleQueue()
        self._conns: set[_Conn] = set()
        self._heap: list[tuple[float, int, _Conn]] = []
        self._seq = 0

    # --- any thread ----------------------------------------------------------------------

    def attach(self, stream: EventStream, sock: socket.socket) -> None:
        """From now on the hub writes `stream` to `sock` (its head and first event written)."""
        self._start()
        sock.setblocking(False)
        conn = _Conn(stream, sock, self._clock())
        stream.notify = lambda: self._mark(conn)
        self._mark(conn, new=True)

    def open_streams(self) -> int:
        return len(self._conns)

    def close_all(self, timeout: float) -> None:
        """Close every attached stream and wait up to `timeout` for their last chunks."""
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.stream.close()
        deadline = self._clock() + timeout
        while self._conns and self._clock() < deadline:
            time.sleep(0.01)

    def _mark(self, conn: _Conn, new: bool = False) -> None:
        with self._lock:
            self._ready.append(conn)
            if new:
                self._conns.add(conn)
            if self._woken:
                return
            self._woken = True
        assert self._wake_w is not None
        with contextlib.suppress(BlockingIOError):
            self._wake_w.send(b"\0")

    def _start(self) -> None:
        with self._lock:
            if self._selector is not None:
                return
            self._selector = selectors.DefaultSelector()
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        threading.Thread(target=self._run, name="pydcos-stream-hub", daemon=True).start()
        threading.Thread(target=self._close_loop, name="pydcos-stream-close", daemon=True).start()

    # --- the hub's thread ----------------------------------------------------------------

    def _run(self) -> None:
        assert self._selector is not None
        while True:
            try:
                self._turn(self._selector)
            except Exception:  # one bad connection must not stop every stream
                log.exception("stream hub: unexpected error")

    def _turn(self, selector: selectors.BaseSelector) -> None:
        timeout = None
        if self._heap:
            timeout = max(0.0, self._heap[0][0] - self._clock())
        for key, mask in selector.select(timeout):
            conn = key.data
            if conn is None:
                self._take_ready()
                continue
            if mask & selectors.EVENT_READ:
                self._read(conn)
            if mask & selectors.EVENT_WRITE and not conn.gone:
                self._flush(conn)
        self._heartbeats()

    def _take_ready(self) -> None:
        assert self._wake_r is not None and self._selector is not None
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        with self._lock:
            ready, self._ready = self._ready, []
            self._woken = False
        now = self._clock()
        for conn in ready:
            if conn.gone:
                continue
            if not conn.registered:
                conn.registered = True
                self._selector.register(conn.sock, selectors.EVENT_READ, conn)
                self._push_heartbeat(conn, now)
            self._fill(conn)
            self._flush(conn)

    def _fill(self, conn: _Conn) -> None:
        """Move the stream's queued events into the connection's output, one chunk."""
        if conn.ending:
            return
        records, ended = encode_batch(conn.stream.take())
        if records:
            conn.out += chunk(records + HEARTBEAT_RECORD)
        if ended:
            conn.ending = True
            conn.out += LAST_CHUNK

    def _flush(self, conn: _Conn) -> None:
        assert self._selector is not None
        if conn.out:
            try:
                sent = conn.sock.send(conn.out)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._drop(conn)
                return
            del conn.out[:sent]
            conn.last_write = self._clock()
        if conn.out:
            if len(conn.out) > MAX_BACKLOG:
                log.warning("stream %s: the client reads nothing; closed", conn.stream.stream_id)
                self._drop(conn)
                return
            if not conn.writing:
                conn.writing = True
                events = selectors.EVENT_READ | selectors.EVENT_WRITE
                self._selector.modify(conn.sock, events, conn)
            return
        if conn.writing:
            conn.writing = False
            self._selector.modify(conn.sock, selectors.EVENT_READ, conn)
        if conn.ending:
            self._drop(conn)

    def _read(self, conn: _Conn) -> None:
        """A subscriber sends nothing after its request: readable means gone (or junk)."""
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        assert self._selector is not None
        if conn.gone:
            return
        conn.gone = True
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn.sock)
        with contextlib.suppress(OSError):
            conn.sock.close()
        conn.stream.notify = None
        conn.stream.closed = True
        with self._lock:
            self._conns.discard(conn)
        self._closer.put(conn.stream)

    def closed_elsewhere(self, stream: EventStream) -> None:
        """A stream whose client had gone before it was attached: its `on_close` all the same."""
        self._closer.put(stream)

    def _push_heartbeat(self, conn: _Conn, now: float) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (now + conn.stream.heartbeat_interval, self._seq, conn))

    def _heartbeats(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            _, _, conn = heapq.heappop(self._heap)
            if conn.gone or conn.ending:
                continue
            due = conn.last_write + conn.stream.heartbeat_interval
            if due <= now:
                conn.out += chunk(HEARTBEAT_RECORD)
                self._flush(conn)
                if conn.gone:
                    continue
                due = now + conn.stream.heartbeat_interval
            self._seq += 1
            heapq.heappush(self._heap, (due, self._seq, conn))

    # --- the closer's thread ---------------------------------------------------------------

    def _close_loop(self) -> None:
        while True:
            stream = self._closer.get()
            try:
                stream.closed_by_hub()
            except Exception:
                log.exception("stream %s: on_close failed", stream.stream_id)


HUB = StreamHub()


def handoff(environ: dict[str, Any], status: str, headers: list[tuple[str, str]]) -> bool:
    """Hand the stream of this request (`STREAM_KEY` in `environ`) to the hub: write the head and
    the first event on gunicorn's socket, detach it and attach it to `HUB`. False (and nothing
    written) where that cannot be done here: no gunicorn socket or response, not HTTP/1.1, not
    a 200; `records()` then serves it as before."""
    stream, first = environ[STREAM_KEY]
    sock = environ.get("gunicorn.socket")
    if sock is None or environ.get("SERVER_PROTOCOL") != "HTTP/1.1" or not status.startswith("200"):
        return False
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    records, _ = encode_batch([first] if first is not None else [])
    body = chunk(records + HEARTBEAT_RECORD) if records else b""
    try:
        sock.sendall(response_head(status, headers, date) + body)
    except OSError:
        stream.closed = True
        HUB._start()
        HUB.closed_elsewhere(stream)  # the client has gone already: as if the hub had dropped it
        return True
    HUB.attach(stream, socket.socket(fileno=sock.detach()))
    return True
