"""High availability in process: the registry, a new leader's recovery, agent health checks.

The master runs on a manual clock and the tests are the network: a PONG the test does not send
is a dropped message, a master the test stops calling has crashed. Figures are the fault suite's
test profile (`factories.PROFILE`): ping 1 s x 5, re-register window 20 s, ZK session 4 s.
"""

from __future__ import annotations

import pytest

from daemons.kit.errors import ServiceUnavailable
from daemons.master import leadership, operator_api, scheduler_calls
from daemons.master.config import MasterConfig, parse_fraction, parse_rate
from daemons.master.memory_registry import MemoryRegistry
from daemons.master.registry import (
    ADMITTED,
    GONE,
    REMOVED,
    UNREACHABLE,
    Entry,
)
from daemons.master.service import Lease
from tests.unit.master.factories import (
    AWARE,
    PROFILE,
    Clock,
    add_agent,
    advance,
    agent_call,
    agent_update,
    allocate,
    call,
    command_task,
    events,
    launch,
    make_master,
    reconcile,
    report,
    reregister,
    snapshot,
    start_cluster,
    subscribe,
)

# --- the registry: durable before it takes effect -------------------------------------------------


def test_agents_and_frameworks_are_in_the_registry_before_they_are_acknowledged():
    registry = MemoryRegistry()
    master, *_ = make_master(registry, **PROFILE)
    agent_id, _ = add_agent(master, hostname="a0")
    entry = registry.state.agents[agent_id]
    assert (entry.state, entry.info["hostname"]) == (ADMITTED, "a0")
    fid, fstream = subscribe(master, failover_timeout=123.0)
    assert registry.state.frameworks[fid].state == "active"
    assert registry.state.frameworks[fid].info["failover_timeout"] == 123.0
    call(master, fid, fstream, "TEARDOWN")
    assert registry.state.frameworks[fid].state == REMOVED


def test_a_failed_registry_write_makes_the_master_step_down_and_changes_nothing():
    registry = MemoryRegistry()
    master, _ = make_master(registry, **PROFILE)
    add_agent(master, hostname="a0")
    registry.fail_writes = True
    with pytest.raises(ServiceUnavailable, match="registry"):
        add_agent(master, hostname="a1")
    assert [a.hostname for a in master.agents.values()] == ["a0"]
    assert not master.is_leader and master.fatal_reasons  # it exits; systemd restarts it
    assert "registry" in master.fatal_reasons[0]
    # A framework cannot subscribe to it either, and it no longer offers anything.
    with pytest.raises(ServiceUnavailable):
        subscribe(master)
    assert allocate(master) == 0


def test_a_leader_whose_lease_lapsed_acts_on_nothing():
    """A paused or cut-off leader, before ZooKeeper tells it, does nothing."""
    registry = MemoryRegistry()
    master, _ = make_master(registry, **PROFILE)
    add_agent(master, hostname="a0")
    subscribe(master)
    writes = registry.writes
    master.lease = lambda: False
    assert allocate(master) == 0
    with pytest.raises(ServiceUnavailable):
        add_agent(master, hostname="a1")
    assert registry.writes == writes


def test_lease_holds_for_half_a_session_after_the_last_round_trip_and_not_while_suspended():
    now = [100.0]
    lease = Lease(4.0, clock=lambda: now[0])
    assert lease()
    now[0] += 1.9
    assert lease()
    now[0] += 0.2  # 2.1 s without a confirmed round trip: the session might be about to expire
    assert not lease()
    lease.confirm(now[0])
    assert lease()
    lease.suspended_since = now[0]
    assert not lease()


def test_memory_registry_recovers_what_was_written_and_rejects_malformed_entries():
    registry = MemoryRegistry()
    registry.recover("m1")
    registry.put_agent("S1", Entry(ADMITTED, {"hostname": "h"}, 1.0))
    registry.put_agent("S2", Entry(GONE, {}, 2.0))
    state = registry.recover("m2")
    assert set(state.agents_in(ADMITTED)) == {"S1"} and set(state.agents_in(GONE)) == {"S2"}
    body = state.to_mesos_json()
    assert body["slaves"]["slaves"] == [{"info": {"hostname": "h"}}]
    assert body["gone"]["slaves"][0]["id"] == {"value": "S2"}
    with pytest.raises(ValueError):
        Entry.from_json({"state": "sideways"}, ("admitted",))


