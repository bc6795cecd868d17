"""The command executor's wire: compact JSON and one HTTP/1.1 connection (its RecordIO framing is
the agent's: daemons.protocols.recordio).

Stdlib only, and C modules only where a pure-Python one would drag in re, enum and functools at
start-up (json, socket: ~8 ms of a ~20 ms start): see command_executor.py.
"""

from __future__ import annotations

import _socket

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~3 ms to import: annotations only
    from collections.abc import Callable, Iterator
    from typing import Any

    from daemons.protocols import JSON

API = "/api/v1/executor"
FLAGS = (False, False, True)  # sort_keys, skipkeys, allow_nan (json.dumps' defaults)


def _json_codec() -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    """(dumps, loads) on _json's C scanner and encoder -- what json itself runs -- else json."""
    try:
        import _json

        class _Context:  # the attributes json.JSONDecoder hands the C scanner
            strict, object_hook, object_pairs_hook, array_hook = True, None, None, None
            parse_float, parse_int, parse_constant = float, int, float

        def unserializable(obj: object) -> object:
            raise TypeError(f"{type(obj).__name__} is not JSON serializable")

        context: Any = _Context()
        scan = _json.make_scanner(context)
        ascii_only = _json.encode_basestring_ascii
        encode = _json.make_encoder(None, unserializable, ascii_only, None, ":", ",", *FLAGS)

        def dumps(obj: Any) -> str:
            return "".join(encode(obj, 0))

        def loads(text: str) -> Any:
            text = text.strip()
            try:
                obj, end = scan(text, 0)
            except StopIteration as stop:
                raise ValueError(f"no JSON value at {stop.value}") from None
            if end != len(text):
                raise ValueError(f"extra data after the JSON value at {end}")
            return obj

        sample = {"a": [1, 2.5, "\u00e9\n", None, True, {}]}
        if loads(dumps(sample)) == sample:
            return dumps, loads
    except (ImportError, AttributeError, TypeError, ValueError):
        pass
    import json

    return (lambda obj: json.dumps(obj, separators=(",", ":"))), json.loads


dumps, loads = _json_codec()


class Connection:
    """One HTTP/1.1 connection to the agent: just what this API needs (POST, 202, chunked)."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        host, _, port = endpoint.rpartition(":")
        name = host.strip("[]")
        # getaddrinfo encodes a str host with the idna codec, whose import (re, stringprep,
        # unicodedata: ~5 ms) would be a third of the executor's start; the agent's endpoint
        # is an address, ASCII, which goes as bytes and needs no codec.
        query: str | bytes = name.encode("ascii") if name.isascii() else name
        family, kind, proto, _, address = _socket.getaddrinfo(query, int(port), 0, 1)[0]
        self.host, self._buffer = endpoint, bytearray()
        self.sock = _socket.socket(family, kind, proto)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(address)
        except OSError:
            self.sock.close()
            raise

    def post(self, call: JSON) -> tuple[int, dict[str, str]]:
        """Send a call; returns the status and headers (the body is left to read)."""
        data = dumps(call).encode("ascii")
        head = (
            f"POST {API} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.sock.sendall(head.encode("ascii") + data)
        status = int(self._line().split(b" ", 2)[1])
        headers = {}
        while line := self._line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return b"".join(self.chunks())
        return self._exact(int(headers.get("content-length", "0")))

    def chunks(self) -> Iterator[bytes]:
        while size := int(self._line().split(b";")[0], 16):
            yield self._exact(size)
            self._line()
        while self._line():  # trailers
            pass

    def _line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            self._fill()
        return self._take(end, 2)

    def _exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        return self._take(size, 0)

    def _take(self, size: int, skip: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[: size + skip]
        return data

    def _fill(self) -> None:
        if not (data := self.sock.recv(65536)):
            raise ConnectionError("the agent closed the connection")
        self._buffer += data
