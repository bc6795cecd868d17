"""The DNS proxy on the wire: the `dcos-dns-proxy` daemon as a process, asked with `dig` and raw
sockets. Everything stays on loopback, and every other server is one this module starts:

- the proxy listens on 127.0.0.1, .6 and .7 (one port), as it does on 198.51.100.1, .2, .3;
- "masters" 127.0.0.2 and 127.0.0.3: Mesos-DNS stand-ins (the kit's `DnsServer` serving a
  `mesos` zone whose `who.mesos` names the stand-in), and on 127.0.0.2 an HTTP server giving the
  recorded `/master/state` (tests/fixtures/mesos_dns) and the `/v1/axfr` our Mesos-DNS record
  core makes of it;
- the upstream resolver on 127.0.0.4, the `corp.test` forward zone's resolver on 127.0.0.5
  (kit `DnsServer`s too).

The stand-in has no operator event stream (its `POST /api/v1` is refused), so the proxy's
master follower only reads its state, every `state_refresh_interval`. A last test follows a
real master (ZooKeeper and `daemons.master`); tests/integration/mesos_dns/
test_dns_proxy_following.py follows a whole cluster's events."""

from __future__ import annotations

import contextlib
import http.server
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from daemons.kit.dns import wire, zone
from daemons.kit.dns.server import DnsServer
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import generate
from daemons.mesos_dns.zone import axfr
from tests.integration.dns_client import (
    assert_200_questions_are_formerr,
    assert_65535_byte_messages,
    assert_garbage_is_formerr,
    assert_truncated_is_formerr,
    dig,
    header_of,
    query,
    udp_exchange,
)
from tools import processes

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mesos_dns" / "master_state.json"
LISTEN = ("127.0.0.1", "127.0.0.6", "127.0.0.7")
MASTERS = ("127.0.0.2", "127.0.0.3")
UPSTREAM, CORP = "127.0.0.4", "127.0.0.5"
UPSTREAM_TIMEOUT, TIMEOUT = 1.0, 2.0
SOA = zone.SOA("ns1.mesos", "root.ns1.mesos", 1700000000)


def standin(ip: str, port: int, apex: str, records: list[zone.Record]) -> DnsServer:
    """An authoritative server for `apex` on (ip, port): the kit's DnsServer and zone."""
    table = zone.build_zone(apex, SOA, records, ttl=60)
    rng = random.Random()

    def resolve(q: wire.Query) -> bytes:
        return table.reply(q, rng) or wire.rcode_reply(q, wire.REFUSED)

    server = DnsServer([(ip, port)], resolve)
    server.start()
    return server


