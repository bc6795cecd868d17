"""The record set of the Mesos domain, generated from the leading master's `/master/state`,
and kept from one rebuild to the next. Pure: the state, the masters, the addresses the SOA name
stands for and the load's time come in as arguments (what the records are, family by family,
and where they differ from Mesos-DNS: `daemons.mesos_dns.families`).

Incremental: `generate(..., previous=records)` starts from the record set it made last. Every
running task contributes the entries of `families.task_entries`, which depend only on the
task's own fields, its framework's name and its agent's addresses; a task whose inputs are the
same keeps its contribution, and only the names that a new, changed or gone task (or the
cluster's own records: frameworks, agents, masters, the name server, made again each time) put
values under are merged again, each from the contributors that hold it, in generation order.
So one task killed out of 10,000 costs a walk comparing each task's inputs and the few names
it touched, not every task's records made again. A task's inputs are compared by identity
first (the state view never changes a task's dict in place: it replaces it,
`daemons.mesos_dns.state`), else by value (a state read again makes new, equal dicts), so a
state passed with `previous` must not have been changed in place since `previous` was made.
The result equals a full generation (a unit test checks it after random changes). What makes
a generation full: no `previous`, a `previous` this was not the last generation from (another
config or resolved names, an earlier generation from it, one that failed), or tasks and
frameworks in another order than last time (a name's values keep the order they were made in).

The enumeration (`RecordSet.frameworks`, `/v1/enumerate`) is made when asked, from the kept
contributions: it lists every record of every task (~30 MiB at 10,000 tasks) and is seldom
asked for. `RecordSet.changes_from(previous)` says which names changed, so that the DNS zone
is patched without comparing every name (`daemons.mesos_dns.dns_zone`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple, cast, overload

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.families import (
    AAAA,
    RUNNING,
    SRV,
    A,
    Address,
    Entry,
    Head,
    SrvTarget,
    head_records,
    mname_addresses,
    parse_ip,
    parse_ports,
    split_pid,
    task_entries,
)
from daemons.mesos_dns.labels import Label, domain_fragment, label_function

__all__ = [
    "AAAA",
    "EMPTY",
    "SRV",
    "A",
    "EnumerableFramework",
    "EnumerableRecord",
    "EnumerableTask",
    "RecordSet",
    "SrvTarget",
    "StateError",
    "generate",
    "mname_addresses",
    "parse_ip",
    "parse_ports",
    "split_pid",
]


class StateError(ValueError):
    """The state cannot be turned into records (keep the previous ones)."""


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


@dataclass(frozen=True)
class RecordSet:
    """One load's records: names (lowercase, trailing dot) to values, read-only."""

    a: Mapping[str, tuple[str, ...]]
    aaaa: Mapping[str, tuple[str, ...]]
    srv: Mapping[str, tuple[SrvTarget, ...]]
    frameworks: Sequence[EnumerableFramework]
    serial: int  # the Unix time of the load (the SOA serial)
    # Set by `generate` only (a record set made otherwise is generated whole from, and its
    # zone patched by comparing every name): what the next generation starts from, and
    # (the record set this one was made from, the names that changed, the SRV names pointing
    # at them).
    _token: object = field(default_factory=object, init=False, compare=False, repr=False)
    _generation: _Generation | None = field(default=None, init=False, compare=False, repr=False)
    _delta: tuple[object, frozenset[str], frozenset[str]] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    def changes_from(self, previous: RecordSet) -> tuple[frozenset[str], frozenset[str]] | None:
        """When this record set was generated from `previous`: the names whose values differ
        (or that came or went), and the SRV names whose targets are among them; else None."""
        if self._delta is None or self._delta[0] is not previous._token:
            return None
        return self._delta[1], self._delta[2]


EMPTY = RecordSet(MappingProxyType({}), MappingProxyType({}), MappingProxyType({}), (), 0)


class _Contributor:
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
_Holders = _Contributor | list[_Contributor]
# Framework id -> task id -> the task's contributor.
_Contributors = dict[str, dict[str, _Contributor]]


class _Reorder(Exception):
    """The tasks are not in the order of the last generation (or an id repeats): start over."""


class _Generation:
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
        self.head = _Contributor({}, "", (), -1)
        self.head_entries: tuple[Entry, ...] = ()
        self.contributors: _Contributors = {}
        self.index: dict[str, _Holders] = {}
        self.token: object | None = None
        self.made = 0  # task contributions made (tests count them)

    def entries(self, contributor: _Contributor) -> Sequence[Entry]:
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

    def hold(self, contributor: _Contributor, entries: Sequence[Entry]) -> None:
        index = self.index
        for name in _names(entries):
            held = index.get(name)
            if held is None:
                index[name] = contributor
            elif isinstance(held, list):
                held.append(contributor)
            else:
                index[name] = [held, contributor]

    def release(self, contributor: _Contributor, entries: Sequence[Entry]) -> None:
        index = self.index
        for name in _names(entries):
            held = index.get(name)
            if held is contributor:
                del index[name]
            elif isinstance(held, list) and contributor in held:
                held.remove(contributor)
                if len(held) == 1:
                    index[name] = held[0]

    def holders(self, name: str) -> list[_Contributor]:
        """Who holds `name`, in generation order."""
        held = self.index.get(name)
        if held is None:
            return []
        if isinstance(held, list):
            return sorted(held, key=_position)
        return [held]


