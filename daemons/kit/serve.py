"""Serving a Flask app with gunicorn. The worker class is chosen here, once, for every daemon.

gthread: one process (leader-bound state lives in it), a thread per connection. Streams (scheduler,
executor and agent subscriptions) each hold a thread, so `threads` must cover the expected number
of long-lived subscribers plus concurrent short calls.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

WORKER_CLASS = "gthread"


def close_after_oversized_bodies(app: Any) -> Any:
    """gunicorn's `pre_request` hook: a request whose declared body is over the app's
    MAX_CONTENT_LENGTH gets 413 from Flask without the body being read, and gunicorn drains at
    most 64 KiB of it; the rest would be parsed as the next request on a keep-alive connection.
    Close the connection after such a response instead (clients then reconnect)."""
    limit = getattr(app, "config", {}).get("MAX_CONTENT_LENGTH")

    def pre_request(worker: Any, req: Any) -> None:
        if limit is None:
            return
        for name, value in req.headers:
            if name.upper() == "CONTENT-LENGTH" and value.isdigit() and int(value) > limit:
                req.force_close()

    return pre_request


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(
    app: Any,
    bind: str,
    threads: int,
    *,
    on_starting: Any = None,
    post_worker_init: Any = None,
    worker_exit: Any = None,
    graceful_timeout: int = 5,
) -> None:
    """Run gunicorn in the foreground with one worker process."""
    options: dict[str, Any] = {
        "bind": bind,
        "workers": 1,
        "worker_class": WORKER_CLASS,
        "threads": threads,
        "worker_connections": max(1000, threads * 2),
        "timeout": 60,
        "graceful_timeout": graceful_timeout,
        "keepalive": 75,
        "accesslog": None,
        "loglevel": "warning",
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "pre_request": close_after_oversized_bodies(app),
    }
    if on_starting is not None:
        options["on_starting"] = on_starting
    if post_worker_init is not None:
        options["post_worker_init"] = post_worker_init
    if worker_exit is not None:
        options["worker_exit"] = worker_exit
    _Server(app, options).run()
