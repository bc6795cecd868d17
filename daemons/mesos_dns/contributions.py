"""Who put which values under which names, kept from one generation of the record set to the
next (`daemons.mesos_dns.records`). Pure.

A running task is a `Contributor`: the inputs its records are made of (`families.task_entries`:
its own fields, its framework's name, its agent's addresses) and its place in the generation
order. A `Generation` holds the contributors by framework id and task id, the cluster's own
records (the head, placed before every task), and an index of which contributors hold each
name, so that the names a changed task touches can be merged again from exactly the
contributors that hold them. A contributor's entries are not kept: they are made again when
needed (from the same inputs they are the same), which costs little for the few contributors a
change touches and saves holding every record of every task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.families import SRV, Address, Entry, task_entries
from daemons.mesos_dns.labels import Label, label_function


class Contributor:
    """A running task's inputs to records, and its place in the last generation. Compared by
    identity (a changed task is a new contributor); `task` is only ever replaced by an equal
    dict (the state view's own, so the one it replaced can go)."""

    __slots__ = ("agent", "framework", "position", "task")

    def __init__(
        self, task: Mapping[str, Any], framework: str, agent: tuple[Address, ...], position: int
    ) -> None:
        self.task = task
        self.framework = framework  # F
        self.agent = agent
        self.position = position


# Who put values under a name: one contributor (most names) or several, in no order.
Holders = Contributor | list[Contributor]
# Framework id -> task id -> the task's contributor.
Contributors = dict[str, dict[str, Contributor]]


class Generation:
    """What a generation keeps for the next: the contributors by framework id and task id, and
    which of them hold each name (put values of any kind under it, or point an SRV value at
    it: one index, as a task's SRV targets are its own names). Mutable: it moves on with every
    generation made from the record set it belongs to (`token`)."""

    def __init__(self, config: MesosDnsConfig, resolved: Mapping[str, Sequence[str]]) -> None:
        self.config = config
        self.resolved = dict(resolved)
        self.domain = config.domain
        self.label: Label = label_function(config.enforce_rfc952)
        self.sources = tuple(config.ip_sources)
        self.head = Contributor({}, "", (), -1)
        self.head_entries: tuple[Entry, ...] = ()
        self.contributors: Contributors = {}
        self.index: dict[str, Holders] = {}
        self.token: object | None = None
        self.made = 0  # task contributions made (tests count them)

    def entries(self, contributor: Contributor) -> Sequence[Entry]:
        if contributor is self.head:
            return self.head_entries
        self.made += 1
        return task_entries(
            contributor.task,
            contributor.framework,
            contributor.agent,
            self.domain,
            self.label,
            self.sources,
        )

    def hold(self, contributor: Contributor, entries: Sequence[Entry]) -> None:
        index = self.index
        for name in _names(entries):
            held = index.get(name)
            if held is None:
                index[name] = contributor
            elif isinstance(held, list):
                held.append(contributor)
            else:
                index[name] = [held, contributor]

    def release(self, contributor: Contributor, entries: Sequence[Entry]) -> None:
        index = self.index
        for name in _names(entries):
            held = index.get(name)
            if held is contributor:
                del index[name]
            elif isinstance(held, list) and contributor in held:
                held.remove(contributor)
                if len(held) == 1:
                    index[name] = held[0]

    def holders(self, name: str) -> list[Contributor]:
        """Who holds `name`, in generation order."""
        held = self.index.get(name)
        if held is None:
            return []
        if isinstance(held, list):
            return sorted(held, key=_position)
        return [held]


def _position(contributor: Contributor) -> int:
    return contributor.position


def _names(entries: Sequence[Entry]) -> set[str]:
    """The names the entries put values under, and those their SRV values point at."""
    names = {name for _, name, _ in entries}
    names.update(value.target for kind, _, value in entries if kind == SRV)
    return names


class Running(NamedTuple):
    """A framework of the state: its name and its running tasks on known agents."""

    name: str
    contributors: tuple[Contributor, ...]
