"""Collecting validation problems as Metronome's 422 `details`. Pure.

Readers take the parent object, a key and the parent's JSON-pointer path; a wrong type or range
is recorded (never raised) so that one response lists every problem, and the reader returns the
default instead. `Problems.raise_if_any()` ends validation with `Invalid`, the kit's (pure)
422, whose body is Metronome's `{"message": "Object is not valid", "details": [...]}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from daemons.kit.errors import UnprocessableEntity
from daemons.protocols import JSON


class Invalid(UnprocessableEntity):
    """A document is not valid; `details` is Metronome's `[{"path", "errors"}]` list."""

    def __init__(self, details: list[JSON]) -> None:
        super().__init__("Object is not valid")
        self.details = details

    def __str__(self) -> str:
        return "; ".join(f"{d['path']}: {', '.join(d['errors'])}" for d in self.details)

    def body(self) -> JSON:
        return {"message": self.message, "details": self.details}


class Problems:
    def __init__(self) -> None:
        self._by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self._by_path.setdefault(path or "/", []).append(message)

    def __len__(self) -> int:
        return sum(len(e) for e in self._by_path.values())

    def details(self) -> list[JSON]:
        return [{"path": p, "errors": list(e)} for p, e in self._by_path.items()]

    def raise_if_any(self) -> None:
        if self._by_path:
            raise Invalid(self.details())


def child(path: str, key: str | int) -> str:
    return f"{path}/{key}"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def reject_unknown(obj: Mapping[str, Any], allowed: frozenset[str], path: str, p: Problems) -> None:
    for key in obj:
        if key not in allowed:
            p.add(child(path, key), "unknown property")


def obj(
    parent: Mapping[str, Any], key: str, path: str, p: Problems, *, required: bool = False
) -> JSON | None:
    value = parent.get(key)
    if value is None:
        if required:
            p.add(child(path, key), "is required")
        return None
    if not isinstance(value, dict):
        p.add(child(path, key), "must be an object")
        return None
    return value


def string(
    parent: Mapping[str, Any],
    key: str,
    path: str,
    p: Problems,
    *,
    required: bool = False,
    non_empty: bool = False,
) -> str | None:
    value = parent.get(key)
    if value is None:
        if required:
            p.add(child(path, key), "is required")
        return None
    if not isinstance(value, str):
        p.add(child(path, key), "must be a string")
        return None
    if non_empty and not value.strip():
        p.add(child(path, key), "must not be empty")
        return None
    return value


def number(
    parent: Mapping[str, Any],
    key: str,
    path: str,
    p: Problems,
    *,
    default: float | None = None,
    minimum: float | None = None,
    optional: bool = False,
) -> float | None:
    """A number; missing -> `default`, or "is required" unless `optional`."""
    value = parent.get(key)
    if value is None:
        if default is None and not optional:
            p.add(child(path, key), "is required")
        return default
    if not is_number(value):
        p.add(child(path, key), "must be a number")
        return default
    if minimum is not None and value < minimum:
        p.add(child(path, key), f"must be at least {minimum:g}")
        return default
    return float(value)


def integer(
    parent: Mapping[str, Any],
    key: str,
    path: str,
    p: Problems,
    *,
    default: int | None = None,
    minimum: int | None = None,
    optional: bool = False,
) -> int | None:
    """An integer (2.0 counts); missing -> `default`, or "is required" unless `optional`."""
    value = parent.get(key)
    if value is None:
        if default is None and not optional:
            p.add(child(path, key), "is required")
        return default
    if not is_number(value) or float(value) != int(value):
        p.add(child(path, key), "must be an integer")
        return default
    if minimum is not None and value < minimum:
        p.add(child(path, key), f"must be at least {minimum}")
        return default
    return int(value)


def boolean(parent: Mapping[str, Any], key: str, path: str, p: Problems, default: bool) -> bool:
    value = parent.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        p.add(child(path, key), "must be a boolean")
        return default
    return value


def string_map(parent: Mapping[str, Any], key: str, path: str, p: Problems) -> dict[str, str]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        p.add(child(path, key), "must be an object of strings")
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, str):
            out[k] = v
        else:
            p.add(child(child(path, key), k), "must be a string")
    return out


def array(parent: Mapping[str, Any], key: str, path: str, p: Problems) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(child(path, key), "must be an array")
        return []
    return value


# Job and schedule ids, as Metronome checks them: dot-separated lower-case words joined by dashes.
ID_PATTERN = re.compile(r"^([a-z0-9]+(-+[a-z0-9]+)*)(\.([a-z0-9]+(-+[a-z0-9]+)*))*$")
ID_RULE = (
    "must be lower-case letters, digits and dashes, in dot-separated parts that start and end"
    " with a letter or digit"
)


def identifier(parent: Mapping[str, Any], key: str, path: str, p: Problems) -> str | None:
    value = string(parent, key, path, p, required=True)
    if value is not None and not ID_PATTERN.match(value):
        p.add(child(path, key), ID_RULE)
        return None
    return value
