"""The Marathon leader's state and scheduling, in process: a memory store, a recording driver,
a manual clock. What the API changes is durable before it is applied; refused input writes
nothing; deployments roll out, survive a failover and honour locks; backoff is persisted."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from daemons.kit.errors import Conflict, Fenced, NotFound
from daemons.kit.zk import StoreUnavailable
from daemons.marathon import changes, scheduling
from daemons.marathon.config import MarathonConfig
from daemons.marathon.errors import Invalid, Locked
from daemons.marathon.events import EventBus
from daemons.marathon.marathon import TASKS_LAUNCHED, Marathon, task_updates_counter
from daemons.marathon.store import MemoryStore
from daemons.mesos_client.events import TaskStatus
from tests.unit.marathon.factories import offer

JSON = dict[str, Any]


class Driver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.launch_filters: list[Any] = []  # each launch's refuse_seconds

    def launch(self, offer_ids: Any, task_infos: Any, *, refuse_seconds: Any = None) -> None:
        self.calls.append(("launch", [t["task_id"]["value"] for t in task_infos]))
        self.launch_filters.append(refuse_seconds)

    def decline(self, offer_ids: Any, *, refuse_seconds: Any = None) -> None:
        self.calls.append(("decline", list(offer_ids)))

    def kill(self, task_id: str, agent_id: Any = None, *, grace_period_seconds: Any = None) -> None:
        self.calls.append(("kill", task_id))

    def revive(self, roles: Any = ()) -> None:
        self.calls.append(("revive", None))

    def suppress(self, roles: Any = ()) -> None:
        self.calls.append(("suppress", None))

    def reconcile(self, tasks: Any = ()) -> None:
        self.calls.append(("reconcile", list(tasks)))

    def of(self, kind: str) -> list[Any]:
        return [c[1] for c in self.calls if c[0] == kind]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make(store: MemoryStore | None = None, **config: Any) -> tuple[Marathon, Driver, Clock]:
    clock = Clock()
    counter = itertools.count(1)
    m = Marathon(
        MarathonConfig(**config),
        store or MemoryStore(),
        EventBus(lambda: "2023-11-14T22:13:20.000Z"),
        clock,
        lambda: f"id{next(counter)}",
    )
    m.load()
    driver = Driver()
    m.driver = driver
    return m, driver, clock


def update(m: Marathon, task_id: str, state: str, healthy: bool | None = None) -> None:
    scheduling.handle_update(
        m, TaskStatus(task_id=task_id, state=state, agent_id="a1", healthy=healthy)
    )


def app(app_id: str = "/web", **extra: Any) -> JSON:
    return {"id": app_id, "cmd": "sleep 100", "cpus": 0.1, "mem": 32, **extra}


def run_all(m: Marathon, driver: Driver) -> list[str]:
    """Mark every launched task RUNNING; the launched ids."""
    launched = [t for batch in driver.of("launch") for t in batch]
    for task_id in launched:
        if task_id in m.instances and m.instances[task_id].state == "TASK_STAGING":
            update(m, task_id, "TASK_RUNNING")
    return launched


def test_create_is_durable_before_it_is_applied_and_launches_on_offers() -> None:
    store = MemoryStore()
    m, driver, _ = make(store)
    result = changes.create_app(m, app(instances=2))
    assert "web" in store.snapshot.apps and result.deployment_id in store.snapshot.deployments
    assert store.versions("/web") == [round(result.version * 1000)]
    stored_when_sent: list[bool] = []
    record = driver.launch

    def launch(offer_ids: Any, task_infos: Any, *, refuse_seconds: Any = None) -> None:
        ids = {t["task_id"]["value"] for t in task_infos}
        stored_when_sent.append(ids <= set(store.snapshot.instances))
        record(offer_ids, task_infos, refuse_seconds=refuse_seconds)

    driver.launch = launch  # type: ignore[method-assign]
    scheduling.handle_offers(m, [offer()])
    launched = driver.of("launch")
    assert len(launched) == 1 and len(launched[0]) == 2
    # The instances were stored before the launch went out.
    assert stored_when_sent == [True]
    run_all(m, driver)
    scheduling.tick(m)
    assert not m.deployments and not store.snapshot.deployments


def test_a_launch_leaves_the_rest_of_the_offer_unfiltered() -> None:
    """As Marathon: the ACCEPT's filter is 0 s, so what the instances did not use is offered
    again at the next allocation round, not held back by Mesos' default 5 s filter."""
    m, driver, _ = make()
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    assert len(driver.of("launch")) == 1
    assert driver.launch_filters == [0.0]


