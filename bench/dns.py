"""Issue 13's DNS benchmark: dnsmasq, our Mesos-DNS and our DNS proxy side by side, one run.

The same 1,000 app names (`app0` … `app999`, one running task each in the `marathon`
framework) are served four ways, each measured with dnsperf (Debian `dnsperf`) as in
bench/dns_kit.py (`-c 1 -q 64`, the 1,000 names in turn, `--seconds` per phase):
1. dnsmasq 2.90 (Debian `dnsmasq-base`), a child on 127.0.0.1 with the names as a hosts file
   (`--addn-hosts`, no upstream): `appN.marathon.mesos`;
2. our Mesos-DNS (`daemons.mesos_dns.main`, a process with its TOML config, as its tests start
   it): `appN.marathon.mesos`;
3. our DNS proxy (`dnsproxy.main`) from its local zone:
   `appN.marathon.autoip.dcos.thisdcos.directory`;
4. the proxy forwarding `appN.marathon.mesos` to that Mesos-DNS.
Then the latency forwarding adds: dnsperf at a fixed 5,000 qps (`-Q 5000 -v`, every reply's
latency kept) against Mesos-DNS directly and through the proxy; the difference of the averages
and of the 99th percentiles. Then each daemon's memory (`/proc`: the gunicorn arbiter's and
worker's RSS, the worker's peak) with that state, and again, both daemons restarted, with a
state of `--tasks` running tasks (10,000 by default; 0 skips it).

Both daemons are fed as in `make local`, from one master stand-in in this process on
127.0.0.1: the recorded `/master/state` (tests/fixtures/mesos_dns/master_state.json) with its
Marathon tasks replaced by N copies of its first one, each its own app (`grow_state`), over
HTTP, and an operator `SUBSCRIBE` stream that sends SUBSCRIBED and then only heartbeats.
Mesos-DNS follows it as a static master (`masters`, no ZooKeeper); the proxy reads its state
and Mesos-DNS's `/v1/axfr` with its defaults (every 1 s and 30 s), as deployed.

dnsperf shares the 2 cores with the servers and the daemons' other threads, so every figure is
a floor; the load average is printed beside them. Targets (issue 13): our authoritative
paths ≥ half of dnsmasq's qps in the same run; forwarding adds ≤ 1 ms at 5,000 qps; ≤ 100 MiB
per daemon at 10,000 tasks. Anchors (../shared/reference/performance.md §4): Mesos-DNS up to
8.5k qps per core, CoreDNS 33.7k qps on 2 vCPU, dnsmasq ≈ 93k qps on this box idle.

Everything stays on 127.0.0.1; every process started here is stopped by its PID and the
temporary directory removed, whatever happens.

`--memory-only` skips dnsmasq and every dnsperf phase: each daemon's memory with no task
(the recorded state without its Marathon tasks: the idle daemon), with 1,000 and with
`--tasks` tasks, both daemons restarted for each (memory figures do not depend on a quiet box).

Run: `.venv/bin/python bench/dns.py [--quick] [--seconds N] [--tasks N] [--memory-only]`.
"""

from __future__ import annotations

import argparse
import copy
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import processes
from tools.machine import machine_line

JSON = dict[str, Any]
_http = requests.Session()
_http.trust_env = False  # loopback only, never through an HTTP proxy
FIXTURE = Path(__file__).resolve().parent.parent / "tests/fixtures/mesos_dns/master_state.json"
NAMES = 1000
RATE = 5000
HEARTBEAT = 5.0
MIB = 1024 * 1024
# issue 13 and ../shared/reference/performance.md §4
MESOS_DNS_ANCHOR = 8500
COREDNS_ANCHOR = 33669
DNSMASQ_IDLE = 92962


# -- pure helpers ---------------------------------------------------------------------------------


def grow_state(recorded: JSON, tasks: int, framework: str = "marathon") -> JSON:
    """`recorded` with `framework`'s tasks replaced by `tasks` copies of its first running one:
    task n is app `appN` (its name and DiscoveryInfo name), on the recorded agents in turn."""
    state = copy.deepcopy(recorded)
    agents = [agent["id"] for agent in state["slaves"]]
    target = next(f for f in state["frameworks"] if f["name"] == framework)
    template = next(t for t in target["tasks"] if t["state"] == "TASK_RUNNING")
    grown = []
    for n in range(tasks):
        task = copy.deepcopy(template)
        task["id"] = f"app{n}.{n:08x}-0000-4000-8000-000000000000"
        task["name"] = f"app{n}"
        task["slave_id"] = agents[n % len(agents)]
        if task.get("discovery"):
            task["discovery"]["name"] = f"app{n}"
        grown.append(task)
    target["tasks"] = grown
    return state