# --- a new leader recovers from the registry -----------------------------------------------------


def test_new_leader_recovers_and_agents_reregister_without_a_task_state_change():
    registry = MemoryRegistry()
    old, clock, agent_streams, fid, _ = start_cluster(registry)
    before = {t.task_id: t.state for t in old.frameworks[fid].tasks.values()}
    reports = {agent_id: report(old, agent_id) for agent_id in agent_streams}
    hostnames = {a.agent_id: a.hostname for a in old.agents.values()}
    # The old leader is gone (crashed); a standby is elected on the same registry.
    new, _ = make_master(registry, clock, master_id="m2", **PROFILE)
    assert set(new.recovered) == set(agent_streams)
    assert new.frameworks[fid].recovered and new.frameworks[fid].failover_timeout == 3600.0
    writes = registry.writes
    fid2, fstream = subscribe(new, framework_id=fid, capabilities=AWARE)
    assert fid2 == fid
    first, second = sorted(agent_streams)
    task_on_second = reports[second][0]["task_id"]["value"]
    # Until its agent re-registers, reconciliation gives no answer for a task (Mesos).
    assert reconcile(new, fid, fstream, task_on_second, second) == []
    assert reconcile(new, fid, fstream, task_on_second) == []
    for agent_id in (first, second):
        reregister(new, agent_id, reports[agent_id], hostnames[agent_id])
    assert new.recovered == {}
    after = {t.task_id: t.state for t in new.frameworks[fid].tasks.values()}
    assert after == before  # every task still RUNNING, none lost or restarted
    assert [s["state"] for s in reconcile(new, fid, fstream, task_on_second, second)] == [
        "TASK_RUNNING"
    ]
    assert events(fstream, "UPDATE") == []  # no update but the answers asked for
    # Re-registration of admitted agents needs no registry write; the framework's is one.
    assert registry.writes == writes + 1


def test_agents_missing_after_the_reregister_window_are_marked_unreachable_and_may_return():
    registry = MemoryRegistry()
    old, clock, agent_streams, fid, _ = start_cluster(registry)
    first, second = sorted(agent_streams)
    reports = {agent_id: report(old, agent_id) for agent_id in agent_streams}
    hostnames = {a.agent_id: a.hostname for a in old.agents.values()}
    new, _ = make_master(registry, clock, master_id="m2", **PROFILE)
    _, fstream = subscribe(new, framework_id=fid, capabilities=AWARE)
    back = dict([reregister(new, first, reports[first], hostnames[first])])
    advance(new, clock, 19.0, pong=back)
    assert registry.state.agents[second].state == ADMITTED
    advance(new, clock, 1.5, pong=back)
    assert registry.state.agents[second].state == UNREACHABLE
    task = reports[second][0]["task_id"]["value"]
    assert [s["state"] for s in reconcile(new, fid, fstream, task, second)] == ["TASK_UNREACHABLE"]
    # It comes back late: admitted again (registry first) and its tasks are adopted.
    reregister(new, second, reports[second], hostnames[second])
    assert registry.state.agents[second].state == ADMITTED
    assert new.frameworks[fid].tasks[task].state == "TASK_RUNNING"


def test_too_many_missing_agents_make_the_new_leader_fail_over_instead_of_removing_them():
    registry = MemoryRegistry()
    old, clock, agent_streams, _, _ = start_cluster(
        registry, agents=3, tasks_per_agent=1, recovery_agent_removal_limit="50%"
    )
    back = sorted(agent_streams)[0]
    reports = report(old, back)
    hostname = old.agents[back].hostname
    new, _ = make_master(
        registry, clock, master_id="m2", recovery_agent_removal_limit="50%", **PROFILE
    )
    streams = dict([reregister(new, back, reports, hostname)])
    advance(new, clock, 21.0, pong=streams)
    assert new.fatal_reasons and "recovery_agent_removal_limit" in new.fatal_reasons[0]
    assert not new.is_leader
    assert {e.state for e in registry.state.agents.values()} == {ADMITTED}  # nobody removed


