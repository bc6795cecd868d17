"""The SSE bus: filters, and closing it ends every stream (a stopping daemon must not wait for
clients that never hang up)."""

from __future__ import annotations

import json

from daemons.marathon.events import EventBus, stream

ATTACHED = {"eventType": "event_stream_attached", "timestamp": "t", "remoteAddress": ""}


def types_of(chunks: list[bytes]) -> list[str]:
    out = []
    for chunk in chunks:
        for line in chunk.decode().splitlines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:])["eventType"])
    return out


def test_closing_the_bus_ends_every_stream_after_what_it_queued() -> None:
    bus = EventBus(lambda: "2023-11-14T22:13:20.000Z")
    everything = bus.subscribe(frozenset())
    filtered = bus.subscribe(frozenset({"deployment_success"}))
    bus.publish("deployment_info", plan={})
    bus.publish("deployment_success", id="d1", plan={})
    bus.publish("scheduler_registered_event")  # opt-in only: nobody asked for it
    bus.close()
    # Each stream returns (list() would block forever otherwise) and unsubscribes.
    assert types_of(list(stream(bus, everything, ATTACHED, keepalive=0.01))) == [
        "event_stream_attached",
        "deployment_info",
        "deployment_success",
    ]
    assert types_of(list(stream(bus, filtered, ATTACHED, keepalive=0.01))) == [
        "event_stream_attached",
        "deployment_success",
    ]
    assert bus.subscriber_count == 0
    late = bus.subscribe(frozenset())
    bus.publish("deployment_info", plan={})
    assert types_of(list(stream(bus, late, ATTACHED, keepalive=0.01))) == ["event_stream_attached"]