def test_one_offer_launches_every_instance_that_fits_it_in_one_stored_batch() -> None:
    """By default an offer launches as many instances as fit (Marathon's default of 5 per
    offer, with one offer per agent and allocation round, held a deployment to a few instances
    a second); their instances are stored in one transaction before the launch goes out."""
    store = MemoryStore()
    m, driver, _ = make(store)
    changes.create_app(m, app(instances=12, cpus=0.25, mem=8, portDefinitions=[]))
    commits = len(store.commits)
    scheduling.handle_offers(m, [offer(cpus=2, mem=4096)])
    (launched,) = driver.of("launch")
    assert len(launched) == 8  # cpus: 2 / 0.25
    (batch,) = [c for c in store.commits[commits:] if any(w.kind == "instances" for w in c)]
    assert sorted(w.key for w in batch) == sorted(launched)
    scheduling.handle_offers(m, [offer(host="h2", agent="a2", cpus=2, mem=4096)])
    assert len(driver.of("launch")[1]) == 4


def test_updates_recorded_together_get_one_plan_with_the_same_outcome() -> None:
    """The service's planner plans once for the updates recorded meanwhile: recording changes
    the instances at once but sends nothing; the plan sends what a plan per update would have,
    and the updates are counted only once the calls they caused went out."""
    m, driver, clock = make()
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    first = run_all(m, driver)
    scheduling.tick(m)
    clock.now += 10
    changes.restart_app(m, "/web", force=False)
    scheduling.handle_offers(m, [offer()])
    launched = driver.of("launch")[-1]
    counted_at_kill: list[dict[str, int]] = []
    driver.kill = lambda task_id, *_, **__: counted_at_kill.append(  # type: ignore[method-assign]
        dict(m.counters)
    )
    for task_id in launched:
        scheduling.record_update(m, TaskStatus(task_id=task_id, state="TASK_RUNNING"))
    assert all(m.instances[t].state == "TASK_RUNNING" for t in launched)
    assert counted_at_kill == [] and m.unplanned
    scheduling.replan(m)
    running = task_updates_counter("TASK_RUNNING")
    # Both old instances are killed by the one plan, before the two updates are counted.
    assert counted_at_kill == [{TASKS_LAUNCHED: 4, running: 2}] * len(first)
    assert m.counters[running] == 4 and not m.unplanned


def test_a_launch_whose_instances_cannot_be_stored_is_never_sent() -> None:
    store = MemoryStore()
    m, driver, _ = make(store)
    changes.create_app(m, app(instances=1))
    scheduling.tick(m)  # the deployment's start step is done and stored
    store.fail_next = True
    with pytest.raises(StoreUnavailable):
        scheduling.handle_offers(m, [offer()])
    m.flush()
    assert driver.of("launch") == [] and m.instances == {} and store.snapshot.instances == {}
    scheduling.handle_offers(m, [offer()])  # the store is back: the next offer launches
    assert len(driver.of("launch")) == 1 and len(store.snapshot.instances) == 1


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"id": "/Web", "cmd": "x"}, "/id"),
        ({"id": "/a/../b", "cmd": "x"}, "/id"),
        ({"id": "/web", "cmd": "x", "instances": -1}, "/instances"),
        ({"id": "/web"}, "/"),
        ({"id": "/web", "cmd": "x", "constraints": [["hostname", "NEAR"]]}, "/constraints(0)"),
    ],
)
def test_invalid_apps_get_422_with_the_field_and_write_nothing(body: JSON, path: str) -> None:
    store = MemoryStore()
    m, _, _ = make(store)
    with pytest.raises(Invalid) as err:
        changes.create_app(m, body)
    assert any(d["path"].startswith(path) for d in err.value.details), err.value.details
    assert store.commits == [] and m.apps == {} and m.deployments == {}


def test_an_app_over_the_node_size_limit_is_refused_before_any_write() -> None:
    store = MemoryStore()
    m, _, _ = make(store, zk_max_node_size=2048)
    with pytest.raises(Invalid) as err:
        changes.create_app(m, app(env={"BIG": "x" * 4000}))
    assert "node limit" in err.value.details[0]["errors"][0]
    assert store.commits == [] and m.apps == {}