def test_removals_after_a_failover_follow_the_rate_limit():
    registry = MemoryRegistry()
    start_cluster(registry, agents=3, tasks_per_agent=1)
    clock = Clock(5000.0)
    new, _ = make_master(
        registry, clock, master_id="m2", agent_removal_rate_limit="1/10secs", **PROFILE
    )

    def unreachable():
        return sum(e.state == UNREACHABLE for e in registry.state.agents.values())

    advance(new, clock, 20.5)
    assert unreachable() == 1
    advance(new, clock, 5.0)
    assert unreachable() == 1
    advance(new, clock, 5.0)
    assert unreachable() == 2
    advance(new, clock, 10.0)
    assert unreachable() == 3


def test_a_new_leader_keeps_removed_frameworks_out_and_times_out_absent_ones():
    registry = MemoryRegistry()
    old, clock, _, fid, fstream = start_cluster(registry)
    gone_fid, gone_stream = subscribe(old, name="short-lived")
    call(old, gone_fid, gone_stream, "TEARDOWN")
    brief_fid, _ = subscribe(old, name="brief", failover_timeout=5.0)
    new, _ = make_master(registry, clock, master_id="m2", **PROFILE)
    refused, first = scheduler_calls.subscribe(
        new,
        {
            "type": "SUBSCRIBE",
            "framework_id": {"value": gone_fid},
            "subscribe": {"framework_info": {"user": "u", "name": "x", "id": {"value": gone_fid}}},
        },
        fstream,
    )
    assert refused is None and first["type"] == "ERROR"
    # The failover timeout counts from the election: 5 s later the absent framework is removed.
    advance(new, clock, 4.0)
    assert brief_fid in new.frameworks
    advance(new, clock, 1.5)
    assert brief_fid not in new.frameworks
    assert registry.state.frameworks[brief_fid].state == REMOVED
    assert fid in new.frameworks  # a week-long timeout keeps the workload's framework


# --- health checks -------------------------------------------------------------------------------


def test_a_silent_agent_is_marked_unreachable_after_the_ping_budget():
    """Partition-aware frameworks see TASK_UNREACHABLE, others TASK_LOST, after 5 missed
    pings (the 5th times out 6 s after the agent was last heard of); so do operator
    subscribers (Minuteman drops an unreachable task's VIP backend on this event)."""
    import uuid

    from daemons.kit.streams import EventStream

    registry = MemoryRegistry()
    master, clock, agent_streams, _, fstream = start_cluster(registry, agents=1)
    operator = EventStream(str(uuid.uuid4()), 15.0)
    master.operator_streams.add(operator)
    ((agent_id, agent_stream),) = agent_streams.items()
    advance(master, clock, 5.75)  # pings arrive, no PONG comes back
    pings = [e for e in agent_stream.pending() if e["type"] == "PING"]
    assert len(pings) == 5
    assert registry.state.agents[agent_id].state == ADMITTED and events(fstream) == []
    advance(master, clock, 0.5)
    assert registry.state.agents[agent_id].state == UNREACHABLE
    states = {e["update"]["status"]["state"] for e in events(fstream, "UPDATE")}
    assert states == {"TASK_UNREACHABLE"}
    updated = [e["task_updated"]["state"] for e in events(operator, "TASK_UPDATED")]
    assert updated[-1:] == ["TASK_UNREACHABLE"]
    assert agent_stream.closed
    assert snapshot(master)["master/slaves_unreachable"] == 1.0


def test_a_framework_without_partition_awareness_gets_task_lost():
    master, clock, agent_streams, _, _ = start_cluster(MemoryRegistry(), agents=1)
    old_fid, old_stream = subscribe(master, name="old-style")
    ((agent_id, agent_stream),) = agent_streams.items()
    allocate(master)
    offer = events(old_stream, "OFFERS")[0]["offers"]["offers"][0]
    launch(master, old_fid, old_stream, offer, command_task("legacy", agent_id, cpus=0.5))
    agent_update(master, agent_id, agent_stream, old_fid, "legacy", "TASK_RUNNING")
    old_stream.pending()
    advance(master, clock, 6.5)
    assert [e["update"]["status"]["state"] for e in events(old_stream, "UPDATE")] == ["TASK_LOST"]


