"""The rolling-change planner: stages, order, quorum checks, timeouts and rollback (pure).

`Cluster` is an in-memory ensemble driven through `rolling.target`/`rolling.decide` exactly as
every Exhibitor's activity loop drives them: a server restarted for a new config serves again one
tick later unless it is broken; the leader is the lowest serving id unless the old one still
serves. It checks safety at every tick and records the order of restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibitor import shared as document
from exhibitor.properties import Properties, make, render
from exhibitor.rolling import (
    BACK,
    FORWARD,
    NOT_SERVING,
    RollRefused,
    Shared,
    abort,
    decide,
    next_host,
    plan,
    quorum_without,
    stage_hosts,
    start,
    status,
    target,
)

EXTRA = {"tickTime": "500"}
TIMEOUT = 10_000


def props(spec: str, **extra: str) -> Properties:
    return make(spec, {**EXTRA, **extra})


OLD = props("S:1:h1,S:2:h2,S:3:h3")


def test_a_replacement_grows_then_shrinks_one_voter_at_a_time() -> None:
    configs = plan(OLD, props("S:1:h1,S:2:h2,S:4:h4"))
    # old (3 voters) -> +4 (4 voters) -> -3 (3 voters): majorities of neighbours overlap.
    assert [c.servers_spec for c in configs] == [
        "S:1:h1,S:2:h2,S:3:h3",
        "S:1:h1,S:2:h2,S:3:h3,S:4:h4",
        "S:1:h1,S:2:h2,S:4:h4",
    ]


def test_a_settings_change_comes_first_in_a_stage_of_its_own() -> None:
    configs = plan(OLD, props("S:1:h1,S:2:h2,S:3:h3,S:4:h4", tickTime="1000"))
    assert [(c.servers_spec, c.zoo_cfg_extra["tickTime"]) for c in configs] == [
        ("S:1:h1,S:2:h2,S:3:h3", "500"),
        ("S:1:h1,S:2:h2,S:3:h3", "1000"),
        ("S:1:h1,S:2:h2,S:3:h3,S:4:h4", "1000"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("S:1:h1", "S:1:h1,S:2:h2,S:3:h3", "standalone server cannot roll"),
        ("S:1:h1,S:2:h2,S:3:h3", "S:1:h1", "standalone server cannot roll"),
        ("S:1:h1,S:2:h2,S:3:h3", "S:1:h1,S:2:h2", "would have 2 voting servers"),
        ("S:1:h1,S:2:h2", "S:1:h1,S:2:h2,S:3:h3", "would have 2 voting servers"),
    ],
)
def test_changes_that_cannot_keep_a_quorum_are_refused(old: str, new: str, message: str) -> None:
    with pytest.raises(RollRefused) as err:
        plan(props(old), props(new))
    assert any(message in p for p in err.value.problems), err.value.problems


def test_ports_cannot_roll() -> None:
    moved = make("S:1:h1,S:2:h2,S:3:h3", EXTRA, connect_port=2999)
    with pytest.raises(RollRefused, match="ports cannot change"):
        plan(OLD, moved)


def test_only_servers_whose_zoo_cfg_changes_restart() -> None:
    assert stage_hosts(OLD, props("S:1:h1,S:2:h2,S:3:h3", tickTime="1000")) == ("h1", "h2", "h3")
    assert stage_hosts(OLD, make("S:1:h1,S:2:h2,S:3:h3", EXTRA, check_ms=999)) == ()
    # checkMs alone restarts nothing: committed at once.
    done = start(Shared(OLD), make("S:1:h1,S:2:h2,S:3:h3", EXTRA, check_ms=999), 0, TIMEOUT)
    assert done.roll is None and done.config.check_ms == 999


def test_added_server_first_then_followers_and_the_leader_last() -> None:
    roll = start(Shared(OLD), props("S:1:h1,S:2:h2,S:3:h3,S:4:h4"), 0, TIMEOUT).roll
    assert roll is not None
    everyone = {"h1": "follower", "h2": "leader", "h3": "follower"}
    assert next_host(roll, everyone) == "h4"
    without_4 = roll.__class__(**{**roll.__dict__, "pending": ("h1", "h2", "h3")})
    assert next_host(without_4, everyone) == "h1"
    only_leader = roll.__class__(**{**roll.__dict__, "pending": ("h2",)})
    assert next_host(only_leader, everyone) == "h2"


def test_quorum_is_checked_against_both_configs_of_the_stage() -> None:
    roll = start(Shared(OLD), props("S:1:h1,S:2:h2,S:3:h3,S:4:h4"), 0, TIMEOUT).roll
    assert roll is not None
    # h4 is not up yet: without h1 only h2, h3 of 4 new voters serve (2 of 4 is no majority).
    assert quorum_without(roll, "h1", {"h1": "leader", "h2": "follower", "h3": "follower"}) == (
        "without h1 only 2 of 4 voters would serve (h2, h3)"
    )
    up = {"h1": "leader", "h2": "follower", "h3": "follower", "h4": "follower"}
    assert quorum_without(roll, "h1", up) is None
    assert quorum_without(roll, "h4", {"h1": "leader", "h2": "follower"}) is not None


@dataclass
class Cluster:
    """An in-memory ensemble run by one Exhibitor per host in `exhibitors`."""

    shared: Shared
    exhibitors: tuple[str, ...]
    broken: frozenset[str] = frozenset()  # their ZooKeeper serves only with its first config
    running: dict[str, Properties | None] = field(default_factory=dict)
    serving: set[str] = field(default_factory=set)
    leader: str | None = None
    restarts: list[str] = field(default_factory=list)
    now: int = 0

    def __post_init__(self) -> None:
        self.first = {h: self.shared.config for h in self.shared.config.hosts}
        for host in self.shared.config.hosts:
            self.running[host] = self.shared.config
            self.serving.add(host)
        self.leader = self.shared.config.hosts[0]

    def modes(self) -> dict[str, str | None]:
        """As `srvr` says: leader/follower, "not serving" while running, None when stopped."""
        every = {h for h in self.running if self.running[h] is not None} | set(self.exhibitors)
        return {h: self.mode(h) for h in sorted(every)}

    def mode(self, host: str) -> str | None:
        if host in self.serving:
            return "leader" if host == self.leader else "follower"
        return NOT_SERVING if self.running.get(host) is not None else None

    def tick(self) -> None:
        self.now += 500
        for host in sorted(self.running):  # restarted last tick: up now, unless broken
            config = self.running[host]
            if config is not None and (host not in self.broken or config == self.first.get(host)):
                self.serving.add(host)
        for me in self.exhibitors:
            want = target(self.shared, me)
            have = self.running.get(me)
            if (None if want is None else render(want, me)) != (
                None if have is None else render(have, me)
            ):
                self.check_safe_to_restart(me)
                self.running[me] = want
                self.serving.discard(me)
                self.restarts.append(me)
                assert want is None or len(want.servers) > 1, "standalone start"
            if self.leader not in self.serving:
                self.leader = min(self.serving) if self.serving else None
            applied = self.running.get(me) is not None and self.running[me] == want
            changed = decide(self.shared, self.modes(), me, applied, self.now, TIMEOUT)
            if changed is not None:
                self.shared = document.loads(document.dumps(changed))  # as the store would

    def check_safe_to_restart(self, host: str) -> None:
        """Every config another server runs keeps a majority of its voters serving without
        `host`, and at most two memberships are in use at once."""
        in_use = {p for h, p in self.running.items() if p is not None and h != host}
        for config in in_use:
            serving = [v for v in config.voters if v in self.serving and v != host]
            assert 2 * len(serving) > len(config.voters), (host, config.servers_spec)
        specs = {p.servers_spec for p in in_use}
        assert len(specs) <= 2, f"more than two memberships at once: {specs}"

    def run(self, ticks: int = 200) -> None:
        for _ in range(ticks):
            self.tick()
            if self.shared.roll is None:
                return
        raise AssertionError(f"still rolling: {status(self.shared)}")


def test_a_replacement_rolls_to_the_end() -> None:
    new = props("S:1:h1,S:2:h2,S:4:h4")
    cluster = Cluster(start(Shared(OLD), new, 0, TIMEOUT), ("h1", "h2", "h3", "h4"))
    cluster.run()
    assert cluster.shared == Shared(new, None, "committed")
    # Stage 1: h4 starts, followers h2 h3, the leader h1 last (h2 leads next); stage 2: the
    # followers h1 h4, then h3 stops, the leader h2 last. Each released server restarts once.
    assert cluster.restarts == ["h4", "h2", "h3", "h1", "h1", "h4", "h3", "h2"]
    assert cluster.running["h3"] is None
    assert {h for h, p in cluster.running.items() if p == new} == {"h1", "h2", "h4"}


def test_a_server_that_never_serves_is_rolled_back_not_committed() -> None:
    new = props("S:1:h1,S:2:h2,S:3:h3,S:4:h4")
    # h4's Exhibitor runs but its ZooKeeper never serves (a bad host, a broken disk).
    cluster = Cluster(
        start(Shared(OLD), new, 0, TIMEOUT), ("h1", "h2", "h3", "h4"), broken=frozenset({"h4"})
    )
    cluster.run()
    assert cluster.shared.config == OLD
    assert cluster.shared.last_roll == "rolled back: h4 did not serve with its new config in 10 s"
    assert cluster.running["h4"] is None
    assert all(cluster.running[h] == OLD for h in ("h1", "h2", "h3"))


def test_a_roll_that_breaks_midway_rolls_back_every_server_it_touched() -> None:
    new = props("S:1:h1,S:2:h2,S:3:h3", tickTime="1000")
    cluster = Cluster(start(Shared(OLD), new, 0, TIMEOUT), ("h1", "h2", "h3"))
    cluster.tick()  # h2 (a follower) restarted with tickTime=1000
    assert (cluster.running["h2"], cluster.running["h3"]) == (new, OLD)
    cluster.broken = frozenset({"h3"})  # h3 is next and will not come back
    cluster.run()
    assert cluster.shared.config == OLD
    assert cluster.shared.last_roll.startswith("rolled back: h3 did not serve")
    assert cluster.running == {"h1": OLD, "h2": OLD, "h3": OLD}


def test_without_a_quorum_nothing_restarts_and_the_roll_gives_up() -> None:
    new = props("S:1:h1,S:2:h2,S:3:h3", tickTime="1000")
    shared = start(Shared(OLD), new, 0, TIMEOUT)
    assert shared.roll is not None
    # h2 and h3 are done, then h3 died: restarting h1 now would leave 1 of 3 serving.
    shared = replace(shared, roll=replace(shared.roll, pending=("h1",), steps_done=2))
    observed = {"h1": "leader", "h2": "follower", "h3": None}
    assert decide(shared, observed, "h2", True, 5_000, TIMEOUT) is None  # waits, restarts nobody
    assert target(shared, "h1") == OLD
    given_up = decide(shared, observed, "h2", True, 10_001, TIMEOUT)
    assert given_up is not None and given_up.roll is not None
    assert given_up.roll.direction == BACK
    assert given_up.roll.reason == (
        "quorum would be lost: without h1 only 1 of 3 voters would serve (h2)"
    )
    assert set(given_up.roll.pending) == {"h2", "h3"}  # the ones it touched go back


def test_a_stuck_rollback_keeps_waiting_and_never_commits() -> None:
    new = props("S:1:h1,S:2:h2,S:3:h3", tickTime="1000")
    shared = start(Shared(OLD), new, 0, TIMEOUT)
    shared = (
        decide(
            shared, {"h1": "leader", "h2": "follower", "h3": "follower"}, "h1", False, 0, TIMEOUT
        )
        or shared
    )
    assert shared.roll is not None and shared.roll.current == "h2"
    back = abort(shared, "rollback requested", 1, TIMEOUT)
    assert back.roll is not None and back.roll.direction == BACK
    assert back.roll.pending == ("h2",)
    later = decide(back, {"h1": "leader", "h3": "follower"}, "h1", True, 50_000, TIMEOUT)
    assert later is not None and later.roll is not None
    assert later.roll.current == "h2"  # released again: it must come back to the old config
    stuck = decide(later, {"h1": "leader", "h3": "follower"}, "h1", True, 90_000, TIMEOUT)
    assert stuck is not None and stuck.roll is not None
    assert stuck.roll.direction == BACK and stuck.config == OLD
    assert "still waiting: h2 did not serve" in stuck.roll.reason


def test_status_reports_progress() -> None:
    shared = start(Shared(OLD), props("S:1:h1,S:2:h2,S:3:h3", tickTime="1000"), 0, TIMEOUT)
    assert status(shared) == (
        True,
        "rolling: stage 1 of 1, waiting for a quorum to go on; 0 of 3 servers done",
        0,
    )
    assert status(Shared(OLD, None, "committed")) == (False, "committed", 0)
    assert shared.roll is not None and shared.roll.direction == FORWARD


def test_a_second_roll_is_refused_while_one_runs() -> None:
    shared = start(Shared(OLD), props("S:1:h1,S:2:h2,S:3:h3", tickTime="1000"), 0, TIMEOUT)
    with pytest.raises(RollRefused, match="already in progress"):
        start(shared, OLD, 0, TIMEOUT)


MEMBERSHIPS = st.sets(st.integers(1, 6), min_size=3, max_size=5)


@settings(max_examples=40, deadline=None)
@given(MEMBERSHIPS, MEMBERSHIPS, st.sampled_from(["500", "600"]), st.data())
def test_any_membership_change_keeps_a_quorum_at_every_restart(
    old_ids: set[int], new_ids: set[int], tick: str, data: st.DataObject
) -> None:
    old = props(",".join(f"S:{i}:h{i}" for i in sorted(old_ids)))
    new = props(",".join(f"S:{i}:h{i}" for i in sorted(new_ids)), tickTime=tick)
    broken = frozenset(data.draw(st.sets(st.sampled_from(sorted(new_ids - old_ids) or [0]))))
    broken = frozenset(f"h{i}" for i in broken if i)
    try:
        shared = start(Shared(old), new, 0, TIMEOUT)
    except RollRefused:
        return  # some stage would have fewer than 3 voters
    hosts = tuple(f"h{i}" for i in sorted(old_ids | new_ids))
    cluster = Cluster(shared, hosts, broken=broken)
    cluster.run(400)  # check_safe_to_restart asserts at every restart
    assert cluster.shared.config == (old if broken else new)
    assert cluster.shared.roll is None
