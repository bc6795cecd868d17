"""/v2/events: Server-Sent Events (filter with repeated `event_type=`)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from daemons.kit import args
from daemons.kit.errors import NotAcceptable
from daemons.marathon.api.params import marathon
from daemons.marathon.events import stream

bp = Blueprint("events", __name__)


@bp.get("/v2/events")
def events() -> Response:
    accept = request.headers.get("Accept", "")
    if "text/event-stream" not in accept and "*/*" not in accept:
        raise NotAcceptable("/v2/events needs 'Accept: text/event-stream'")
    m = marathon()
    types = frozenset(args.repeated("event_type"))
    subscriber = m.bus.subscribe(types)
    first = {
        "eventType": "event_stream_attached",
        "timestamp": m.bus.clock(),
        "remoteAddress": request.remote_addr or "",
    }
    response = Response(
        stream(m.bus, subscriber, first),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )
    return response
