"""The one JSON body reader of the REST APIs (Marathon, Metronome, Exhibitor): 415 unless the
Content-Type is JSON (a missing one too), 413 past the limit, 400 for what is not JSON."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask, request

from daemons.kit.app import make_app
from daemons.kit.body import read_json
from daemons.kit.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType


def read(data: bytes, headers: dict[str, str], limit: int = 1024) -> Any:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = limit
    with app.test_request_context("/", method="POST", data=data, headers=headers):
        return read_json(request)


JSON = {"Content-Type": "application/json"}


def test_json_of_any_shape() -> None:
    assert read(b'{"id": "/web"}', JSON) == {"id": "/web"}
    assert read(b"[1, 2]", {"Content-Type": "application/json; charset=utf-8"}) == [1, 2]
    assert read(b'"x"', {"Content-Type": "Application/JSON"}) == "x"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a web page can POST a Blob with no Content-Type without a CORS preflight
        {"Content-Type": "text/plain"},  # ... or text/plain
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {"Content-Type": "application/x-protobuf"},
    ],
)
def test_anything_but_a_json_content_type_is_415(headers: dict[str, str]) -> None:
    with pytest.raises(UnsupportedMediaType) as err:
        read(b'{"id": "/web", "cmd": "curl evil"}', headers)
    assert err.value.status == 415 and "application/json" in err.value.message


def test_empty_or_broken_json_is_400_and_too_large_is_413() -> None:
    for raw in (b"", b"  \n", b'{"id": ', b"[[[", b"\xff"):
        with pytest.raises(BadRequest):
            read(raw, JSON)
    with pytest.raises(PayloadTooLarge):
        read(b'{"x": "' + b"y" * 2000 + b'"}', JSON, limit=1024)


def test_refusals_render_as_json_messages_through_the_one_handler() -> None:
    bp = Blueprint("echo", __name__)

    @bp.post("/echo")
    def echo() -> Any:
        return {"got": read_json(request)}

    client = make_app("test", (bp,)).test_client()
    assert client.post("/echo", json={"a": 1}).get_json() == {"got": {"a": 1}}
    refused = client.post("/echo", data="{}", content_type="text/plain")
    assert refused.status_code == 415
    assert refused.get_json() == {
        "message": "Expecting Content-Type application/json, got 'text/plain'"
    }
    missing = client.post("/echo", data="{}")
    assert missing.status_code == 415
    assert missing.get_json() == {"message": "Expecting Content-Type application/json, got none"}