def test_a_group_whose_one_transaction_is_over_the_limit_is_refused_before_any_write() -> None:
    """Every app is under the node limit, but the change is one transaction (each app, its
    version, the plan): ZooKeeper's limit bounds the whole request. 422, nothing written;
    the same apps in two steps are accepted."""
    store = MemoryStore()
    m, _, _ = make(store, zk_max_node_size=16 * 1024)
    apps = [app(f"a{i}", env={"PAD": "x" * 100}) for i in range(10)]
    with pytest.raises(Invalid) as err:
        changes.put_group(m, "/big", {"id": "/big", "apps": apps}, force=False, create=True)
    assert "one ZooKeeper transaction" in err.value.details[0]["errors"][0]
    assert store.commits == [] and m.apps == {} and m.deployments == {}
    changes.put_group(m, "/one", {"id": "/one", "apps": apps[:5]}, force=False, create=True)
    changes.put_group(m, "/two", {"id": "/two", "apps": apps[5:]}, force=False, create=True)
    assert len(store.commits) == 2 and len(m.apps) == 10


def test_a_failed_store_write_leaves_memory_unchanged() -> None:
    store = MemoryStore()
    m, _, _ = make(store)
    store.fail_next = True
    with pytest.raises(StoreUnavailable):
        changes.create_app(m, app())
    assert m.apps == {} and m.deployments == {}


def test_a_fenced_leader_steps_down_and_changes_nothing() -> None:
    reasons: list[str] = []
    store = MemoryStore(on_fenced=reasons.append)
    m, _, _ = make(store)
    store.fail_next = "fenced"
    with pytest.raises(Fenced):
        changes.create_app(m, app())
    assert reasons and reasons[0].startswith("fenced") and m.apps == {}
    store.fail_next = True  # any other store failure: a 503, no step-down
    with pytest.raises(StoreUnavailable):
        changes.create_app(m, app())
    assert len(reasons) == 1


def test_duplicates_and_unknown_ids() -> None:
    m, _, _ = make()
    changes.create_app(m, app())
    with pytest.raises(Conflict):
        changes.create_app(m, app())
    with pytest.raises(Conflict):  # /web is an app: it cannot be a group
        changes.create_app(m, app("/web/inner"))
    with pytest.raises(NotFound):
        changes.delete_app(m, "/nope", force=False)
    with pytest.raises(NotFound):
        changes.cancel_deployment(m, "nope", force=False)


def test_a_locked_app_answers_409_unless_forced() -> None:
    store = MemoryStore()
    m, _, _ = make(store)
    first = changes.create_app(m, app(instances=2))
    commits = len(store.commits)
    with pytest.raises(Locked) as err:
        changes.update_app(m, "/web", {"instances": 3}, force=False, partial=True)
    assert err.value.deployment_ids == [first.deployment_id]
    assert len(store.commits) == commits and m.apps["/web"].instances == 2
    forced = changes.update_app(m, "/web", {"instances": 3}, force=True, partial=True)
    assert list(m.deployments) == [forced.deployment_id]
    assert first.deployment_id not in store.snapshot.deployments


def test_scaling_keeps_the_config_version_and_restart_replaces_every_task() -> None:
    m, driver, clock = make()
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    first = run_all(m, driver)
    scheduling.tick(m)
    config_version = m.apps["/web"].last_config_change_at
    clock.now += 10
    changes.update_app(m, "/web", {"instances": 3}, force=False, partial=True)
    assert m.apps["/web"].last_config_change_at == config_version
    scheduling.handle_offers(m, [offer()])
    run_all(m, driver)
    scheduling.tick(m)
    assert not m.deployments and len(m.instances) == 3
    # Restart: all three are replaced, never fewer than 3 running (minimumHealthCapacity 1).
    clock.now += 10
    changes.restart_app(m, "/web", force=False)
    for _ in range(10):
        scheduling.handle_offers(m, [offer()])
        run_all(m, driver)
        for task_id in driver.of("kill"):
            if task_id in m.instances:
                running = [i for i in m.instances.values() if i.state == "TASK_RUNNING"]
                assert len(running) >= 3
                update(m, task_id, "TASK_KILLED")
        scheduling.tick(m)
        if not m.deployments:
            break
    assert not m.deployments
    assert not set(first) & set(m.instances) and len(m.instances) == 3


