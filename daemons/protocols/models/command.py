"""CommandInfo: what a task or executor runs, with its environment and URIs. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from daemons.protocols import JSON
from daemons.protocols import fields as f


@dataclass(frozen=True, slots=True)
class EnvironmentVariable:
    """One `Environment.variables` entry. A SECRET variable has no `value` (its `secret` stays
    in the raw JSON: there is no secret store to resolve it)."""

    name: str
    value: str | None = None
    type: str = "VALUE"

    def to_json(self) -> JSON:
        out: JSON = {"name": self.name}
        if self.type != "VALUE":
            out["type"] = self.type
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True, slots=True)
class CommandURI:
    """A `CommandInfo.URI` to fetch into the sandbox before the command starts."""

    value: str
    executable: bool | None = None
    extract: bool | None = None  # Mesos' default: true
    cache: bool | None = None
    output_file: str | None = None

    def to_json(self) -> JSON:
        out: JSON = {"value": self.value}
        f.put_values(out, self, ("executable", "extract", "cache", "output_file"))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInfo:
    """`shell` (Mesos' default): `/bin/sh -c value`; otherwise `value` is the program and
    `arguments` its whole argv (argv[0] included)."""

    value: str | None = None
    shell: bool = True
    arguments: tuple[str, ...] = ()
    environment: tuple[EnvironmentVariable, ...] = ()
    uris: tuple[CommandURI, ...] = ()
    user: str | None = None
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: JSON, where: str = "command") -> CommandInfo:
        shell = f.opt_bool(raw, "shell", where)
        environment = f.opt_obj(raw, "environment", where)
        return cls(
            value=f.opt_string(raw, "value", where),
            shell=True if shell is None else shell,
            arguments=f.strings(raw, "arguments", where),
            environment=()
            if environment is None
            else _variables(environment, f"{where}.environment"),
            uris=tuple(_uri(u, f"{where}.uris") for u in f.objects(raw, "uris", where)),
            user=f.opt_string(raw, "user", where),
            raw=raw,
        )

    def to_json(self) -> JSON:
        out: JSON = {}
        f.put_values(out, self, ("value",))
        out["shell"] = self.shell
        if self.arguments:
            out["arguments"] = list(self.arguments)
        if self.environment:
            out["environment"] = {"variables": [v.to_json() for v in self.environment]}
        if self.uris:
            out["uris"] = [u.to_json() for u in self.uris]
        f.put_values(out, self, ("user",))
        return out

    def environment_values(self) -> dict[str, str]:
        """The VALUE variables as a dict (later entries win, as in an exec environment)."""
        return {
            v.name: v.value for v in self.environment if v.type == "VALUE" and v.value is not None
        }


def _variables(raw: JSON, where: str) -> tuple[EnvironmentVariable, ...]:
    out: list[EnvironmentVariable] = []
    for v in f.objects(raw, "variables", where):
        kind = f.opt_string(v, "type", where)
        out.append(
            EnvironmentVariable(
                name=f.string(v, "name", where),
                value=f.opt_string(v, "value", where),
                type="VALUE" if kind is None else kind,
            )
        )
    return tuple(out)


def _uri(raw: JSON, where: str) -> CommandURI:
    return CommandURI(
        value=f.string(raw, "value", where),
        executable=f.opt_bool(raw, "executable", where),
        extract=f.opt_bool(raw, "extract", where),
        cache=f.opt_bool(raw, "cache", where),
        output_file=f.opt_string(raw, "output_file", where),
    )
