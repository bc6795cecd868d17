"""Each fault figure's bound, derived from the settings it depends on (docs/fault-scenarios.md).

The settings are the test profile's (faults_cluster.py): ZooKeeper ticks every TICK seconds and
a follower gives up on its leader after SYNC_LIMIT ticks; sessions time out after
SESSION_TIMEOUT; the master pings each agent every PING_TIMEOUT and marks it unreachable after
MAX_PING_TIMEOUTS missed pings; agents resend unacknowledged updates from RETRY_INITIAL doubling
to RETRY_MAX; systemd restarts an agent RESTART_SEC after it dies.

Three allowances stand for work no setting bounds, each with its measurement on this machine
kind (2 cores, the rest of `make test` idle around the suite):
- SAMPLE: a figure is polled every 100 ms over HTTP or ssh to three nodes; one round takes up
  to 0.3 s on a busy node.
- TAKEOVER: from a leader's ZooKeeper node disappearing to the standby reporting
  `master/elected` (one watch notification, reading the registry, recovering from it). F2
  measures exactly this: 0.04-0.2 s.
- ROUND_TRIP: one HTTP call between daemons (an agent's SUBSCRIBE, a reconciliation), answered
  in 10-50 ms when idle, 0.5 s allowed.
ZK_ELECTION is ZooKeeper's own leader election (FastLeaderElection waits 200 ms to finalise;
F23 measured 0.6-1.4 s without a quorum on 2 busy cores).
"""

from __future__ import annotations

from faults_cluster import (
    MAX_PING_TIMEOUTS,
    PING_BUDGET,
    PING_TIMEOUT,
    RETRY_INITIAL,
    RETRY_MAX,
    SESSION_TIMEOUT,
    SYNC_LIMIT,
    TICK,
)

SAMPLE = 0.3
TAKEOVER = 0.7
ROUND_TRIP = 0.5
ZK_ELECTION = 1.5
RESTART_SEC = 1.0  # roles/dcos_agent/templates/dcos-mesos-agent.service.j2
EXECUTOR_REREGISTRATION = 2.0  # the profile's executor_reregistration_timeout
# ZooKeeper expires a session on the first tick boundary after its timeout (its expiry queue
# rounds every deadline up to a tick).
SESSION_EXPIRY = SESSION_TIMEOUT + TICK
# The master acts only while a ZooKeeper round trip succeeded within half the session timeout;
# it tries one every eighth (daemons/master/service.py, the lease).
LEASE = SESSION_TIMEOUT / 2 + SESSION_TIMEOUT / 8
# The master's timer round runs every quarter ping (daemons/master/service.py).
HEALTH_TICK = PING_TIMEOUT / 4

# F1: the killed leader's session expires, then the standby takes over.
ELECTION_AFTER_KILL = SESSION_EXPIRY + TAKEOVER + SAMPLE
# F2: a stopping master deletes its own node: only the takeover remains.
ELECTION_AFTER_SIGTERM = TAKEOVER + SAMPLE
# F1/F2: agents watch the masters' path and re-subscribe at once (a new leader cuts their backoff
# short). One that asks before the new leader has taken office waits for it
# (daemons/master/http.py); one that a master not yet aware of the change sends to the old
# leader is refused there at once (a master that led never waits to take office again), and
# retries after a random [0.1, 1] s (daemons/agent/master_link.py).
AGENT_RETRY = 1.0
AGENTS_BACK_AFTER_ELECTION = TAKEOVER + AGENT_RETRY + ROUND_TRIP + SAMPLE
# F1/F2: the framework follows the leader the same way, then asks every second.
RECONCILED_AFTER_KILL = ELECTION_AFTER_KILL + AGENTS_BACK_AFTER_ELECTION + 2 * ROUND_TRIP
# F3: while the leader is stopped, its session expires as in F1.
ELECTION_WHILE_STOPPED = ELECTION_AFTER_KILL
# F3: its lease lapsed long ago; the first lease round after SIGCONT confirms it is not elected.
GONE_AFTER_SIGCONT = SESSION_TIMEOUT / 8 + SAMPLE
# F4: the cut leader's lease lapses.
STEPS_DOWN_AFTER_CUT = LEASE + SAMPLE


def new_leader_after_cut(cut_zookeeper_leader: bool) -> float:
    """F4: the cut master's session expires. When that master also ran ZooKeeper's leader, its
    followers first notice (SYNC_LIMIT ticks) and elect another; the new ZooKeeper leader then
    counts every session's timeout afresh."""
    zookeeper = SYNC_LIMIT * TICK + ZK_ELECTION if cut_zookeeper_leader else 0.0
    return zookeeper + SESSION_EXPIRY + TAKEOVER + SAMPLE


# F4: no new leader can be elected before the old session expires, and the old leader stops
# acting when its lease lapses (LEASE < SESSION_TIMEOUT): the overlap is nil by construction,
# so it may show only the sampling.
LEADERS_OVERLAP = SAMPLE
# F5: two `systemctl stop` over ssh, then the masters' leases lapse.
LEADERLESS_AFTER_QUORUM_LOSS = 2 * ROUND_TRIP + LEASE + SAMPLE
# F5: the masters' sessions survive (no server expires sessions without a quorum, and the
# returning quorum's leader times them afresh); the leader reconnects (kazoo's backoff is
# capped at 1 s, daemons/kit/zk.py) and its next lease round lets it act.
RECONNECT = 1.0
LEADER_AFTER_QUORUM = RECONNECT + SESSION_TIMEOUT / 8 + SAMPLE
RECONCILED_AFTER_QUORUM = LEADER_AFTER_QUORUM + 2 * ROUND_TRIP + SAMPLE
# F8: systemd's restart delay, then the agent starts (Python, gunicorn, reading checkpoints).
AGENT_START = 1.5
AGENT_SERVING_AFTER_KILL = RESTART_SEC + AGENT_START + SAMPLE
# F8: the restarted agent gives its executors their re-registration window, then subscribes.
AGENT_BACK_AFTER_RESTART = EXECUTOR_REREGISTRATION + ROUND_TRIP + SAMPLE
# F9: the first unanswered ping goes out up to one interval after the agent stops; the mark
# follows the last of MAX_PING_TIMEOUTS misses at the next timer round, then the registry write
# and the update to the framework.
UNREACHABLE_AFTER_STOP = PING_TIMEOUT + PING_BUDGET + HEALTH_TICK + ROUND_TRIP + SAMPLE
assert PING_BUDGET == PING_TIMEOUT * MAX_PING_TIMEOUTS


def reregistered_after_one_way_drop(held: float) -> float:
    """F12: the agent's watchdog ends its stream inside the drop; its new connection's SYN is
    answered only after the heal, at the kernel's next SYN retransmission (1 s, then 2 s later:
    at most 2 s after the heal), then it subscribes."""
    return held + 2.0 + ROUND_TRIP + SAMPLE


def drained_after_acks_return(withheld_for: float) -> float:
    """F13: the agent resends an unacknowledged update after RETRY_INITIAL, doubling up to
    RETRY_MAX; when acknowledgements come back, the queue drains at the next resend, at most one
    interval (the one under way then) later."""
    interval, elapsed = RETRY_INITIAL, 0.0
    while elapsed + interval <= withheld_for:
        elapsed += interval
        interval = min(interval * 2, RETRY_MAX)
    return interval + ROUND_TRIP + SAMPLE
