"""The data plane half of bench/vips.py (issue 14): wrk to nginx directly, through one of our
VIPs and through HAProxy, in one run, on a topology of network namespaces made here.

    vipb-<pid>-web0   nginx on 198.18.0.2, ports 80-83 (`worker_processes 1`, as the local
                      anchor; `access_log off`; `return 200 "hello world"`: an 11-byte body)
        | veth 198.18.0.1/30 - 198.18.0.2/30
    vipb-<pid>-node   "the node": our ruleset (`ruleset.full` of a VipTable with the VIP
                      198.19.0.10:80 -> 198.18.0.2:81, loaded through `minuteman.nft.Nft` in
                      that namespace) and the daemon's `local 198.19.0.0/16 dev lo src
                      198.18.0.1` route (`minuteman.service.ensure_local_route` with the role's
                      `route_source`); the path "VIP, VIP as source" is VIP 198.19.0.12 routed
                      `local` without `src` (a /32), as before `route_source`: its connections
                      start from the VIP, so are masqueraded too; HAProxy on 127.0.0.1:8080, mode
                      tcp (the VIP is layer 4, so the fair comparison is a layer-4 proxy: it
                      relays bytes and parses no HTTP), 1 thread, to 198.18.0.2:82; and wrk,
                      which asks nginx directly on 198.18.0.2:80.

One nginx serves every path, each on a port of its own: connections from the node to one
address:port share one tuple space (198.18.0.1:<port> -> 198.18.0.2:80, 64k ports), in the
node's conntrack and in nginx's TIME_WAIT sockets. On one port, a `Connection: close` run direct
left some 64k closed tuples that the VIP's masqueraded connections then met: SYNs lost, 1 s
retransmits, the VIP at a third of direct with a quarter of the CPU idle. (So would, it seems,
a node whose tasks reach one backend both directly and through a VIP at such rates.)

With `--two-backends` a second nginx (vipb-<pid>-web1, 198.18.0.6 on 198.18.0.4/30) and a
second VIP 198.19.0.11:80 with both as backends (port 83), weight 1 each: the weighted spread
(`numgen random` over the slots) should cost nothing beside one backend; the connections each
nginx accepted (its stub_status) show the spread.

wrk (`-t THREADS -c CONNECTIONS -d DURATION --latency`, the same for every path) runs in the
node namespace against each path twice, with keep-alive and with `Connection: close`; the paths
interleave round by round (A B C, B C A, C A B, ...) so drift hits each alike. Reported: the
median req/s of each, its ratio to direct beside the anchors (VIP ≥ 0.9x direct, issue 14;
HAProxy 0.57x direct keep-alive and 0.50 with close here, performance.md §5), wrk's p50/p99,
and the CPU each run used (wrk by its rusage, nginx and HAProxy from /proc/PID/stat, softirq and
idle from /proc/stat: the whole machine's, other load included).

New connections/s through one VIP from one client is the `Connection: close` rate through the
VIP (each request a new TCP connection, DNATed and masqueraded): printed with the node's
conntrack entries (`nf_conntrack_count` in its namespace), the TIME_WAIT sockets on both sides
and wrk's socket errors, so the report says what limits it. The node namespace gets
`ip_local_port_range 1024 65535` and `tcp_tw_reuse 1`, and keeps closed connections in conntrack
`--ct-time-wait` seconds (10; a node keeps 120): the close runs come one after the other and
each leaves up to 64k entries (HAProxy twice that: lo and veth), which with 120 s would come
near nf_conntrack_max (262,144 here, not settable from a namespace) within one round; the peak
seen is printed, with a warning past 90 %.

The direct path also crosses the node's conntrack (the table's nat hooks are registered there,
as on a real node), so the VIP's cost measured is the DNAT and masquerade alone.

The namespaces have no route out: nothing here can reach any address but 127.0.0.0/8, 198.18.0.x
and 198.19.0.x inside them. Every process is stopped by its PID, and the namespaces (with their
veths) and the temporary directory removed, whatever happens (Ctrl-C and SIGTERM included).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from daemons.kit.l4lb.named_ips import DEFAULT_POOL
from daemons.kit.l4lb.table import Backend, Service, Vip, VipTable
from minuteman import ruleset
from minuteman.nft import Nft
from minuteman.service import ensure_local_route
from tools import processes

PREFIX = "vipb"
BODY = "hello world"  # 11 bytes, as the local anchor's
OLD_SOURCE = "VIP, VIP as source"
PORT = 80  # the VIPs' port, and the port wrk asks nginx on directly
# The port each path reaches nginx on: one tuple space each (see the module docstring).
BACKEND_PORTS = {"direct": PORT, "VIP": 81, "HAProxy": 82, "VIP, 2 backends": 83, OLD_SOURCE: 84}
HAPROXY = ("127.0.0.1", 8080)
VIP_ONE = Service(ipaddress.IPv4Address("198.19.0.10"), "tcp", PORT)
VIP_TWO = Service(ipaddress.IPv4Address("198.19.0.11"), "tcp", PORT)
# Routed `local` without `src` (a /32 beside the pool's route): the kernel starts a connection to
# it from the VIP itself, so it is masqueraded as well as DNATed, as before `route_source`.
VIP_SELF = Service(ipaddress.IPv4Address("198.19.0.12"), "tcp", PORT)
HZ = os.sysconf("SC_CLK_TCK")
MODES = ("keep-alive", "close")
# Anchors, performance.md §5 (local): HAProxy 2.6 tcp 54,821 / 96,742 keep-alive, 9,509 / 19,133
# with a new connection per request.
ANCHORS = {
    "VIP": "VIP ≥ 0.9x direct (issue 14)",
    "VIP, 2 backends": "VIP ≥ 0.9x direct (issue 14)",
    OLD_SOURCE: "before route_source: DNAT and masquerade",
    "HAProxy": "HAProxy 0.57x direct keep-alive, 0.50 close (performance.md)",
}


def backend_addresses(index: int) -> tuple[str, str]:
    """(node side, backend side) of backend `index`'s veth: a /30 each in 198.18.0.0/24."""
    return f"198.18.0.{4 * index + 1}", f"198.18.0.{4 * index + 2}"