def test_a_deployment_resumes_after_failover_from_the_store() -> None:
    store = MemoryStore()
    m, driver, _clock = make(store)
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer(cpus=0.1)])  # room for one only
    run_all(m, driver)
    scheduling.tick(m)
    assert len(m.deployments) == 1 and len(m.instances) == 1
    # A new leader loads the same store: the deployment and the instance are there.
    m2, driver2, _ = make(store)
    assert list(m2.deployments) == list(m.deployments)
    assert set(m2.instances) == set(m.instances)
    scheduling.handle_offers(m2, [offer()])
    launched = driver2.of("launch")
    assert len(launched) == 1 and len(launched[0]) == 1, "only the missing instance"
    run_all(m2, driver2)
    scheduling.tick(m2)
    assert not m2.deployments and len(m2.instances) == 2


def test_backoff_grows_on_failures_is_stored_and_survives_failover() -> None:
    store = MemoryStore()
    m, driver, clock = make(store)
    changes.create_app(m, app(backoffSeconds=10, backoffFactor=2, maxLaunchDelaySeconds=100))
    scheduling.handle_offers(m, [offer()])
    (task_id,) = driver.of("launch")[0]
    update(m, task_id, "TASK_RUNNING")
    update(m, task_id, "TASK_FAILED")
    assert store.snapshot.delays["web"]["failures"] == 1
    # Within the delay, offers launch nothing — also at a new leader (no burst after failover).
    m2, driver2, clock2 = make(store)
    clock2.now = clock.now + 5
    scheduling.handle_offers(m2, [offer()])
    assert driver2.of("launch") == []
    clock2.now = clock.now + 11
    scheduling.handle_offers(m2, [offer()])
    assert len(driver2.of("launch")) == 1
    # Killed tasks do not grow the delay; DELETE /v2/queue/{id}/delay resets it.
    changes.reset_delay(m2, "/web")
    assert "web" not in store.snapshot.delays
    with pytest.raises(NotFound):
        changes.reset_delay(m2, "/web")


def test_unknown_running_tasks_are_killed_and_wiped_tasks_forgotten() -> None:
    m, driver, _ = make()
    update(m, "stranger.1", "TASK_RUNNING")
    assert driver.of("kill") == ["stranger.1"]
    changes.create_app(m, app(instances=1))
    scheduling.handle_offers(m, [offer()])
    (task_id,) = run_all(m, driver)
    changes.kill_tasks(m, [task_id], scale=False, wipe=True, force=False)
    scheduling.forget_wiped(m)
    assert task_id not in m.instances


def test_metrics_count_launches_and_updates_once_their_kills_went_out() -> None:
    m, driver, _ = make()
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    run_all(m, driver)
    counted_at_kill: list[dict[str, int]] = []
    driver.kill = lambda *_, **__: counted_at_kill.append(dict(m.counters))  # type: ignore[method-assign]
    update(m, "stranger.1", "TASK_RUNNING")
    running = task_updates_counter("TASK_RUNNING")
    assert counted_at_kill == [{TASKS_LAUNCHED: 2, running: 2}]  # the kill, then the count
    assert m.counters == {TASKS_LAUNCHED: 2, running: 3}


def test_kill_with_scale_lowers_instances() -> None:
    m, driver, _ = make()
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    launched = run_all(m, driver)
    scheduling.tick(m)
    _, result = changes.kill_tasks(m, [launched[0]], scale=True, wipe=False, force=False)
    assert result is not None and m.apps["/web"].instances == 1
    update(m, launched[0], "TASK_KILLED")
    scheduling.tick(m)
    assert not m.deployments and set(m.instances) == {launched[1]}
    assert driver.of("kill") == [launched[0]], "only the named task is killed"


def test_delete_stops_every_task_and_forgets_the_app() -> None:
    store = MemoryStore()
    m, driver, _ = make(store)
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    run_all(m, driver)
    scheduling.tick(m)
    changes.delete_app(m, "/web", force=False)
    assert "web" not in store.snapshot.apps and store.versions("/web") == []
    scheduling.tick(m)
    assert sorted(driver.of("kill")) == sorted(m.instances)
    for task_id in list(m.instances):
        update(m, task_id, "TASK_KILLED")
    assert not m.deployments and not m.instances


