"""Master failover: new leader elected -> last agent re-registered (Mesos 1.5 anchor), and the
time to a new leader after SIGTERM and SIGKILL of the leading master (ZooKeeper anchors).

Part 1 starts a real ZooKeeper and two real masters (gunicorn) on loopback, subscribes N simulated
agents (bench/simagents.py: asyncio clients in two processes, 10 running tasks each over 5
frameworks, as in Mesos' benchmark) to the leader, then SIGTERMs the leader: it deletes its ZK
node and closes the agents' streams, the standby is elected and every agent re-subscribes to it
with its agent id and tasks. Measured: SIGTERM -> `elected_time` of the new leader, and
`elected_time` -> the last SUBSCRIBED an agent received from it (the master counts an agent
before it sends SUBSCRIBED), checked against `master/slaves_active` = N afterwards. Also the new
leader's CPU use over that window (≈100 % of one core means the master is the bottleneck) and,
with `--profile`, a py-spy profile of it.
Part 2 starts three masters with `zk_session_timeout` 4 s and, repeatedly, SIGTERMs or SIGKILLs
the leader: time until a standby reports `master/elected` = 1 (polled every 5 ms), and until
ZooKeeper names it (a watch in this process). The stopped master is restarted as a standby.

Run: `.venv/bin/python bench/master_failover.py [--agents 1000,5000,10000] [--quick]
[--profile]`. Every wait is bounded; only 127.0.0.1; processes are stopped by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.master_state import ANCHOR as STATE_ANCHOR  # noqa: E402
from bench.master_state import SimulatedAgent, run_pollers  # noqa: E402
from bench.simagents import FleetProcess  # noqa: E402
from daemons.kit import zk  # noqa: E402
from tools.machine import machine_line  # noqa: E402
from tools.processes import (  # noqa: E402
    family,
    free_port,
    kill_family,
    signal_pid,
    start_daemon,
    start_zookeeper,
    stop_pid,
    wait_exit,
)

# Mesos 1.5.0, 10 tasks per agent: agents -> seconds from failover to all re-registered.
ANCHOR = {1000: "< 1", 5000: "≈ 2", 10000: "≈ 4.5"}
# gunicorn threads beyond one per agent stream: subscriptions in progress (--in-flight), PONG
# calls (64 per agent process) and polls.
THREAD_MARGIN = 512


class LeaderLog:
    """This process's own ZK watch: (time, "ip:port" of the lowest json.info_ node) changes."""

    def __init__(self, zk_url: str) -> None:
        hosts, self.path = zk.parse_zk_url(zk_url)
        self.client = zk.connect(hosts, 10.0)
        self.client.ensure_path(self.path)
        self.changes: list[tuple[float, str]] = []
        self.client.ChildrenWatch(self.path, self._changed)

    def _changed(self, children: list[str]) -> None:
        now = time.time()
        info = zk.leading_master(self.client, self.path) if children else None
        leader = f"{info['address']['ip']}:{info['address']['port']}" if info else ""
        if not self.changes or self.changes[-1][1] != leader:
            self.changes.append((now, leader))

    def leader(self) -> str:
        return self.changes[-1][1] if self.changes else ""

    def became(self, leader: str, after: float) -> float | None:
        return next((t for t, who in self.changes if who == leader and t >= after), None)

    def close(self) -> None:
        self.client.stop()
        self.client.close()


def start_master(work: Path, name: str, zk_url: str, port: int, **settings: Any) -> int:
    config = {"zk": zk_url, "ip": "127.0.0.1", "port": port, "work_dir": str(work / name)}
    return start_daemon(
        "daemons.master.main",
        config | settings,
        work / f"{name}.toml",
        work / f"{name}.log",
        health_timeout=60,
    )


def get_json(port: int, path: str, timeout: float = 120.0) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} on {port}: {response.status}")
        return json.loads(body)
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_of(arbiter: int) -> int:
    """The gunicorn worker (the process that holds the master's state) of an arbiter."""
    members = family(arbiter)
    return members[1] if len(members) > 1 else arbiter


