"""Rolling ensemble changes, as pure planning: which server restarts next, when, when to give up.

A change from config A to config B is cut into stages `configs[0] → configs[1] → …`, each adding or
removing ONE voting server (extras and other settings change in a first stage of their own). Any
two configs running side by side then differ by one voter, so their majorities always overlap:
no split brain. Growing comes before shrinking, so no stage has fewer voters than both ends.

Within a stage every server whose zoo.cfg changes is restarted (or started, or stopped) one at a
time: servers that serve nobody first (a newly added one: the others need it to reach the bigger
majority), then the followers, the leader last. A step is released only when, without that
server, a majority of the voters of the stage's new config is serving (leader/follower), and of
its old config too while any other server still runs that. A released server counts as
done once its own Exhibitor has restarted it and it serves again (a stopped server once it no
longer answers). Waiting too long for either ends the roll: it is rolled back, one server at a
time under the same rules, to the config it started from. There is no force commit. A rollback
never gives up; it keeps waiting and says on what.

The clock comes in as `now_ms` (wall-clock ms, shared by every Exhibitor through the store).
No I/O here.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace

from exhibitor.ensemble import Server, SpecError, servers_spec
from exhibitor.properties import Properties, render

FORWARD, BACK = "forward", "back"
SERVING_MODES = ("leader", "follower")
NOT_SERVING = "not serving"
# Modes keyed by host, as `srvr` reports them: "leader", "follower", "observer", NOT_SERVING
# (it answers but serves nobody, e.g. during an election); None when it does not answer.
Observed = Mapping[str, "str | None"]


class RollRefused(SpecError):
    """A rolling change that cannot keep a quorum at every step (or needs none)."""


@dataclass(frozen=True)
class Roll:
    direction: str  # FORWARD, or BACK after an abort
    configs: tuple[Properties, ...]  # configs[0] where this roll began, configs[-1] its goal
    stage: int  # 1..len(configs)-1: moving from configs[stage-1] to configs[stage]
    pending: tuple[str, ...]  # hosts of this stage not released yet
    current: str | None  # the host being restarted now
    deadline_ms: int  # when waiting (to release the next host, or for `current`) gives up
    steps_done: int
    steps_total: int
    reason: str = ""  # why it is rolling back, or what a rollback waits for

    @property
    def goal(self) -> Properties:
        return self.configs[-1]

    @property
    def before(self) -> Properties:
        return self.configs[self.stage - 1]

    @property
    def after(self) -> Properties:
        return self.configs[self.stage]


@dataclass(frozen=True)
class Shared:
    """The shared config: the committed properties, the roll in progress, the last roll's end."""

    config: Properties
    roll: Roll | None = None
    last_roll: str = ""


def stage_hosts(a: Properties, b: Properties) -> tuple[str, ...]:
    """Hosts whose zoo.cfg (or membership) differs between a and b, in server-id order."""
    ids = {s.hostname: s.server_id for s in (*a.servers, *b.servers)}
    return tuple(sorted((h for h in ids if render(a, h) != render(b, h)), key=lambda h: ids[h]))