def test_rollback_of_a_cancelled_deployment() -> None:
    m, _, clock = make()
    changes.create_app(m, app(instances=1))
    scheduling.tick(m)
    clock.now += 5
    result = changes.update_app(m, "/web", {"cmd": "sleep 200"}, force=True, partial=True)
    back = changes.cancel_deployment(m, result.deployment_id, force=False)
    assert back is not None and m.apps["/web"].cmd == "sleep 100"
    assert result.deployment_id not in m.deployments


def test_deleting_a_group_removes_the_group_itself_and_its_subgroups() -> None:
    store = MemoryStore()
    m, _, _ = make(store)
    changes.put_group(
        m, "/", {"id": "/prod", "groups": [{"id": "/prod/back"}]}, force=False, create=True
    )
    changes.put_group(m, "/", {"id": "/other"}, force=False, create=True)
    assert {"/prod", "/prod/back"} <= m.all_group_ids()
    changes.delete_group(m, "/prod", force=False)
    assert m.all_group_ids() == {"/", "/other"}
    assert store.snapshot.groups == ["/other"]
    with pytest.raises(NotFound):
        changes.delete_group(m, "/prod", force=False)


def test_the_queue_shows_the_delay_left_in_whole_seconds_truncated() -> None:
    from daemons.marathon.views import queue_view

    m, driver, clock = make()
    changes.create_app(m, app(backoffSeconds=4, backoffFactor=2))
    scheduling.handle_offers(m, [offer()])
    (task_id,) = driver.of("launch")[0]
    update(m, task_id, "TASK_FAILED")
    clock.now += 0.4  # 3.6 s of the 4 s delay left: Marathon says 3, not 4
    (item,) = queue_view(m, last_unused_offers=False)["queue"]
    assert item["delay"] == {"timeLeftSeconds": 3, "overdue": False}
    clock.now += 4
    (item,) = queue_view(m, last_unused_offers=False)["queue"]
    assert item["delay"] == {"timeLeftSeconds": 0, "overdue": True}


def test_the_queue_is_the_plan_of_the_moment_without_applying_it() -> None:
    from daemons.marathon.views import queue_view

    store = MemoryStore()
    m, driver, _ = make(store)
    changes.create_app(m, app(instances=2))
    commits = len(store.commits)
    # The deployment's start step is done: the plan passes it, and its scale step wants 2.
    (item,) = queue_view(m, last_unused_offers=False)["queue"]
    assert item["app"]["id"] == "/web" and item["count"] == 2
    (plan,) = m.deployments.values()
    assert plan.current_step == 0 and len(store.commits) == commits and driver.calls == []


def test_the_queue_says_why_offers_went_unused_one_last_offer_per_agent() -> None:
    """`?embed=lastUnusedOffers` (the UI's "why is it waiting"): each agent's last offer the
    app could not use, newest first, with Marathon's reasons; the summary counts them all."""
    from daemons.marathon.views import queue_view

    m, _, clock = make()
    changes.create_app(m, app(cpus=8, mem=16, instances=1))
    scheduling.handle_offers(m, [offer("h1", "a1", cpus=1)])
    clock.now += 1
    scheduling.handle_offers(m, [offer("h1", "a1", cpus=2, mem=8), offer("h2", "a2", cpus=4)])
    (item,) = queue_view(m, last_unused_offers=True)["queue"]
    summary = item["processedOffersSummary"]
    assert (summary["processedOffersCount"], summary["unusedOffersCount"]) == (3, 3)
    assert {r["reason"]: r["declined"] for r in summary["rejectSummaryLastOffers"]} == {
        "InsufficientCpus": 3,
        "InsufficientMemory": 1,
    }
    unused = item["lastUnusedOffers"]
    assert [u["offer"]["agentId"] for u in unused] == ["a1", "a2"]  # one per agent
    first = unused[0]
    assert first["reason"] == ["InsufficientCpus", "InsufficientMemory"]
    assert first["timestamp"] == "2023-11-14T22:13:21.000Z"
    assert first["offer"]["hostname"] == "h1"
    resources = {r["name"]: r for r in first["offer"]["resources"]}
    assert resources["cpus"] == {"name": "cpus", "role": "*", "scalar": 2.0}
    assert resources["ports"]["ranges"] == [{"begin": 31000, "end": 31100}]
    assert first["offer"]["attributes"] == []
    assert "lastUnusedOffers" not in queue_view(m, last_unused_offers=False)["queue"][0]


