"""The command line every config-file daemon shares: `--config FILE`, `check-config FILE`."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TypeVar

from daemons.kit import config as config_loader

T = TypeVar("T")


def parse(prog: str, argv: list[str] | None) -> argparse.Namespace:
    """`prog --config FILE [--log-level L]` or `prog check-config FILE`."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--config", help="TOML config file")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command")
    check = sub.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("file")
    args = parser.parse_args(argv)
    if args.command != "check-config" and not args.config:
        parser.error("--config is required")
    return args


def check_config(cls: type[T], path: str) -> int:
    """Exit status of `check-config`: 0, or 1 with one problem per line on stderr."""
    try:
        config_loader.load(cls, path)
    except config_loader.ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    return 0


def load_for_run(cls: type[T], args: argparse.Namespace, log: logging.Logger) -> T | None:
    """Set up logging and load the config; None (problems logged) when it is invalid."""
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        return config_loader.load(cls, args.config)
    except config_loader.ConfigError as err:
        for problem in err.problems:
            log.error("config: %s", problem)
        return None
