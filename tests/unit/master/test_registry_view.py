"""Which agents are unreachable or gone is read from one record, what the leader read from the
registry and wrote since (`Master.registry_state`): a new leader's answers follow it."""

from __future__ import annotations

import uuid

import pytest

from daemons.kit.errors import NotFound
from daemons.kit.streams import EventStream
from daemons.master import agent_calls, operator_api, state_json
from daemons.master.master import Master
from daemons.master.memory_registry import MemoryRegistry
from daemons.master.registry import ADMITTED, GONE, UNREACHABLE, Entry
from daemons.protocols import JSON
from tests.unit.master.factories import (
    AWARE,
    PROFILE,
    advance,
    make_master,
    reconcile,
    report,
    start_cluster,
    subscribe,
)

MARK_GONE = operator_api._SYNC["MARK_AGENT_GONE"]


def mark_gone(master: Master, agent_id: str) -> JSON:
    with master.lock:
        return MARK_GONE(master, {"mark_agent_gone": {"agent_id": {"value": agent_id}}})


def test_a_new_leader_answers_for_unreachable_and_gone_agents_as_the_registry_says() -> None:
    registry = MemoryRegistry()
    old, clock, streams, fid, _ = start_cluster(registry, agents=3, tasks_per_agent=1)
    back, silent, removed = sorted(streams)
    tasks = {a: report(old, a)[0]["task_id"]["value"] for a in streams}
    mark_gone(old, removed)
    advance(old, clock, 6.5, pong={back: streams[back]})  # `silent` misses the ping budget
    states = {a: e.state for a, e in registry.state.agents.items()}
    assert states == {back: ADMITTED, silent: UNREACHABLE, removed: GONE}

    new, _ = make_master(registry, clock, master_id="m2", **PROFILE)
    _, fstream = subscribe(new, framework_id=fid, capabilities=AWARE)
    assert reconcile(new, fid, fstream, tasks[back], back) == []  # it may still come back
    assert [s["state"] for s in reconcile(new, fid, fstream, tasks[silent], silent)] == [
        "TASK_UNREACHABLE"
    ]
    assert [s["state"] for s in reconcile(new, fid, fstream, tasks[removed], removed)] == [
        "TASK_GONE_BY_OPERATOR"
    ]
    # The operator gives the unreachable agent up: the answers follow the registry at once.
    assert mark_gone(new, silent) == {}
    assert registry.state.agents[silent].state == GONE
    assert [s["state"] for s in reconcile(new, fid, fstream, tasks[silent], silent)] == [
        "TASK_GONE_BY_OPERATOR"
    ]
    assert mark_gone(new, silent) == {}  # already gone: nothing more to do
    writes = registry.writes
    refused, first = agent_calls.subscribe(
        new,
        {
            "type": "SUBSCRIBE",
            "subscribe": {"agent_info": {"hostname": "a1", "id": {"value": silent}}},
        },
        EventStream(str(uuid.uuid4()), 15.0),
    )
    assert refused is None and "marked gone" in first["error"]["message"]
    assert registry.writes == writes


def test_an_unknown_agent_cannot_be_marked_gone() -> None:
    master, *_ = start_cluster(MemoryRegistry(), agents=1)
    with pytest.raises(NotFound, match="not known"):
        mark_gone(master, "nobody")


def summary_agents(master: Master) -> tuple[dict[str, JSON], dict[str, JSON]]:
    """The state-summary's registered agents and removed ones, by id."""
    with master.lock:
        body = state_json.state_summary(master)
    return (
        {a["id"]: a for a in body["slaves"]},
        {a["id"]: a for a in body["removed_slaves"]},
    )


def test_the_state_summary_lists_unreachable_and_gone_agents_apart_from_the_registered() -> None:
    registry = MemoryRegistry()
    old, clock, streams, *_ = start_cluster(registry, agents=3, tasks_per_agent=1)
    back, silent, removed = sorted(streams)
    hostnames = {a: old.agents[a].hostname for a in streams}
    registered, gone = summary_agents(old)
    assert set(registered) == set(streams) and gone == {}
    mark_gone(old, removed)
    advance(old, clock, 6.5, pong={back: streams[back]})  # `silent` misses the ping budget

    for master in (old, make_master(registry, clock, master_id="m2", **PROFILE)[0]):
        registered, gone = summary_agents(master)
        assert set(registered) <= {back}  # a new leader lists `back` once it re-registers
        assert {a: (g["state"], g["hostname"]) for a, g in gone.items()} == {
            silent: (UNREACHABLE, hostnames[silent]),
            removed: (GONE, hostnames[removed]),
        }
        assert gone[removed]["time"] <= gone[silent]["time"]
        assert gone[silent]["resources"]["cpus"] == 4
    assert list(summary_agents(old)[1]) == [removed, silent]  # oldest removal first


def test_a_removed_agent_whose_info_no_longer_parses_still_shows_its_id_state_and_time() -> None:
    body = state_json.removed_agent_json("a9", Entry(GONE, {"hostname": 7}, 12.0))
    assert body == {"id": "a9", "state": GONE, "time": 12.0}
