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
`daemons.mesos_client.master_view`), else by value (a state read again makes new, equal
dicts), so a state passed with `previous` must not have been changed in place since
`previous` was made.
The result equals a full generation (a unit test checks it after random changes). What makes
a generation full: no `previous`; another config or other resolved names; a `previous` that is
not the last record set generated from its line (an earlier one, or one a generation failed
after); a task id or framework id twice; or tasks and frameworks in another order than last
time (a name's values keep the order they were made in).

What is kept between generations: `daemons.mesos_dns.contributions`. The enumeration
(`RecordSet.frameworks`, `/v1/enumerate`) is made when asked (`daemons.mesos_dns.enumeration`).
`RecordSet.changes_from(previous)` says which names changed, so that the DNS zone is patched
without comparing every name (`daemons.mesos_dns.dns_zone`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple, cast

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.contributions import Contributor, Contributors, Generation, Running
from daemons.mesos_dns.enumeration import (
    EnumerableFramework,
    EnumerableRecord,
    EnumerableTask,
    Enumeration,
)
from daemons.mesos_dns.families import (
    AAAA,
    RUNNING,
    SRV,
    A,
    Entry,
    Head,
    SrvTarget,
    head_records,
    mname_addresses,
    parse_ip,
    parse_ports,
    split_pid,
)
from daemons.mesos_dns.labels import domain_fragment

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


@dataclass(frozen=True)
class RecordSet:
    """One load's records: names (lowercase, trailing dot) to values, read-only."""

    a: Mapping[str, tuple[str, ...]]
    aaaa: Mapping[str, tuple[str, ...]]
    srv: Mapping[str, tuple[SrvTarget, ...]]
    frameworks: Sequence[EnumerableFramework]
    serial: int  # the Unix time of the load (the SOA serial)
    # `_token` names this record set. Set by `generate` only: `_generation`, what the next
    # generation starts from, and `_delta`, (the token of the record set this one was made
    # from, the names that changed, the SRV names pointing at them). A record set made
    # otherwise has neither: one generated from it is made whole, and its zone is patched by
    # comparing every name.
    _token: object = field(default_factory=object, init=False, compare=False, repr=False)
    _generation: Generation | None = field(default=None, init=False, compare=False, repr=False)
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


class _Reorder(Exception):
    """The tasks are not in the order of the last generation (or an id repeats): start over."""


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
        return _whole(Generation(config, resolved), state, masters, serial, listener_ips)
    except (AttributeError, TypeError, ValueError) as err:
        if generation is not None:
            generation.token = None  # half moved on: the next generation starts over
        raise StateError(f"the state is not Mesos' /master/state: {err}") from err


def _head(
    generation: Generation,
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
    contributors: Contributors
    fresh: list[Contributor]  # in generation order
    frameworks: list[Running]
    unique: bool  # no framework id, and no task id within a framework, seen twice


def _walk(generation: Generation, state: Mapping[str, Any], head: Head) -> _Walk:
    """Every running task on a known agent, in the state's order: the contributor kept from
    `generation` when the task's inputs are the same (and the kept ones are in the order they
    were), else a fresh one. Raises `_Reorder` when a kept one is out of order. One loop for a
    whole generation too (nothing to keep), as it is the cost of every rebuild."""
    old, agents, label = generation.contributors, head.agents, generation.label
    current: Contributors = {}
    fresh: list[Contributor] = []
    frameworks: list[Running] = []
    unique, position, last = True, 0, -1
    for framework in state.get("frameworks") or ():
        fid = str(framework.get("id"))
        fname = domain_fragment(framework.get("name") or "", label)
        unique = unique and fid not in current
        kept_tasks = old.get(fid) or {}
        mine: dict[str, Contributor] = current.setdefault(fid, {})
        members: list[Contributor] = []
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
                contributor = Contributor(task, fname, agent, position)
                fresh.append(contributor)
            position += 1
            mine[tid] = contributor
            members.append(contributor)
        frameworks.append(Running(framework.get("name") or "", tuple(members)))
    return _Walk(current, fresh, frameworks, unique)


def _record_set(
    generation: Generation,
    tables: dict[str, dict[str, Any]],
    frameworks: list[Running],
    serial: int,
) -> RecordSet:
    generation.token = None
    records = RecordSet(
        MappingProxyType(tables[A]),
        MappingProxyType(tables[AAAA]),
        MappingProxyType(tables[SRV]),
        Enumeration(generation, generation.head_entries, tuple(frameworks)),
        serial,
    )
    object.__setattr__(records, "_generation", generation)
    generation.token = records._token
    return records


def _whole(
    generation: Generation,
    state: Mapping[str, Any],
    masters: Sequence[str],
    serial: int,
    listener_ips: Sequence[str],
) -> RecordSet:
    """Every contribution made: the first load, or when `previous` cannot be used."""
    head = _head(generation, state, masters, listener_ips)
    generation.head_entries = head.entries
    ordered: dict[str, dict[str, dict[Any, None]]] = {A: {}, AAAA: {}, SRV: {}}

    def put(contributor: Contributor, entries: Sequence[Entry]) -> None:
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
    generation: Generation,
    previous: RecordSet,
    state: Mapping[str, Any],
    masters: Sequence[str],
    serial: int,
    listener_ips: Sequence[str],
) -> RecordSet:
    """`previous` with the names that new, changed and gone contributors hold merged again."""
    made: dict[Contributor, Sequence[Entry]] = {}
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

    def entries_of(contributor: Contributor) -> Sequence[Entry]:
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
