#!/usr/bin/env python3
"""Watch the masters while a command runs, then check that their restarts rolled (Molecule).

    rolling_watch.py run --masters IP,IP,IP --out samples.jsonl -- ansible-playbook … site.yml
    rolling_watch.py check --samples samples.jsonl --units DIR \\
        --quorum-gap S --leader-gap S

`run` samples every master about five times a second while the command runs, one JSON line
per round: {"t": µs, "zk": {ip: mode}, "master": {ip: state}}. `mode` is the ZooKeeper
server's answer to srvr (leader, follower, standalone, "serving-not" when it answers without
serving, "down" when it does not answer within 2 s); `state` what GET /master/state-summary answers,
without following the redirect: "leading" (200), "standby" (307 to the leader), "suspended" (503
from the leader while its ZooKeeper connection moves to another server: it keeps the
leadership), "leaderless" (503 from a master that knows no leader), "down" (no answer within
2 s) or the HTTP status. `t` is CLOCK_MONOTONIC, the
clock of systemd's *TimestampMonotonic unit properties on the test hosts (they share this
kernel), so samples and unit timestamps compare directly. The command's output passes through.

`check` reads the samples and, per master, the properties of each restarted unit before and
after the run (--units DIR: one HOST.json per master, {"ip": …, "before": {unit: properties},
"after": {unit: properties}}), and fails unless:
- each of the two units restarted during the run, on every master;
- per unit, the restarts came one at a time: the next master's unit stopped only after the
  previous master's had started again and was healthy in a sample (ZooKeeper: leader or
  follower; master: leading or standby);
- no two ZooKeeper servers, and no two masters, were down in one sample;
- ZooKeeper kept quorum (one leader and a majority serving) in every sample, except while the
  server that led restarted (the ensemble elects a new leader), for at most --quorum-gap s;
- a master served as the leader in every sample, except while the leading master restarted (a
  standby takes over), while ZooKeeper elected a leader, or while the leader was suspended
  during a ZooKeeper server's restart, for at most --leader-gap s each.
It prints what it measured either way, and the samples around a gap it cannot explain.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INTERVAL = 0.2
SERVING = ("leader", "follower", "standalone")
# Which unit runs what, and how a sample says that one host's copy of it is healthy again.
ZOOKEEPER, MASTER = "dcos-exhibitor.service", "dcos-mesos-master.service"


def now_us() -> int:
    return time.monotonic_ns() // 1000


def zk_mode(ip: str, port: int) -> str:
    try:
        with socket.create_connection((ip, port), timeout=2.0) as sock:
            sock.sendall(b"srvr")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError:
        return "down"
    for line in answer.decode(errors="replace").splitlines():
        if line.startswith("Mode: "):
            return line.removeprefix("Mode: ").strip()
    return "serving-not"


def master_state(ip: str, port: int) -> str:
    connection = http.client.HTTPConnection(ip, port, timeout=2.0)
    try:
        connection.request("GET", "/master/state-summary")
        answer = connection.getresponse()
        body = answer.read(4096)
    except OSError:
        return "down"
    finally:
        connection.close()
    if answer.status == 503:
        return "suspended" if b"lost touch with ZooKeeper" in body else "leaderless"
    return {200: "leading", 307: "standby"}.get(answer.status, str(answer.status))


def watch(args: argparse.Namespace) -> int:
    ips = args.masters.split(",")
    done = threading.Event()
    with args.out.open("w") as out:

        def sample() -> None:
            while not done.is_set():
                started = time.monotonic()
                row = {
                    "t": now_us(),
                    "zk": {ip: zk_mode(ip, args.zk_port) for ip in ips},
                    "master": {ip: master_state(ip, args.master_port) for ip in ips},
                }
                out.write(json.dumps(row) + "\n")
                done.wait(max(0.0, INTERVAL - (time.monotonic() - started)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            rc = subprocess.run(args.command, check=False).returncode
        finally:
            done.set()
            sampler.join(timeout=10)
    return rc


@dataclass(frozen=True)
class Restart:
    host: str
    ip: str
    stopped: int  # µs: the unit left "active" (the restart began)
    started: int  # µs: its new main process started
    healthy: int | None  # µs: the first sample after `started` that shows it healthy


def healthy(unit: str, row: dict[str, Any], ip: str) -> bool:
    if unit == ZOOKEEPER:
        return bool(row["zk"][ip] in SERVING)
    return bool(row["master"][ip] in ("leading", "standby"))


def has_quorum(row: dict[str, Any]) -> bool:
    modes = list(row["zk"].values())
    serving = sum(mode in SERVING for mode in modes)
    return (
        sum(mode in ("leader", "standalone") for mode in modes) == 1 and serving > len(modes) // 2
    )


def has_leader(row: dict[str, Any]) -> bool:
    return "leading" in row["master"].values()


def gaps(
    rows: list[dict[str, Any]], ok: Callable[[dict[str, Any]], bool]
) -> list[tuple[int, int, dict[str, Any]]]:
    """Stretches of samples failing `ok`: (first failing t, next passing t, last passing row)."""
    found, start, before = [], None, rows[0]
    for row in rows:
        if not ok(row) and start is None:
            start = row["t"]
        elif ok(row):
            if start is not None:
                found.append((start, row["t"], before))
                start = None
            before = row
    if start is not None:
        found.append((start, rows[-1]["t"], before))
    return found


def restarts(unit: str, units: dict[str, Any], rows: list[dict[str, Any]]) -> list[Restart]:
    made = []
    for host, ip in sorted(units["ips"].items()):
        props = units["after"][host][unit]
        stopped = int(props["ActiveExitTimestampMonotonic"])
        started = int(props["ExecMainStartTimestampMonotonic"])
        first = next((r["t"] for r in rows if r["t"] >= started and healthy(unit, r, ip)), None)
        made.append(Restart(host, ip, stopped, started, first))
    return sorted(made, key=lambda r: r.stopped)


def overlaps(start: int, end: int, restart: Restart) -> bool:
    """Does [start, end] meet the window in which `restart` had its host's unit down?"""
    return restart.stopped <= end and start <= (restart.healthy or end)