class Silent:
    """An upstream that is up and never answers: UDP and TCP bound, nothing read."""

    def __init__(self, ip: str, port: int) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((ip, port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((ip, port))
        self.tcp.listen(8)

    def stop(self) -> None:
        self.udp.close()
        self.tcp.close()


class MesosDns:
    """The Mesos-DNS stand-in of one master: `start()`, `stop()` (closed port), `silence()`."""

    def __init__(self, ip: str, port: int) -> None:
        self.ip, self.port = ip, port
        self.records: list[zone.Record] = [
            zone.A("leader.mesos", "10.0.4.11"),
            zone.A("who.mesos", ip),
            zone.SRV("_web._tcp.marathon.mesos", "web-a1b2c-s0.marathon.slave.mesos", 31000),
            zone.A("web-a1b2c-s0.marathon.slave.mesos", "10.0.6.21"),
        ]
        self.server: DnsServer | Silent | None = None

    def start(self) -> None:
        self.stop()
        self.server = standin(self.ip, self.port, "mesos", self.records)

    def silence(self) -> None:
        self.stop()
        self.server = Silent(self.ip, self.port)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class StateServer:
    """The recorded `/master/state` and its Mesos-DNS `/v1/axfr`, over HTTP on (ip, port)."""

    def __init__(self, ip: str, port: int) -> None:
        self.address = (ip, port)
        state = json.loads(FIXTURE.read_text())
        config = MesosDnsConfig()
        body = axfr(generate(state, config, ["10.0.4.11:5050"], serial=1), config)
        pages = {"/master/state": json.dumps(state).encode(), "/v1/axfr": json.dumps(body).encode()}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = pages.get(self.path)
                self.send_response(200 if page else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(page or b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.handler = Handler
        self.start()

    def start(self) -> None:
        self.httpd = http.server.ThreadingHTTPServer(self.address, self.handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Cluster:
    port: int  # the proxy's DNS port on every LISTEN address
    http: str  # its HTTP API
    mesos_dns: list[MesosDns]
    state: StateServer
    pid: int


def start_proxy(config: dict[str, Any], state_dir: Path) -> int:
    return processes.start_daemon(
        "dnsproxy.main", config, state_dir / "dns-proxy.toml", state_dir / "dns-proxy.log"
    )


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    dns_port = processes.free_port(MASTERS[0])
    http_port = processes.free_port(MASTERS[0])
    masters = [MesosDns(ip, dns_port) for ip in MASTERS]
    for m in masters:
        m.start()
    upstream_port, corp_port = processes.free_port(UPSTREAM), processes.free_port(CORP)
    upstream = standin(UPSTREAM, upstream_port, "example", [zone.A("www.example", "192.0.2.80")])
    corp = standin(CORP, corp_port, "corp.test", [zone.A("git.corp.test", "192.0.2.90")])
    state = StateServer(MASTERS[0], http_port)
    port = processes.free_port(LISTEN[0])
    config = {
        "listen": [f"{ip}:{port}" for ip in LISTEN],
        "ip": "127.0.0.1",
        "port": processes.free_port(),
        "masters": list(MASTERS),
        "master_port": http_port,
        "mesos_dns_port": dns_port,
        "mesos_dns_http_port": http_port,
        "state_refresh_interval": 0.5,
        "axfr_interval": 0.5,
        "upstream_resolvers": [f"{UPSTREAM}:{upstream_port}"],
        "forward_zones": {"corp.test": [f"{CORP}:{corp_port}"]},
        "upstream_timeout": UPSTREAM_TIMEOUT,
        "timeout": TIMEOUT,
    }
    state_dir = tmp_path_factory.mktemp("dnsproxy")
    pid = start_proxy(config, state_dir)
    url = f"http://127.0.0.1:{config['port']}"
    try:
        wait_for(lambda: all(requests.get(url + "/health", timeout=2).json()[k] for k in
                             ("state_loaded", "mesos_loaded")))  # fmt: skip
        yield Cluster(port, url, masters, state, pid)
    finally:
        processes.stop_pid(pid)
        print(processes.log_tail(state_dir / "dns-proxy.log"))
        for server in (*masters, upstream, corp, state):
            server.stop()


def still_answers(cluster: Cluster) -> None:
    assert processes.pid_alive(cluster.pid)
    result = dig(cluster.port, "ready.spartan")
    assert (result.status, result.answer) == ("NOERROR", [
        ["ready.spartan.", "5", "IN", "A", "127.0.0.1"]])  # fmt: skip


# -- local zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize("server", LISTEN)
@pytest.mark.parametrize("transport", ["+notcp", "+tcp"])
def test_ready_spartan_on_every_address_over_udp_and_tcp(
    cluster: Cluster, server: str, transport: str
) -> None:
    result = dig(cluster.port, transport, "ready.spartan", server=server)
    assert (result.status, result.answer) == ("NOERROR", [
        ["ready.spartan.", "5", "IN", "A", "127.0.0.1"]])  # fmt: skip
    assert "aa" in result.flags
    assert result.transport == ("TCP" if transport == "+tcp" else "UDP")


def test_zk_names_are_the_masters_round_to_five(cluster: Cluster) -> None:
    got = [dig(cluster.port, f"zk-{n}.zk").answer for n in range(1, 6)]
    ips = [MASTERS[0], MASTERS[1], MASTERS[0], MASTERS[1], MASTERS[0]]
    assert got == [[[f"zk-{n + 1}.zk.", "5", "IN", "A", ip]] for n, ip in enumerate(ips)]


@pytest.mark.parametrize(
    ("name", "ips"),
    [
        ("web.marathon.autoip.dcos.thisdcos.directory", ["10.0.6.21", "10.0.6.22"]),
        ("myapp-mygroup.marathon.containerip.dcos.thisdcos.directory", ["9.0.1.5"]),
        ("web.marathon.agentip.dcos.thisdcos.global", ["10.0.6.21", "10.0.6.22"]),
        ("leader.dcos.thisdcos.directory", ["10.0.4.11"]),
        ("leader.mesos.thisdcos.directory", ["10.0.4.11"]),
        ("web.marathon.mesos.thisdcos.directory", ["10.0.6.21", "10.0.6.22"]),
    ],
)
def test_task_and_mesos_names_from_the_state_with_ttl_5(
    cluster: Cluster, name: str, ips: list[str]
) -> None:
    result = dig(cluster.port, name)
    assert result.status == "NOERROR"
    assert sorted(result.answer) == [[name + ".", "5", "IN", "A", ip] for ip in ips]


def test_unknown_local_names_are_nxdomain_with_the_soa(cluster: Cluster) -> None:
    for name in ("nope.marathon.autoip.dcos.thisdcos.directory", "x.l4lb.thisdcos.directory",
                 "nope.spartan"):  # fmt: skip
        result = dig(cluster.port, name)
        assert (result.status, result.answer) == ("NXDOMAIN", []), name
        soa = [line[3:6] for line in result.authority]
        assert soa == [["SOA", "ns.spartan.", "support.mesosphere.com."]], name
        assert result.authority[0][1] == "5"


def test_the_last_good_names_stay_while_no_master_answers(cluster: Cluster) -> None:
    name = "web.marathon.autoip.dcos.thisdcos.directory"
    health = cluster.http + "/health"
    cluster.state.stop()
    try:
        time.sleep(1.5)  # reads fail (the stand-in has no event stream: read every 0.5 s)
        result = dig(cluster.port, name)
        assert (result.status, len(result.answer)) == ("NOERROR", 2)
        rebuilds = requests.get(health, timeout=5).json()["rebuilds"]
    finally:
        cluster.state.start()
    time.sleep(1.0)
    assert requests.get(health, timeout=5).json()["rebuilds"] == rebuilds  # the same names
    assert len(dig(cluster.port, name).answer) == 2


# -- .mesos: both Mesos-DNS, one dead, all dead ---------------------------------------------------


def test_mesos_names_go_to_mesos_dns_on_the_masters(cluster: Cluster) -> None:
    seen = set()
    for transport in ("+notcp", "+tcp"):
        for _ in range(10):
            result = dig(cluster.port, transport, "who.mesos")
            assert result.status == "NOERROR"
            (line,) = result.answer
            assert line[:4] == ["who.mesos.", "60", "IN", "A"]  # Mesos-DNS's TTL, passed on
            seen.add(line[4])
    assert seen <= set(MASTERS)
    srv = dig(cluster.port, "_web._tcp.marathon.mesos", "SRV")
    assert srv.answer[0][4:] == ["0", "1", "31000", "web-a1b2c-s0.marathon.slave.mesos."]


@pytest.mark.parametrize("fault", ["stop", "silence"])
def test_one_master_down_no_query_waits(cluster: Cluster, fault: str) -> None:
    down, up = cluster.mesos_dns
    getattr(down, fault)()
    try:
        for transport in ("+notcp", "+tcp"):
            for _ in range(10):
                result = dig(cluster.port, transport, "who.mesos", timeout=3)
                assert (result.status, result.answer[0][4]) == ("NOERROR", up.ip)
                assert result.seconds < 1.0, result
    finally:
        down.start()


def test_every_master_down_is_servfail_within_the_timeout(cluster: Cluster) -> None:
    try:
        for m in cluster.mesos_dns:
            m.stop()  # closed ports: refused at once
        for transport in ("+notcp", "+tcp"):
            result = dig(cluster.port, transport, "leader.mesos", timeout=5)
            assert result.status == "SERVFAIL"
            assert result.seconds < UPSTREAM_TIMEOUT + 0.5
        for m in cluster.mesos_dns:
            m.silence()  # up and mute: each upstream's timeout
        for transport in ("+notcp", "+tcp"):
            result = dig(cluster.port, transport, "leader.mesos", timeout=5)
            assert result.status == "SERVFAIL"
            assert UPSTREAM_TIMEOUT - 0.1 <= result.seconds < TIMEOUT + 0.5
    finally:
        for m in cluster.mesos_dns:
            m.start()
    assert dig(cluster.port, "leader.mesos").status == "NOERROR"


# -- other names ----------------------------------------------------------------------------------


def test_other_names_go_to_the_upstream_and_forward_zones_to_theirs(cluster: Cluster) -> None:
    for transport in ("+notcp", "+tcp"):
        result = dig(cluster.port, transport, "www.example")
        assert (result.status, result.answer) == ("NOERROR", [
            ["www.example.", "60", "IN", "A", "192.0.2.80"]])  # fmt: skip
        corp = dig(cluster.port, transport, "git.corp.test")
        assert (corp.status, corp.answer) == ("NOERROR", [
            ["git.corp.test.", "60", "IN", "A", "192.0.2.90"]])  # fmt: skip
    # names no upstream knows: the upstream's own answer (REFUSED from this stand-in)
    assert dig(cluster.port, "nothing.invalid").status == "REFUSED"


# -- bad queries ----------------------------------------------------------------------------------


def test_garbage_is_formerr_or_dropped_and_the_proxy_keeps_serving(cluster: Cluster) -> None:
    rng = random.Random(13)
    assert_garbage_is_formerr(cluster.port, rng)
    for _ in range(50):  # anything at all: a reply is FORMERR or an answer, never a crash
        reply = udp_exchange(cluster.port, rng.randbytes(rng.randrange(0, 600)), timeout=0.1)
        assert reply is None or header_of(reply)[1] == 1
    still_answers(cluster)


def test_truncated_packets_get_formerr_or_nothing_below_12_bytes(cluster: Cluster) -> None:
    assert_truncated_is_formerr(cluster.port, query("ready.spartan"))
    still_answers(cluster)


def test_65535_byte_queries_over_tcp(cluster: Cluster) -> None:
    assert_65535_byte_messages(cluster.port, query("ready.spartan"), ["127.0.0.1"])
    assert_65535_byte_messages(cluster.port, query("leader.mesos"), ["10.0.4.11"])  # forwarded
    still_answers(cluster)


def test_unknown_types_are_answered(cluster: Cluster) -> None:
    local = dig(cluster.port, "ready.spartan", "TYPE65280")
    assert (local.status, local.answer, len(local.authority)) == ("NOERROR", [], 1)
    forwarded = dig(cluster.port, "who.mesos", "TYPE65280")  # Mesos-DNS's NODATA, passed on
    assert (forwarded.status, forwarded.answer, len(forwarded.authority)) == ("NOERROR", [], 1)
    still_answers(cluster)


def test_200_questions_in_one_packet_are_formerr(cluster: Cluster) -> None:
    assert_200_questions_are_formerr(cluster.port, query("ready.spartan"))
    still_answers(cluster)


def test_http_api(cluster: Cluster) -> None:
    assert requests.get(cluster.http + "/v1/version", timeout=5).json() == {
        "Service": "dcos-dns", "Version": "0.2.0"}  # fmt: skip
    records = requests.get(cluster.http + "/v1/records", timeout=5).json()
    assert {"name": "ready.spartan.", "host": "127.0.0.1", "rtype": "A"} in records
    hosts = requests.get(cluster.http + "/v1/hosts/leader.dcos.thisdcos.directory", timeout=5)
    assert hosts.json() == [{"host": "leader.dcos.thisdcos.directory.", "ip": "10.0.4.11"}]
    services = requests.get(
        cluster.http + "/v1/services/_leader._tcp.mesos.thisdcos.directory", timeout=5
    ).json()
    assert services == [{"service": "_leader._tcp.mesos.thisdcos.directory",
                         "host": "leader.mesos.thisdcos.directory.", "ip": "10.0.4.11",
                         "port": "5050"}]  # fmt: skip
    health = requests.get(cluster.http + "/health", timeout=5).json()
    assert health["counters"]["queries"] > 0


# -- a real master --------------------------------------------------------------------------------


def test_the_leader_from_a_real_masters_state(
    start_master: Callable[..., Any], tmp_path: Path
) -> None:
    master = start_master()
    port = processes.free_port()
    config = {
        "listen": [f"127.0.0.1:{port}"],
        "ip": "127.0.0.1",
        "port": processes.free_port(),
        "masters": ["127.0.0.1"],
        "master_port": master.port,
    }
    pid = start_proxy(config, tmp_path)
    try:
        wait_for(lambda: dig(port, "leader.dcos.thisdcos.directory").status == "NOERROR")
        result = dig(port, "leader.dcos.thisdcos.directory")
        assert result.answer == [["leader.dcos.thisdcos.directory.", "5", "IN", "A", "127.0.0.1"]]
        # no Mesos-DNS and no upstream here: .mesos fails at once, other names are refused
        assert dig(port, "leader.mesos").status == "SERVFAIL"
        assert dig(port, "www.example").status == "REFUSED"
    finally:
        with contextlib.suppress(OSError):
            processes.stop_pid(pid)
