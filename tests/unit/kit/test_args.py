"""Query arguments read the same way in every daemon: booleans, integers, repeated values."""

from __future__ import annotations

import pytest
from flask import Flask

from daemons.kit import args
from daemons.kit.errors import BadRequest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("True", True),  # marathon-python sends Python's str(True)
        ("TRUE", True),
        (" true ", True),
        ("1", True),
        ("false", False),
        ("False", False),
        ("0", False),
        (None, False),  # absent: the default
        ("", False),
    ],
)
def test_flags_in_any_case_and_as_digits(raw: str | None, expected: bool) -> None:
    assert args.parse_flag("force", raw) is expected


def test_an_absent_flag_takes_its_default() -> None:
    assert args.parse_flag("partialUpdate", None, default=True) is True
    assert args.parse_flag("partialUpdate", "", default=True) is True
    assert args.parse_flag("partialUpdate", "0", default=True) is False


@pytest.mark.parametrize("raw", ["yes", "no", "2", "-1", "t", "truefalse", "on"])
def test_anything_else_is_400_naming_the_parameter(raw: str) -> None:
    with pytest.raises(BadRequest) as err:
        args.parse_flag("stopCurrentJobRuns", raw)
    assert err.value.status == 400
    assert "stopCurrentJobRuns" in err.value.message and repr(raw) in err.value.message


def test_integers_with_a_lower_bound() -> None:
    assert args.parse_integer("limit", None, 100) == 100
    assert args.parse_integer("limit", "25", 100) == 25
    assert args.parse_integer("offset", "0", 0) == 0
    assert args.parse_integer("offset", "-1", 0, minimum=-1) == -1
    for raw in ("", "ten", "1.5", "1_000", "+-3", " 7"):
        with pytest.raises(BadRequest, match="limit must be an integer"):
            args.parse_integer("limit", raw, 100)
    with pytest.raises(BadRequest, match="limit must be at least 0, got -3"):
        args.parse_integer("limit", "-3", 100)


def test_the_request_readers() -> None:
    app = Flask(__name__)
    query = "/?force=True&limit=5&embed=a&embed=b,c&embed=,&event_type=x"
    with app.test_request_context(query):
        assert args.flag("force") is True
        assert args.flag("wipe") is False
        assert args.integer("limit", 100) == 5
        assert args.repeated("embed") == ["a", "b,c", ","]
        assert args.repeated("embed", separator=",") == ["a", "b", "c"]
        assert args.repeated("status") == []