def plan(old: Properties, new: Properties) -> tuple[Properties, ...]:
    """The configs a rolling change goes through, old first; RollRefused when it cannot roll."""
    old_servers, new_servers = set(old.servers), set(new.servers)
    if (old.client_port, old.connect_port, old.election_port) != (
        new.client_port,
        new.connect_port,
        new.election_port,
    ):
        raise RollRefused(
            [
                "ports cannot change in a rolling change: servers on two port sets never form "
                "one quorum, and every client would have to move"
            ]
        )
    if len(old_servers) < 2 or len(new_servers) < 2:
        raise RollRefused(
            [
                "a standalone server cannot roll into an ensemble or out of one (it would start "
                "standalone or lose its quorum); reinstall instead"
            ]
        )
    configs = [old]
    current = old
    if current.extra != new.extra or current.check_ms != new.check_ms:
        current = replace(current, extra=new.extra, check_ms=new.check_ms)
        configs.append(current)
    servers = list(current.servers)
    added = sorted(new_servers - old_servers, key=lambda s: s.server_id)
    removed = sorted(old_servers - new_servers, key=lambda s: s.server_id)
    for server in added:
        servers = [*servers, server]
        configs.append(replace(current, servers_spec=_spec(servers)))
    for server in removed:
        servers = [s for s in servers if s != server]
        configs.append(replace(current, servers_spec=_spec(servers)))
    problems = [
        f"stage {i} would have {len(c.voters)} voting servers; a rolling change keeps at least "
        "3 at every stage so that one can restart while a majority serves"
        for i, c in enumerate(configs)
        if len(c.voters) < 3 and len(configs) > 1
    ]
    if problems:
        raise RollRefused(problems)
    return tuple(configs)


def _spec(servers: list[Server]) -> str:
    return servers_spec(tuple(sorted(servers, key=lambda s: s.server_id)))


def start(shared: Shared, new: Properties, now_ms: int, timeout_ms: int) -> Shared:
    """The shared config with a rolling change to `new` started (or committed when no server
    needs a restart); RollRefused / SpecError say why it cannot start."""
    if shared.roll is not None:
        raise RollRefused(["a rolling change is already in progress"])
    configs = plan(shared.config, new)
    total = sum(len(stage_hosts(a, b)) for a, b in itertools.pairwise(configs))
    if total == 0:
        return Shared(new, None, "committed: no server needed a restart")
    roll = Roll(
        FORWARD,
        configs,
        1,
        stage_hosts(configs[0], configs[1]),
        None,
        now_ms + timeout_ms,
        0,
        total,
    )
    return replace(shared, roll=roll)


def target(shared: Shared, host: str) -> Properties | None:
    """The config `host` must run now (None: run no ZooKeeper)."""
    roll = shared.roll
    props = shared.config if roll is None else roll.before if host in roll.pending else roll.after
    return props if props.server(host) is not None else None


def quorum_without(roll: Roll, host: str, observed: Observed) -> str | None:
    """None when, without `host`, a majority of the voters of each config that another server
    still runs is serving (`after` always: everyone ends there); else why not."""
    configs = [roll.after]
    if any(h != host and roll.before.server(h) is not None for h in roll.pending):
        configs.insert(0, roll.before)
    for props in configs:
        voters = props.voters
        serving = sorted(v for v in voters if v != host and observed.get(v) in SERVING_MODES)
        if 2 * len(serving) <= len(voters):
            return (
                f"without {host} only {len(serving)} of {len(voters)} voters would serve "
                f"({', '.join(serving) or 'none'})"
            )
    return None


def next_host(roll: Roll, observed: Observed) -> str:
    """Servers that serve nobody first (restarting them costs the quorum nothing: an added
    server, a broken one), then followers staying, removed ones, and the leader last."""

    def order(host: str) -> tuple[bool, bool, int, int]:
        kind = (
            0 if roll.before.server(host) is None else 2 if roll.after.server(host) is None else 1
        )
        server = roll.after.server(host) or roll.before.server(host)
        mode = observed.get(host)
        return mode == "leader", mode in SERVING_MODES, kind, server.server_id if server else 0

    return min(roll.pending, key=order)


def _done(roll: Roll, host: str, observed: Observed, me: str, me_applied: bool) -> bool:
    if roll.after.server(host) is None:
        return observed.get(host) is None  # stopped: it no longer answers
    return host == me and me_applied and observed.get(host) in (*SERVING_MODES, "observer")


