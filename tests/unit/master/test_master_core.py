"""The master's state machine driven directly: offers, launches, updates, kills, failover."""

from __future__ import annotations

import base64

import pytest

from daemons.kit.errors import BadRequest, Forbidden
from daemons.master import leadership, scheduler_calls
from tests.unit.master.factories import (
    add_agent,
    agent_update,
    allocate,
    call,
    command_task,
    events,
    first_offer,
    launch,
    make_master,
    snapshot,
    subscribe,
)


def test_offer_carries_agent_resources_and_ids():
    master, _ = make_master()
    agent_id, _ = add_agent(master, cpus=4, mem=4096)
    fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    assert offer["agent_id"] == {"value": agent_id}
    assert offer["framework_id"] == {"value": fid}
    assert offer["id"]["value"].startswith("m1-O")
    by_name = {r["name"]: r for r in offer["resources"]}
    assert by_name["cpus"]["scalar"]["value"] == 4.0
    assert by_name["mem"]["scalar"]["value"] == 4096.0
    assert by_name["ports"]["ranges"]["range"] == [{"begin": 31000, "end": 32000}]


def test_launch_update_acknowledge_finish_releases_resources_once():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    agent_stream.pending()
    fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    launch(master, fid, stream, offer, command_task("t1", agent_id, cpus=1, mem=128))
    run = events(agent_stream, "RUN_TASK")
    assert run[0]["run_task"]["task"]["task_id"] == {"value": "t1"}
    assert run[0]["run_task"]["framework_info"]["id"] == {"value": fid}
    agent = master.agents[agent_id]
    assert agent.used().scalar("cpus") == 1.0

    uid = agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    update = events(stream, "UPDATE")[0]["update"]["status"]
    assert update["state"] == "TASK_RUNNING"
    assert update["uuid"] == uid and update["agent_id"] == {"value": agent_id}

    call(
        master,
        fid,
        stream,
        "ACKNOWLEDGE",
        acknowledge={"agent_id": {"value": agent_id}, "task_id": {"value": "t1"}, "uuid": uid},
    )
    ack = events(agent_stream, "ACKNOWLEDGE")[0]["acknowledge"]
    assert ack == {"framework_id": {"value": fid}, "task_id": {"value": "t1"}, "uuid": uid}

    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_FINISHED")
    assert agent.used().scalar("cpus") == 0.0
    # A retried (duplicate) terminal update is forwarded again but releases nothing twice.
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_FINISHED")
    framework = master.frameworks[fid]
    assert [t.task_id for t in framework.completed_tasks] == ["t1"]
    assert [e["update"]["status"]["state"] for e in events(stream, "UPDATE")] == [
        "TASK_FINISHED",
        "TASK_FINISHED",
    ]
    assert master.allocator.available(agent_id)["*"].scalar("cpus") == 4.0


def test_terminal_state_never_changes():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_FAILED")
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    task = master.frameworks[fid].completed_tasks[0]
    assert task.state == "TASK_FAILED"


def test_a_repeated_state_replaces_the_last_status_so_health_shows():
    """Mesos' updateTask: a health update (TASK_RUNNING again, `healthy` set) replaces the last
    status instead of being dropped, so /master/state shows the task's current health."""
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING", healthy=True)
    statuses = master.frameworks[fid].tasks["t1"].statuses
    assert [s.state for s in statuses] == ["TASK_STAGING", "TASK_RUNNING"]
    assert statuses[-1].healthy is True


def test_task_over_offer_gets_task_error_and_nothing_is_launched():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master, cpus=1)
    agent_stream.pending()
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("big", agent_id, cpus=2))
    status = events(stream, "UPDATE")[0]["update"]["status"]
    assert (status["state"], status["reason"]) == ("TASK_ERROR", "REASON_TASK_INVALID")
    assert events(agent_stream, "RUN_TASK") == []
    assert master.agents[agent_id].used().is_empty()


def test_duplicate_task_id_and_missing_command_are_task_errors():
    master, _ = make_master()
    agent_id, _ = add_agent(master)
    fid, stream = subscribe(master)
    bad = command_task("t2", agent_id)
    del bad["command"]
    launch(
        master,
        fid,
        stream,
        first_offer(master, stream),
        command_task("t1", agent_id),
        command_task("t1", agent_id),
        bad,
    )
    states = [e["update"]["status"] for e in events(stream, "UPDATE")]
    assert [(s["task_id"]["value"], s["state"]) for s in states] == [
        ("t1", "TASK_ERROR"),
        ("t2", "TASK_ERROR"),
    ]
    assert "duplicate" in states[0]["message"]


