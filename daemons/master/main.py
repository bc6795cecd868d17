"""Entry point of `dcos-mesos-master`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from types import FrameType

from daemons.common import cli
from daemons.common.wsgi import serve
from daemons.master.app import create_app
from daemons.master.config import MasterConfig
from daemons.master.service import MasterService

log = logging.getLogger("daemons.master")


# gunicorn's arbiter stops altogether (instead of starting a fresh worker) when a worker exits
# with its APP_LOAD_ERROR code: the whole daemon ends and systemd restarts it as a standby.
EXIT_HALT = 4


def _fatal(reason: str) -> None:
    log.critical("exiting: %s", reason)
    logging.shutdown()
    os._exit(EXIT_HALT)


def main(argv: list[str] | None = None) -> int:
    args = cli.parse("dcos-mesos-master", argv)
    if args.command == "check-config":
        return cli.check_config(MasterConfig, args.file)
    config = cli.load_for_run(MasterConfig, args, log)
    if config is None:
        return 1
    service = MasterService(config, _fatal)

    def post_worker_init(worker: object) -> None:
        # Long-lived state (tasks, agents) makes full collections expensive (≈0.1 s at 10k
        # agents); move what exists at start out of the collector and collect young objects
        # less often.
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        service.start()
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum: int, frame: FrameType | None) -> None:
            # Step down first (ZK node gone, streams closed) so gunicorn's graceful stop does
            # not wait on long-lived subscriptions and a standby takes over at once.
            service.stop()
            service.master.demote()
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGTERM, on_term)

    def worker_exit(server: object, worker: object) -> None:
        # Closing the ZK session deletes our json.info_ node at once: a standby takes over in
        # milliseconds instead of after the session timeout.
        service.stop()

    serve(
        create_app(service.master),
        f"{config.ip}:{config.port}",
        config.threads,
        post_worker_init=post_worker_init,
        worker_exit=worker_exit,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
