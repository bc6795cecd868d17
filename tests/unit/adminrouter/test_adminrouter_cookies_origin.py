"""The cookie an upstream may see, the auth cookie's value, and the same-origin rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.adminrouter.cookies import auth_cookie, strip_dcos_cookies
from daemons.adminrouter.origin import cross_origin_problem


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        (None, ""),
        ("", ""),
        ("dcos-acs-auth-cookie=abc", ""),
        ("dcos-acs-auth-cookie=abc; dcos-acs-info-cookie=e30=", ""),
        ("theme=dark; dcos-acs-auth-cookie=abc; lang=en", "theme=dark; lang=en"),
        ("DCOS-ACS-AUTH-COOKIE=abc;theme=dark", "theme=dark"),
        (" dcos-x = 1 ;  a=b=c ; bare ; ;", "a=b=c; bare"),
        ("mydcos-thing=1", "mydcos-thing=1"),  # only the prefix counts
    ],
)
def test_strip_dcos_cookies(header: str | None, kept: str) -> None:
    assert strip_dcos_cookies(header) == kept


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=12)
values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789=+/", max_size=12)


@given(st.lists(st.tuples(st.one_of(names, names.map(lambda n: "dcos-" + n)), values)))
def test_no_dcos_cookie_survives_and_others_keep_their_order(pairs: list[tuple[str, str]]) -> None:
    header = "; ".join(f"{n}={v}" for n, v in pairs)
    kept = strip_dcos_cookies(header)
    expected = [f"{n}={v}" for n, v in pairs if not n.startswith("dcos-")]
    assert kept == "; ".join(expected)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("theme=dark", None),
        ("dcos-acs-auth-cookie=", None),
        ("theme=dark; dcos-acs-auth-cookie=a.b.c", "a.b.c"),
        ('dcos-acs-auth-cookie="a.b.c"', "a.b.c"),
        ("dcos-acs-info-cookie=x; dcos-acs-auth-cookie=t1; dcos-acs-auth-cookie=t2", "t1"),
    ],
)
def test_auth_cookie(header: str | None, token: str | None) -> None:
    assert auth_cookie(header) == token


HOST = "master.example:8880"


@pytest.mark.parametrize(
    ("method", "origin", "referer", "allowed"),
    [
        ("GET", None, None, True),
        ("HEAD", "http://evil.example", None, True),
        ("OPTIONS", None, None, False),
        ("POST", "http://master.example:8880", None, True),
        ("POST", "https://MASTER.example:8880", None, True),
        ("DELETE", None, "http://master.example:8880/services/app", True),
        ("POST", None, None, False),
        ("POST", "http://evil.example", None, False),
        ("POST", "http://master.example", None, False),  # another port is another origin
        ("POST", "http://master.example:8880.evil.example", None, False),
        ("POST", "http://user@master.example:8880", None, False),
        ("PUT", "null", "http://master.example:8880/", False),  # Origin wins over Referer
        ("PATCH", None, "http://evil.example/?http://master.example:8880", False),
        ("POST", "file:///x", None, False),
        ("POST", "http://[::1", None, False),
    ],
)
def test_cross_origin_problem(
    method: str, origin: str | None, referer: str | None, allowed: bool
) -> None:
    problem = cross_origin_problem(method, HOST, origin, referer)
    assert (problem is None) == allowed, problem


def test_a_write_without_host_is_refused() -> None:
    assert cross_origin_problem("POST", None, "http://a", None) == "no Host header"
