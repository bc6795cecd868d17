"""Serving a Flask app with gunicorn. The worker class is chosen here, once, for every daemon.

gthread: one process (leader-bound state lives in it), a thread per request. A subscription
(`daemons.kit.streams.response`) holds its thread only until its first event is written: then
`handing_off_streams` gives the connection to the stream hub (`daemons.kit.stream_hub`), whose one
thread writes every stream, so `threads` covers concurrent calls, not subscribers. A stopping
daemon refuses new connections at once (`Worker`), and closes the streams the hub holds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from concurrent import futures
from concurrent.futures import thread as pool_thread
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from daemons.kit import stream_hub
from daemons.kit.streams import STREAM_KEY


class DaemonThreadPool(futures.ThreadPoolExecutor):
    """gthread's request pool, whose threads are daemon threads.

    CPython 3.11 walks the shutdown lock of every live non-daemon thread each time one more
    starts (`threading._maintain_shutdown_locks`, under a global lock), so a pool that grows one
    thread per stream made a new leader's thread starts quadratic in the streams it already
    held. A daemon thread skips that walk. Nothing is lost at a stop: gunicorn waits for the
    open requests itself (up to `graceful_timeout`) before the process exits, and the exit
    no longer also waits for the streams that outlived that (until the arbiter's SIGKILL)."""

    def _adjust_thread_count(self) -> None:
        # The standard library's, with daemon threads and no registration for the join at exit.
        if self._idle_semaphore.acquire(timeout=0):
            return

        def wake_on_lost(_: Any, q: Any = self._work_queue) -> None:
            q.put(None)

        if len(self._threads) < self._max_workers:
            thread = threading.Thread(
                name=f"{self._thread_name_prefix or self}_{len(self._threads)}",
                target=pool_thread._worker,
                args=(
                    weakref.ref(self, wake_on_lost),
                    self._work_queue,
                    self._initializer,
                    self._initargs,
                ),
                daemon=True,
            )
            thread.start()
            self._threads.add(thread)  # type: ignore[attr-defined]  # a set at run time


class Worker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, refusing new connections from the moment it is told to stop.

    gthread's graceful stop keeps its listening sockets open until the last connection has
    ended (up to `graceful_timeout`): the kernel goes on accepting connections nobody will
    answer, and resets them when the worker exits. An agent that a standby redirected to the
    stopping leader waited 2 s for that reset. Shut down, a listening socket refuses at once
    (and resets what waits in its backlog), so clients try elsewhere straight away; the
    connections already accepted are served to their end as before."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        # The SIGTERM handler runs in the thread that polls the sockets: take them off the
        # poller first, so that it never accepts on a socket that has stopped listening.
        self.set_accept_enabled(False)
        for listener in self.sockets:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
        super().handle_exit(sig, frame)

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        return DaemonThreadPool(max_workers=self.cfg.threads)

    def finish_request(self, conn: Any, fs: Any) -> None:
        # A connection handed to the stream hub: its socket is detached, nothing to close.
        if conn.sock.fileno() == -1 and not fs.cancelled() and fs.exception() is None:
            self.nr_conns -= 1
            return
        super().finish_request(conn, fs)

    def accept(self, listener: Any) -> None:
        if not self.alive:
            return  # reported ready just before the stop: that connection was reset with it
        super().accept(listener)


WORKER_CLASS = Worker


def handing_off_streams(app: Any) -> Any:
    """WSGI middleware: a response that `streams.response` marked goes to the stream hub once
    its head and first event are written; gunicorn then forgets the connection (its socket is
    detached, its response marked as sent) and goes on to the next request."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if STREAM_KEY not in environ or exc_info is not None:
                return start_response(status, headers, exc_info)
            started.append((status, headers))
            return lambda data: None

        result = app(environ, start)
        if not started:
            return result
        status, headers = started[0]
        gunicorn_response = getattr(start_response, "__self__", None)
        if gunicorn_response is not None and stream_hub.handoff(environ, status, headers):
            if hasattr(result, "close"):
                result.close()  # the unstarted records() generator: nothing runs
            gunicorn_response.headers_sent = True
            gunicorn_response.force_close()
            return []
        start_response(status, headers)
        return result

    return wsgi


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

    def exit_worker(server: Any, worker: Any) -> None:
        if worker_exit is not None:
            worker_exit(server, worker)
        stream_hub.HUB.close_all(timeout=1.0)

    options["worker_exit"] = exit_worker
    _Server(handing_off_streams(app), options).run()
