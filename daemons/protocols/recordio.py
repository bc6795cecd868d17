"""RecordIO framing as Mesos streams use it: `<decimal length>\\n<bytes>`, records back to back.

Pure. The decoder is incremental (bytes may arrive split anywhere) and bounded: a non-numeric or
oversized length, or a zero length, puts it in a failed state that it never leaves (stout
RecordIOTest.Decoder), and it never allocates more than `max_record` bytes for one record.

The framing imports nothing: the built-in executors decode their event stream with `Decoder`,
and json (~7 ms) and typing (~8 ms) would double their start-up (daemons/protocols/__init__.py).
json is imported by the first `dumps`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MAX_RECORD = 64 * 1024 * 1024
_MAX_LENGTH_DIGITS = 20


class RecordIOError(ValueError):
    """The stream is malformed; the decoder stays failed."""


def encode(record: bytes) -> bytes:
    return str(len(record)).encode("ascii") + b"\n" + record


def encode_json(obj: Any) -> bytes:
    """Compact, ASCII-only JSON on one line (mesoshttp slices decoded text by byte count)."""
    return encode(dumps(obj))


def dumps(obj: Any) -> bytes:
    import json  # here, not at the top: see the module's docstring

    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode("ascii")


class Decoder:
    """Feed bytes, get complete records back."""

    def __init__(self, max_record: int = DEFAULT_MAX_RECORD) -> None:
        self._buffer = bytearray()
        self._max_record = max_record
        self._failed: RecordIOError | None = None

    def decode(self, data: bytes) -> list[bytes]:
        if self._failed is not None:
            raise self._failed
        self._buffer += data
        records: list[bytes] = []
        while True:
            newline = self._buffer.find(b"\n", 0, _MAX_LENGTH_DIGITS + 1)
            if newline < 0:
                if len(self._buffer) > _MAX_LENGTH_DIGITS:
                    self._fail("record length line is too long")
                break
            digits = bytes(self._buffer[:newline])
            if not digits.isdigit():
                self._fail(f"record length {digits[:32]!r} is not a decimal number")
            length = int(digits)
            if length == 0:
                self._fail("record length is zero")
            if length > self._max_record:
                self._fail(f"record length {length} exceeds the maximum {self._max_record}")
            end = newline + 1 + length
            if len(self._buffer) < end:
                break
            records.append(bytes(self._buffer[newline + 1 : end]))
            del self._buffer[:end]
        return records

    def finish(self) -> None:
        """Call at end of stream: a truncated last record is an error."""
        if self._failed is not None:
            raise self._failed
        if self._buffer:
            self._fail("stream ended inside a record")

    def _fail(self, message: str) -> None:
        self._failed = RecordIOError(message)
        self._buffer.clear()
        raise self._failed