def vip_table(backends: list[str]) -> VipTable:
    """VIP_ONE on the first backend; with two backends, VIP_TWO on both (weight 1 each)."""
    one, two = BACKEND_PORTS["VIP"], BACKEND_PORTS["VIP, 2 backends"]
    vips = {
        VIP_ONE: Vip(VIP_ONE, (), (Backend(backends[0], one, 1),)),
        VIP_SELF: Vip(VIP_SELF, (), (Backend(backends[0], BACKEND_PORTS[OLD_SOURCE], 1),)),
    }
    if len(backends) > 1:
        vips[VIP_TWO] = Vip(VIP_TWO, (), tuple(Backend(b, two, 1) for b in backends))
    return VipTable(vips)


def nginx_config(work: Path, address: str) -> str:
    temp = work / f"nginx-{address}"
    paths = "\n".join(
        f"    {kind}_temp_path {temp}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    listens = "\n".join(
        f"        listen {address}:{port} backlog=4096;" for port in BACKEND_PORTS.values()
    )
    return f"""daemon off;
worker_processes 1;
pid {temp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{paths}
    keepalive_requests 1000000;  # keep-alive means one connection per wrk connection
    server {{
{listens}
        location / {{ return 200 "{BODY}"; }}
        location = /nginx_status {{ stub_status; }}  # connections accepted: the spread
    }}
}}
"""


def haproxy_config(backends: list[str]) -> str:
    # maxconn: HAProxy wants 2 descriptors per connection and will not start above the limit
    # (20,000 here); wrk holds 32 at a time.
    return f"""global
    nbthread 1
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend vipb
    bind {HAPROXY[0]}:{HAPROXY[1]}
    default_backend web
backend web
    server web0 {backends[0]}:{BACKEND_PORTS["HAProxy"]}
"""


# -- wrk -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    text: str


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(text: str) -> Wrk:
    """wrk 4.1's report (with `--latency`) -> requests/s, p50/p99 in ms, socket errors and
    non-2xx/3xx answers."""

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        return float(found[1]) * _UNITS[found[2]] if found else float("nan")

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return Wrk(
        float(rps[1]) if rps else 0.0,
        latency("50"),
        latency("99"),
        errors + (int(bad[1]) if bad else 0),
        text,
    )


# -- CPU -----------------------------------------------------------------------------------------


