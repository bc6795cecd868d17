"""Loading a daemon's TOML config into its frozen dataclass, with clear errors.

Every daemon declares one frozen dataclass; `load` reads `/etc/dcos/<daemon>.toml` with tomllib,
rejects unknown keys and wrong types (one message per problem), and fills defaults. The same
function backs `<daemon> check-config FILE`, which roles use as the template's `validate:`.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _check(name: str, value: Any, hint: Any) -> str | None:
    origin = typing.get_origin(hint)
    if hint is Any:
        return None
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if all(_check(name, value, o) is not None for o in options):
            return f"{name}: expected {hint}, got {type(value).__name__}"
        return None
    if hint is type(None):
        return None if value is None else f"{name}: expected nothing"
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"{name}: expected a number, got {value!r}"
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{name}: expected an integer, got {value!r}"
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            return f"{name}: expected a list, got {value!r}"
        args = typing.get_args(hint)
        item = args[0] if args else Any
        for i, v in enumerate(value):
            if (p := _check(f"{name}[{i}]", v, item)) is not None:
                return p
        return None
    if origin is dict or hint is dict:
        return None if isinstance(value, dict) else f"{name}: expected a table, got {value!r}"
    if isinstance(hint, type):
        return None if isinstance(value, hint) else f"{name}: expected {hint.__name__}"
    return None


def from_mapping(cls: type[T], data: dict[str, Any]) -> T:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    problems = [f"{key}: unknown setting" for key in data if key not in fields]
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            no_default = dataclasses.MISSING
            if f.default is no_default and f.default_factory is no_default:
                problems.append(f"{name}: required setting is missing")
            continue
        value = data[name]
        if (p := _check(name, value, hints[name])) is not None:
            problems.append(p)
            continue
        if typing.get_origin(hints[name]) is tuple and isinstance(value, list):
            value = tuple(value)
        if hints[name] is float and isinstance(value, int):
            value = float(value)
        values[name] = value
    if problems:
        raise ConfigError(problems)
    instance = cls(**values)
    validate = getattr(instance, "validate", None)
    if callable(validate):
        more = validate()
        if more:
            raise ConfigError(list(more))
    return instance


def load(cls: type[T], path: str | Path) -> T:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as err:
        raise ConfigError([f"{path}: {err.strerror}"]) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{path}: {err}"]) from None
    return from_mapping(cls, data)
