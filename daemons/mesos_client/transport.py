"""HTTP for the v1 APIs: one streaming SUBSCRIBE connection, and calls on a keep-alive session.

The stream uses `http.client` directly because the client must own its socket: the heartbeat
watchdog sets the socket's read timeout once the heartbeat interval is known, and `close()` from
another thread wakes a blocked read by shutting the socket down. Bytes are read as they arrive
(`read1`) and fed to the RecordIO decoder, so records split across or packed into HTTP chunks
both work. Calls go through one `requests.Session` (keep-alive), serialised by a lock.

Status mapping, for the stream and for calls: 200/202 ok, 307 -> `Redirected` (the Location is
`//host:port/path`), 503 and connection errors -> `MasterUnavailable`, anything else ->
`CallRejected`.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from daemons.mesos_client.errors import CallRejected, MasterUnavailable, Redirected
from daemons.protocols import JSON
from daemons.protocols.recordio import Decoder, dumps

log = logging.getLogger(__name__)

STREAM_ID_HEADER = "Mesos-Stream-Id"
_READ_SIZE = 64 * 1024
_ERROR_BODY_LIMIT = 4096


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self}"


def parse_endpoint(text: str, default_port: int) -> Endpoint:
    """`host:port`, `http://host:port[/..]` or a 307 Location `//host:port/api/v1/scheduler`."""
    text = text.strip()
    if "//" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError as err:
        raise ValueError(f"malformed address {text!r}: {err}") from None
    if not host:
        raise ValueError(f"address {text!r} has no host")
    return Endpoint(host, port or default_port)


def _status_error(status: int, endpoint: Endpoint, location: str | None, body: str) -> Exception:
    if status == 307:
        if not location:
            return MasterUnavailable(f"{endpoint} answered 307 without a Location")
        try:
            return Redirected(str(parse_endpoint(location, endpoint.port)))
        except ValueError:
            return MasterUnavailable(f"{endpoint} redirected to a malformed {location!r}")
    if status == 503:
        return MasterUnavailable(f"{endpoint} is not available (503): {body}")
    return CallRejected(status, body)


class Stream:
    """An open SUBSCRIBE response; `batches()` yields the records each network read completed."""

    def __init__(
        self,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        sock: socket.socket,
        stream_id: str | None,
    ) -> None:
        self._connection = connection
        self._response = response
        self._sock = sock
        self.stream_id = stream_id

    def batches(self, max_record: int | None = None) -> Iterator[list[bytes]]:
        """Ends at a clean end of stream; raises RecordIOError, OSError or HTTPException."""
        decoder = Decoder() if max_record is None else Decoder(max_record)
        while True:
            data = self._response.read1(_READ_SIZE)
            if not data:
                decoder.finish()
                return
            yield decoder.decode(data)

    def set_read_timeout(self, seconds: float | None) -> None:
        """Longest wait for the next bytes; exceeding it raises TimeoutError in `batches()`."""
        with contextlib.suppress(OSError):
            self._sock.settimeout(seconds)

    def interrupt(self) -> None:
        """Wake a reader blocked in `batches()` (safe from any thread)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Release the connection (from the reading thread)."""
        self.interrupt()
        self._response.close()
        self._connection.close()
        with contextlib.suppress(OSError):
            self._sock.close()


def open_stream(
    endpoint: Endpoint,
    path: str,
    call: JSON,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
) -> Stream:
    """POST a SUBSCRIBE and return the stream once the master answered 200."""
    connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)
    request_headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Connection": "close",
        **(headers or {}),
    }
    try:
        connection.request("POST", path, body=dumps(call), headers=request_headers)
        sock = connection.sock
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as err:
        connection.close()
        raise MasterUnavailable(f"cannot subscribe at {endpoint}: {err!r}") from None
    if response.status == 200 and isinstance(sock, socket.socket):
        return Stream(connection, response, sock, response.getheader(STREAM_ID_HEADER))
    try:
        body = response.read(_ERROR_BODY_LIMIT).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        body = ""
    finally:
        response.close()
        connection.close()
    raise _status_error(response.status, endpoint, response.getheader("Location"), body)


class CallSender:
    """Posts calls on one keep-alive session; thread-safe."""

    def __init__(self, timeout: float, headers: Mapping[str, str] | None = None) -> None:
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._session = requests.Session()
        self._session.trust_env = False  # never send loopback calls through an HTTP proxy
        self._lock = threading.Lock()

    def post(
        self, endpoint: Endpoint, path: str, call: JSON, stream_id: str | None
    ) -> requests.Response:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers.update(self._headers)
        if stream_id is not None:
            headers[STREAM_ID_HEADER] = stream_id
        with self._lock:
            try:
                response = self._session.post(
                    endpoint.url + path,
                    data=dumps(call),
                    headers=headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as err:
                raise MasterUnavailable(f"{call.get('type')} to {endpoint}: {err!r}") from None
        if response.status_code in (200, 202):
            return response
        body = response.text[:_ERROR_BODY_LIMIT]
        raise _status_error(response.status_code, endpoint, response.headers.get("Location"), body)

    def close(self) -> None:
        with self._lock:
            self._session.close()
