"""`dnsproxy.polling.JsonPoller` against a real HTTP server on loopback that tags its document
as Mesos-DNS tags `/v1/axfr` (ETag, 304 on `If-None-Match`): an unchanged document is neither
read nor handed on again; a changed one is; a body the consumer refuses is asked for again."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from dnsproxy.polling import JsonPoller


class Document:
    def __init__(self) -> None:
        self.body: dict[str, Any] = {"Records": {"As": {"a.mesos.": ["10.0.0.1"]}}}
        self.version = 1
        self.full = 0  # 200s sent
        self.not_modified = 0  # 304s sent

    @property
    def tag(self) -> str:
        return f'"v{self.version}"'


@pytest.fixture
def served() -> Iterator[tuple[Document, str]]:
    document = Document()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == document.tag:
                document.not_modified += 1
                self.send_response(304)
                self.send_header("ETag", document.tag)
                self.end_headers()
                return
            document.full += 1
            body = json.dumps(document.body).encode()
            self.send_response(200)
            self.send_header("ETag", document.tag)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield document, f"http://127.0.0.1:{server.server_address[1]}/v1/axfr"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unchanged_document_is_not_read_again(served: tuple[Document, str]) -> None:
    document, url = served
    taken: list[Any] = []
    poller = JsonPoller("axfr", [url], 30.0, taken.append)
    try:
        assert poller.poll_once() and poller.poll_once() and poller.poll_once()
        assert (len(taken), document.full, document.not_modified) == (1, 1, 2)
        assert (poller.reads, poller.unchanged, poller.etag) == (3, 2, '"v1"')
        document.body = {"Records": {"As": {"b.mesos.": ["10.0.0.2"]}}}
        document.version = 2
        assert poller.poll_once()
        assert taken[-1] == document.body and (len(taken), document.full) == (2, 2)
        assert poller.poll_once() and len(taken) == 2 and document.not_modified == 3
    finally:
        poller.stop()


def test_a_refused_body_is_asked_for_in_full_again(served: tuple[Document, str]) -> None:
    document, url = served
    offered: list[Any] = []

    def refuse(body: Any) -> None:
        offered.append(body)
        raise ValueError("not a /v1/axfr body")

    poller = JsonPoller("axfr", [url], 30.0, refuse)
    try:
        assert not poller.poll_once() and not poller.poll_once()
        # No tag was kept for a body the consumer did not take: each read is a full one.
        assert (len(offered), document.full, document.not_modified, poller.etag) == (2, 2, 0, None)
    finally:
        poller.stop()