def test_a_leader_that_could_not_act_counts_no_missed_pings_for_that_time():
    """Pings not sent (lease lapsed) are not pings missed: no mass unreachable on resume."""
    registry = MemoryRegistry()
    master, clock, agent_streams, _, fstream = start_cluster(registry, agents=2)
    master.lease = lambda: False
    advance(master, clock, 30.0)
    master.lease = lambda: True
    advance(master, clock, 10.0, pong=agent_streams)
    assert all(e.state == ADMITTED for e in registry.state.agents.values())
    assert events(fstream, "UPDATE") == []


def test_a_partition_shorter_than_the_budget_changes_nothing():
    """3 s without PONGs, then they flow again: no state change, no registry write."""
    registry = MemoryRegistry()
    master, clock, agent_streams, fid, fstream = start_cluster(registry, agents=1)
    writes = registry.writes
    advance(master, clock, 3.0)  # PONGs dropped
    advance(master, clock, 10.0, pong=agent_streams)  # healed
    assert registry.writes == writes
    assert events(fstream) == []
    assert all(a.unreachable_since is None for a in master.agents.values())
    assert {t.state for t in master.frameworks[fid].tasks.values()} == {"TASK_RUNNING"}


def test_a_task_that_ends_during_a_partition_frees_its_resources_once():
    """A task ends during a short partition: its terminal update arrives after the heal (and
    again, as a retry)."""
    master, clock, agent_streams, fid, fstream = start_cluster(
        MemoryRegistry(), agents=1, tasks_per_agent=1
    )
    ((agent_id, agent_stream),) = agent_streams.items()
    advance(master, clock, 3.0)
    task_id = next(iter(master.frameworks[fid].tasks))
    agent_update(master, agent_id, agent_stream, fid, task_id, "TASK_FINISHED")
    agent_update(master, agent_id, agent_stream, fid, task_id, "TASK_FINISHED")  # a retry
    finished = [e for e in events(fstream, "UPDATE") if e["update"]["status"]["state"]]
    assert len(finished) == 2  # delivered at least once; the framework sees the duplicate
    assert master.allocator.available(agent_id)["*"].scalar("cpus") == 4.0


def test_an_agent_back_from_unreachable_is_admitted_again_with_its_tasks():
    registry = MemoryRegistry()
    master, clock, agent_streams, fid, _ = start_cluster(registry, agents=1)
    ((agent_id, _),) = agent_streams.items()
    tasks = report(master, agent_id)
    hostname = master.agents[agent_id].hostname
    advance(master, clock, 6.0)
    assert registry.state.agents[agent_id].state == UNREACHABLE
    reregister(master, agent_id, tasks, hostname)
    assert registry.state.agents[agent_id].state == ADMITTED
    assert {t.state for t in master.frameworks[fid].tasks.values()} == {"TASK_RUNNING"}


# --- reboots and operators ------------------------------------------------------------------------


def test_an_agent_that_rebooted_is_a_new_agent_and_its_old_tasks_are_gone():
    registry = MemoryRegistry()
    master, _, agent_streams, fid, fstream = start_cluster(registry, agents=1)
    ((old_id, old_stream),) = agent_streams.items()
    # Same address, no id: its boot id changed, so it forgot its checkpoints.
    new_id, _ = add_agent(master, hostname="a0", boot_id="another-boot")
    assert new_id != old_id
    assert registry.state.agents[old_id].state == GONE
    assert registry.state.agents[new_id].state == ADMITTED
    states = {e["update"]["status"]["state"] for e in events(fstream, "UPDATE")}
    assert states == {"TASK_GONE"}
    assert master.frameworks[fid].tasks == {} and old_stream.closed
    # The old id may never come back.
    with pytest.raises(AssertionError, match="marked gone"):
        add_agent(master, hostname="a0", agent_info={"id": {"value": old_id}})


def test_mark_agent_gone_is_durable_first():
    registry = MemoryRegistry()
    master, _, agent_streams, _, _ = start_cluster(registry, agents=1)
    ((agent_id, _),) = agent_streams.items()
    mark = operator_api._SYNC["MARK_AGENT_GONE"]
    registry.fail_writes = True
    with pytest.raises(ServiceUnavailable):
        mark(master, {"mark_agent_gone": {"agent_id": {"value": agent_id}}})
    assert agent_id in master.agents  # nothing happened
    registry.fail_writes = False
    master2, _ = make_master(registry, master_id="m2", **PROFILE)
    mark(master2, {"mark_agent_gone": {"agent_id": {"value": agent_id}}})
    assert registry.state.agents[agent_id].state == GONE


