"""The CSRF rule Admin Router adds to DC/OS's (which had none). Pure.

A request authenticated by the auth cookie (no `Authorization` header) that is not a read
(`GET`, `HEAD`) must come from a page of this same site: its `Origin`, or, when a
browser sent none, its `Referer`, must name the host the request was sent to (`Host`). Neither
header, or another host, is refused (403). A request carrying the token in `Authorization` is
exempt: a browser never adds that header to a cross-site request by itself, so it proves the
caller holds the token (the `dcos` CLI, scripts). With `SameSite=Strict` on the cookie (IAM sets
it) this is two locks: either alone stops a cross-site form post.
"""

from __future__ import annotations

SAFE_METHODS = frozenset({"GET", "HEAD"})


def _authority(url: str) -> str | None:
    """`host[:port]` of an absolute http(s) URL, lower-cased; None for anything else (`null`,
    a relative URL, another scheme)."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc = rest[:end]
    if not netloc or "@" in netloc or any(c in netloc for c in " \t\\"):
        return None
    if netloc.startswith("[") and "]" not in netloc:
        return None
    return netloc.lower()


def cross_origin_problem(
    method: str, host: str | None, origin: str | None, referer: str | None
) -> str | None:
    """Why a cookie-authenticated request must be refused, or None when it may pass."""
    if method.upper() in SAFE_METHODS:
        return None
    if not host:
        return "no Host header"
    source, header = (origin, "Origin") if origin else (referer, "Referer")
    if not source:
        return "a cookie-authenticated write needs an Origin or Referer header"
    authority = _authority(source)
    if authority is None:
        return f"{header} {source[:100]!r} is not an http(s) origin"
    if authority != host.strip().lower():
        return f"{header} {authority!r} does not match Host {host.strip().lower()!r}"
    return None