def agent_ips(state: JSON) -> dict[str, str]:
    """Agent id -> the host of its pid (`slave(1)@10.0.6.21:5051` -> `10.0.6.21`)."""
    return {a["id"]: a["pid"].partition("@")[2].rpartition(":")[0] for a in state["slaves"]}


def hosts_lines(state: JSON, suffix: str = "marathon.mesos", framework: str = "marathon") -> str:
    """A hosts file of every task of `framework`: `<agent ip> <task name>.<suffix>`, as
    Mesos-DNS answers them (IPSources host first)."""
    ips = agent_ips(state)
    target = next(f for f in state["frameworks"] if f["name"] == framework)
    return "".join(f"{ips[t['slave_id']]} {t['name']}.{suffix}\n" for t in target["tasks"])


def queries(names: int, suffix: str) -> str:
    """dnsperf's input: `appN.<suffix> A` for N below `names`."""
    return "".join(f"app{n}.{suffix} A\n" for n in range(names))


@dataclass(frozen=True)
class Perf:
    """What one dnsperf run says."""

    qps: float
    avg_ms: float
    lost: int
    noerror: float  # percent of the completed queries answered NOERROR
    latencies_ms: tuple[float, ...] = ()  # with -v: each reply's latency

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def parse_dnsperf(out: str) -> Perf:
    """dnsperf's statistics (and with `-v` its `> RCODE name type latency` lines)."""

    def number(pattern: str) -> float:
        found = re.search(pattern, out)
        return float(found.group(1)) if found else 0.0

    latencies = tuple(
        float(m.group(1)) * 1000 for m in re.finditer(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M)
    )
    return Perf(
        qps=number(r"Queries per second:\s+([\d.]+)"),
        avg_ms=number(r"Average Latency \(s\):\s+([\d.]+)") * 1000,
        lost=int(number(r"Queries lost:\s+(\d+)")),
        noerror=number(r"NOERROR \d+ \(([\d.]+)%\)"),
        latencies_ms=latencies,
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(len * p / 100), at least 1
    return ordered[int(rank) - 1]


def proc_kib(status: str, key: str) -> int:
    """A `/proc/PID/status` or `smaps_rollup` field in KiB (`VmRSS:  1234 kB` -> 1234; 0 when
    absent)."""
    found = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else 0


# -- the master stand-in --------------------------------------------------------------------------


class MasterStandIn:
    """`GET /master/state` (the state given) and the operator API's `SUBSCRIBE` (SUBSCRIBED,
    then a heartbeat every HEARTBEAT seconds), over HTTP on 127.0.0.1."""

    def __init__(self, state: JSON) -> None:
        self.set_state(state)
        self.stopping = threading.Event()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = stand_in.body if self.path == "/master/state" else b"{}"
                self.send_response(200 if self.path == "/master/state" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/api/v1":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
                subscribed = {"heartbeat_interval_seconds": HEARTBEAT}
                try:
                    self.wfile.write(record({"type": "SUBSCRIBED", "subscribed": subscribed}))
                    self.wfile.flush()
                    while not stand_in.stopping.wait(HEARTBEAT):
                        self.wfile.write(record({"type": "HEARTBEAT"}))
                        self.wfile.flush()
                except OSError:
                    return

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def set_state(self, state: JSON) -> None:
        self.body = json.dumps(state).encode()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def record(event: JSON) -> bytes:
    """One RecordIO record: the length, a newline, the JSON."""
    data = json.dumps(event).encode()
    return str(len(data)).encode() + b"\n" + data


# -- processes ------------------------------------------------------------------------------------


@dataclass
class Started:
    name: str
    pid: int
    log: Path


def wait_until(check: Callable[[], bool], started: Started, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processes.exited(started.pid):
            break
        try:
            if check():
                return
        except (requests.RequestException, ValueError, KeyError, IndexError, TypeError):
            pass
        time.sleep(0.2)
    raise processes.StartFailed(
        f"{started.name} did not come up:\n{processes.log_tail(started.log, 30)}"
    )


@contextmanager
def running(name: str, argv: list[str], work: Path) -> Iterator[Started]:
    """`argv` as a process of its own (log in `work`), stopped by its PID on the way out."""
    log = work / f"{name}.log"
    started = Started(name, processes.spawn(argv, log), log)
    try:
        yield started
    finally:
        processes.stop_pid(started.pid)


@contextmanager
def dnsmasq(binary: str, state: JSON, work: Path) -> Iterator[int]:
    hosts = work / "dnsmasq.hosts"
    hosts.write_text(hosts_lines(state))
    hosts.chmod(0o644)  # dnsmasq reads it as its own user
    port = processes.free_port()
    argv = [binary, "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            f"--addn-hosts={hosts}", "-p", str(port), "--listen-address", "127.0.0.1",
            "--bind-interfaces", "--pid-file=", "--log-facility=-"]  # fmt: skip
    with running("dnsmasq", argv, work) as started:
        wait_until(lambda: "read " in started.log.read_text(), started, 10)
        yield port


@contextmanager
def mesos_dns(master_port: int, work: Path, timeout: float) -> Iterator[tuple[Started, int, int]]:
    """Our Mesos-DNS following the stand-in; (process, DNS port, HTTP port) once loaded."""
    dns_port, http_port = processes.free_port(), processes.free_port()
    settings = {
        "masters": [f"127.0.0.1:{master_port}"],
        "listener": "127.0.0.1",
        "port": dns_port,
        "HTTPListener": "127.0.0.1",
        "httpport": http_port,
        "resolvers": [],
        "refreshSeconds": 30,  # DC/OS's
    }
    config = work / "mesos-dns.toml"
    processes.write_toml(config, {"mesos_dns": settings, "threads": 4})
    argv = processes.daemon_argv("daemons.mesos_dns.main", config)
    url = f"http://127.0.0.1:{http_port}/v1/hosts/leader.mesos"
    with running("mesos-dns", argv, work) as started:
        wait_until(lambda: bool(_http.get(url, timeout=5).json()[0]["ip"]), started, timeout)
        yield started, dns_port, http_port


@contextmanager
def dns_proxy(
    master_port: int, mesos_ports: tuple[int, int], work: Path, timeout: float
) -> Iterator[tuple[Started, int]]:
    """Our DNS proxy reading the stand-in and Mesos-DNS; (process, DNS port) once loaded."""
    dns_port, http_port = processes.free_port(), processes.free_port()
    config = {
        "listen": [f"127.0.0.1:{dns_port}"],
        "ip": "127.0.0.1",
        "port": http_port,
        "masters": ["127.0.0.1"],
        "master_port": master_port,
        "mesos_dns_port": mesos_ports[0],
        "mesos_dns_http_port": mesos_ports[1],
    }
    path = work / "dns-proxy.toml"
    processes.write_toml(path, config)
    argv = processes.daemon_argv("dnsproxy.main", path)
    url = f"http://127.0.0.1:{http_port}/health"

    def loaded() -> bool:
        health = _http.get(url, timeout=5).json()
        return bool(health["state_loaded"] and health["mesos_loaded"])

    with running("dns-proxy", argv, work) as started:
        wait_until(loaded, started, timeout)
        yield started, dns_port


@dataclass(frozen=True)
class Memory:
    rss_kib: int  # arbiter and worker together (the pages they share counted twice)
    pss_kib: int  # arbiter and worker together, shared pages split between them
    worker_kib: int
    worker_peak_kib: int


def memory(pid: int) -> Memory:
    """A daemon's memory: its gunicorn arbiter and worker (`/proc/PID/status`, `smaps_rollup`)."""
    statuses: list[str] = []
    rollups: list[str] = []
    for member in processes.family(pid):
        for files, name in ((statuses, "status"), (rollups, "smaps_rollup")):
            try:
                files.append(Path(f"/proc/{member}/{name}").read_text())
            except OSError:
                files.append("")
    worker = statuses[-1]  # the gunicorn worker (the arbiter when there is none)
    return Memory(
        sum(proc_kib(s, "VmRSS") for s in statuses),
        sum(proc_kib(r, "Pss") for r in rollups),
        proc_kib(worker, "VmRSS"),
        proc_kib(worker, "VmHWM"),
    )


Measured = tuple[str, int, str, Memory]  # daemon, tasks, when, memory


# -- dnsperf --------------------------------------------------------------------------------------


def dnsperf(binary: str, port: int, names: Path, seconds: int, rate: int | None = None) -> Perf:
    argv = [binary, "-s", "127.0.0.1", "-p", str(port), "-d", str(names),
            "-l", str(seconds), "-c", "1", "-q", "64"]  # fmt: skip
    if rate is not None:
        argv += ["-Q", str(rate), "-v"]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + 30, check=True
    )  # fmt: skip
    return parse_dnsperf(done.stdout)


# -- the run --------------------------------------------------------------------------------------


def row(label: str, perf: Perf, target: str) -> str:
    return (f"{label:<56} {perf.qps:>9,.0f} {perf.avg_ms:>8.2f} ms {perf.lost:>6} "
            f"{perf.noerror:>6.1f}%  {target}")  # fmt: skip


def both(tasks: int, when: str, mesos_dns: Started, proxy: Started) -> list[Measured]:
    return [("Mesos-DNS", tasks, when, memory(mesos_dns.pid)),
            ("DNS proxy", tasks, when, memory(proxy.pid))]  # fmt: skip


def memory_row(label: str, tasks: int, when: str, mem: Memory, target: str) -> str:
    mib = [kib / 1024 for kib in (mem.pss_kib, mem.rss_kib, mem.worker_kib, mem.worker_peak_kib)]
    figures = "".join(f"{value:>12.1f}" for value in mib)
    return f"{label:<12} {tasks:>7,} {when:<15}{figures}  {target}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s a phase instead of 10 s")
    parser.add_argument("--seconds", type=int, default=10, help="seconds a dnsperf phase")
    parser.add_argument("--tasks", type=int, default=10_000,
                        help="the memory figure's state size (0: skip it)")  # fmt: skip
    parser.add_argument("--memory-only", action="store_true",
                        help="only memory: no task, 1,000 and --tasks tasks")  # fmt: skip
    args = parser.parse_args()
    if args.memory_only:
        return memory_only(args.tasks)
    seconds = 3 if args.quick else args.seconds
    perf_bin, masq_bin = shutil.which("dnsperf"), shutil.which("dnsmasq")
    if perf_bin is None or masq_bin is None:
        print("dns: dnsperf and dnsmasq are needed (scripts/bootstrap.sh installs them)")
        return 1
    recorded = json.loads(FIXTURE.read_text())
    state = grow_state(recorded, NAMES)
    print(machine_line())
    results: dict[str, Perf] = {}
    memories: list[Measured] = []
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="pydcos-dns-bench-"))
        stack.callback(shutil.rmtree, work, True)
        work.chmod(0o755)  # dnsmasq reads its hosts file as its own user
        files = {}
        for key, suffix in (("mesos", "marathon.mesos"),
                            ("autoip", "marathon.autoip.dcos.thisdcos.directory")):  # fmt: skip
            files[key] = work / f"{key}.txt"
            files[key].write_text(queries(NAMES, suffix))
        master = MasterStandIn(state)
        stack.callback(master.stop)

        with dnsmasq(masq_bin, state, work) as port:
            results["dnsmasq"] = dnsperf(perf_bin, port, files["mesos"], seconds)
        with ExitStack() as daemons:
            mdns, mdns_dns, mdns_http = daemons.enter_context(mesos_dns(master.port, work, 60))
            proxy, proxy_dns = daemons.enter_context(
                dns_proxy(master.port, (mdns_dns, mdns_http), work, 60)
            )
            memories += both(NAMES, "loaded", mdns, proxy)
            results["mesos_dns"] = dnsperf(perf_bin, mdns_dns, files["mesos"], seconds)
            results["proxy_local"] = dnsperf(perf_bin, proxy_dns, files["autoip"], seconds)
            results["proxy_forward"] = dnsperf(perf_bin, proxy_dns, files["mesos"], seconds)
            results["direct_5k"] = dnsperf(perf_bin, mdns_dns, files["mesos"], seconds, RATE)
            results["forward_5k"] = dnsperf(perf_bin, proxy_dns, files["mesos"], seconds, RATE)
            memories += both(NAMES, "after the runs", mdns, proxy)
        if args.tasks > 0:
            master.set_state(grow_state(recorded, args.tasks))
            with ExitStack() as daemons:
                mdns, mdns_dns, mdns_http = daemons.enter_context(mesos_dns(master.port, work, 300))
                proxy, _ = daemons.enter_context(
                    dns_proxy(master.port, (mdns_dns, mdns_http), work, 300)
                )
                time.sleep(3)  # a few of the proxy's state reads (every second)
                memories += both(args.tasks, "loaded + 3 s", mdns, proxy)

    half = results["dnsmasq"].qps / 2
    print(f"{seconds} s a phase, dnsperf -c 1 -q 64, {NAMES:,} names, one task each")
    print(f"{'server':<56} {'qps':>9} {'avg lat.':>11} {'lost':>6} {'NOERROR':>7}  target")
    print(row("dnsmasq 2.90, appN.marathon.mesos (hosts file)", results["dnsmasq"],
              f"anchor {DNSMASQ_IDLE:,} qps idle here"))  # fmt: skip
    authoritative = f"≥ {half:,.0f} (half of dnsmasq)"
    print(row("our Mesos-DNS, appN.marathon.mesos", results["mesos_dns"],
              f"{authoritative}; Mesos-DNS {MESOS_DNS_ANCHOR:,}/core, "
              f"CoreDNS {COREDNS_ANCHOR:,} on 2 vCPU"))  # fmt: skip
    print(row("our proxy, appN.marathon.autoip.dcos.thisdcos.directory", results["proxy_local"],
              authoritative))  # fmt: skip
    print(row("our proxy forwarding appN.marathon.mesos to Mesos-DNS", results["proxy_forward"],
              "(forwarding: latency below)"))  # fmt: skip
    direct, forward = results["direct_5k"], results["forward_5k"]
    print(f"at a fixed {RATE:,} qps (dnsperf -Q {RATE} -v), latency in ms:")
    print(f"{'':<30} {'qps':>8} {'avg':>7} {'p50':>7} {'p99':>7} {'lost':>6}")
    for label, perf in (("Mesos-DNS directly", direct), ("through the proxy", forward)):
        print(f"{label:<30} {perf.qps:>8,.0f} {perf.avg_ms:>7.3f} {perf.percentile(50):>7.3f} "
              f"{perf.percentile(99):>7.3f} {perf.lost:>6}")  # fmt: skip
    print(f"{'added by the proxy':<30} {'':>8} {forward.avg_ms - direct.avg_ms:>7.3f} "
          f"{forward.percentile(50) - direct.percentile(50):>7.3f} "
          f"{forward.percentile(99) - direct.percentile(99):>7.3f}  target ≤ 1 ms")  # fmt: skip
    print_memories(memories)
    return 0


