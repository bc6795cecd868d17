"""WSGI middleware that rejects malformed request targets before any routing.

CVE-2017-7687 (bad percent-encoding) and CVE-2017-9790 (empty path / no leading slash): answer
400 with a JSON message and never reach the application.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _reject(start_response: Callable[..., Any], message: str) -> list[bytes]:
    body = json.dumps({"message": message}).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def request_target_problem(raw_uri: str) -> str | None:
    """Why a raw request target is unacceptable, or None."""
    if raw_uri.startswith(("http://", "https://")):
        return None
    path, _, query = raw_uri.partition("?")
    if not path.startswith("/"):
        return "request path must start with '/'"
    if _BAD_PERCENT.search(path) or _BAD_PERCENT.search(query):
        return "malformed percent-encoding in request target"
    return None


class RequestGuard:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw is not None:
            problem = request_target_problem(str(raw))
            if problem is not None:
                return _reject(start_response, problem)
        return self.app(environ, start_response)