def merge(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-process stats of one master -> one: earliest first_*, latest last_*, largest *_max_s,
    sums of counts."""
    out: dict[str, Any] = {}
    for event in events:
        for key, value in event.items():
            if key.startswith("first_") and isinstance(value, float):
                out[key] = min(out.get(key, value), value)
            elif (key.startswith("last_") or key.endswith("_max_s")) and isinstance(value, float):
                out[key] = max(out.get(key, value), value)
            elif isinstance(value, int) and not isinstance(value, bool):
                out[key] = out.get(key, 0) + value
    return out


# --- part 1: re-registration after failover --------------------------------------------------


def failover_run(n: int, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    zk_port, ports = free_port(), [free_port(), free_port()]
    zk_url = f"zk://127.0.0.1:{zk_port}/mesos"
    pids: list[int] = []
    fleets: list[FleetProcess] = []
    leaders: LeaderLog | None = None
    out: dict[str, Any] = {"agents": n}
    try:
        pids.append(start_zookeeper(work / "zk", zk_port, work / "zk.log"))
        threads = n + args.in_flight + THREAD_MARGIN
        settings = {"threads": threads, "zk_session_timeout": 10.0}
        settings |= args.master_setting
        for i, port in enumerate(ports):
            pids.append(start_master(work, f"master{i}", zk_url, port, **settings))
        old, new = (f"127.0.0.1:{p}" for p in ports)
        old_pid, new_pid = pids[1], pids[2]
        leaders = LeaderLog(zk_url)
        wait_until(lambda: leaders is not None and leaders.leader() == old, 10)

        per = -(-n // args.processes)
        start = time.time()
        for first in range(0, n, per):
            fleets.append(
                FleetProcess(
                    zk_url,
                    first,
                    min(per, n - first),
                    work / f"fleet{first}.log",
                    in_flight=max(1, args.initial_in_flight // args.processes),
                )
            )
        deadline = time.monotonic() + 120 + n * 0.05
        initial = [f.wait_event("subscribed", left(deadline), master=old) for f in fleets]
        if not all(initial):
            raise RuntimeError(f"initial registration incomplete: {status(fleets)}")
        out["initial_s"] = merge([e for e in initial if e])["last_subscribed"] - start
        out["rss_mib_old"] = rss_mib(worker_of(old_pid))
        for fleet in fleets:  # the failover storm: every agent at once, up to --in-flight
            fleet.send(f"in-flight {max(1, args.in_flight // args.processes)}")
        time.sleep(1.0)
        out["load"] = os.getloadavg()[0]

        new_worker = worker_of(new_pid)
        others = {"fleet": [f.proc.pid for f in fleets], "zk": [pids[0]]}
        cpu_before = cpu_seconds(new_worker)
        others_before = {k: sum(map(cpu_seconds, v)) for k, v in others.items()}
        spy = start_profile(new_worker, work / "profile.txt") if args.profile else None
        sampler = ThreadSampler(new_worker)
        term_at = time.time()
        signal_pid(old_pid, signal.SIGTERM)
        deadline = time.monotonic() + 120 + n * 0.05
        done = [f.wait_event("subscribed", left(deadline), master=new) for f in fleets]
        cpu_used = cpu_seconds(new_worker) - cpu_before
        threads = sampler.stop()
        others_used = {k: sum(map(cpu_seconds, v)) - others_before[k] for k, v in others.items()}
        if spy is not None:
            out["profile"] = stop_profile(spy, work / "profile.txt")
        if not all(done):
            raise RuntimeError(f"re-registration incomplete: {status(fleets)}")
        stats = status(fleets)
        reg = merge([s["stats"].get(new, {}) for s in stats])
        closed = merge([s["stats"].get(old, {}) for s in stats])
        state = get_json(ports[1], "/master/state")
        metrics = get_json(ports[1], "/metrics/snapshot")
        elected = float(state["elected_time"])
        zk_at = leaders.became(new, term_at)
        out |= {
            "term_to_elected_ms": (elected - term_at) * 1000,
            "term_to_zk_ms": (zk_at - term_at) * 1000 if zk_at else float("nan"),
            "term_to_first_close_ms": (closed.get("first_closed", term_at) - term_at) * 1000,
            "first_s": reg["first_subscribed"] - elected,
            "last_s": reg["last_subscribed"] - elected,
            "zk_last_s": reg["last_subscribed"] - zk_at if zk_at else float("nan"),
            "attempts": reg.get("attempts", 0),
            "redirects": reg.get("status_307", 0),
            "unavailable": reg.get("status_503", 0),
            "errors": sum(v for k, v in reg.items() if k.startswith("error_")),
            "pings": sum(s.get("pings", 0) for s in (reg, closed)),
            "pongs": {
                k: reg.get(k, 0) + closed.get(k, 0)
                for k in sorted({*reg, *closed})
                if k.startswith("pong_")
            },
            "active": int(metrics.get("master/slaves_active", -1)),
            "counters": {
                k.split("/", 1)[1]: int(v)
                for k, v in metrics.items()
                if "registered" in k or "reregistrations" in k or "registrations" in k
            },
            "cpu_pct": 100 * cpu_used / max(reg["last_subscribed"] - term_at, 1e-9),
            "others_cpu_pct": {
                k: 100 * v / max(reg["last_subscribed"] - term_at, 1e-9)
                for k, v in others_used.items()
            },
            "rss_mib_new": rss_mib(new_worker),
            "threads": (threads[0][1], threads[-1][1]),
            "threads_per_s": (threads[-1][1] - threads[0][1])
            / max(threads[-1][0] - threads[0][0], 1e-9),
            "detail": {
                who: {k: v for k, v in st.items() if k.startswith(("error_", "status_", "pong_"))}
                for who, st in (("old", closed), ("new", reg))
            },
        }
        if args.hold:
            out["hold"] = hold(ports[1], new_worker, args.hold, n, args.poll_state)
        return out
    finally:
        for fleet in fleets:
            fleet.stop()
        if leaders is not None:
            leaders.close()
        for pid in reversed(pids):
            stop_pid(pid)
        if args.keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def hold(port: int, worker: int, seconds: float, n: int, polls: int) -> dict[str, Any]:
    """After the failover, keep every agent on the new leader for `seconds` (they answer its
    PINGs): every 10 s, its active and unreachable agents and its worker's RSS. A false
    unreachable mark shows as an agent that is not active or is unreachable in any sample.

    With `polls`, `/master/state` is polled meanwhile as `bench/master_state.py` does (1 and 10
    pollers, static state and churn), with one more simulated agent of 10 tasks for the churn:
    the state of every agent is what it polls."""
    started = time.monotonic()
    samples: list[tuple[float, int, int, float]] = []  # (s, active, unreachable, RSS MiB)
    polled: dict[str, dict[str, float]] = {}
    poll_thread = None
    churn = None
    if polls:
        churn = SimulatedAgent(port, n, 10)
        churn.thread.start()
        if not churn.ready.wait(60):
            raise RuntimeError("the churn agent did not subscribe")

        def poll() -> None:
            for pollers in (1, 10):
                for mode, agent in (("static", None), ("churn", churn)):
                    polled[f"{pollers} {mode}"] = run_pollers(port, pollers, polls, agent, 120)

        poll_thread = threading.Thread(target=poll, daemon=True)
        poll_thread.start()
    while (elapsed := time.monotonic() - started) < seconds:
        time.sleep(min(10.0, seconds - elapsed))
        metrics = get_json(port, "/metrics/snapshot")
        samples.append(
            (
                time.monotonic() - started,
                int(metrics.get("master/slaves_active", -1)),
                int(metrics.get("master/slaves_unreachable", -1)),
                rss_mib(worker),
            )
        )
    if poll_thread is not None:
        poll_thread.join(600)
        # Only now: an agent that leaves is (rightly) marked unreachable 75 s later.
        assert churn is not None
        churn.stop.set()
    return {
        "seconds": seconds,
        "samples": len(samples),
        "min_active": min((s[1] for s in samples), default=-1),
        "max_unreachable": max((s[2] for s in samples), default=-1),
        "rss_first": samples[0][3] if samples else float("nan"),
        "rss_last": samples[-1][3] if samples else float("nan"),
        "polled": polled,
    }


def left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def status(fleets: list[FleetProcess]) -> list[dict[str, Any]]:
    for fleet in fleets:
        fleet.send("status")
    return [f.wait_event("status", 30) or {"stats": {}} for f in fleets]


class ThreadSampler:
    """The number of threads of a process every 100 ms (gunicorn gthread: one per stream)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for _ in range(36_000):  # ≤ 1 h
            with contextlib.suppress(OSError, ValueError):
                status = Path(f"/proc/{self.pid}/status").read_text()
                count = int(status.split("Threads:", 1)[1].split()[0])
                self.samples.append((time.time(), count))
            if self._done.wait(0.1):
                return

    def stop(self) -> list[tuple[float, int]]:
        self._done.set()
        self._thread.join()
        return self.samples or [(0.0, 0)]


def rss_mib(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait_until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the cluster")
        time.sleep(0.02)


def start_profile(pid: int, output: Path) -> subprocess.Popen[bytes] | None:
    spy = REPO / ".venv/bin/py-spy"
    if not spy.exists():
        print("# py-spy not in the venv: no profile")
        return None
    argv = [str(spy), "record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
    argv += ["--output", str(output), "--nonblocking", "--gil", "--duration", "600"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    return proc


def stop_profile(proc: subprocess.Popen[bytes], output: Path) -> list[tuple[str, float]]:
    """Stop py-spy (SIGINT: it writes its output); the heaviest functions, inclusive, as % of
    the samples of the thread holding the GIL (frames in nearly every sample are left out)."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    inclusive: dict[str, int] = {}
    total = 0
    with contextlib.suppress(OSError):
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            total += int(count)
            # "func (path/file.py:123)" -> "func (path/file.py)": one entry per function
            for frame in {f.rsplit(":", 1)[0] + ")" for f in stack.split(";")}:
                inclusive[frame] = inclusive.get(frame, 0) + int(count)
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
    shares = [(frame, 100 * c / max(total, 1)) for frame, c in ranked]
    return [(frame, pct) for frame, pct in shares if pct < 90][:25]


# --- part 2: time to a new leader ------------------------------------------------------------


def election_runs(repeats: int) -> dict[str, list[tuple[float, float]]]:
    """SIGTERM / SIGKILL the leader of three masters `repeats` times each:
    [(ms until a standby reports itself elected, ms until ZK names it)]."""
    work = Path(tempfile.mkdtemp(prefix="bench-election-"))
    zk_port = free_port()
    zk_url = f"zk://127.0.0.1:{zk_port}/mesos"
    zk_pid = start_zookeeper(work / "zk", zk_port, work / "zk.log")
    settings = {"threads": 64, "zk_session_timeout": 4.0}
    masters: dict[int, int] = {}  # port -> arbiter pid
    leaders: LeaderLog | None = None
    results: dict[str, list[tuple[float, float]]] = {"SIGTERM": [], "SIGKILL": []}
    try:
        for i in range(3):
            port = free_port()
            masters[port] = start_master(work, f"master{i}", zk_url, port, **settings)
        leaders = LeaderLog(zk_url)
        for kind in results:
            for _ in range(repeats):
                wait_until(lambda: leaders is not None and bool(leaders.leader()), 20)
                port = int(leaders.leader().rsplit(":", 1)[1])
                standbys = [p for p in masters if p != port]
                start = time.time()
                if kind == "SIGTERM":
                    signal_pid(masters[port], signal.SIGTERM)
                else:
                    kill_family(masters[port], signal.SIGKILL, wait=0)
                winner, at = poll_elected(standbys, start + 4.0 + 15)
                zk_at = leaders.became(f"127.0.0.1:{winner}", start)
                zk_ms = (zk_at - start) * 1000 if zk_at else float("nan")
                results[kind].append(((at - start) * 1000, zk_ms))
                wait_exit(masters[port], 15)
                stop_pid(masters[port])
                name = f"master{list(masters).index(port)}"
                masters[port] = start_master(work, name, zk_url, port, **settings)
        return results
    finally:
        if leaders is not None:
            leaders.close()
        for pid in masters.values():
            stop_pid(pid)
        stop_pid(zk_pid)
        shutil.rmtree(work, ignore_errors=True)


def poll_elected(ports: list[int], deadline: float) -> tuple[int, float]:
    """Poll the standbys' `/metrics/snapshot` every 5 ms: (port, time) of the first elected."""
    conns = {p: http.client.HTTPConnection("127.0.0.1", p, timeout=2) for p in ports}
    try:
        while time.time() < deadline:
            for port, conn in conns.items():
                try:
                    conn.request("GET", "/metrics/snapshot")
                    body = conn.getresponse().read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    continue
                if json.loads(body).get("master/elected") == 1.0:
                    return port, time.time()
            time.sleep(0.005)
        raise RuntimeError("no standby was elected in time")
    finally:
        for conn in conns.values():
            conn.close()


# --- report ----------------------------------------------------------------------------------


def print_failover(rows: list[dict[str, Any]]) -> None:
    print("# Part 1: failover, 2 masters, SIGTERM the leader; agents x 10 running tasks / 5 fws")
    print(
        f"{'agents':>6} {'elected->last s':>15} {'anchor=target s':>15} "
        f"{'ZK->last s':>10} {'elected->first s':>16} {'TERM->ZK ms':>11} "
        f"{'TERM->elected ms':>16} "
        f"{'leader CPU %':>12} {'attempts':>8} {'307':>5} {'503':>5} {'err':>5} "
        f"{'active':>6} {'initial reg s':>13}"
    )
    for r in rows:
        if "error" in r:
            print(f"{r['agents']:>6} failed: {r['error']}")
            continue
        print(
            f"{r['agents']:>6} {r['last_s']:>15.2f} {ANCHOR.get(r['agents'], '-'):>15} "
            f"{r['zk_last_s']:>10.2f} "
            f"{r['first_s']:>16.3f} {r['term_to_zk_ms']:>11.1f} "
            f"{r['term_to_elected_ms']:>16.1f} "
            f"{r['cpu_pct']:>12.0f} {r['attempts']:>8} {r['redirects']:>5} "
            f"{r['unavailable']:>5} {r['errors']:>5} {r['active']:>6} {r['initial_s']:>13.1f}"
        )
    for r in rows:
        if "error" in r:
            continue
        print(
            f"# {r['agents']} agents: master counters {r['counters']}; PINGs {r['pings']}, "
            f"PONG answers {r['pongs']}; worker RSS old {r['rss_mib_old']:.0f} MiB, new "
            f"{r['rss_mib_new']:.0f} MiB; new leader threads {r['threads'][0]} -> "
            f"{r['threads'][1]} ({r['threads_per_s']:.0f}/s); TERM -> first stream closed "
            f"{r['term_to_first_close_ms']:.1f} ms; load average at TERM {r['load']:.2f}; "
            f"CPU % of one core from TERM to the last "
            f"re-registration: new leader {r['cpu_pct']:.0f}, "
            + ", ".join(f"{k} {v:.0f}" for k, v in r["others_cpu_pct"].items())
        )
        print(f"# {r['agents']} agents: outcomes by master {r['detail']}")
        if "hold" in r:
            h = r["hold"]
            print(
                f"# {r['agents']} agents held {h['seconds']:.0f} s on the new leader"
                f" ({h['samples']} samples): fewest active {h['min_active']}, most unreachable"
                f" {h['max_unreachable']} (a false mark: active < {r['agents']} or"
                f" unreachable > 0); worker RSS {h['rss_first']:.0f} -> {h['rss_last']:.0f} MiB"
            )
            for key, p in h["polled"].items():
                pollers = int(key.split()[0])
                print(
                    f"# /master/state at {r['agents']} agents x 10 tasks, {key}: {p['polls']} "
                    f"polls, p50 {p['p50']:.3f} s, p99 {p['p99']:.3f} s (target p99 < 1 s; "
                    f"Mesos 1.7 p50 at 100 x 100: {STATE_ANCHOR[pollers]} s); other calls p99 "
                    f"{p['probe_p99'] * 1000:.1f} ms, max {p['probe_max'] * 1000:.1f} ms "
                    f"(target < 100 ms)"
                )
        for frame, pct in r.get("profile", []):
            print(f"#   profile {pct:5.1f} %  {frame}")


def print_elections(results: dict[str, list[tuple[float, float]]]) -> None:
    anchor = {
        "SIGTERM": "ZK election < 200 ms",
        "SIGKILL": "≈ the session timeout (4 s)",
    }
    print("# Part 2: time to a new leader, 3 masters, zk_session_timeout 4 s")
    print(
        f"{'stop':<8} {'runs':>4} {'elected median ms':>17} {'max ms':>8} "
        f"{'ZK median ms':>12} {'max ms':>8}  anchor"
    )
    for kind, runs in results.items():
        if not runs:
            continue
        master_ms, zk_ms = [r[0] for r in runs], [r[1] for r in runs]
        print(
            f"{kind:<8} {len(runs):>4} {statistics.median(master_ms):>17.1f} "
            f"{max(master_ms):>8.1f} {statistics.median(zk_ms):>12.1f} {max(zk_ms):>8.1f}  "
            f"{anchor[kind]}"
        )


def setting(text: str) -> tuple[str, Any]:
    """`key=value` -> (key, value) with the value read as TOML (numbers, strings, booleans)."""
    key, _, value = text.partition("=")
    try:
        return key.strip(), tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", default="1000,5000,10000", help="comma-separated N")
    parser.add_argument("--repeats", type=int, default=5, help="part 2 runs per signal")
    parser.add_argument("--processes", type=int, default=2, help="simulated-agent processes")
    parser.add_argument(
        "--in-flight", type=int, default=1000, help="re-subscriptions in progress at failover"
    )
    parser.add_argument(
        "--initial-in-flight",
        type=int,
        default=32,
        help="subscriptions in progress while the cluster is built (not measured; few, so that "
        "PONGs still get the master's lock)",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the new leader")
    parser.add_argument(
        "--master-setting",
        action="append",
        type=setting,
        default=[],
        metavar="KEY=VALUE",
        help="extra master config for part 1, e.g. agent_ping_timeout=1 (repeatable)",
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        help="seconds to keep the agents on the new leader after the failover (pings, RSS)",
    )
    parser.add_argument(
        "--poll-state",
        type=int,
        default=0,
        metavar="POLLS",
        help="during --hold, poll /master/state (1 and 10 pollers, static and churn), POLLS each",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dirs (logs)")
    parser.add_argument("--skip-elections", action="store_true")
    parser.add_argument("--quick", action="store_true", help="200 agents, one run per signal")
    args = parser.parse_args()
    args.master_setting = dict(args.master_setting)
    if args.quick:
        args.agents, args.repeats = "200", 1
    counts = [int(a) for a in args.agents.split(",") if a]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(counts, default=0) + 2048
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, need)), hard))
    if hard < need:
        print(f"# warning: RLIMIT_NOFILE hard limit {hard} < {need}: the master may run out")
    print(f"# {machine_line()}")
    rows = []
    for n in counts:
        try:
            rows.append(failover_run(n, args))
        except RuntimeError as err:
            rows.append({"agents": n, "error": str(err)[:2000]})
    print_failover(rows)
    if not args.skip_elections:
        print_elections(election_runs(args.repeats))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
