"""`/v1/enumerate`'s data: per framework of the state and per running task, the records that
task added first (Mesos-DNS lists a record under the first task that generated it). Pure.

Made when asked, from the contributions a record set was generated from
(`daemons.mesos_dns.contributions`): it lists every record of every task again (~30 MiB at
10,000 tasks, more than the record set itself) and is seldom asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, overload

from daemons.mesos_dns.contributions import Generation, Running
from daemons.mesos_dns.families import Entry, task_entries

# (name, host, rtype): host is an IP, or "target:port" for SRV. A plain tuple: there is one
# per record of every task.
EnumerableRecord = tuple[str, str, str]


class EnumerableTask(NamedTuple):
    name: str
    id: str
    records: tuple[EnumerableRecord, ...]


class EnumerableFramework(NamedTuple):
    name: str
    tasks: tuple[EnumerableTask, ...]


class Enumeration(Sequence[EnumerableFramework]):
    """`/v1/enumerate`'s frameworks, made when asked: the cluster's records first, then each
    task's entries in order, each task listing the records that were new when it added them."""

    def __init__(
        self, generation: Generation, head: tuple[Entry, ...], frameworks: tuple[Running, ...]
    ) -> None:
        self._domain = generation.domain
        self._label = generation.label
        self._sources = generation.sources
        self._head = head
        self._frameworks = frameworks

    def _made(self) -> tuple[EnumerableFramework, ...]:
        seen = set(self._head)
        out: list[EnumerableFramework] = []
        for running in self._frameworks:
            tasks: list[EnumerableTask] = []
            for c in running.contributors:
                added: list[EnumerableRecord] = []
                entries = task_entries(
                    c.task, c.framework, c.agent, self._domain, self._label, self._sources
                )
                for entry in entries:
                    if entry not in seen:
                        seen.add(entry)
                        kind, name, value = entry
                        added.append((name, str(value), kind))
                task = c.task
                tasks.append(
                    EnumerableTask(task.get("name") or "", task.get("id") or "", tuple(added))
                )
            out.append(EnumerableFramework(running.name, tuple(tasks)))
        return tuple(out)

    @overload
    def __getitem__(self, index: int) -> EnumerableFramework: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[EnumerableFramework]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self._made()[index]

    def __len__(self) -> int:
        return len(self._frameworks)

    def __iter__(self) -> Iterator[EnumerableFramework]:
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._made() == tuple(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Enumeration({self._made()!r})"
