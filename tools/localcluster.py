"""`make local`: PyDCOS on loopback — ZooKeeper, one master, two agents, the DNS proxy, Mesos-DNS,
Marathon, Metronome, diagnostics and the front door (IAM, Admin Router's auth daemon and
nginx: tools/localfrontdoor.py).

    python -m tools.localcluster up       # start what is not running; wait until all of it serves
    python -m tools.localcluster status   # what runs, and the agents the master sees
    python -m tools.localcluster down     # stop everything, containers included

Everything lives under one state folder (default `.local/` in the repo): configs, ZooKeeper data,
work dirs, `pids/<name>.pid` and `logs/<name>.log`. Default ports: ZooKeeper 2181, master 5050,
agents 5051 and 5052, the DNS proxy 8053 (DNS, UDP and TCP) and 8054 (HTTP), Mesos-DNS 61053
(DNS, UDP and TCP) and 8123 (HTTP), Marathon 8080, Metronome 9000, IAM 8101, Admin Router's
auth daemon 8102, the UI backend 8107, Admin Router (nginx) 8880 and diagnostics 1050
(`--base-port` moves the
master and agents, and the others by the same offset, Mesos-DNS's DNS port to the one after its
HTTP port; `--zk-port` moves ZooKeeper; so tests can run a second cluster beside a
developer's). The DNS proxy sends `.mesos` to Mesos-DNS: `dig @127.0.0.1 -p 61053 leader.mesos`
asks Mesos-DNS itself. Mesos-DNS starts once both agents are registered, follows the master
through ZooKeeper and counts as up once it serves the leader's name; Marathon and Metronome
start after it, and keep their state in ZooKeeper (`/marathon`, `/metronome`). Each agent's
containers go in cgroups under its own `cgroups_root`, `pydcos-local-<agent>`
(`pydcos-local-<hash>-<agent>` for other state folders); `down` kills what is left in them after
the agents stop, since an agent's own shutdown leaves its tasks running by design.

Diagnostics (1050) has no systemd units to read on loopback: it watches each component by its
pid file instead (`pid_files`: `dcos-<component>.service` -> `pids/<name>.pid`; healthy while
the pid names a live process) and answers for this one node (docs/diagnostics.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tools import localfrontdoor, processes
from tools.localfrontdoor import (
    ADMINROUTER,
    ADMINROUTER_AUTH,
    FRONT_DOOR,
    FRONT_DOOR_PORTS,
    IAM,
    LOCAL_SUPERUSER,
    UI_BACKEND,
)

DEFAULT_STATE_DIR = processes.REPO_ROOT / ".local"
DEFAULT_BASE_PORT = 5050
DEFAULT_ZK_PORT = 2181
HOST = "127.0.0.1"
AGENTS = ("agent-1", "agent-2")
# Frameworks on the master, with their default port (moved by base_port - DEFAULT_BASE_PORT), the
# module they run, and the path that answers 200 once they elected a leader.
FRAMEWORKS = ("marathon", "metronome")
DNS_PROXY = "dns-proxy"
# The proxy's DNS and HTTP ports (moved like the frameworks'), and where it finds Mesos-DNS:
# HTTP 8123 moved like them, DNS 61053 or, with another base port, the one after its HTTP port
# (61053 moved as far would leave the port range).
DNS_PROXY_PORTS = {"dns": 8053, "http": 8054}
MESOS_DNS_PORT, MESOS_DNS_HTTP_PORT = 61053, 8123
# Mesos-DNS runs on these ports too (`Cluster.mesos_dns_ports`; `port()` gives its HTTP port).
MESOS_DNS = "mesos-dns"
# Minuteman programs this machine's nftables (table `ip dcos_l4lb`) and routes the VIP range
# `local` on lo, as on a node: one local cluster per machine has VIPs. `down` removes both.
MINUTEMAN = "minuteman"
MINUTEMAN_PORT = 61421
VIP_RANGE = "198.19.0.0/16"
FRAMEWORK_PORTS = {"marathon": 8080, "metronome": 9000}
# Diagnostics (component health), on its DC/OS port moved by base_port - DEFAULT_BASE_PORT
# like the frameworks'.
DIAGNOSTICS = "diagnostics"
DIAGNOSTICS_PORT = 1050
# The systemd unit each component would be on a node: the names diagnostics reports.
UNIT_NAMES = {"master": "dcos-mesos-master", "agent-1": "dcos-mesos-agent-1",
              "agent-2": "dcos-mesos-agent-2"}  # fmt: skip

DAEMON_MODULES = {
    "master": "daemons.master.main",
    DNS_PROXY: "dnsproxy.main",
    MINUTEMAN: "minuteman.main",
    IAM: "daemons.iam.main",
    ADMINROUTER_AUTH: "daemons.adminrouter.main",
    UI_BACKEND: "daemons.ui.main",
}
FRAMEWORK_MODULES = {"marathon": "daemons.marathon.main", "metronome": "daemons.metronome.main"}
LEADER_PATHS = {"marathon": "/v2/leader", "metronome": "/leader"}
# A path the leader answers 200 only once it has loaded its state (before that, 503): a
# framework is up when this answers, not when it names a leader.
READY_PATHS = {"marathon": "/v2/apps", "metronome": "/v1/jobs"}
AGENT_RESOURCES = {
    "agent-1": "cpus:8;mem:12288;disk:20000;ports:[31000-32000]",
    "agent-2": "cpus:8;mem:12288;disk:20000;ports:[32001-33000]",
}
REGISTER_TIMEOUT = 60.0
LEADER_TIMEOUT = 60.0


@dataclass(frozen=True)
class Cluster:
    state_dir: Path
    base_port: int = DEFAULT_BASE_PORT
    zk_port: int = DEFAULT_ZK_PORT
    # Extra keys of both agents' config (benchmarks compare settings, e.g. executor_launch).
    agent_options: tuple[tuple[str, Any], ...] = ()

    @property
    def components(self) -> tuple[str, ...]:
        return (
            "zookeeper",
            "master",
            DNS_PROXY,
            MINUTEMAN,
            *AGENTS,
            MESOS_DNS,
            *FRAMEWORKS,
            *FRONT_DOOR,
            DIAGNOSTICS,
        )

    @property
    def master_url(self) -> str:
        return f"http://{HOST}:{self.base_port}"

    @property
    def zk_url(self) -> str:
        return f"zk://{HOST}:{self.zk_port}/mesos"

    @property
    def dns_proxy_port(self) -> int:
        """The DNS proxy's DNS port (UDP and TCP) on 127.0.0.1."""
        return DNS_PROXY_PORTS["dns"] + self.base_port - DEFAULT_BASE_PORT

    @property
    def mesos_dns_ports(self) -> tuple[int, int]:
        """Mesos-DNS's ports on 127.0.0.1, where the proxy finds it: (DNS, HTTP)."""
        http = MESOS_DNS_HTTP_PORT + self.base_port - DEFAULT_BASE_PORT
        return (MESOS_DNS_PORT if self.base_port == DEFAULT_BASE_PORT else http + 1), http

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.port(name)}"

    def cgroups_root(self, agent: str) -> str:
        """The agent's `cgroups_root`: a plain name (no '/'), unique to this state folder."""
        if self.state_dir == DEFAULT_STATE_DIR:
            return f"pydcos-local-{agent}"
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:8]
        return f"pydcos-local-{digest}-{agent}"

    def port(self, name: str) -> int:
        if name == "zookeeper":
            return self.zk_port
        if name == "master":
            return self.base_port
        if name in FRAMEWORKS:
            return FRAMEWORK_PORTS[name] + self.base_port - DEFAULT_BASE_PORT
        if name in FRONT_DOOR:
            return FRONT_DOOR_PORTS[name] + self.base_port - DEFAULT_BASE_PORT
        if name == DIAGNOSTICS:
            return DIAGNOSTICS_PORT + self.base_port - DEFAULT_BASE_PORT
        if name == DNS_PROXY:
            return DNS_PROXY_PORTS["http"] + self.base_port - DEFAULT_BASE_PORT
        if name == MESOS_DNS:
            return self.mesos_dns_ports[1]
        if name == MINUTEMAN:
            # 61421 moved would leave the port range: with another base port, after Mesos-DNS's.
            if self.base_port == DEFAULT_BASE_PORT:
                return MINUTEMAN_PORT
            return self.mesos_dns_ports[1] + 2
        return self.base_port + 1 + AGENTS.index(name)

    def pid_file(self, name: str) -> Path:
        return self.state_dir / "pids" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def config_file(self, name: str) -> Path:
        if name == "zookeeper":
            return self.state_dir / "zookeeper" / "zoo.cfg"
        if name == ADMINROUTER:
            return self.state_dir / name / "nginx.conf"
        return self.state_dir / name / f"{name}.toml"

    def config(self, name: str) -> dict[str, Any]:
        if name == MESOS_DNS:
            # Mesos-DNS's own config.json keys; no upstream resolvers on loopback (other
            # names are REFUSED), a short TTL for development.
            mesos_dns = {
                "zk": self.zk_url,
                "listener": HOST,
                "port": self.mesos_dns_ports[0],
                "HTTPListener": HOST,
                "httpport": self.mesos_dns_ports[1],
                "resolvers": [],
                "ttl": 5,
            }
            return {"mesos_dns": mesos_dns, "threads": 4}
        if name == DNS_PROXY:
            return {
                "listen": [f"{HOST}:{self.dns_proxy_port}"],
                "ip": HOST,
                "port": self.port(name),
                "masters": [HOST],
                "zk": self.zk_url,
                "master_port": self.base_port,
                "mesos_dns_port": self.mesos_dns_ports[0],
                "mesos_dns_http_port": self.mesos_dns_ports[1],
            }
        if name == MINUTEMAN:
            return {
                "ip": HOST,
                "port": self.port(name),
                "zk": self.zk_url,
                "masters": [HOST],
                "master_port": self.base_port,
                "named_ip_range": VIP_RANGE,
            }
        if name in FRONT_DOOR:
            return localfrontdoor.config(self, name)
        if name == DIAGNOSTICS:
            units = {
                f"{UNIT_NAMES.get(c, 'dcos-' + c)}.service": str(self.pid_file(c))
                for c in self.components
            }
            return {"role": "master", "node_ip": HOST, "pid_files": units, "check_interval": 1.0,
                    "ip": HOST, "port": self.port(name)}  # fmt: skip
        if name in FRAMEWORKS:
            address = {"ip": HOST, "port": self.port(name), "hostname": f"{HOST}:{self.port(name)}"}
            return {"zk": f"zk://{HOST}:{self.zk_port}/{name}", "master": self.zk_url, **address}
        common = {
            "ip": HOST,
            "port": self.port(name),
            "hostname": HOST,
            "work_dir": str(self.state_dir / name / "work"),
        }
        if name == "master":
            return {"zk": self.zk_url, **common}
        return {
            "master": self.zk_url,
            **common,
            "resources": AGENT_RESOURCES[name],
            "cgroups_root": self.cgroups_root(name),
            **dict(self.agent_options),
        }


