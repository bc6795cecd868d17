"""Marathon PathIds: resolution against a group, validation messages, task id prefixes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.marathon import pathid

REGEX_MESSAGE = (
    "must fully match regular expression "
    "'^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])"
    "|(\\.|\\.\\.)$'"
)


@pytest.mark.parametrize(
    ("raw", "base", "expected"),
    [
        ("/prod/web", "/", "/prod/web"),
        ("/prod/web", "/other", "/prod/web"),  # absolute ids ignore the base
        ("web", "/", "/web"),
        ("web", "/prod", "/prod/web"),
        ("web", "/prod/", "/prod/web"),
        ("./web", "/prod", "/prod/web"),
        ("../db", "/prod/api", "/prod/db"),
        ("../../x", "/a", "/x"),  # never above the root
        ("/a/./b/../c", "/", "/a/c"),
        ("/prod/web/", "/", "/prod/web"),
        ("//prod//web", "/", "/prod/web"),
        ("/", "/", "/"),
        ("", "/prod", "/prod"),
    ],
)
def test_normalize(raw: str, base: str, expected: str) -> None:
    assert pathid.normalize(raw, base) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "/web",
        "web",
        "/prod/web-1",
        "/a/b/c",
        "/my.app",
        "/x1.y-2.z",
        "0",
        "/prod/web/",  # Marathon strips one trailing slash
        "./web",
        "/" + "a" * 254,
    ],
)
def test_valid_ids(raw: str) -> None:
    assert pathid.validate_id(raw) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("/Web", "must be lowercase"),
        ("/Web", REGEX_MESSAGE),
        ("/web_1", REGEX_MESSAGE),
        ("/-web", REGEX_MESSAGE),
        ("/web-", REGEX_MESSAGE),
        ("/a..b", REGEX_MESSAGE),
        ("/we b", REGEX_MESSAGE),
        ("/prod//web", "must not contain empty segments ('//')"),
        ("/prod/../web", "must not contain '..': give the id relative to its group or absolute"),
        ("../web", "must not contain '..': give the id relative to its group or absolute"),
        ("", "Path must contain at least one path element"),
        ("/", "Path must contain at least one path element"),
        ("/app/tasks", "must not end with any of the following reserved keywords: "
         "restart, tasks, versions"),
        ("/" + "a" * 255, "must be at most 255 characters long (is 256)"),
    ],
)  # fmt: skip
def test_invalid_ids_say_why(raw: str, message: str) -> None:
    assert message in pathid.validate_id(raw)


def test_validation_message_quotes_marathons_pattern() -> None:
    assert pathid.SEGMENT_PATTERN in REGEX_MESSAGE


def test_parent_refs_allowed_only_when_asked() -> None:
    assert pathid.validate_id("../db", allow_parent_refs=True) == []
    assert pathid.validate_id("../db") != []


def test_non_string_id() -> None:
    assert pathid.validate_id(42) == ["expected a string"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path_id", "parent", "segments"),
    [
        ("/prod/web", "/prod", ("prod", "web")),
        ("/web", "/", ("web",)),
        ("/", "/", ()),
        ("/a/b/c", "/a/b", ("a", "b", "c")),
    ],
)
def test_parent_and_segments(path_id: str, parent: str, segments: tuple[str, ...]) -> None:
    assert pathid.parent(path_id) == parent
    assert pathid.segments(path_id) == segments


@pytest.mark.parametrize(
    ("group", "path_id", "expected"),
    [
        ("/", "/web", True),
        ("/", "/a/b", True),
        ("/prod", "/prod/web", True),
        ("/prod", "/prod/a/b", True),
        ("/prod", "/prod", False),  # not its own ancestor
        ("/prod", "/production/web", False),  # segments, not string prefixes
        ("/prod/web", "/prod", False),
        ("/", "/", False),
    ],
)
def test_is_ancestor(group: str, path_id: str, expected: bool) -> None:
    assert pathid.is_ancestor(group, path_id) is expected


@pytest.mark.parametrize(
    ("app_id", "prefix"),
    [("/prod/web", "prod_web"), ("/web", "web"), ("/my.app", "my.app"), ("/a/b/c", "a_b_c")],
)
def test_task_id_prefix(app_id: str, prefix: str) -> None:
    assert pathid.task_id_prefix(app_id) == prefix


@pytest.mark.parametrize(
    ("task_id", "app_id"),
    [
        ("prod_web.6f1c1d3e-66f6-11e5-8e6b-0242ac110002", "/prod/web"),
        ("web.1", "/web"),
        ("my.app.6f1c1d3e", "/my.app"),  # app ids may hold dots: cut at the last one
        ("prod_web.instance-6f1c1d3e-66f6._app.1", "/prod/web"),  # Marathon 1.4+ form
    ],
)
def test_app_id_of_task(task_id: str, app_id: str) -> None:
    assert pathid.app_id_of_task(task_id) == app_id


_SEGMENT = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\.[a-z0-9]{1,3})?", fullmatch=True)


@given(st.lists(_SEGMENT, min_size=1, max_size=5), st.text("0123456789abcdef-", min_size=1))
def test_task_ids_lead_back_to_their_app(parts: list[str], uuid: str) -> None:
    app_id = "/" + "/".join(parts)
    assert pathid.app_id_of_task(f"{pathid.task_id_prefix(app_id)}.{uuid}") == app_id


@given(st.lists(_SEGMENT, min_size=1, max_size=5), st.lists(_SEGMENT, max_size=3))
def test_relative_ids_land_inside_their_base(parts: list[str], base_parts: list[str]) -> None:
    base = "/" + "/".join(base_parts)
    resolved = pathid.normalize("/".join(parts), base)
    assert pathid.is_ancestor(base, resolved)
    assert pathid.normalize(resolved) == resolved