def test_accept_of_unknown_offer_drops_tasks_as_lost_for_old_frameworks():
    master, _ = make_master()
    agent_id, _ = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, {"id": {"value": "nope"}}, command_task("t1", agent_id))
    status = events(stream, "UPDATE")[0]["update"]["status"]
    # Not PARTITION_AWARE: TASK_DROPPED is reported as TASK_LOST.
    assert (status["state"], status["reason"]) == ("TASK_LOST", "REASON_INVALID_OFFERS")


def test_offer_is_usable_once():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    agent_stream.pending()
    fid, stream = subscribe(master, capabilities=[{"type": "PARTITION_AWARE"}])
    offer = first_offer(master, stream)
    launch(master, fid, stream, offer, command_task("t1", agent_id))
    launch(master, fid, stream, offer, command_task("t2", agent_id))
    status = events(stream, "UPDATE")[0]["update"]["status"]
    assert (status["task_id"]["value"], status["state"]) == ("t2", "TASK_DROPPED")
    assert len(events(agent_stream, "RUN_TASK")) == 1


def test_decline_with_filter_is_respected_until_it_expires():
    master, clock = make_master()
    add_agent(master)
    fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    call(
        master,
        fid,
        stream,
        "DECLINE",
        decline={"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 30}},
    )
    assert allocate(master) == 0
    clock.advance(31)
    assert allocate(master) == 1


def test_revive_clears_filters_and_suppress_stops_offers():
    master, _ = make_master()
    add_agent(master)
    fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    call(master, fid, stream, "SUPPRESS", suppress={})
    call(master, fid, stream, "DECLINE", decline={"offer_ids": [offer["id"]]})
    assert allocate(master) == 0
    call(master, fid, stream, "REVIVE", revive={})
    assert allocate(master) == 1


def test_kill_known_task_goes_to_agent_unknown_task_answers_lost():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_stream.pending()
    call(master, fid, stream, "KILL", kill={"task_id": {"value": "t1"}})
    kill = events(agent_stream, "KILL_TASK")[0]["kill_task"]
    assert kill["task_id"] == {"value": "t1"} and kill["framework_id"] == {"value": fid}
    call(master, fid, stream, "KILL", kill={"task_id": {"value": "ghost"}})
    status = events(stream, "UPDATE")[-1]["update"]["status"]
    assert (status["task_id"]["value"], status["state"]) == ("ghost", "TASK_LOST")
    assert snapshot(master)["master/messages_kill_task"] == 2.0  # every KILL received counts


def test_reconcile_explicit_and_implicit():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    stream.pending()
    call(master, fid, stream, "RECONCILE", reconcile={"tasks": []})
    implicit = [e["update"]["status"] for e in events(stream, "UPDATE")]
    assert [(s["task_id"]["value"], s["state"]) for s in implicit] == [("t1", "TASK_RUNNING")]
    assert implicit[0]["reason"] == "REASON_RECONCILIATION" and "uuid" not in implicit[0]
    call(
        master,
        fid,
        stream,
        "RECONCILE",
        reconcile={"tasks": [{"task_id": {"value": "t1"}}, {"task_id": {"value": "gone"}}]},
    )
    explicit = [e["update"]["status"] for e in events(stream, "UPDATE")]
    assert [(s["task_id"]["value"], s["state"]) for s in explicit] == [
        ("t1", "TASK_RUNNING"),
        ("gone", "TASK_LOST"),
    ]


def test_teardown_kills_tasks_and_shuts_down_framework_on_agents():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_stream.pending()
    call(master, fid, stream, "TEARDOWN")
    assert fid not in master.frameworks
    assert master.completed_frameworks[0].framework_id == fid
    assert events(agent_stream, "SHUTDOWN_FRAMEWORK")
    assert master.agents[agent_id].used().is_empty()
    assert stream.closed


def test_disconnected_framework_keeps_tasks_within_failover_timeout():
    master, clock = make_master()
    agent_id, _ = add_agent(master)
    fid, stream = subscribe(master, failover_timeout=60)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    scheduler_calls.disconnected(master, fid, stream)
    with pytest.raises(Forbidden):
        call(master, fid, stream, "REVIVE", revive={})
    clock.advance(30)
    leadership.tick(master)
    fid2, _stream2 = subscribe(master, framework_id=fid, failover_timeout=60)
    assert fid2 == fid
    assert "t1" in master.frameworks[fid].tasks
    clock.advance(120)
    leadership.tick(master)
    assert fid in master.frameworks  # re-subscribed: no failover


def test_framework_removed_after_failover_timeout():
    master, clock = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master, failover_timeout=5)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    scheduler_calls.disconnected(master, fid, stream)
    agent_stream.pending()
    clock.advance(6)
    leadership.tick(master)
    assert fid not in master.frameworks
    assert events(agent_stream, "SHUTDOWN_FRAMEWORK")


