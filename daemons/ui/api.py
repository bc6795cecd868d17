"""The UI backend's HTTP API under `/ui/api/v1` (Admin Router authenticates the route and
proxies it here unchanged), and `/health`:

- `GET /ui/api/v1/summary`: `{"summary": {"t","dashboard","nodes"} or null, "status"}`;
- `GET /ui/api/v1/history[?since=T]`: `{"samples": [...]}`, oldest first, taken after T;
- `GET /ui/api/v1/events`: Server-Sent Events, `snapshot` (history, summary, status) first,
  then `sample` (each read), `summary` (when it changed) and `status` (a failed read);
- `GET /ui/api/v1/status`: the sampler's reads, failures, last error, interval, streams.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, request

from daemons.kit.errors import BadRequest, NotAcceptable, ServiceUnavailable
from daemons.ui.config import API_PREFIX
from daemons.ui.service import CLOSED, Subscriber, UiService, sse

bp = Blueprint("ui_api", __name__)


def service() -> UiService:
    found: UiService = current_app.extensions["ui"]
    return found


@bp.get(f"{API_PREFIX}/summary")
def summary() -> dict[str, Any]:
    ui = service()
    return {"summary": ui.current(), "status": ui.status()}


@bp.get(f"{API_PREFIX}/history")
def history() -> dict[str, Any]:
    raw = request.args.get("since", "0")
    try:
        since = float(raw)
    except ValueError:
        raise BadRequest(f"since: expected a number of seconds, got {raw!r}") from None
    if since != since:  # NaN
        raise BadRequest("since: expected a number of seconds")
    return {"samples": service().history(since)}


@bp.get(f"{API_PREFIX}/status")
def status() -> dict[str, Any]:
    return service().status()


@bp.get(f"{API_PREFIX}/events")
def events() -> Response:
    accept = request.headers.get("Accept", "")
    if "text/event-stream" not in accept and "*/*" not in accept:
        raise NotAcceptable(f"{API_PREFIX}/events needs 'Accept: text/event-stream'")
    ui = service()
    found = ui.subscribe()
    if found is None:
        raise ServiceUnavailable("too many browsers follow the UI's live stream; retry later")
    subscriber, snapshot = found
    return Response(
        _stream(ui, subscriber, snapshot),
        mimetype="text/event-stream",
        # X-Accel-Buffering: nginx passes each event on at once.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _stream(ui: UiService, subscriber: Subscriber, snapshot: Any) -> Iterator[bytes]:
    """The snapshot, then events until the service stops or `max_stream_seconds` have passed
    (the browser reconnects in 3 s, through Admin Router's authentication again)."""
    keepalive = ui.config.keepalive
    deadline = time.monotonic() + ui.config.max_stream_seconds
    try:
        yield b"retry: 3000\n" + sse("snapshot", snapshot)
        while (left := deadline - time.monotonic()) > 0:
            try:
                kind, data = subscriber.queue.get(timeout=min(keepalive, left))
            except queue.Empty:
                yield b":\n\n"
                continue
            if (kind, data) == CLOSED:
                return
            yield sse(kind, data)
    finally:
        ui.unsubscribe(subscriber)


@bp.get("/health")
def health() -> dict[str, Any]:
    return {"ready": True, "status": service().status()}
