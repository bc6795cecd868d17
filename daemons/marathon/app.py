"""Marathon's Flask app factory: blueprints, JSON errors, path normalisation, leader proxy."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request

from daemons.frameworks import leader_proxy
from daemons.kit import errors
from daemons.kit.app import make_app
from daemons.marathon.api import apps, deployments, events, groups, info, queue, tasks
from daemons.marathon.marathon import Marathon

# Served by every instance itself; everything else goes to the leader.
LOCAL_PATHS = frozenset({"/ping", "/health", "/v2/leader", "/metrics"})
_SLASHES = re.compile(r"/{2,}")


class NormalizePath:
    """Rule X9: `//` collapsed, a trailing `/` dropped (clients send `/v2/apps//web/`).
    `%2F` inside an id arrives decoded in PATH_INFO already."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = _SLASHES.sub("/", environ.get("PATH_INFO", "") or "/")
        if len(path) > 1:
            path = path.rstrip("/") or "/"
        environ["PATH_INFO"] = path
        return self.app(environ, start_response)


def create_app(marathon: Marathon, framework: Any, abdicate: Callable[[], None]) -> Flask:
    app = make_app(
        "dcos-marathon",
        (apps.bp, groups.bp, tasks.bp, deployments.bp, queue.bp, info.bp, events.bp),
        max_body_bytes=marathon.config.max_body_bytes,
        extensions={"marathon": marathon, "framework": framework, "abdicate": abdicate},
        wrap=(NormalizePath,),
    )
    leader_proxy.install(app, framework, LOCAL_PATHS)

    @app.before_request
    def _loaded() -> None:
        if not marathon.loaded and request.path not in LOCAL_PATHS:
            raise errors.ServiceUnavailable("Marathon is loading its state; try again")

    return app
