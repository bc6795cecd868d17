"""Entry point of `dcos-marathon`: `--config FILE` runs it; `check-config FILE` validates."""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

from daemons.common import cli
from daemons.common.wsgi import serve
from daemons.marathon.app import create_app
from daemons.marathon.config import MarathonConfig
from daemons.marathon.service import MarathonService

log = logging.getLogger("daemons.marathon")

# gunicorn's arbiter stops altogether when a worker exits with this code (see the master).
EXIT_HALT = 4


def _fatal(reason: str) -> None:
    log.critical("exiting: %s", reason)
    logging.shutdown()
    os._exit(EXIT_HALT)


def main(argv: list[str] | None = None) -> int:
    args = cli.parse("dcos-marathon", argv)
    if args.command == "check-config":
        return cli.check_config(MarathonConfig, args.file)
    config = cli.load_for_run(MarathonConfig, args, log)
    if config is None:
        return 1
    service = MarathonService(config, _fatal)

    def post_worker_init(worker: object) -> None:
        service.start()
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum: int, frame: FrameType | None) -> None:
            # Leave the election first so a standby takes over at once.
            service.stop()
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGTERM, on_term)

    def worker_exit(server: object, worker: object) -> None:
        service.stop()

    serve(
        create_app(service.marathon, service.daemon, lambda: _fatal("leadership abdicated")),
        f"{config.ip}:{config.port}",
        config.threads,
        post_worker_init=post_worker_init,
        worker_exit=worker_exit,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
