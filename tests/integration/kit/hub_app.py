"""A daemon-shaped app for the stream hub's tests: `serve()` (gunicorn, the kit's worker) with
one subscription endpoint and a few controls. Run: `python hub_app.py PORT`."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from flask import Flask, jsonify, request

from daemons.kit import serve, stream_hub, streams

stream_hub.MAX_BACKLOG = 1024 * 1024  # a client that reads nothing is dropped at 1 MiB here

app = Flask(__name__)
lock = threading.Lock()
subscribers: dict[str, streams.EventStream] = {}
closed: list[str] = []


@app.route("/subscribe/<name>", methods=["POST"])
def subscribe(name: str) -> object:
    stream = streams.EventStream(name, float(request.args.get("heartbeat", "15")))

    def forget(s: streams.EventStream) -> None:
        with lock:
            closed.append(s.stream_id)

    stream.on_close = forget
    with lock:
        subscribers[name] = stream
    return streams.response(stream, {"type": "SUBSCRIBED", "name": name}, {"Stream-Name": name})


@app.route("/send/<name>", methods=["POST"])
def send(name: str) -> object:
    count = int(request.args.get("count", "1"))
    size = int(request.args.get("size", "0"))
    for i in range(count):
        subscribers[name].send({"type": "EVENT", "i": i, "pad": "x" * size})
    return jsonify(sent=count)


@app.route("/close/<name>", methods=["POST"])
def close(name: str) -> object:
    subscribers[name].close()
    return jsonify(closed=name)


@app.route("/status")
def status() -> object:
    with lock:
        gone = list(closed)
    return jsonify(
        threads=threading.active_count(),
        hub_streams=stream_hub.HUB.open_streams(),
        closed=gone,
    )


@app.route("/health")
def health() -> object:
    return jsonify(ok=True)


if __name__ == "__main__":
    serve.serve(app, f"127.0.0.1:{sys.argv[1]}", threads=32)
