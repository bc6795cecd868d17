"""Request checks shared by every daemon: body parsing, depth limit, request-target guard."""

from __future__ import annotations

import pytest

from daemons.kit.body import parse_json
from daemons.kit.errors import BadRequest
from daemons.kit.guard import request_target_problem


def test_depth_limit_rejects_deep_nesting_without_recursion():
    with pytest.raises(BadRequest, match="nested"):
        parse_json(b"[" * 100_000)
    with pytest.raises(BadRequest, match="nested"):
        parse_json(b'{"a":' * 1000 + b"1" + b"}" * 1000)


def test_the_limit_is_64_levels_of_arrays_and_objects_below_the_decoders_own():
    assert parse_json(b"[" * 64 + b"]" * 64) is not None
    assert parse_json(b'{"a":' * 63 + b"[1]" + b"}" * 63) is not None
    with pytest.raises(BadRequest, match="nested deeper than 64"):
        parse_json(b"[" * 65 + b"]" * 65)
    with pytest.raises(BadRequest, match="nested deeper than 64"):
        parse_json(b'[1, {"a": [' + b"{}," * 3 + b"[" * 62 + b"]" * 62 + b"]}]")
    assert parse_json(b"5") == 5 and parse_json(b'"x"') == "x"


def test_brackets_inside_strings_do_not_count():
    assert parse_json(b'{"a": "' + b"[" * 1000 + b'"}') == {"a": "[" * 1000}


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("/master/state", True),
        ("/files/read?path=%2Ftmp%2Fx", True),
        ("/master/state%zz", False),
        ("/a%", False),
        ("/q?x=%g1", False),
        ("master/state", False),
        ("", False),
    ],
)
def test_request_targets(target, ok):
    assert (request_target_problem(target) is None) is ok