# --- what runs -----------------------------------------------------------------------------------


def running_pid(cluster: Cluster, name: str) -> int | None:
    """The recorded PID of `name` if that process still runs with this cluster's config."""
    try:
        pid = int(cluster.pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None
    if not processes.pid_alive(pid):
        return None
    # nginx rewrites its command line into one string ("nginx: master process … -c <conf>").
    config = str(cluster.config_file(name))
    if any(arg == config or f" {config} " in f" {arg} " for arg in processes.cmdline(pid)):
        return pid
    return None


def strays(cluster: Cluster) -> list[int]:
    """Processes whose command line names a path in the state folder (lost PID files, tasks).

    Paths under `logs/` do not count, so a developer's `tail -f .local/logs/...` is left alone.
    """
    prefix = str(cluster.state_dir) + "/"
    logs = str(cluster.state_dir / "logs") + "/"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        args = processes.cmdline(pid)
        named = any(a.startswith(prefix) and not a.startswith(logs) for a in args)
        if named and processes.pid_alive(pid):
            found.append(pid)
    return found


def leader(cluster: Cluster, name: str) -> str | None:
    """The leading instance a framework names (host:port), or None while it has none."""
    try:
        with urllib.request.urlopen(cluster.url(name) + LEADER_PATHS[name], timeout=2) as resp:
            body = json.load(resp)
    except (OSError, ValueError):
        return None
    found = body.get("leader") if isinstance(body, dict) else None
    return found if isinstance(found, str) and found else None


def serving(cluster: Cluster, name: str) -> bool:
    """The framework has a leader and that leader answers its API (its state is loaded)."""
    if leader(cluster, name) is None:
        return False
    try:
        with urllib.request.urlopen(cluster.url(name) + READY_PATHS[name], timeout=2) as resp:
            return bool(resp.status == 200)
    except (OSError, ValueError):
        return False


def active_agents(cluster: Cluster) -> int | None:
    """Agents the master reports active, or None when the master does not answer."""
    try:
        with urllib.request.urlopen(f"{cluster.master_url}/master/slaves", timeout=2) as resp:
            body = json.load(resp)
    except (OSError, ValueError):
        return None
    return sum(1 for agent in body.get("slaves", []) if agent.get("active"))


# --- commands ------------------------------------------------------------------------------------


def start(cluster: Cluster, name: str) -> int:
    if processes.port_in_use(HOST, cluster.port(name)):
        raise processes.StartFailed(
            f"{name}: port {HOST}:{cluster.port(name)} is already in use by another program"
        )
    if name == "zookeeper":
        return processes.start_zookeeper(
            cluster.state_dir / "zookeeper", cluster.zk_port, cluster.log_file(name)
        )
    if name in FRAMEWORKS:
        return start_framework(cluster, name)
    if name == DIAGNOSTICS:
        return start_answering(cluster, name, "daemons.diagnostics.main", "/system/health/v1", 30.0)
    if name == MESOS_DNS:
        return start_mesos_dns(cluster)
    if name == ADMINROUTER:
        return localfrontdoor.start_nginx(cluster)
    if name == DNS_PROXY and processes.port_in_use(HOST, cluster.dns_proxy_port):
        raise processes.StartFailed(
            f"{name}: port {HOST}:{cluster.dns_proxy_port} is already in use by another program"
        )
    return processes.start_daemon(
        DAEMON_MODULES.get(name, "daemons.agent.main"),
        cluster.config(name),
        cluster.config_file(name),
        cluster.log_file(name),
    )


def start_framework(cluster: Cluster, name: str, timeout: float = 30.0) -> int:
    """Start Marathon or Metronome and wait for its `/ping` (both answer it, leading or not)."""
    return start_answering(cluster, name, FRAMEWORK_MODULES[name], "/ping", timeout)


def start_answering(cluster: Cluster, name: str, module: str, path: str, timeout: float) -> int:
    """Start daemon `name` (`module`) and wait until `path` answers 200 on its port."""
    config_path, log_path = cluster.config_file(name), cluster.log_file(name)
    processes.write_toml(config_path, cluster.config(name))
    argv = processes.daemon_argv(module, config_path)
    pid = processes.spawn(argv, log_path)
    if not processes.wait_healthy(cluster.url(name) + path, pid, timeout):
        alive = not processes.exited(pid)
        processes.stop_pid(pid)
        why = f"no {path} after {timeout:.0f}s" if alive else "exited"
        raise processes.StartFailed(
            f"{name} {why}; log {log_path}:\n{processes.log_tail(log_path)}"
        )
    return pid


def mesos_dns_serving(cluster: Cluster) -> bool:
    """Mesos-DNS has loaded the master's state: its API names the leader."""
    url = f"{cluster.url(MESOS_DNS)}/v1/hosts/leader.mesos"
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            body = json.load(resp)
    except (OSError, ValueError):
        return False
    return isinstance(body, list) and bool(body) and bool(body[0].get("ip"))


def start_mesos_dns(cluster: Cluster, timeout: float = 30.0) -> int:
    """Start Mesos-DNS and wait for its API (`/v1/version`); it serves once it has records."""
    dns_port = cluster.mesos_dns_ports[0]
    if processes.port_in_use(HOST, dns_port):
        raise processes.StartFailed(
            f"{MESOS_DNS}: port {HOST}:{dns_port} is already in use by another program"
        )
    return start_answering(cluster, MESOS_DNS, "daemons.mesos_dns.main", "/v1/version", timeout)


def start_missing(cluster: Cluster, names: tuple[str, ...]) -> bool:
    """Start those of `names` that do not run; False (with a message) when one fails."""
    for name in names:
        pid = running_pid(cluster, name)
        if pid is not None:
            print(f"{name}: already running (pid {pid})")
            continue
        try:
            pid = start(cluster, name)
        except (processes.StartFailed, OSError) as err:
            print(f"{name}: failed to start: {err}", file=sys.stderr)
            print("stop what did start with: make local-stop", file=sys.stderr)
            return False
        cluster.pid_file(name).write_text(f"{pid}\n")
        print(f"{name}: started (pid {pid}, port {cluster.port(name)})")
    return True


def wait_until(
    ready: Callable[[], bool], timeout: float, what: str, cluster: Cluster, logs: tuple[str, ...]
) -> bool:
    """Poll `ready()` until true; after `timeout` print why and the logs' tails."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            print(f"{what} within {timeout:.0f}s", file=sys.stderr)
            for name in logs:
                print(f"--- {cluster.log_file(name)}", file=sys.stderr)
                print(processes.log_tail(cluster.log_file(name), 30), file=sys.stderr)
            return False
        time.sleep(0.25)
    return True


def up(cluster: Cluster) -> int:
    for folder in ("pids", "logs"):
        (cluster.state_dir / folder).mkdir(parents=True, exist_ok=True)
    if not start_missing(cluster, ("zookeeper", "master", DNS_PROXY, MINUTEMAN, *AGENTS)):
        return 1
    if not wait_until(
        lambda: (active_agents(cluster) or 0) >= len(AGENTS),
        REGISTER_TIMEOUT,
        "agents did not register",
        cluster,
        ("master", *AGENTS),
    ):
        return 1
    if not start_missing(cluster, (MESOS_DNS,)):
        return 1
    if not wait_until(
        lambda: mesos_dns_serving(cluster),
        LEADER_TIMEOUT,
        "Mesos-DNS loaded no state of the master",
        cluster,
        (MESOS_DNS, "master"),
    ):
        return 1
    # The frameworks come last: they register with the master and offers need the agents.
    if not start_missing(cluster, FRAMEWORKS):
        return 1
    if not wait_until(
        lambda: all(serving(cluster, name) for name in FRAMEWORKS),
        LEADER_TIMEOUT,
        "Marathon or Metronome elected no leader that serves its API",
        cluster,
        FRAMEWORKS,
    ):
        return 1
    if not start_missing(cluster, FRONT_DOOR):
        return 1
    # Diagnostics last: it reports every other component.
    if not start_missing(cluster, (DIAGNOSTICS,)):
        return 1
    print(f"PyDCOS is up: {len(AGENTS)} agents registered. Master: {cluster.master_url}")
    print(f"Marathon: {cluster.url('marathon')}  Metronome: {cluster.url('metronome')}")
    print(f"DNS proxy: dig @{HOST} -p {cluster.dns_proxy_port} leader.dcos.thisdcos.directory")
    mesos_dns = cluster.mesos_dns_ports[0]
    print(f"Mesos-DNS: dig @{HOST} -p {mesos_dns} leader.mesos  ({cluster.url(MESOS_DNS)})")
    print(f"Minuteman: VIPs of Marathon ports labelled VIP_0 (e.g. \"/web:80\"), listed at "
          f"{cluster.url(MINUTEMAN)}/v1/vips; nft list table ip dcos_l4lb")  # fmt: skip
    print(f"Admin Router: {cluster.url(ADMINROUTER)}/  login {LOCAL_SUPERUSER[0]} / "
          f"{LOCAL_SUPERUSER[1]} (token: POST /acs/api/v1/auth/login)")  # fmt: skip
    print(f"Component health: {cluster.url(DIAGNOSTICS)}/system/health/v1")
    return 0


def down(cluster: Cluster) -> int:
    for name in reversed(cluster.components):
        pid = running_pid(cluster, name)
        if pid is not None:
            processes.stop_pid(pid, grace=10.0)
            print(f"{name}: stopped (pid {pid})")
        cluster.pid_file(name).unlink(missing_ok=True)
        if name in AGENTS:  # the agent is down: its containers go next
            killed = processes.kill_cgroups(cluster.cgroups_root(name))
            if killed:
                print(f"{name}: killed {len(killed)} container processes")
        if name == MINUTEMAN and pid is not None:  # a node keeps them; a local cluster not
            remove_vips()
            print(f"{name}: nftables table ip dcos_l4lb and the route of {VIP_RANGE} removed")
    for pid in strays(cluster):
        what = " ".join(processes.cmdline(pid))[:100]
        processes.stop_pid(pid, grace=5.0)
        print(f"stray process stopped (pid {pid}: {what})")
    return 0


def remove_vips() -> None:
    """Minuteman's table and the `local` route of the VIP range (it leaves both when stopped,
    as on a node, where only uninstall removes them)."""
    subprocess.run(["nft", "delete", "table", "ip", "dcos_l4lb"], capture_output=True)
    route = ["ip", "route", "del", "local", VIP_RANGE, "dev", "lo", "table", "local"]
    subprocess.run(route, capture_output=True)


def status(cluster: Cluster) -> int:
    up_count = 0
    for name in cluster.components:
        pid = running_pid(cluster, name)
        state = f"running (pid {pid})" if pid is not None else "stopped"
        up_count += pid is not None
        print(f"{name:10} {HOST}:{cluster.port(name):<5} {state}")
    agents = active_agents(cluster)
    if agents is not None:
        print(f"master {cluster.master_url}: {agents} active agents")
    for name in FRAMEWORKS:
        if running_pid(cluster, name) is not None:
            print(f"{name} {cluster.url(name)}: leader {leader(cluster, name) or 'none yet'}")
    if running_pid(cluster, DNS_PROXY) is not None:
        print(f"{DNS_PROXY}: DNS on {HOST}:{cluster.dns_proxy_port} (UDP and TCP)")
    if running_pid(cluster, MESOS_DNS) is not None:
        print(f"{MESOS_DNS}: DNS on {HOST}:{cluster.mesos_dns_ports[0]} (UDP and TCP)")
    return 0 if up_count == len(cluster.components) else 3


# --- entry point ---------------------------------------------------------------------------------


def load_cluster(args: argparse.Namespace) -> Cluster:
    """The ports of a cluster that runs from this folder, else those given, else the defaults."""
    state_dir = Path(args.state_dir).resolve()
    recorded: dict[str, Any] = {}
    saved = state_dir / "cluster.json"
    if saved.exists():
        recorded = json.loads(saved.read_text())
    previous = Cluster(state_dir, **recorded)
    if any(running_pid(previous, name) is not None for name in previous.components):
        differs = (args.base_port not in (None, previous.base_port)) or (
            args.zk_port not in (None, previous.zk_port)
        )
        if differs:
            print(f"note: a cluster runs from {state_dir}: using its ports", file=sys.stderr)
        return previous
    return Cluster(
        state_dir,
        base_port=args.base_port or recorded.get("base_port") or DEFAULT_BASE_PORT,
        zk_port=args.zk_port or recorded.get("zk_port") or DEFAULT_ZK_PORT,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcluster", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="default: .local/")
    parser.add_argument(
        "--base-port",
        type=int,
        help="master port; agents use the next ones; the DNS proxy, Mesos-DNS, Marathon and"
        " Metronome move by as much",
    )
    parser.add_argument("--zk-port", type=int, help="ZooKeeper client port (default 2181)")
    args = parser.parse_args(argv)
    cluster = load_cluster(args)
    if args.command == "up":
        cluster.state_dir.mkdir(parents=True, exist_ok=True)
        record = {k: v for k, v in asdict(cluster).items() if k != "state_dir"}
        (cluster.state_dir / "cluster.json").write_text(json.dumps(record) + "\n")
        return up(cluster)
    if args.command == "down":
        return down(cluster)
    return status(cluster)


if __name__ == "__main__":
    sys.exit(main())
