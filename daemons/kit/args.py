"""Query arguments, read the same way by every daemon's blueprints.

- `flag`: a boolean, `true`/`false` in any case and `1`/`0` (marathon-python sends Python's
  `True`/`False`, Play and Jersey clients `true`/`1`); absent or empty is the default; anything
  else is 400 naming the parameter.
- `integer`: a whole number with a lower bound (`limit`, `offset`); anything else is 400.
- `repeated`: every value of a parameter given several times (`embed=a&embed=b`), optionally
  also split at a separator (`embed=a,b`).

Each reads the current Flask request; `parse_flag` and `parse_integer` are the pure rules.
"""

from __future__ import annotations

import re

from flask import request

from daemons.kit.errors import BadRequest

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_INTEGER = re.compile(r"-?[0-9]+")


def parse_flag(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRequest(f"Query parameter {name} must be true or false, got {raw!r}")


def parse_integer(name: str, raw: str | None, default: int, minimum: int = 0) -> int:
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise BadRequest(f"Query parameter {name} must be an integer, got {raw!r}")
    value = int(raw)
    if value < minimum:
        raise BadRequest(f"Query parameter {name} must be at least {minimum}, got {value}")
    return value


def flag(name: str, default: bool = False) -> bool:
    return parse_flag(name, request.args.get(name), default)


def integer(name: str, default: int, minimum: int = 0) -> int:
    return parse_integer(name, request.args.get(name), default, minimum)


def repeated(name: str, separator: str | None = None) -> list[str]:
    """Every value given for `name`, in order; with `separator`, each also split at it (blank
    parts dropped)."""
    values = request.args.getlist(name)
    if separator is None:
        return values
    parts = (part.strip() for value in values for part in value.split(separator))
    return [part for part in parts if part]