def print_memories(memories: Sequence[Measured]) -> None:
    print("memory, MiB (total: the gunicorn arbiter and worker; peak: the worker's VmHWM):")
    columns = "".join(f"{c:>12}" for c in ("PSS total", "RSS total", "worker RSS", "worker peak"))
    print(f"{'daemon':<12} {'tasks':>7} {'when':<15}{columns}")
    for label, tasks, when, mem in memories:
        target = "target ≤ 100 MiB" if tasks >= 10_000 else ""
        print(memory_row(label, tasks, when, mem, target))


def memory_only(tasks: int) -> int:
    """Both daemons' memory, started afresh for each state size: none, NAMES and `tasks`."""
    recorded = json.loads(FIXTURE.read_text())
    print(machine_line())
    memories: list[Measured] = []
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="pydcos-dns-bench-"))
        stack.callback(shutil.rmtree, work, True)
        master = MasterStandIn(grow_state(recorded, 0))
        stack.callback(master.stop)
        for size in dict.fromkeys((0, NAMES, tasks)):
            master.set_state(grow_state(recorded, size))
            with ExitStack() as daemons:
                mdns, mdns_dns, mdns_http = daemons.enter_context(mesos_dns(master.port, work, 300))
                proxy, _ = daemons.enter_context(
                    dns_proxy(master.port, (mdns_dns, mdns_http), work, 300)
                )
                time.sleep(3)  # let the first loads' garbage go, as the full run does
                memories += both(size, "loaded + 3 s", mdns, proxy)
    print_memories(memories)
    return 0


if __name__ == "__main__":
    sys.exit(main())
