"""A unit's systemd properties -> its health, as dcos-diagnostics judges it. Pure.

DC/OS's rule (services-api.md §7.1): `LoadState` must be `loaded`; `ActiveState` must be
`active`, `inactive` or `activating`; `activating` in `auto-restart` (a crash loop) and
`inactive` after a non-zero exit are unhealthy (unless systemd judged that exit a success:
`SuccessExitStatus=`, `Result=success`). A unit's `name` and `description` are its
`Description=` split at the first `:` (no `:`: all of it is the name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

HEALTHY = 0
UNHEALTHY = 1
UNKNOWN = 3

# What `systemctl show` is asked for: what the rule reads, and the unit's name and kind.
PROPERTIES = (
    "Id",
    "Description",
    "LoadState",
    "ActiveState",
    "SubState",
    "Result",
    "ExecMainStatus",
)
# The kinds of units a node's components are (DC/OS lists services, sockets and timers).
KINDS = (".service", ".socket", ".timer")


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    description: str
    health: int
    output: str = ""
    help: str = ""

    def summary(self) -> dict[str, object]:
        """`/units` entries: no output."""
        return {
            "id": self.id,
            "name": self.name,
            "health": self.health,
            "description": self.description,
        }

    def full(self) -> dict[str, object]:
        """A node's own unit, with its output (`/system/health/v1`, `/nodes/<ip>/units`)."""
        return {
            "id": self.id,
            "name": self.name,
            "health": self.health,
            "output": self.output,
            "description": self.description,
            "help": self.help,
        }


def split_description(description: str) -> tuple[str, str]:
    name, colon, rest = description.partition(":")
    if not colon:
        return description.strip(), ""
    return name.strip(), rest.strip()


def parse_show(text: str) -> list[dict[str, str]]:
    """`systemctl show -p ... UNIT...`: one block of `Key=value` lines per unit, blocks
    separated by an empty line, in the order asked."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, eq, value = line.partition("=")
        if eq:
            current[key] = value
    if current:
        blocks.append(current)
    return blocks


def unit_names(listing: str, prefix: str) -> list[str]:
    """The unit names in the first column of `systemctl list-units --plain --no-legend` or
    `list-unit-files --no-legend`, of the component kinds and with `prefix`."""
    names = []
    for line in listing.splitlines():
        fields = line.split()
        if fields and fields[0].startswith(prefix) and fields[0].endswith(KINDS):
            names.append(fields[0])
    return names


def judge(props: Mapping[str, str]) -> tuple[int, str]:
    """The health of a unit and, when unhealthy, why (one line)."""
    unit = props.get("Id", "?")
    load = props.get("LoadState", "")
    active = props.get("ActiveState", "")
    sub = props.get("SubState", "")
    status = props.get("ExecMainStatus", "0") or "0"
    result = props.get("Result", "success") or "success"
    if load != "loaded":
        return UNHEALTHY, f"{unit} is not loaded (LoadState={load or '?'})"
    if active not in ("active", "inactive", "activating"):
        return UNHEALTHY, f"{unit} is {active or '?'} ({sub}, result {result}, status {status})"
    if active == "activating" and sub == "auto-restart":
        return UNHEALTHY, f"{unit} is restarting after a failure (result {result}, status {status})"
    # A non-zero status the unit declares a success (SuccessExitStatus=143 of a JVM stopped by
    # SIGTERM) leaves Result=success: that stop is no failure.
    if active == "inactive" and status != "0" and result != "success":
        return UNHEALTHY, f"{unit} is inactive after exit status {status} (result {result})"
    return HEALTHY, ""


def is_component(props: Mapping[str, str]) -> bool:
    """A unit that exists on this node: a unit only named by another one's `After=` shows in
    `list-units --all` as not-found and inactive, and is no component."""
    return not (props.get("LoadState") == "not-found" and props.get("ActiveState") == "inactive")


def unit_of(props: Mapping[str, str], journal: str = "") -> Unit:
    health, why = judge(props)
    name, description = split_description(props.get("Description", "") or props.get("Id", ""))
    output = "\n".join(part for part in (why, journal.rstrip("\n")) if part)
    return Unit(props.get("Id", ""), name or props.get("Id", ""), description, health, output)


def pid_unit(unit_id: str, pid_file: str, pid: int | None, alive: bool) -> Unit:
    """A component watched by its pid file (a node without systemd units: make local)."""
    if pid is None:
        health, output = UNHEALTHY, f"{unit_id}: no pid in {pid_file}"
    elif not alive:
        health, output = UNHEALTHY, f"{unit_id}: process {pid} of {pid_file} is not running"
    else:
        health, output = HEALTHY, ""
    return Unit(unit_id, unit_id, f"process of {pid_file}", health, output)


def units_of(blocks: Iterable[Mapping[str, str]], journals: Mapping[str, str]) -> list[Unit]:
    """The node's components from `systemctl show` blocks, sorted by id; `journals` are the
    excerpts of the unhealthy ones."""
    found = {
        b["Id"]: unit_of(b, journals.get(b["Id"], ""))
        for b in blocks
        if b.get("Id") and is_component(b)
    }
    return [found[k] for k in sorted(found)]
