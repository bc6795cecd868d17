"""Standbys proxy every request to the leader (Marathon's and Metronome's behaviour).

A standby forwards the request as it came (method, path, query, body, headers but hop-by-hop
ones) and streams the answer back, so Server-Sent Events work through it. A request that was
already proxied once is not proxied again (two instances that each think the other leads would
otherwise bounce it forever): it gets 503, as does any request while there is no leader (raised,
so the kit's one handler renders it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Protocol

import requests
from flask import Flask, Response, request

from daemons.kit.errors import ServiceUnavailable

log = logging.getLogger(__name__)

VIA = "X-Marathon-Via"  # the header real Marathon sets on proxied requests
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0


class Leadership(Protocol):
    @property
    def is_leader(self) -> bool: ...

    @property
    def leader(self) -> str | None: ...

    advertised: str


def install(
    app: Flask, daemon: Leadership, local_paths: frozenset[str] = frozenset({"/ping"})
) -> None:
    session = requests.Session()

    @app.before_request
    def _proxy_unless_leader() -> Response | None:
        if daemon.is_leader or request.path in local_paths:
            return None
        leader = daemon.leader
        if leader is None or leader == daemon.advertised:
            raise ServiceUnavailable("no leader: leader election in progress")
        if request.headers.get(VIA):
            raise ServiceUnavailable(f"not the leader, and already proxied by {leader}")
        return _forward(session, leader, daemon.advertised)


def _forward(session: requests.Session, leader: str, me: str) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers[VIA] = me
    streaming = "text/event-stream" in request.headers.get("Accept", "")
    url = f"http://{leader}{request.full_path if request.query_string else request.path}"
    try:
        upstream = session.request(
            request.method,
            url,
            headers=headers,
            data=request.get_data(),
            stream=True,
            allow_redirects=False,
            timeout=(CONNECT_TIMEOUT, None if streaming else READ_TIMEOUT),
        )
    except requests.RequestException as err:
        log.warning("proxy to leader failed leader=%s error=%s", leader, err)
        raise ServiceUnavailable(
            f"leader {leader} did not answer: {err.__class__.__name__}"
        ) from None
    out_headers = [(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP]
    if streaming:
        return Response(_chunks(upstream), status=upstream.status_code, headers=out_headers)
    body = upstream.content
    upstream.close()
    return Response(body, status=upstream.status_code, headers=out_headers)


def _chunks(upstream: Any) -> Iterator[bytes]:
    try:
        yield from upstream.iter_content(chunk_size=None)
    finally:
        upstream.close()