def test_an_unreachable_instance_that_returns_after_its_replacement_is_one_too_many() -> None:
    m, driver, clock = make()
    changes.create_app(
        m, app(unreachableStrategy={"inactiveAfterSeconds": 0, "expungeAfterSeconds": 600})
    )
    scheduling.handle_offers(m, [offer()])
    (original,) = run_all(m, driver)
    scheduling.tick(m)
    assert not m.deployments
    update(m, original, "TASK_UNREACHABLE")
    clock.now += 1
    scheduling.handle_offers(m, [offer(host="h2", agent="a2")])
    replacement = next(t for t in run_all(m, driver) if t != original)
    assert driver.of("kill") == []
    update(m, original, "TASK_RUNNING")  # the agent is back: 2 of 1
    assert driver.of("kill") == [replacement]  # YOUNGEST_FIRST: the replacement goes
    update(m, replacement, "TASK_KILLED")
    assert list(m.instances) == [original]
    scheduling.tick(m)
    assert driver.of("kill") == [replacement]


def test_a_new_deployment_revives_offers_that_were_declined_for_long() -> None:
    """An offer that came while nothing waited went back for `decline_offer_duration` (120 s);
    a deployment that starts then revives them, as Marathon revives for new apps, even while
    another deployment keeps offers unsuppressed. Short declines (an app waits) do not."""
    m, driver, _ = make()
    changes.create_app(m, app(instances=1))
    scheduling.handle_offers(m, [offer()])
    run_all(m, driver)
    scheduling.tick(m)
    changes.delete_app(m, "/web", force=False)  # a deployment: its kill is not confirmed yet
    scheduling.handle_offers(m, [offer(host="h2", agent="a2")])
    assert driver.of("suppress") == [] and driver.of("revive") == []
    changes.create_app(m, app("/other", instances=1))
    m.flush()
    assert driver.of("revive") == [None]
    # The revive cleared the filters: the next decline is short, and a deploy does not revive.
    changes.create_app(m, app("/big", instances=1, cpus=100))
    scheduling.handle_offers(m, [offer(host="h2", agent="a2", cpus=0.2)])
    changes.create_app(m, app("/third", instances=1))
    m.flush()
    assert driver.of("revive") == [None]


def test_an_app_of_the_id_of_one_still_being_stopped_answers_409_unless_forced() -> None:
    """A deleted app's instances are killed by a deployment; an app created with the same id
    meanwhile would take them for its own (a VIP kept the old task as a backend): 409, as
    Marathon rejects a deployment that changes an app another deployment is changing."""
    store = MemoryStore()
    m, driver, _ = make(store)
    changes.create_app(m, app(instances=2))
    scheduling.handle_offers(m, [offer()])
    old = run_all(m, driver)
    scheduling.tick(m)
    assert not m.deployments
    stop = changes.delete_app(m, "/web", force=False)
    scheduling.tick(m)
    assert sorted(driver.of("kill")) == sorted(old) and "/web" not in m.apps
    commits = len(store.commits)
    for create in (
        lambda: changes.create_app(m, app(instances=1)),
        lambda: changes.update_app(m, "/web", app(instances=1), force=False, partial=False),
    ):
        with pytest.raises(Locked) as err:
            create()
        assert err.value.deployment_ids == [stop.deployment_id]
    assert len(store.commits) == commits and "/web" not in m.apps
    # Once the old instances are gone, the id is free.
    for task_id in old:
        update(m, task_id, "TASK_KILLED")
    scheduling.tick(m)
    assert not m.deployments
    assert changes.create_app(m, app(instances=1)).created


def test_a_forced_create_cancels_the_stop_of_the_same_id() -> None:
    m, driver, _ = make()
    changes.create_app(m, app(instances=1))
    scheduling.handle_offers(m, [offer()])
    run_all(m, driver)
    scheduling.tick(m)
    stop = changes.delete_app(m, "/web", force=False)
    created = changes.create_app(m, app(instances=1), force=True)
    assert stop.deployment_id not in m.deployments
    assert list(m.deployments) == [created.deployment_id] and "/web" in m.apps
