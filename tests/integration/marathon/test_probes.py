"""Marathon-side probes against real listeners on 127.0.0.1: status ranges, refused and silent
ports, informational answers, and HTTPS with a self-signed certificate."""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemons.marathon.probes import probe_http, probe_tcp

HOST = "127.0.0.1"
TIMEOUT = 2.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # path -> status; /processing answers 102 and nothing else.
    STATUSES = {"/": 200, "/ok": 200, "/moved": 302, "/missing": 404, "/broken": 500}

    def do_GET(self) -> None:
        if self.path == "/processing":
            self.wfile.write(b"HTTP/1.1 102 Processing\r\n\r\n")
            self.close_connection = True
            return
        body = b"hello"
        self.send_response(self.STATUSES.get(self.path, 404))
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/moved":
            self.send_header("Location", "/broken")  # never followed: 3xx is healthy
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(context: ssl.SSLContext | None = None) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def http_port() -> Iterator[int]:
    with serving() as port:
        yield port


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        s.listen(8)
        yield s.getsockname()[1]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ok", (True, None)),
        (None, (True, None)),
        ("/moved", (True, None)),
        ("/missing", (False, "HTTP 404")),
        ("/broken", (False, "HTTP 500")),
    ],
)
def test_http_is_healthy_for_200_to_399(
    http_port: int, path: str | None, expected: tuple[bool, str | None]
) -> None:
    assert probe_http(HOST, http_port, path, timeout=TIMEOUT) == expected


def test_http_on_a_closed_port_is_refused(closed_port: int) -> None:
    assert probe_http(HOST, closed_port, "/", timeout=TIMEOUT) == (False, "ConnectionRefused")


def test_http_that_never_answers_times_out(silent_port: int) -> None:
    assert probe_http(HOST, silent_port, "/", timeout=0.3) == (False, "Timeout")


def test_an_informational_answer_is_unhealthy_or_ignored(http_port: int) -> None:
    assert probe_http(HOST, http_port, "/processing", timeout=TIMEOUT) == (False, "HTTP 102")
    ignored = probe_http(HOST, http_port, "/processing", timeout=TIMEOUT, ignore_1xx=True)
    assert ignored == (None, "HTTP 102")


def test_a_bad_path_is_a_failure_not_an_exception(http_port: int) -> None:
    ok, cause = probe_http(HOST, http_port, "/with space\n", timeout=TIMEOUT)
    assert ok is False and cause


def test_tcp_is_healthy_when_the_port_accepts(http_port: int, closed_port: int) -> None:
    assert probe_tcp(HOST, http_port, timeout=TIMEOUT) == (True, None)
    assert probe_tcp(HOST, closed_port, timeout=TIMEOUT) == (False, "ConnectionRefused")


@pytest.fixture
def tls_context(tmp_path: Path) -> ssl.SSLContext:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subject = ["-subj", "/CN=task.invalid", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_https_accepts_a_self_signed_certificate(tls_context: ssl.SSLContext) -> None:
    with serving(tls_context) as port:
        assert probe_http(HOST, port, "/ok", timeout=TIMEOUT, https=True) == (True, None)
        assert probe_http(HOST, port, "/broken", timeout=TIMEOUT, https=True) == (
            False,
            "HTTP 500",
        )
        # Plain HTTP against a TLS port fails, it does not raise.
        ok, cause = probe_http(HOST, port, "/ok", timeout=TIMEOUT)
        assert ok is False and cause
