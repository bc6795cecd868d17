"""The entry point every leader-bound daemon shares (master, Marathon, Metronome).

`run` parses `--config FILE` / `check-config FILE`, builds the service and its Flask app, and
serves it with gunicorn. The service starts in the worker (after the fork); SIGTERM stops it
first, so it leaves its ZooKeeper election at once and a standby takes over, before gunicorn's
graceful stop. A fatal error ends the whole daemon with EXIT_HALT: gunicorn's arbiter stops
(instead of forking a fresh worker) when a worker exits with its APP_LOAD_ERROR code, and
systemd restarts the daemon as a standby.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol, TypeVar

from daemons.kit import cli
from daemons.kit.serve import serve

EXIT_HALT = 4
C = TypeVar("C")


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def fatal_exit(log: logging.Logger) -> Callable[[str], None]:
    def fatal(reason: str) -> None:
        log.critical("exiting: %s", reason)
        logging.shutdown()
        os._exit(EXIT_HALT)

    return fatal


def run(
    prog: str,
    config_type: type[C],
    argv: list[str] | None,
    log: logging.Logger,
    build: Callable[[C, Callable[[str], None]], tuple[Service, Any]],
    *,
    bind: Callable[[C], str],
    threads: Callable[[C], int],
    before_start: Callable[[], None] | None = None,
    on_term: Callable[[Service], None] | None = None,
) -> int:
    """`build(config, fatal)` gives the service and its WSGI app; `on_term` (default: stop the
    service) runs on SIGTERM before gunicorn's own handler."""
    args = cli.parse(prog, argv)
    if args.command == "check-config":
        return cli.check_config(config_type, args.file)
    config = cli.load_for_run(config_type, args, log)
    if config is None:
        return 1
    service, app = build(config, fatal_exit(log))
    terminate = on_term or (lambda s: s.stop())

    def post_worker_init(worker: object) -> None:
        if before_start is not None:
            before_start()
        service.start()
        previous = signal.getsignal(signal.SIGTERM)

        def on_signal(signum: int, frame: FrameType | None) -> None:
            terminate(service)
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGTERM, on_signal)

    def worker_exit(server: object, worker: object) -> None:
        service.stop()

    serve(
        app,
        bind(config),
        threads(config),
        post_worker_init=post_worker_init,
        worker_exit=worker_exit,
    )
    return 0
