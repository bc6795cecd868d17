"""The `Cookie` header an upstream may see. Pure.

DC/OS's cookies (`dcos-acs-auth-cookie`, `dcos-acs-info-cookie`, any `dcos-*`) are for Admin
Router and the UI only: an app behind `/service/<name>/` must never read a user's token from them
(dcos/dcos PR #1827 did the same in Lua). Other cookies pass unchanged, in their order.
"""

from __future__ import annotations

DCOS_PREFIX = "dcos-"


def strip_dcos_cookies(header: str | None) -> str:
    """`header` without its `dcos-*` pairs (case-insensitive name match); "" when nothing is
    left. A pair without `=` is a bare name (RFC 6265 allows it in practice) and kept unless
    it is a `dcos-*` name."""
    if not header:
        return ""
    kept = []
    for pair in header.split(";"):
        pair = pair.strip()
        if not pair:
            continue
        name = pair.split("=", 1)[0].strip()
        if name.lower().startswith(DCOS_PREFIX):
            continue
        kept.append(pair)
    return "; ".join(kept)


AUTH_COOKIE = "dcos-acs-auth-cookie"


def auth_cookie(header: str | None) -> str | None:
    """The value of the `dcos-acs-auth-cookie` in a `Cookie` header (the first one), or None."""
    for pair in (header or "").split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name.strip() == AUTH_COOKIE and value.strip():
            return value.strip().strip('"')
    return None
