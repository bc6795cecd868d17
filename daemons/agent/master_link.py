"""The agent's link to the leading master (docs/agent-protocol.md).

One thread finds the leader (ZooKeeper `json.info_` nodes, or a fixed host:port), POSTs SUBSCRIBE
to `/api/v1/agent`, reads the RecordIO event stream and hands each event to the agent. The
socket's read timeout is the heartbeat watchdog (3 intervals). A 307 is followed once; a 503, a
closed stream, an ERROR event, a missed heartbeat or a leader change in ZooKeeper all lead to a
re-subscription after a randomised, doubling backoff. Calls (UPDATE, MESSAGE, EXITED_EXECUTOR)
go on one keep-alive connection with the stream's `Mesos-Stream-Id`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import random
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from kazoo.exceptions import KazooException

from daemons.agent.messages import MasterEvent, Subscribed, parse_event
from daemons.kit import zk
from daemons.protocols import JSON
from daemons.protocols.fields import ProtocolError, obj
from daemons.protocols.ids import id_json
from daemons.protocols.recordio import Decoder, RecordIOError, dumps

log = logging.getLogger(__name__)

PATH = "/api/v1/agent"
CONNECT_TIMEOUT = 5.0
CALL_TIMEOUT = 10.0
MISSED_HEARTBEATS = 3


def watchdog_seconds(subscribed: Subscribed, default_heartbeat: float) -> float:
    """How long the stream may stay silent before the agent re-subscribes: the master's ping
    budget (agent_ping_timeout x max_agent_ping_timeouts) plus one ping of slack, as a Mesos
    agent does; 3 heartbeat intervals from a master that does not ping."""
    ping, count = subscribed.ping_timeout, subscribed.max_ping_timeouts
    if ping is not None and ping > 0 and count is not None and count > 0:
        return ping * (count + 1)
    interval = subscribed.heartbeat_interval
    if interval is not None and interval > 0:
        return MISSED_HEARTBEATS * interval
    return MISSED_HEARTBEATS * default_heartbeat


class LinkError(Exception):
    """The master refused the subscription or broke the protocol."""


def parse_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {text!r}")
    return host, int(port)


def leader_address(info: JSON) -> tuple[str, int]:
    """host and port of a MasterInfo (`address.ip` preferred, as Mesos' detector does)."""
    address = info.get("address") or {}
    host = address.get("ip") or address.get("hostname") or info.get("hostname")
    port = address.get("port") or info.get("port")
    if not isinstance(host, str) or not isinstance(port, int):
        raise ValueError("MasterInfo without an address")
    return host, port


def redirect_target(location: str) -> tuple[str, int]:
    """`//host:port/api/v1/agent` (Mesos' form), `http://host:port/...` or `host:port`."""
    netloc = urlsplit(location).netloc if "//" in location else location.split("/", 1)[0]
    return parse_host_port(netloc)


class MasterLink:
    def __init__(
        self,
        master: str,
        *,
        build_subscribe: Callable[[], JSON],
        on_subscribed: Callable[[Subscribed], None],
        on_event: Callable[[MasterEvent], None],
        on_disconnected: Callable[[], None],
        heartbeat_interval: float,
        backoff_max: float,
        zk_session_timeout: float = 10.0,
    ) -> None:
        self.master = master
        self.build_subscribe = build_subscribe
        self.on_subscribed = on_subscribed
        self.on_event = on_event
        self.on_disconnected = on_disconnected
        self.default_heartbeat = heartbeat_interval
        self.backoff_max = backoff_max
        self.zk_session_timeout = zk_session_timeout
        self.connected = False
        self.master_info: JSON | None = None
        self.agent_id: str | None = None
        self._stream_id: str | None = None
        self._target: tuple[str, int] | None = None
        self._redirect: tuple[str, int] | None = None
        self._zk: Any = None
        self._leader_node: str | None = None
        self._stream_sock: socket.socket | None = None
        self._call_conn: http.client.HTTPConnection | None = None
        self._call_lock = threading.Lock()
        self._pong_lock = threading.Lock()
        self._pong_in_flight = False  # a pong thread is running
        self._pong_wanted = False  # a PING arrived that no PONG has answered yet
        self._new_leader = threading.Event()  # set by the ZooKeeper watch: subscribe now
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="master-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._new_leader.set()
        self.interrupt()
        if self._zk is not None:
            with contextlib.suppress(Exception):
                self._zk.stop()
                self._zk.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def interrupt(self) -> None:
        """End the current stream (it is re-established after the backoff)."""
        sock = self._stream_sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        backoff = 0.0
        while not self._stopped.is_set():
            subscribed = False
            try:
                target = self._redirect or self._resolve()
                self._redirect = None
                if target is not None:
                    subscribed = self._session(*target)
            except (OSError, http.client.HTTPException, RecordIOError, LinkError, ValueError) as e:
                log.warning("master link failed master=%s error=%s", self._target, e)
            except zk.StoreUnavailable as err:
                log.warning("leader detection failed error=%s", err.message)
            except Exception:  # the link must outlive any surprise; say what it was
                log.exception("master link error; re-subscribing")
            finally:
                self._disconnected()
            if self._redirect is not None:
                continue
            # Mesos: a random delay in [0, backoff], the bound doubling up to the maximum. A
            # new leader named in ZooKeeper cuts the wait short and starts the doubling afresh:
            # the backoff is for a master that refuses, not for one that just got elected.
            backoff = 1.0 if subscribed else min(max(backoff * 2, 1.0), self.backoff_max)
            if self._new_leader.wait(random.uniform(0.1, backoff)):
                self._new_leader.clear()
                backoff = 0.0

    def _disconnected(self) -> None:
        was = self.connected
        self.connected = False
        self._stream_id = None
        self._stream_sock = None
        with self._call_lock:
            if self._call_conn is not None:
                self._call_conn.close()
                self._call_conn = None
        if was:
            self.on_disconnected()

    # --- leader detection ----------------------------------------------------------------

    def _resolve(self) -> tuple[str, int] | None:
        if not self.master.startswith("zk://"):
            return parse_host_port(self.master)
        hosts, path = zk.parse_zk_url(self.master)
        try:
            if self._zk is None:
                client = zk.connect(hosts, session_timeout=self.zk_session_timeout)
                client.ensure_path(path)  # so the watch holds even before any master exists
                client.ChildrenWatch(path, self._leader_changed)
                self._zk = client
            self._leader_node = self._lowest(self._zk.get_children(path))
        except KazooException as err:
            raise zk.StoreUnavailable(f"ZooKeeper: {err.__class__.__name__}") from None
        info = zk.leading_master(self._zk, path)
        if info is None:
            log.info("no leading master in ZooKeeper path=%s", path)
            return None
        return leader_address(info)

    @staticmethod
    def _lowest(children: list[str]) -> str | None:
        contenders = sorted(c for c in children if c.startswith(zk.INFO_PREFIX))
        return contenders[0] if contenders else None

    def _leader_changed(self, children: list[str]) -> bool:
        leader = self._lowest(children)
        if leader is not None and leader != self._leader_node:
            if self._stream_sock is not None:
                log.info("leading master changed node=%s; re-subscribing", leader)
                self.interrupt()
            self._new_leader.set()
        return not self._stopped.is_set()

    # --- the subscription ----------------------------------------------------------------

    def _session(self, host: str, port: int) -> bool:
        """Subscribe and consume events until the stream ends; True once SUBSCRIBED arrived."""
        self._target = (host, port)
        subscribe = self.build_subscribe()
        call: JSON = {"type": "SUBSCRIBE", "subscribe": subscribe}
        agent_id = (subscribe.get("agent_info") or {}).get("id")
        if agent_id:
            call["agent_id"] = agent_id
        conn = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT)
        try:
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            conn.request("POST", PATH, dumps(call), headers)
            response = conn.getresponse()
            if response.status == 307:
                self._redirect = redirect_target(response.getheader("Location") or "")
                log.info("master redirected to leader=%s:%s", *self._redirect)
                return False
            if response.status != 200:
                body = response.read(4096).decode("utf-8", "replace")
                raise LinkError(f"SUBSCRIBE answered {response.status}: {body}")
            stream_id = response.getheader("Mesos-Stream-Id")
            if not stream_id:
                raise LinkError("SUBSCRIBE answer has no Mesos-Stream-Id")
            if conn.sock is None:
                raise LinkError("stream socket went away")
            self._stream_sock = conn.sock
            conn.sock.settimeout(MISSED_HEARTBEATS * self.default_heartbeat)
            return self._consume(response, stream_id, conn.sock)
        finally:
            conn.close()

    def _consume(self, response: Any, stream_id: str, sock: socket.socket) -> bool:
        decoder = Decoder()
        subscribed = False
        while not self._stopped.is_set():
            try:
                data = response.read1(65536)
            except TimeoutError:
                log.warning("no heartbeat from the master; reconnecting")
                return subscribed
            if not data:
                log.info("master closed the event stream")
                return subscribed
            for record in decoder.decode(data):
                event = json.loads(record)
                kind = event.get("type")
                if not subscribed:
                    if kind != "SUBSCRIBED":
                        raise LinkError(f"first event is {kind}, not SUBSCRIBED")
                    subscribed = True
                    try:
                        first = Subscribed.parse(obj(event, "subscribed", "event"))
                    except ProtocolError as err:
                        raise LinkError(f"malformed SUBSCRIBED: {err}") from None
                    self._subscribed(first, stream_id, sock)
                elif kind == "HEARTBEAT":
                    continue
                elif kind == "PING":
                    self._pong()
                elif kind == "ERROR":
                    message = (event.get("error") or {}).get("message")
                    log.error("master sent ERROR message=%s", message)
                    return subscribed
                else:
                    self._event(event)
        return subscribed

    def _event(self, event: JSON) -> None:
        """Any other event: parsed here, where it enters the agent. One that is malformed, or
        of a type the agent does not know, is logged and dropped."""
        try:
            parsed = parse_event(event)
        except ProtocolError as err:
            log.warning("ignoring malformed master event type=%s error=%s", event.get("type"), err)
            return
        if parsed is None:
            log.warning("ignoring master event type=%s", event.get("type"))
            return
        self.on_event(parsed)

    def _subscribed(self, event: Subscribed, stream_id: str, sock: socket.socket) -> None:
        self.agent_id = event.agent_id
        self.master_info = event.master_info
        sock.settimeout(watchdog_seconds(event, self.default_heartbeat))
        self._stream_id = stream_id
        self.connected = True
        log.info(
            "subscribed to master=%s:%s agent_id=%s", *(self._target or ("?", 0)), self.agent_id
        )
        self.on_subscribed(event)

    # --- calls -------------------------------------------------------------------------

    def _pong(self) -> None:
        """Answer a health-check PING with a PONG call, off the stream's thread (a call may
        block for a while during a partition; events must keep flowing meanwhile). PINGs that
        arrive while a PONG is on its way are answered by one more PONG after it, never by
        none: the master may send its next PING as soon as it has the previous PONG."""
        if self.agent_id is None:
            return
        with self._pong_lock:
            self._pong_wanted = True
            if self._pong_in_flight:
                return
            self._pong_in_flight = True
        call = {"type": "PONG", "agent_id": id_json(self.agent_id)}

        def send() -> None:
            while True:
                with self._pong_lock:
                    if not self._pong_wanted or self._stopped.is_set():
                        self._pong_in_flight = False
                        return
                    self._pong_wanted = False
                self.send(call)

        threading.Thread(target=send, name="pong", daemon=True).start()

    def send(self, call: JSON) -> bool:
        """POST one call on the current subscription; False when it did not get a 2xx."""
        with self._call_lock:
            if not self.connected or self._stream_id is None or self._target is None:
                return False
            headers = {"Content-Type": "application/json", "Mesos-Stream-Id": self._stream_id}
            body = dumps(call)
            for attempt in (1, 2):  # a kept-alive connection may have been closed by the server
                if self._call_conn is None:
                    self._call_conn = http.client.HTTPConnection(
                        *self._target, timeout=CALL_TIMEOUT
                    )
                try:
                    self._call_conn.request("POST", PATH, body, headers)
                    response = self._call_conn.getresponse()
                    text = response.read()
                except (OSError, http.client.HTTPException) as err:
                    self._call_conn.close()
                    self._call_conn = None
                    if attempt == 2:
                        log.warning("call failed type=%s error=%s", call.get("type"), err)
                    continue
                if 200 <= response.status < 300:
                    return True
                log.warning(
                    "master rejected call type=%s status=%s body=%s",
                    call.get("type"),
                    response.status,
                    text[:200].decode("utf-8", "replace"),
                )
                return False
            return False
