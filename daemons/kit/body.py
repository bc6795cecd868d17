"""Reading JSON bodies from a Flask request: the one reader of every daemon.

Two front doors over the same size and JSON checks:
- `read_call` / `read_json_object` for the Mesos v1 calls. Order mirrors Mesos' HTTP handlers:
  method (405, routed by Flask), Content-Type present (400), media type (415), Accept (406,
  streaming calls only), size (413), JSON (400, including the 100 000-nested-brackets case of
  CVE-2018-11793), shape (400).
- `read_json` for the REST APIs (Marathon, Metronome, Exhibitor): any JSON value, the caller
  says what it must be. The Content-Type must be `application/json`, and a missing one is 415
  too (Metronome's Play parser refuses it; Marathon's Jersey would let it through): a web page
  may POST `text/plain`, or a body with no Content-Type at all (a `Blob`), to any origin
  without a CORS preflight, so only a JSON media type shows that the caller is not a page
  driven by someone else. The clients we answer to (marathon-python, dcos-metronome) always
  send `application/json`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import ClientDisconnected

from daemons.kit.errors import BadRequest, NotAcceptable, PayloadTooLarge, UnsupportedMediaType

JSON_TYPE = "application/json"
PROTOBUF_TYPE = "application/x-protobuf"
RECORDIO_TYPE = "application/recordio"
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def require_json_content_type(request: Request) -> None:
    content_type = request.headers.get("Content-Type")
    if not content_type:
        raise BadRequest("Expecting 'Content-Type' to be present")
    media = _media_type(content_type)
    if media == PROTOBUF_TYPE:
        raise UnsupportedMediaType(f"Content-Type '{PROTOBUF_TYPE}' is not supported; use JSON")
    if media != JSON_TYPE:
        raise UnsupportedMediaType(
            f"Expecting 'Content-Type' of {JSON_TYPE} or {PROTOBUF_TYPE}, got '{content_type}'"
        )


def require_json_accept(request: Request) -> None:
    """406 unless Accept is absent or admits JSON (Mesos' SUBSCRIBE check)."""
    accept = request.headers.get("Accept")
    if not accept:
        return
    for part in accept.split(","):
        media = _media_type(part)
        if media in (JSON_TYPE, "application/*", "*/*", RECORDIO_TYPE):
            return
    raise NotAcceptable(f"Expecting 'Accept' to allow '{JSON_TYPE}'")


def _depth(value: Any) -> int:
    """Nesting of arrays and objects in a parsed value (a scalar: 0), level by level, never
    recursive, and no deeper than just past MAX_DEPTH. Measured on the parsed value, not on the
    text: a scan of every character in Python was 14 % of a master's time re-registering
    agents, and this is a third of it."""
    deepest = 0
    level = [value] if isinstance(value, (dict, list)) else []
    while level and deepest <= MAX_DEPTH:
        deepest += 1
        below = []
        for container in level:
            for item in container.values() if isinstance(container, dict) else container:
                if isinstance(item, (dict, list)):
                    below.append(item)
        level = below
    return deepest


def parse_json(raw: bytes) -> Any:
    """The body's JSON value; 400 for what is not UTF-8, not JSON, or nested deeper than
    MAX_DEPTH. The decoder itself stops at the interpreter's recursion limit (1,000) with a
    RecursionError, so a body of 100,000 brackets (CVE-2018-11793) costs nothing either."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequest(f"Failed to parse body into JSON: not UTF-8 ({err.reason})") from None
    too_deep = f"Failed to parse body into JSON: nested deeper than {MAX_DEPTH}"
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadRequest(too_deep) from None
    except ValueError as err:
        raise BadRequest(f"Failed to parse body into JSON: {err}") from None
    if _depth(value) > MAX_DEPTH:
        raise BadRequest(too_deep)
    return value


def read_raw(request: Request, max_bytes: int | None) -> bytes:
    """The body's bytes: 413 past `max_bytes` (None: Flask's MAX_CONTENT_LENGTH alone, which
    answers 413 itself), 400 when its framing is broken."""
    length = request.content_length
    if max_bytes is not None and length is not None and length > max_bytes:
        raise PayloadTooLarge(f"Request body of {length} bytes exceeds the limit of {max_bytes}")
    try:
        raw = request.get_data(cache=True)
    except (OSError, ParseException, ClientDisconnected) as err:  # broken chunked framing
        raise BadRequest(f"Malformed request body: {err}") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(f"Request body exceeds the limit of {max_bytes} bytes")
    return raw


def require_json_media_type(request: Request) -> None:
    """415 unless the Content-Type is JSON; a missing one included (see the module docstring)."""
    content_type = request.headers.get("Content-Type")
    if content_type is None or _media_type(content_type) != JSON_TYPE:
        got = "none" if content_type is None else repr(content_type)
        raise UnsupportedMediaType(f"Expecting Content-Type {JSON_TYPE}, got {got}")


def read_json(request: Request) -> Any:
    """A REST API's JSON body: 415 for a Content-Type that is not JSON (or none), 413 past the
    app's body limit, 400 when it is empty or not JSON."""
    require_json_media_type(request)
    raw = read_raw(request, request.max_content_length)
    if not raw.strip():
        raise BadRequest("Invalid JSON: the body is empty")
    return parse_json(raw)


def read_json_object(request: Request, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """A Mesos call's body: checks Content-Type and size, parses, insists on a JSON object."""
    require_json_content_type(request)
    body = parse_json(read_raw(request, max_bytes))
    if not isinstance(body, dict):
        raise BadRequest("Failed to validate call: expected a JSON object")
    return body


def read_call(request: Request, max_bytes: int = MAX_BODY_BYTES) -> tuple[str, dict[str, Any]]:
    """A v1 call: `{"type": X, ...}`; returns (type, body)."""
    body = read_json_object(request, max_bytes)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadRequest("Failed to validate call: Expecting 'type' to be present")
    return kind, body