def process_seconds(pid: int) -> float:
    """utime + stime of `pid` (all its threads), in seconds; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def machine_seconds() -> dict[str, float]:
    """The first line of /proc/stat: CPU seconds of all CPUs by kind."""
    values = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    kinds = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    return {kind: int(v) / HZ for kind, v in zip(kinds, values, strict=True)}


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and processes.parent_pid(int(entry.name)) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class Cpu:
    """CPU seconds used during runs, by who; `percent` = share of one core over the wall time."""

    wall: float = 0.0
    used: dict[str, float] = field(default_factory=dict)

    def add(self, who: str, seconds: float) -> None:
        self.used[who] = self.used.get(who, 0.0) + seconds

    def percent(self, who: str) -> float:
        return 100 * self.used.get(who, 0.0) / self.wall if self.wall else 0.0


# -- topology ------------------------------------------------------------------------------------


class StepFailed(RuntimeError):
    """A command of the set-up or a measurement failed: the message holds its error output."""


def sh(*argv: str, timeout: float = 20) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise StepFailed(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


class Topology:
    """The namespaces, veths and servers of one run; `close()` removes every one of them."""

    def __init__(self, work: Path, backends: int, pin: bool, ct_time_wait: int) -> None:
        self.work = work
        self.pin = pin
        self.ct_time_wait = ct_time_wait
        tag = f"{PREFIX}-{os.getpid()}"
        self.node = f"{tag}-node"
        self.webs = [f"{tag}-web{i}" for i in range(backends)]
        self.backends = [backend_addresses(i)[1] for i in range(backends)]
        self.namespaces: list[str] = []
        self.veths: list[str] = []
        self.pids: dict[str, int] = {}
        self.workers: list[int] = []

    def run_in(self, namespace: str, *argv: str, timeout: float = 20) -> str:
        return sh("ip", "netns", "exec", namespace, *argv, timeout=timeout)

    def add_namespace(self, name: str) -> None:
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        self.run_in(name, "ip", "link", "set", "lo", "up")

    def build(self) -> None:
        self.add_namespace(self.node)
        # Wide port range and TIME_WAIT reuse for the client's (and HAProxy's) new connections.
        self.run_in(self.node, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535",
                    "net.ipv4.tcp_tw_reuse=1")  # fmt: skip
        if self.ct_time_wait:
            wait = f"net.netfilter.nf_conntrack_tcp_timeout_time_wait={self.ct_time_wait}"
            self.run_in(self.node, "sysctl", "-q", "-w", wait)
        for i, web in enumerate(self.webs):
            self.add_namespace(web)
            here, there = (f"{PREFIX}{os.getpid() % 100000}{side}{i}" for side in "nw")
            self.veths.append(here)
            sh("ip", "link", "add", here, "type", "veth", "peer", "name", there)
            sh("ip", "link", "set", here, "netns", self.node)
            sh("ip", "link", "set", there, "netns", web)
            node_side, web_side = backend_addresses(i)
            self.run_in(self.node, "ip", "addr", "add", f"{node_side}/30", "dev", here)
            self.run_in(self.node, "ip", "link", "set", here, "up")
            self.run_in(web, "ip", "addr", "add", f"{web_side}/30", "dev", there)
            self.run_in(web, "ip", "link", "set", there, "up")

    def start(self, name: str, namespace: str, argv: list[str], cpu: str) -> None:
        pinned = ["taskset", "-c", cpu] if self.pin else []
        command = ["ip", "netns", "exec", namespace, *pinned, *argv]  # each execs the next
        self.pids[name] = processes.spawn(command, self.work / f"{name}.log")

    def start_servers(self, nginx: str, haproxy: str) -> None:
        for i, (web, address) in enumerate(zip(self.webs, self.backends, strict=True)):
            config = self.work / f"nginx-{i}.conf"
            config.write_text(nginx_config(self.work, address))
            (self.work / f"nginx-{address}").mkdir()
            argv = [nginx, "-c", str(config), "-p", str(self.work), "-e", "stderr"]
            self.start(f"nginx{i}", web, argv, "0")
        config = self.work / "haproxy.cfg"
        config.write_text(haproxy_config(self.backends))
        self.start("haproxy", self.node, [haproxy, "-f", str(config), "-db"], "0")

    def program_node(self) -> str:
        """Our rules and route in the node namespace, checked; then one GET on each path."""
        argv = [sys.executable, str(Path(__file__).resolve().parent / "vips.py"), "--in-node",
                *self.backends]  # fmt: skip
        return self.run_in(self.node, *argv, timeout=60)

    def find_workers(self) -> None:
        for i in range(len(self.webs)):
            self.workers += children(self.pids[f"nginx{i}"])

    def nginx_seconds(self) -> float:
        masters = [pid for name, pid in self.pids.items() if name.startswith("nginx")]
        return sum(process_seconds(pid) for pid in [*masters, *self.workers])

    def accepted(self) -> list[int]:
        """Connections each nginx has accepted so far (stub_status, asked from the node)."""
        asks = [f"http://{address}:{PORT}/nginx_status" for address in self.backends]
        script = (
            "import sys, urllib.request as u\nfor url in sys.argv[1:]:\n"
            "    print(u.urlopen(url, timeout=5).read().decode().splitlines()[2].split()[0])"
        )
        return [int(n) for n in self.run_in(self.node, sys.executable, "-c", script, *asks).split()]

    def conntrack(self) -> int:
        return int(self.run_in(self.node, "cat", "/proc/sys/net/netfilter/nf_conntrack_count"))

    def time_wait(self, namespace: str) -> int:
        return len(self.run_in(namespace, "ss", "-Htan", "state", "time-wait").splitlines())

    def close(self) -> None:
        # A second Ctrl-C must not cut the cleaning short; `interruptible` restores the handlers.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        for pid in [*self.pids.values(), *self.workers]:
            processes.stop_pid(pid)
        for name in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", name], check=False, timeout=20)
        for veth in self.veths:  # still here only if it never reached its namespace
            if Path(f"/sys/class/net/{veth}").exists():
                subprocess.run(["ip", "link", "del", veth], check=False, timeout=20)


# -- the node side: run in the node namespace by `vips.py --in-node` -----------------------------


def in_node(backends: list[str]) -> None:
    """Load our ruleset in this namespace as the daemon does, check the kernel holds exactly
    it, then ask each path once (waiting up to 10 s for the servers)."""
    ensure_local_route(str(DEFAULT_POOL), backend_addresses(0)[0])
    sh("ip", "route", "replace", "local", f"{VIP_SELF.address}/32", "dev", "lo", "table", "local")
    table = vip_table(backends)
    nft = Nft()
    nft.run(ruleset.full(table))
    listing = nft.run(f"list table {ruleset.FAMILY} {ruleset.TABLE}\n")
    if ruleset.parse_listing(listing) != ruleset.expected(table):
        sys.exit(f"the kernel does not hold our ruleset:\n{listing}")
    for host, port in paths(len(backends)).values():
        deadline = time.monotonic() + 10
        while True:
            try:
                connection = http.client.HTTPConnection(host, port, timeout=2)
                connection.request("GET", "/")
                answer = connection.getresponse()
                body = answer.read().decode()
                connection.close()
                if answer.status == 200 and body == BODY:
                    break
                sys.exit(f"{host}:{port} answered {answer.status} {body!r}")
            except OSError as err:
                if time.monotonic() > deadline:
                    sys.exit(f"{host}:{port} does not answer: {err}")
                time.sleep(0.1)
    print(f"node: {len(table.vips)} VIP(s) programmed and checked; every path answers")


def paths(backends: int) -> dict[str, tuple[str, int]]:
    found = {
        "direct": (backend_addresses(0)[1], PORT),
        "VIP": (str(VIP_ONE.address), PORT),
        OLD_SOURCE: (str(VIP_SELF.address), PORT),
        "HAProxy": HAPROXY,
    }
    if backends > 1:
        found["VIP, 2 backends"] = (str(VIP_TWO.address), PORT)
    return found


# -- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    duration: int
    rounds: int
    threads: int
    connections: int
    two_backends: bool
    pin: bool
    ct_time_wait: int  # s; 0: the kernel's (120)


@dataclass
class Results:
    runs: dict[tuple[str, str], list[Wrk]] = field(default_factory=dict)
    cpu: dict[tuple[str, str], Cpu] = field(default_factory=dict)
    conntrack: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    spread: dict[str, list[int]] = field(default_factory=dict)  # by mode: accepted per backend
    conntrack_peak: int = 0  # the most entries seen in the node, before or after a run


def version(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout + done.stderr).strip().splitlines()[0]
    return re.split(r" - | Copyright", first)[0]  # no URL, no copyright


def measure(top: Topology, wrk: str, url: str, mode: str, options: Options) -> tuple[Wrk, Cpu]:
    argv = [wrk, f"-t{options.threads}", f"-c{options.connections}", f"-d{options.duration}s",
            "--latency", "--timeout", "2s"]  # fmt: skip
    if mode == "close":
        argv += ["-H", "Connection: close"]
    pinned = ["taskset", "-c", "1"] if top.pin else []
    haproxy = top.pids["haproxy"]
    before = (machine_seconds(), top.nginx_seconds(), process_seconds(haproxy),
              resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic())  # fmt: skip
    text = top.run_in(top.node, *pinned, *argv, url, timeout=options.duration + 30)
    after = (machine_seconds(), top.nginx_seconds(), process_seconds(haproxy),
             resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic())  # fmt: skip
    cpu = Cpu(after[4] - before[4])
    wrk_seconds = [getattr(after[3], k) - getattr(before[3], k) for k in ("ru_utime", "ru_stime")]
    cpu.add("wrk", sum(wrk_seconds))
    cpu.add("nginx", after[1] - before[1])
    cpu.add("haproxy", after[2] - before[2])
    for kind in ("softirq", "idle"):
        cpu.add(kind, after[0][kind] - before[0][kind])
    busy = ("user", "nice", "system", "irq", "softirq")
    cpu.add("machine busy", sum(after[0][kind] - before[0][kind] for kind in busy))
    return parse_wrk(text), cpu


def record(
    results: Results, top: Topology, name: str, mode: str, run: Callable[[], tuple[Wrk, Cpu]]
) -> None:
    """One wrk run on path `name`, kept with the conntrack entries it added (and, through two
    backends, the connections each accepted)."""
    spreading = name == "VIP, 2 backends"
    count, accepted = top.conntrack(), top.accepted() if spreading else []
    result, cpu = run()
    results.runs.setdefault((name, mode), []).append(result)
    now = top.conntrack()
    results.conntrack.setdefault((name, mode), []).append(now - count)
    results.conntrack_peak = max(results.conntrack_peak, count, now)
    if spreading:
        counts = top.accepted()
        spread = results.spread.setdefault(mode, [0] * len(counts))
        for i, (after, before) in enumerate(zip(counts, accepted, strict=True)):
            spread[i] += after - before - 1  # not the stub_status ask itself
    total = results.cpu.setdefault((name, mode), Cpu())
    total.wall += cpu.wall
    for who, seconds in cpu.used.items():
        total.add(who, seconds)


def run(options: Options) -> None:
    binaries = ("wrk", "nginx", "haproxy")
    tools = {name: shutil.which(name) or f"/usr/sbin/{name}" for name in binaries}
    for name, path in tools.items():
        if not Path(path).exists():
            sys.exit(f"{name} is missing: scripts/bootstrap.sh installs it")
    work = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
    work.chmod(0o755)  # nginx's workers run as nobody
    top = Topology(work, 2 if options.two_backends else 1, options.pin, options.ct_time_wait)
    results = Results()
    try:
        top.build()
        top.start_servers(tools["nginx"], tools["haproxy"])
        print(top.program_node().strip())
        top.find_workers()
        targets = paths(len(top.backends))
        print(f"data plane: {version([tools['wrk'], '-v'])}; {version([tools['nginx'], '-v'])} "
              f"(1 worker, {len(BODY)}-byte body); {version([tools['haproxy'], '-v'])} (mode tcp, "
              f"1 thread); wrk -t{options.threads} -c{options.connections} "
              f"-d{options.duration}s, {options.rounds} round(s) interleaved"
              f"{'; nginx and HAProxy on CPU 0, wrk on CPU 1' if options.pin else ''}")  # fmt: skip
        names, wrk = list(targets), tools["wrk"]
        for r in range(options.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for mode in MODES:
                for name in order:
                    url = "http://{}:{}/".format(*targets[name])
                    run_wrk = functools.partial(measure, top, wrk, url, mode, options)
                    record(results, top, name, mode, run_wrk)
        report(results, names, top)
    except StepFailed:
        for log in sorted(work.glob("*.log")):
            print(f"--- {log.name}:\n{processes.log_tail(log, 20)}", file=sys.stderr)
        raise
    finally:
        top.close()
        shutil.rmtree(work, ignore_errors=True)


def report(results: Results, names: list[str], top: Topology) -> None:
    print(f"{'path':<16} {'mode':<10} {'req/s (median)':>14} {'x direct':>8} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'errors':>6}   anchor")  # fmt: skip
    for mode in MODES:
        direct = statistics.median(w.rps for w in results.runs[("direct", mode)])
        for name in names:
            runs = results.runs[(name, mode)]
            rps = statistics.median(w.rps for w in runs)
            print(f"{name:<16} {mode:<10} {rps:>14,.0f} {rps / direct:>8.2f} "
                  f"{statistics.median(w.p50_ms for w in runs):>7.3f} "
                  f"{statistics.median(w.p99_ms for w in runs):>7.3f} "
                  f"{sum(w.errors for w in runs):>6}   {ANCHORS.get(name, '')}")  # fmt: skip
    print("CPU during the runs, % of one core (2 cores = 200 %; machine-wide figures include any "
          "other load on the box):")  # fmt: skip
    print(f"{'path':<16} {'mode':<10} {'wrk':>5} {'nginx':>6} {'haproxy':>8} {'softirq':>8} "
          f"{'busy':>6} {'idle':>6}")  # fmt: skip
    for mode in MODES:
        for name in names:
            cpu = results.cpu[(name, mode)]
            print(f"{name:<16} {mode:<10} {cpu.percent('wrk'):>5.0f} {cpu.percent('nginx'):>6.0f} "
                  f"{cpu.percent('haproxy'):>8.0f} {cpu.percent('softirq'):>8.0f} "
                  f"{cpu.percent('machine busy'):>6.0f} {cpu.percent('idle'):>6.0f}")  # fmt: skip
    for mode, spread in results.spread.items():
        counts = " / ".join(f"{n:,}" for n in spread)
        print(f"VIP, 2 backends, {mode}: connections accepted by each nginx {counts} "
              "(weight 1 each: half each expected)")  # fmt: skip
    vip = results.runs[("VIP", "close")]
    cpu = results.cpu[("VIP", "close")]
    rate = statistics.median(w.rps for w in vip)
    print(f"new connections/s through one VIP from one client: {rate:,.0f} "
          f"(the Connection: close rate: one TCP connection per request)")  # fmt: skip
    added = ", ".join(f"{n:,}" for n in results.conntrack[("VIP", "close")])
    ceiling = int(Path("/proc/sys/net/netfilter/nf_conntrack_max").read_text())
    kept = (
        f"{top.ct_time_wait} s (--ct-time-wait; a node keeps 120 s)"
        if top.ct_time_wait
        else "120 s"
    )
    print(f"  node conntrack: {added} entries added per run; peak {results.conntrack_peak:,} "
          f"of nf_conntrack_max {ceiling:,}; closed connections kept {kept}")  # fmt: skip
    if results.conntrack_peak > 0.9 * ceiling:
        print("  WARNING: the node's conntrack table nearly filled: new connections may have been "
              "dropped (lower --ct-time-wait)")  # fmt: skip
    print(f"  TIME_WAIT sockets now: node {top.time_wait(top.node):,}, backend "
          f"{top.time_wait(top.webs[0]):,}; wrk socket errors {sum(w.errors for w in vip)}; "
          "node port range 1024-65535, tcp_tw_reuse 1")  # fmt: skip
    print(f"  limit: {limit(cpu)}")


def limit(cpu: Cpu) -> str:
    """Which of wrk, nginx and the kernel's softirq work held the close rate, in words.
    Softirq time is also in the stime of the process it interrupted, so "other" (busy minus
    wrk, nginx and HAProxy) is other load on the box plus softirq work nobody was charged."""
    shares = {who: cpu.percent(who) for who in ("wrk", "nginx", "softirq")}
    busiest = max(shares, key=lambda who: shares[who])
    words = ", ".join(f"{who} {share:.0f} %" for who, share in shares.items())
    idle = cpu.percent("idle")
    other = cpu.percent("machine busy") - sum(map(cpu.percent, ("wrk", "nginx", "haproxy")))
    if other > 50:
        verdict = "other load on the box took the CPU: not a figure, run it on a quiet box"
    elif idle < 20:
        verdict = "both cores busy: CPU-bound, the client sharing the box with the server"
    elif shares[busiest] >= 90:
        verdict = f"{busiest} saturates one core"
    else:
        verdict = "no core saturated: latency-bound at this many connections"
    return f"2 cores: {words}, other {other:.0f} %, idle {idle:.0f} % -> {verdict}"


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM end the run through the `finally`s that stop and remove what it made
    (SIGINT too when the shell started us in the background, ignoring it), then exit 130."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped and removed", file=sys.stderr)
        sys.exit(130)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