def decide(
    shared: Shared,
    observed: Observed,
    me: str,
    me_applied: bool,
    now_ms: int,
    timeout_ms: int,
) -> Shared | None:
    """The next shared config after looking at the servers, or None when nothing changes.

    `me_applied`: this host's ZooKeeper runs `target(shared, me)` (restarted for it).
    """
    roll = shared.roll
    if roll is None:
        return None
    start_roll = roll
    measured = target(shared, me)  # what `me_applied` is about
    for _ in range(2 * roll.steps_total + len(roll.configs) + 2):  # every pass moves or stops
        if roll.current is not None:
            # Released in this very call, `me` has not restarted for its new target yet.
            applied = me_applied and target(replace(shared, roll=roll), me) == measured
            if _done(roll, roll.current, observed, me, applied):
                roll = replace(
                    roll,
                    current=None,
                    steps_done=roll.steps_done + 1,
                    deadline_ms=now_ms + timeout_ms,
                )
                continue
            if now_ms > roll.deadline_ms:
                return abort(
                    replace(shared, roll=roll),
                    f"{roll.current} did not serve with its new config in {timeout_ms // 1000} s",
                    now_ms,
                    timeout_ms,
                )
            break
        if not roll.pending:
            if roll.stage == len(roll.configs) - 1:
                return _finish(shared, roll)
            stage = roll.stage + 1
            roll = replace(
                roll,
                stage=stage,
                pending=stage_hosts(roll.configs[stage - 1], roll.configs[stage]),
                deadline_ms=now_ms + timeout_ms,
            )
            continue
        host = next_host(roll, observed)
        why = quorum_without(roll, host, observed)
        if why is None:
            roll = replace(
                roll,
                current=host,
                pending=tuple(h for h in roll.pending if h != host),
                deadline_ms=now_ms + timeout_ms,
            )
            continue
        if now_ms > roll.deadline_ms:
            return abort(
                replace(shared, roll=roll), f"quorum would be lost: {why}", now_ms, timeout_ms
            )
        break
    return None if roll == start_roll else replace(shared, roll=roll)


def _finish(shared: Shared, roll: Roll) -> Shared:
    if roll.direction == FORWARD:
        return Shared(roll.goal, None, "committed")
    return Shared(shared.config, None, f"rolled back: {roll.reason}")


def abort(shared: Shared, reason: str, now_ms: int, timeout_ms: int) -> Shared:
    """Roll back to where the roll began: first the servers this stage touched, then each earlier
    stage in reverse. A rollback that is stuck keeps waiting (never a force commit)."""
    roll = shared.roll
    if roll is None:
        raise RollRefused(["no rolling change is in progress"])
    if roll.direction == BACK:
        stuck = replace(
            roll,
            deadline_ms=now_ms + timeout_ms,
            reason=f"{roll.reason.split(' | still waiting')[0]} | still waiting: {reason}",
        )
        return replace(shared, roll=stuck)
    touched = [h for h in stage_hosts(roll.before, roll.after) if h not in roll.pending]
    configs = tuple(reversed(roll.configs[: roll.stage + 1]))
    total = len(touched) + sum(len(stage_hosts(a, b)) for a, b in itertools.pairwise(configs[1:]))
    back = Roll(BACK, configs, 1, tuple(touched), None, now_ms + timeout_ms, 0, total, reason)
    if total == 0:
        return Shared(shared.config, None, f"rolled back: {reason}")
    return replace(shared, roll=back)


def status(shared: Shared) -> tuple[bool, str, int]:
    """(rollInProgress, rollStatus, rollPercentDone) for config/get-state."""
    roll = shared.roll
    if roll is None:
        return False, shared.last_roll or "n/a", 0
    doing = f"restarting {roll.current}" if roll.current else "waiting for a quorum to go on"
    what = "rolling" if roll.direction == FORWARD else f"rolling back ({roll.reason})"
    text = (
        f"{what}: stage {roll.stage} of {len(roll.configs) - 1}, {doing}; "
        f"{roll.steps_done} of {roll.steps_total} servers done"
    )
    return True, text, roll.steps_done * 100 // max(roll.steps_total, 1)
