"""The entry point every daemon shares (master, agent, Marathon, Metronome, Exhibitor).

`run` parses `--config FILE` / `check-config FILE`, builds the service and its Flask app, and
serves it with gunicorn. The service starts in the worker (after the fork); SIGTERM stops it
first, so a leader leaves its ZooKeeper election at once and a standby takes over, before
gunicorn's graceful stop. A fatal error ends the whole daemon with EXIT_HALT: gunicorn's arbiter
stops (instead of forking a fresh worker) when a worker exits with its APP_LOAD_ERROR code, and
systemd restarts the daemon (as a standby).

A daemon that also runs something in the main process around gunicorn (Exhibitor supervises
ZooKeeper and reads its shared config there, so that they outlive a restarted worker) gives
`supervise`: a context entered before gunicorn starts and left after it has stopped.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import FrameType
from typing import Any, Protocol, TypeVar

from daemons.kit import cli
from daemons.kit.serve import serve

EXIT_HALT = 4


class Served(Protocol):
    """What every daemon's config says about serving: it listens on `ip:port` with `threads`
    server threads."""

    @property
    def ip(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def threads(self) -> int: ...


C = TypeVar("C", bound=Served)


class CannotStart(Exception):
    """Raised by `build` when the daemon must not start (its state is unreadable, say): the
    message is logged and the daemon exits with status 1 before serving anything."""


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def fatal_exit(log: logging.Logger) -> Callable[[str], None]:
    def fatal(reason: str) -> None:
        log.critical("exiting: %s", reason)
        logging.shutdown()
        os._exit(EXIT_HALT)

    return fatal


def tune_gc() -> None:
    """For a daemon that holds a large, long-lived state (the master's tasks and agents, a
    follower's view of them): what exists at start leaves the collector, and young objects
    are collected less often. A full collection walks every live container object: ≈ 0.1 s
    at 10,000 agents, and half of Minuteman's full load of 10,000 VIPs (bench/vips.py)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def run(
    prog: str,
    config_type: type[C],
    argv: list[str] | None,
    log: logging.Logger,
    build: Callable[[C, Callable[[str], None]], tuple[Service | None, Any]],
    *,
    before_start: Callable[[], None] | None = None,
    on_term: Callable[[Service], None] | None = None,
    supervise: Callable[[C], AbstractContextManager[object]] | None = None,
    log_level: Callable[[C], str] | None = None,
    graceful_timeout: int = 5,
) -> int:
    """`build(config, fatal)` gives the service (None: nothing runs in the worker but the app)
    and its WSGI app, or raises `CannotStart`; `on_term` (default: stop the service) runs on
    SIGTERM before gunicorn's own handler; `log_level` is the config's level, when the config
    names one."""
    args = cli.parse(prog, argv)
    if args.command == "check-config":
        return cli.check_config(config_type, args.file)
    config = cli.load_for_run(config_type, args, log)
    if config is None:
        return 1
    if log_level is not None:
        logging.getLogger().setLevel(log_level(config).upper())
    try:
        service, app = build(config, fatal_exit(log))
    except CannotStart as err:
        log.error("%s", err)
        return 1
    terminate = on_term or (lambda s: s.stop())

    def post_worker_init(worker: object) -> None:
        if before_start is not None:
            before_start()
        if service is None:
            return
        service.start()
        previous = signal.getsignal(signal.SIGTERM)

        def on_signal(signum: int, frame: FrameType | None) -> None:
            terminate(service)
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGTERM, on_signal)

    def worker_exit(server: object, worker: object) -> None:
        if service is not None:
            service.stop()

    around = supervise(config) if supervise is not None else contextlib.nullcontext()
    # Everything made so far (the imports, the app) is shared with the worker gunicorn forks;
    # frozen, the worker's collections never write to those objects, so their pages stay
    # shared instead of being copied into the worker (a daemon's PSS, docs/dns.md).
    gc.freeze()
    with around:
        serve(
            app,
            f"{config.ip}:{config.port}",
            config.threads,
            post_worker_init=post_worker_init,
            worker_exit=worker_exit,
            graceful_timeout=graceful_timeout,
        )
    return 0