def check_order(unit: str, order: list[Restart], units: dict[str, Any], first: int) -> list[str]:
    problems = []
    for restart in order:
        before = int(units["before"][restart.host][unit]["ExecMainStartTimestampMonotonic"])
        if restart.started <= before or restart.stopped < first:
            problems.append(f"{unit} on {restart.host} did not restart during the run")
        took = restart.healthy and f"{(restart.healthy - restart.stopped) / 1e6:.1f} s"
        print(f"{unit} on {restart.host}: healthy again {took or 'never'} after it stopped")
    for previous, following in itertools.pairwise(order):
        if previous.healthy is None or following.stopped < previous.healthy:
            problems.append(f"{unit}: {following.host} stopped before {previous.host} was healthy")
    return problems


def check(args: argparse.Namespace) -> int:
    rows = [json.loads(line) for line in args.samples.read_text().splitlines() if line]
    hosts = {p.stem: json.loads(p.read_text()) for p in sorted(args.units.glob("*.json"))}
    units = {
        "ips": {host: found["ip"] for host, found in hosts.items()},
        "before": {host: found["before"] for host, found in hosts.items()},
        "after": {host: found["after"] for host, found in hosts.items()},
    }
    print(f"{len(rows)} samples over {(rows[-1]['t'] - rows[0]['t']) / 1e6:.1f} s")
    rolled = {unit: restarts(unit, units, rows) for unit in (ZOOKEEPER, MASTER)}
    problems = [
        p for unit, order in rolled.items() for p in check_order(unit, order, units, rows[0]["t"])
    ]
    elections = gaps(rows, has_quorum)
    for start, end, last in elections:
        length = (end - start) / 1e6
        leader = [ip for ip, mode in last["zk"].items() if mode in ("leader", "standalone")]
        why = [r.host for r in rolled[ZOOKEEPER] if r.ip in leader and overlaps(start, end, r)]
        print(f"no ZooKeeper quorum for {length:.1f} s; its leader {leader} restarting: {why}")
        if not why:
            problems.append(f"ZooKeeper lost quorum for {length:.1f} s while its leader ran")
        if length > args.quorum_gap:
            problems.append(f"ZooKeeper without quorum for {length:.1f} s > {args.quorum_gap} s")
    zk_restarts = rolled[ZOOKEEPER]
    for start, end, last in gaps(rows, has_leader):
        length = (end - start) / 1e6
        leader = [ip for ip, state in last["master"].items() if state == "leading"]
        why = [r.host for r in rolled[MASTER] if r.ip in leader and overlaps(start, end, r)]
        electing = any(s <= end and start <= e for s, e, _ in elections)
        inside = [r for r in rows if start <= r["t"] < end]
        suspended = any(r["master"][ip] == "suspended" for r in inside for ip in leader) and any(
            overlaps(start, end, r) for r in zk_restarts
        )
        print(
            f"no master serving as the leader for {length:.1f} s; the leader {leader}"
            f" restarting: {why}, ZooKeeper electing: {electing}, suspended: {suspended}"
        )
        if not (why or electing or suspended):
            problems.append(f"no master served as the leader for {length:.1f} s, unexplained")
            for row in [r for r in rows if start - 1_000_000 <= r["t"] <= end + 1_000_000]:
                print(f"  {row}")
        if length > args.leader_gap:
            problems.append(f"no leading master for {length:.1f} s > {args.leader_gap} s")
    for kind in ("zk", "master"):
        most = max(sum(v == "down" for v in r[kind].values()) for r in rows)
        print(f"{kind}: at most {most} of {len(rows[0][kind])} down at once")
        if most > 1:
            problems.append(f"{most} {kind} processes were down at once")
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="what", required=True)
    run = commands.add_parser("run")
    run.add_argument("--masters", required=True)
    run.add_argument("--zk-port", type=int, default=2181)
    run.add_argument("--master-port", type=int, default=5050)
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("command", nargs=argparse.REMAINDER)
    verdict = commands.add_parser("check")
    verdict.add_argument("--samples", type=Path, required=True)
    verdict.add_argument("--units", type=Path, required=True)
    verdict.add_argument("--quorum-gap", type=float, required=True)
    verdict.add_argument("--leader-gap", type=float, required=True)
    args = parser.parse_args()
    if args.what == "run":
        args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return watch(args)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