def test_stream_id_rules():
    master, _ = make_master()
    fid, _stream = subscribe(master)
    body = {"type": "TEARDOWN", "framework_id": {"value": fid}}
    with pytest.raises(BadRequest, match="Mesos-Stream-Id"):
        scheduler_calls.handle(master, "TEARDOWN", body, None)
    with pytest.raises(BadRequest, match="didn't match"):
        scheduler_calls.handle(master, "TEARDOWN", body, "wrong")
    with pytest.raises(BadRequest, match="cannot be found"):
        scheduler_calls.handle(
            master, "TEARDOWN", {"type": "TEARDOWN", "framework_id": {"value": "x"}}, "s"
        )
    assert fid in master.frameworks


def test_malformed_uuid_is_rejected_and_nothing_is_sent():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    agent_stream.pending()
    for bad in ("not base64!", base64.b64encode(b"short").decode(), 7):
        with pytest.raises(BadRequest, match=r"(?i)uuid"):
            call(
                master,
                fid,
                stream,
                "ACKNOWLEDGE",
                acknowledge={
                    "agent_id": {"value": agent_id},
                    "task_id": {"value": "t"},
                    "uuid": bad,
                },
            )
    assert events(agent_stream) == []


def test_agent_reregistration_keeps_id_and_adopts_tasks():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    task = master.frameworks[fid].tasks["t1"]
    reported = {
        "task_id": {"value": "t1"},
        "framework_id": {"value": fid},
        "name": "t1",
        "state": "TASK_RUNNING",
        "resources": task.info.raw["resources"],
    }
    again, _ = add_agent(master, agent_info={"id": {"value": agent_id}}, tasks=[reported])
    assert again == agent_id and len(master.agents) == 1
    assert master.agents[agent_id].used().scalar("cpus") == 1.0
    # What is in use is not offered again.
    assert master.allocator.available(agent_id)["*"].scalar("cpus") == 3.0


def test_agent_reregistration_without_a_task_loses_it():
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    stream.pending()
    add_agent(master, agent_info={"id": {"value": agent_id}}, tasks=[])
    status = events(stream, "UPDATE")[0]["update"]["status"]
    assert (status["task_id"]["value"], status["state"]) == ("t1", "TASK_LOST")


def test_new_master_accepts_agent_with_unknown_id_and_recovers_framework():
    master, _ = make_master()
    reported = {
        "task_id": {"value": "t9"},
        "framework_id": {"value": "old-fw"},
        "state": "TASK_RUNNING",
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}],
    }
    agent_id, _ = add_agent(master, agent_info={"id": {"value": "old-S3"}}, tasks=[reported])
    assert agent_id == "old-S3"
    framework = master.frameworks["old-fw"]
    assert framework.recovered and not framework.connected
    fid, _ = subscribe(master, framework_id="old-fw")
    assert fid == "old-fw" and "t9" in master.frameworks[fid].tasks


def test_multi_role_offers_carry_allocation_info():
    master, _ = make_master()
    add_agent(master)
    _, stream = subscribe(master, roles=["analytics"], capabilities=[{"type": "MULTI_ROLE"}])
    offer = first_offer(master, stream)
    assert offer["allocation_info"] == {"role": "analytics"}
    assert all(r["allocation_info"] == {"role": "analytics"} for r in offer["resources"])


def test_offer_timeout_rescinds():
    master, clock = make_master(offer_timeout=10.0)
    add_agent(master)
    _fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    clock.advance(11)
    leadership.tick(master)
    rescind = events(stream, "RESCIND")[0]["rescind"]
    assert rescind["offer_id"] == offer["id"]
    assert not master.offers


def test_state_and_summary_render():
    from daemons.master import state_json

    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    state = state_json.state(master)
    assert state["slaves"][0]["pid"] == "slave(1)@a1:5051"
    framework = state["frameworks"][0]
    assert framework["tasks"][0]["state"] == "TASK_RUNNING"
    assert framework["completed_tasks"] == [] and state["completed_frameworks"] == []
    assert framework["used_resources"]["cpus"] == 1.0
    summary = state_json.state_summary(master)
    assert summary["slaves"][0]["TASK_RUNNING"] == 1
    assert summary["frameworks"][0]["slave_ids"] == [agent_id]
    tasks = state_json.get_tasks(master)
    assert tasks["tasks"][0]["task_id"] == {"value": "t1"}