def _position(contributor: _Contributor) -> int:
    return contributor.position


def _names(entries: Sequence[Entry]) -> set[str]:
    """The names the entries put values under, and those their SRV values point at."""
    names = {name for _, name, _ in entries}
    names.update(value.target for kind, _, value in entries if kind == SRV)
    return names


class _Running(NamedTuple):
    """A framework of the state: its name and its running tasks on known agents."""

    name: str
    contributors: tuple[_Contributor, ...]


class _Enumeration(Sequence[EnumerableFramework]):
    """`/v1/enumerate`'s frameworks, made when asked: the cluster's records first, then each
    task's entries in order, each task listing the records that were new when it added them."""

    def __init__(
        self, generation: _Generation, head: tuple[Entry, ...], frameworks: tuple[_Running, ...]
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
        return f"_Enumeration({self._made()!r})"


def generate(
    state: Mapping[str, Any],
    config: MesosDnsConfig,
    masters: Sequence[str],
    *,
    serial: int,
    listener_ips: Sequence[str] = (),
    resolved: Mapping[str, Sequence[str]] | None = None,
    previous: RecordSet | None = None,
) -> RecordSet:
    """The records of a parsed `/master/state`. `masters` are the known masters (`ip:port`,
    leader first, as the ZooKeeper detector lists them, or the configured ones); `resolved`
    maps host names found in the state to the addresses the caller looked up; `previous`, the
    record set generated last, is what this one is made from (see the module docstring)."""
    if not isinstance(state, Mapping) or not state.get("leader"):
        raise StateError("the state names no leading master")
    resolved = resolved or {}
    generation = previous._generation if previous is not None else None
    if (
        generation is None
        or previous is None
        or generation.token is not previous._token
        or generation.config != config
        or generation.resolved != resolved
    ):
        generation = None
    try:
        if generation is not None:
            assert previous is not None
            try:
                return _patched(generation, previous, state, masters, serial, listener_ips)
            except _Reorder:
                generation.token = None  # half moved on: nothing may start from it again
        return _whole(_Generation(config, resolved), state, masters, serial, listener_ips)
    except (AttributeError, TypeError, ValueError) as err:
        if generation is not None:
            generation.token = None  # half moved on: the next generation starts over
        raise StateError(f"the state is not Mesos' /master/state: {err}") from err


def _head(
    generation: _Generation,
    state: Mapping[str, Any],
    masters: Sequence[str],
    listener_ips: Sequence[str],
) -> Head:
    config = generation.config
    return head_records(
        state,
        config.domain,
        generation.label,
        masters,
        config.soa_mname,
        listener_ips,
        generation.resolved,
    )


class _Walk(NamedTuple):
    contributors: _Contributors
    fresh: list[_Contributor]  # in generation order
    frameworks: list[_Running]
    unique: bool  # no framework id, and no task id within a framework, seen twice


def _walk(generation: _Generation, state: Mapping[str, Any], head: Head) -> _Walk:
    """Every running task on a known agent, in the state's order: the contributor kept from
    `generation` when the task's inputs are the same (and the kept ones are in the order they
    were), else a fresh one. Raises `_Reorder` when a kept one is out of order. One loop for a
    whole generation too (nothing to keep), as it is the cost of every rebuild."""
    old, agents, label = generation.contributors, head.agents, generation.label
    current: _Contributors = {}
    fresh: list[_Contributor] = []
    frameworks: list[_Running] = []
    unique, position, last = True, 0, -1
    for framework in state.get("frameworks") or ():
        fid = str(framework.get("id"))
        fname = domain_fragment(framework.get("name") or "", label)
        unique = unique and fid not in current
        kept_tasks = old.get(fid) or {}
        mine: dict[str, _Contributor] = current.setdefault(fid, {})
        members: list[_Contributor] = []
        for task in framework.get("tasks") or ():
            if task.get("state") != RUNNING:
                continue
            agent = agents.get(task.get("slave_id"))
            if agent is None:
                continue
            tid = str(task.get("id"))
            unique = unique and tid not in mine
            kept = kept_tasks.get(tid)
            if (
                kept is not None
                and kept.framework == fname
                and kept.agent == agent
                and (kept.task is task or kept.task == task)
            ):
                if kept.position < last:
                    raise _Reorder
                last = kept.position
                kept.task = task
                kept.position = position
                contributor = kept
            else:
                contributor = _Contributor(task, fname, agent, position)
                fresh.append(contributor)
            position += 1
            mine[tid] = contributor
            members.append(contributor)
        frameworks.append(_Running(framework.get("name") or "", tuple(members)))
    return _Walk(current, fresh, frameworks, unique)


def _record_set(
    generation: _Generation,
    tables: dict[str, dict[str, Any]],
    frameworks: list[_Running],
    serial: int,
) -> RecordSet:
    generation.token = None
    records = RecordSet(
        MappingProxyType(tables[A]),
        MappingProxyType(tables[AAAA]),
        MappingProxyType(tables[SRV]),
        _Enumeration(generation, generation.head_entries, tuple(frameworks)),
        serial,
    )
    object.__setattr__(records, "_generation", generation)
    generation.token = records._token
    return records


def _whole(
    generation: _Generation,
    state: Mapping[str, Any],
    masters: Sequence[str],
    serial: int,
    listener_ips: Sequence[str],
) -> RecordSet:
    """Every contribution made: the first load, or when `previous` cannot be used."""
    head = _head(generation, state, masters, listener_ips)
    generation.head_entries = head.entries
    ordered: dict[str, dict[str, dict[Any, None]]] = {A: {}, AAAA: {}, SRV: {}}

    def put(contributor: _Contributor, entries: Sequence[Entry]) -> None:
        generation.hold(contributor, entries)
        for kind, name, value in entries:
            values = ordered[kind].get(name)
            if values is None:
                ordered[kind][name] = {value: None}
            else:
                values[value] = None  # a value already there keeps its place

    put(generation.head, head.entries)
    walk = _walk(generation, state, head)
    generation.contributors = walk.contributors
    for contributor in walk.fresh:
        put(contributor, generation.entries(contributor))
    # Equal values are one tuple (a task's canonical names hold its agent's one address).
    shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    tables: dict[str, dict[str, Any]] = {}
    for kind, names in ordered.items():
        table = tables[kind] = {}
        for name, values in names.items():
            found = tuple(values)
            table[name] = shared.setdefault(found, found)
    records = _record_set(generation, tables, walk.frameworks, serial)
    if not walk.unique:  # two tasks of one id: they could not be told apart next time
        generation.token = None
    return records


def _patched(
    generation: _Generation,
    previous: RecordSet,
    state: Mapping[str, Any],
    masters: Sequence[str],
    serial: int,
    listener_ips: Sequence[str],
) -> RecordSet:
    """`previous` with the names that new, changed and gone contributors hold merged again."""
    made: dict[_Contributor, Sequence[Entry]] = {}
    dirty: set[tuple[str, str]] = set()
    head = _head(generation, state, masters, listener_ips)
    if head.entries != generation.head_entries:
        for made_before in (generation.head_entries, head.entries):
            dirty.update((kind, name) for kind, name, _ in made_before)
        generation.release(generation.head, generation.head_entries)
        generation.head_entries = head.entries
        generation.hold(generation.head, head.entries)
    walk = _walk(generation, state, head)
    if not walk.unique:
        raise _Reorder
    # The names of gone and replaced contributors, and of new ones, are merged again.
    for fid, tasks in generation.contributors.items():
        now = walk.contributors.get(fid) or {}
        for tid, contributor in tasks.items():
            if now.get(tid) is not contributor:
                entries = generation.entries(contributor)
                dirty.update((kind, name) for kind, name, _ in entries)
                generation.release(contributor, entries)
    for contributor in walk.fresh:
        entries = made[contributor] = generation.entries(contributor)
        dirty.update((kind, name) for kind, name, _ in entries)
        generation.hold(contributor, entries)
    generation.contributors = walk.contributors

    def entries_of(contributor: _Contributor) -> Sequence[Entry]:
        found = made.get(contributor)
        if found is None:
            found = made[contributor] = generation.entries(contributor)
        return found

    # The tables made by `_record_set` (a mapping proxy's copy is its dict's: a C copy).
    tables: dict[str, dict[str, Any]] = {
        A: cast(MappingProxyType[str, Any], previous.a).copy(),
        AAAA: cast(MappingProxyType[str, Any], previous.aaaa).copy(),
        SRV: cast(MappingProxyType[str, Any], previous.srv).copy(),
    }
    changed: set[str] = set()
    for kind, name in dirty:
        values: dict[Any, None] = {}
        for contributor in generation.holders(name):
            for k, n, value in entries_of(contributor):
                if n == name and k == kind:
                    values[value] = None
        table = tables[kind]
        before = table.get(name)
        if values:
            after = tuple(values)
            if before != after:
                table[name] = after
                changed.add(name)
        elif before is not None:
            del table[name]
            changed.add(name)
    # The SRV names whose targets changed (their answers carry the targets' addresses).
    pointing: set[str] = set()
    for name in changed:
        for contributor in generation.holders(name):
            pointing.update(
                n for k, n, v in entries_of(contributor) if k == SRV and v.target == name
            )
    records = _record_set(generation, tables, walk.frameworks, serial)
    object.__setattr__(
        records, "_delta", (previous._token, frozenset(changed), frozenset(pointing))
    )
    return records
