"""Entry point of `dcos-iam`: `--config FILE` runs it; `check-config FILE` validates;
`hash-password` reads a password (the first line of stdin, or a prompt on a terminal) and
prints its Argon2id hash for the config's `superuser_password_hash`."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from daemons.iam import passwords
from daemons.iam.app import create_app
from daemons.iam.config import IamConfig
from daemons.iam.service import IamService
from daemons.kit import entry

log = logging.getLogger("iam")


def build(config: IamConfig, fatal: Callable[[str], None]) -> tuple[IamService, Any]:
    service = IamService(config, fatal)
    return service, create_app(service)


def hash_password() -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if (why := passwords.password_problem(password)) is not None:
        print(why, file=sys.stderr)
        return 1
    print(passwords.hash_password(password, os.urandom(passwords.SALT_BYTES)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hash-password"]:
        return hash_password()
    return entry.run("dcos-iam", IamConfig, args, log, build, log_level=lambda c: c.log_level)


if __name__ == "__main__":
    sys.exit(main())