def test_batched_updates_apply_in_order_and_a_bad_item_changes_nothing():
    from daemons.master import agent_calls

    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    offer = first_offer(master, stream)
    launch(master, fid, stream, offer, command_task("t1", agent_id), command_task("t2", agent_id))

    def item(task_id, state):
        return {
            "status": {"task_id": {"value": task_id}, "state": state},
            "framework_id": {"value": fid},
        }

    def updates(*items):
        body = {
            "type": "UPDATES",
            "agent_id": {"value": agent_id},
            "updates": {"updates": list(items)},
        }
        agent_calls.handle(master, "UPDATES", body, agent_stream.stream_id)

    with pytest.raises(BadRequest):
        updates(item("t1", "TASK_RUNNING"), item("t2", "TASK_BOGUS"))
    assert master.frameworks[fid].tasks["t1"].state == "TASK_STAGING"
    updates(item("t1", "TASK_RUNNING"), item("t2", "TASK_RUNNING"), item("t1", "TASK_FINISHED"))
    seen = [
        (e["update"]["status"]["task_id"]["value"], e["update"]["status"]["state"])
        for e in events(stream, "UPDATE")
    ]
    assert seen == [("t1", "TASK_RUNNING"), ("t2", "TASK_RUNNING"), ("t1", "TASK_FINISHED")]
    assert "t1" not in master.frameworks[fid].tasks


def test_kill_while_agent_away_is_resent_when_it_reregisters():
    from daemons.master import agent_calls

    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    task = master.frameworks[fid].tasks["t1"]
    agent_calls.disconnected(master, agent_id, agent_stream)
    call(master, fid, stream, "KILL", kill={"task_id": {"value": "t1"}})
    reported = {
        "task_id": {"value": "t1"},
        "framework_id": {"value": fid},
        "state": "TASK_RUNNING",
        "resources": task.info.raw["resources"],
    }
    _, new_stream = add_agent(master, agent_info={"id": {"value": agent_id}}, tasks=[reported])
    kills = events(new_stream, "KILL_TASK")
    assert [k["kill_task"]["task_id"]["value"] for k in kills] == ["t1"]


def test_agent_back_with_tasks_of_a_removed_framework_gets_shutdown_not_resurrection():
    from daemons.master import agent_calls

    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    resources = master.frameworks[fid].tasks["t1"].info.raw["resources"]
    agent_calls.disconnected(master, agent_id, agent_stream)
    call(master, fid, stream, "TEARDOWN")
    reported = {
        "task_id": {"value": "t1"},
        "framework_id": {"value": fid},
        "state": "TASK_RUNNING",
        "resources": resources,
    }
    _, new_stream = add_agent(master, agent_info={"id": {"value": agent_id}}, tasks=[reported])
    assert fid not in master.frameworks
    shutdowns = events(new_stream, "SHUTDOWN_FRAMEWORK")
    assert [s["shutdown_framework"]["framework_id"]["value"] for s in shutdowns] == [fid]
    assert master.agents[agent_id].used().is_empty()


def test_operator_stream_sees_agents_frameworks_and_tasks_in_v1_shapes():
    import uuid

    from daemons.kit.streams import EventStream

    master, _ = make_master()
    operator = EventStream(str(uuid.uuid4()), 15.0)
    master.operator_streams.add(operator)
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    launch(master, fid, stream, first_offer(master, stream), command_task("t1", agent_id))
    agent_update(master, agent_id, agent_stream, fid, "t1", "TASK_RUNNING")
    seen = {e["type"]: e for e in events(operator)}
    # pymesos' operator driver reads exactly these keys.
    assert seen["AGENT_ADDED"]["agent_added"]["agent"]["agent_info"]["id"] == {"value": agent_id}
    framework = seen["FRAMEWORK_ADDED"]["framework_added"]["framework"]
    assert framework["framework_info"]["id"] == {"value": fid}
    task = seen["TASK_ADDED"]["task_added"]["task"]
    assert task["task_id"] == {"value": "t1"} and task["agent_id"] == {"value": agent_id}
    updated = seen["TASK_UPDATED"]["task_updated"]
    assert updated["state"] == "TASK_RUNNING" and updated["framework_id"] == {"value": fid}


def test_exited_executor_releases_its_resources_and_sends_failure():
    from daemons.master import agent_calls

    master, _ = make_master()
    agent_id, agent_stream = add_agent(master)
    fid, stream = subscribe(master)
    task = command_task("t1", agent_id)
    del task["command"]
    task["executor"] = {
        "executor_id": {"value": "ex1"},
        "command": {"value": "./my-executor"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}],
    }
    launch(master, fid, stream, first_offer(master, stream), task)
    assert master.agents[agent_id].used().scalar("cpus") == 1.5
    body = {
        "type": "EXITED_EXECUTOR",
        "agent_id": {"value": agent_id},
        "exited_executor": {
            "framework_id": {"value": fid},
            "executor_id": {"value": "ex1"},
            "status": 256,
        },
    }
    agent_calls.handle(master, "EXITED_EXECUTOR", body, agent_stream.stream_id)
    failure = events(stream, "FAILURE")[0]["failure"]
    assert failure == {
        "agent_id": {"value": agent_id},
        "executor_id": {"value": "ex1"},
        "status": 256,
    }
    assert master.agents[agent_id].used().scalar("cpus") == 1.0  # the task's share remains
