"""Shared HTTP pieces of the master's blueprints: leader guard and streaming responses."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Response, current_app, request

from daemons.kit import streams
from daemons.kit.body import read_call, require_json_accept
from daemons.kit.errors import BadRequest, Redirect, ServiceUnavailable
from daemons.kit.streams import EventStream
from daemons.master.master import Master


def master() -> Master:
    value: Master = current_app.extensions["master"]
    return value


# How long a call waits for this master to finish taking office once ZooKeeper names it leader
# (it reads the registry under its lock, tens of milliseconds for a few thousand agents), rather
# than being sent away to retry after its own backoff (an agent's is up to a second).
TAKING_OFFICE_WAIT = 2.0


def require_leader(m: Master) -> None:
    """A standby answers 307 to the leader, 503 while there is none (as Mesos does)."""
    info = m.leader_info
    if taking_office(m):
        await_office(m, TAKING_OFFICE_WAIT)
    if m.is_leader:
        if not m.acting:
            raise ServiceUnavailable(
                "The leading master has lost touch with ZooKeeper; try again later"
            )
        return
    if not info:
        raise ServiceUnavailable("No leading master; try again later")
    address = info.get("address") or {}
    host = address.get("hostname") or info.get("hostname")
    port = address.get("port") or info.get("port")
    if (address.get("ip"), port) == (m.config.ip, m.config.port):
        # The "leader" is a previous run of this very master whose ZK session has not expired
        # yet: redirecting to ourselves would loop, so ask the client to retry.
        raise ServiceUnavailable("The previous leader's session has not expired yet; retry")
    raise Redirect(f"//{host}:{port}{request.full_path.rstrip('?')}")


def taking_office(m: Master) -> bool:
    """ZooKeeper names this master, which has not led yet: it is about to take office. One that
    led and stepped down (stopping, or its session lost) never takes office again, so a call
    to it is answered at once rather than after the wait."""
    info = m.leader_info
    return (
        not m.is_leader
        and m.elected_time is None
        and info is not None
        and info.get("id") == m.master_id
    )


def await_office(m: Master, timeout: float) -> bool:
    """Wait until this master, named leader in ZooKeeper, has taken office (it does so holding
    its lock, so each check waits for that); False if it has not within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        with m.lock:
            if m.is_leader or m.fatal_reason is not None:
                return m.is_leader
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def read_v1_call(m: Master) -> tuple[str, dict[str, Any], str | None]:
    """The leader check, the body checks and the stream-id rule shared by the streaming APIs:
    returns (type, body, Mesos-Stream-Id header)."""
    require_leader(m)
    kind, body = read_call(request, m.config.max_body_bytes)
    stream_id = request.headers.get("Mesos-Stream-Id")
    if kind == "SUBSCRIBE":
        if stream_id is not None:
            raise BadRequest("Expecting 'Mesos-Stream-Id' to be absent on SUBSCRIBE")
        require_json_accept(request)
    return kind, body, stream_id


def new_stream(m: Master) -> EventStream:
    return EventStream(str(uuid.uuid4()), m.config.heartbeat_interval)


def stream_response(stream: EventStream, first: dict[str, Any] | None) -> Response:
    return streams.response(
        stream, first, {"Mesos-Stream-Id": stream.stream_id, "Cache-Control": "no-cache"}
    )


def accepted() -> Response:
    return Response(b"", status=202, headers={"Content-Length": "0"})