# --- configuration --------------------------------------------------------------------------------


def test_health_and_removal_settings_are_checked():
    def problems(**values):
        return MasterConfig(zk="zk://h:2181/mesos", **values).validate()

    assert problems() == []
    assert any("zk_session_timeout" in p for p in problems(agent_ping_timeout=1.0))
    assert any(
        "recovery_agent_removal_limit" in p for p in problems(recovery_agent_removal_limit="150%")
    )
    assert any("agent_removal_rate_limit" in p for p in problems(agent_removal_rate_limit="fast"))
    assert parse_rate("1/20mins") == (1, 1200.0) and parse_rate("") is None
    assert parse_fraction("50%") == 0.5 and parse_fraction("0.25") == 0.25


def test_a_task_that_ended_while_its_agent_was_unreachable_is_not_reported_lost():
    """A task ends during a partition longer than the budget: the agent comes back listing the
    task as finished (not acknowledged yet). The master takes that, frees the resources once,
    never says TASK_LOST, and forwards the agent's own TASK_FINISHED when it arrives."""
    master, clock, agent_streams, fid, fstream = start_cluster(
        MemoryRegistry(), agents=1, tasks_per_agent=2
    )
    ((agent_id, _),) = agent_streams.items()
    tasks = report(master, agent_id)
    hostname = master.agents[agent_id].hostname
    advance(master, clock, 7.0)
    assert {e["update"]["status"]["state"] for e in events(fstream, "UPDATE")} == {
        "TASK_UNREACHABLE"
    }
    tasks[0]["state"] = "TASK_FINISHED"
    tasks[0]["statuses"] = [{"state": "TASK_FINISHED", "timestamp": clock.now}]
    _, stream = reregister(master, agent_id, tasks, hostname)
    assert events(fstream, "UPDATE") == []  # no TASK_LOST, no TASK_DROPPED
    finished = tasks[0]["task_id"]["value"]
    assert finished not in master.frameworks[fid].tasks
    assert master.allocator.available(agent_id)["*"].scalar("cpus") == 3.0  # 4 - the other task
    agent_update(master, agent_id, stream, fid, finished, "TASK_FINISHED")
    assert [e["update"]["status"]["state"] for e in events(fstream, "UPDATE")] == ["TASK_FINISHED"]
    assert master.allocator.available(agent_id)["*"].scalar("cpus") == 3.0  # freed once only


def test_a_pong_is_taken_while_the_masters_lock_is_busy():
    """A burst of registrations holds the lock for registry writes; PONGs must still count."""
    import threading

    master, clock, agent_streams, _, _ = start_cluster(MemoryRegistry(), agents=1)
    ((agent_id, stream),) = agent_streams.items()
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with master.lock:
            taken.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(5)
        clock.advance(3.0)
        done = threading.Event()
        threading.Thread(
            target=lambda: (agent_call(master, agent_id, stream, "PONG"), done.set())
        ).start()
        assert done.wait(2), "PONG waited for the master's lock"
        assert master.agents[agent_id].last_heard == clock.now
    finally:
        release.set()
        holder.join(5)


def test_registrations_and_reregistrations_are_counted_apart():
    registry = MemoryRegistry()
    old, clock, agent_streams, _, _ = start_cluster(registry, agents=2, tasks_per_agent=1)
    reports = {a: report(old, a) for a in agent_streams}
    hosts = {a.agent_id: a.hostname for a in old.agents.values()}
    assert snapshot(old)["master/slave_registrations"] == 2.0
    new, _ = make_master(registry, clock, master_id="m2", **PROFILE)
    for agent_id in agent_streams:
        reregister(new, agent_id, reports[agent_id], hosts[agent_id])
    metrics = snapshot(new)
    assert metrics["master/slave_reregistrations"] == 2.0
    assert "master/slave_registrations" not in metrics


def test_a_master_that_led_before_never_leads_again_with_its_old_records():
    master, _ = make_master(MemoryRegistry(), **PROFILE)
    master.demote()
    leadership.take_office(master)
    assert not master.is_leader and "elected again" in master.fatal_reasons[0]
