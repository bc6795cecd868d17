"""The nftables programs of `minuteman.ruleset` on a real kernel, in a network namespace made
for each test: the kernel takes them, connections to a VIP reach its backends by weight,
established connections keep their backend when the table changes, a VIP with no backend
refuses, an incremental change ends where a full load of the same table does, tables not ours
are never touched, and a backend in a second namespace (another node) answers through the
masquerade.

In the namespace: lo up with the backends' addresses 198.18.0.50 and .51, and the VIP range
routed `local` on lo (the output hook DNATs before the packet leaves)."""

from __future__ import annotations

import ipaddress
import itertools
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import IO

import pytest

from daemons.kit.l4lb.table import Backend, Service, Vip, VipTable
from minuteman import ruleset

if os.geteuid() != 0 or shutil.which("nft") is None:
    pytest.fail("these tests need root and nft (scripts/bootstrap.sh installs nftables)")

VIP_ADDRESS = ipaddress.IPv4Address("198.19.0.9")
WEB = Service(VIP_ADDRESS, "tcp", 80)
ONE, TWO = ("198.18.0.50", 31000), ("198.18.0.51", 31001)

SERVER = textwrap.dedent(
    """
    import http.server, sys
    name, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    http.server.ThreadingHTTPServer((host, port), Handler).serve_forever()
    """
)

# Asks the VIP once per line read on stdin over one kept-alive connection ("same") or a new
# one each time ("new N": N connections), printing who answered.
CLIENT = textwrap.dedent(
    """
    import http.client, sys
    vip = sys.argv[1]
    kept = http.client.HTTPConnection(vip, 80, timeout=3)
    for line in sys.stdin:
        words = line.split()
        try:
            if words[0] == "same":
                kept.request("GET", "/")
                print(kept.getresponse().read().decode(), flush=True)
            else:
                names = []
                for _ in range(int(words[1])):
                    c = http.client.HTTPConnection(vip, 80, timeout=3)
                    c.request("GET", "/", headers={"Connection": "close"})
                    names.append(c.getresponse().read().decode())
                    c.close()
                print(" ".join(names), flush=True)
        except OSError as err:
            print(f"error {type(err).__name__}", flush=True)
    """
)


class Namespace:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *argv: str, input: str | None = None) -> str:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            input=input,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout

    def nft(self, program: str) -> None:
        self.run("nft", "-f", "-", input=program)

    def listing(self) -> str:
        return self.run("nft", "list", "table", "ip", "dcos_l4lb")

    def popen(self, *argv: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def netns() -> Iterator[Namespace]:
    name = f"pydcos-mm-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    ns = Namespace(name)
    servers: list[subprocess.Popen[str]] = []
    try:
        ns.run("ip", "link", "set", "lo", "up")
        for host, port in (ONE, TWO):
            ns.run("ip", "addr", "add", f"{host}/32", "dev", "lo")
            server = ns.popen(sys.executable, "-c", SERVER, f"{host}:{port}", host, str(port))
            servers.append(server)
        ns.run("ip", "route", "add", "local", "198.19.0.0/16", "dev", "lo")
        deadline = time.monotonic() + 10
        while True:
            listening = ns.run("ss", "-ltnH")
            if all(f"{h}:{p}" in listening for h, p in (ONE, TWO)):
                break
            assert time.monotonic() < deadline, listening
            time.sleep(0.05)
        yield ns
    finally:
        for server in servers:
            server.kill()
            server.wait(10)
        subprocess.run(["ip", "netns", "del", name], check=True)


class Client:
    def __init__(self, ns: Namespace) -> None:
        self._process = ns.popen(sys.executable, "-c", CLIENT, str(VIP_ADDRESS))

    def ask(self, line: str) -> list[str]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(line + "\n")
        stdin.flush()
        return _readline(stdout).split()

    def close(self) -> None:
        self._process.kill()
        self._process.wait(10)


def _readline(stream: IO[str]) -> str:
    line = stream.readline()
    assert line, "the client ended"
    return line.strip()


def table(*backends: tuple[tuple[str, int], int]) -> VipTable:
    vip = Vip(WEB, (), tuple(Backend(host, port, weight) for (host, port), weight in backends))
    return VipTable({WEB: vip})


def name(backend: tuple[str, int]) -> str:
    return f"{backend[0]}:{backend[1]}"


def answers_through(netns: Namespace, vips: VipTable, connections: int) -> list[str]:
    """Load `vips`, then who answers each of `connections` new connections to the VIP."""
    netns.nft(ruleset.full(vips))
    client = Client(netns)
    try:
        return client.ask(f"new {connections}")
    finally:
        client.close()


def test_connections_to_a_vip_are_spread_over_its_backends(netns: Namespace) -> None:
    answers = answers_through(netns, table((ONE, 1), (TWO, 1)), 60)
    assert sorted(set(answers)) == [name(ONE), name(TWO)]
    # Uniform choice: each gets 30 on average; 12 or fewer is a 1-in-2,000 tail.
    assert min(answers.count(name(ONE)), answers.count(name(TWO))) > 12


def test_weight_zero_gets_no_new_connection_and_keeps_its_established_one(
    netns: Namespace,
) -> None:
    netns.nft(ruleset.full(table((ONE, 1))))
    client = Client(netns)
    try:
        assert client.ask("same") == [name(ONE)]
        old, new = table((ONE, 1)), table((ONE, 0), (TWO, 1))
        netns.nft(ruleset.changes(old, new))
        assert set(client.ask("new 20")) == {name(TWO)}
        assert client.ask("same") == [name(ONE)]
        # Gone from the table altogether: conntrack still holds the connection's backend.
        netns.nft(ruleset.changes(new, table((TWO, 1))))
        assert client.ask("same") == [name(ONE)]
    finally:
        client.close()


def test_a_vip_with_no_backend_taking_connections_refuses_at_once(netns: Namespace) -> None:
    netns.nft(ruleset.full(table((ONE, 0))))
    client = Client(netns)
    try:
        started = time.monotonic()
        assert client.ask("new 1") == ["error", "ConnectionRefusedError"]
        assert time.monotonic() - started < 1.0
    finally:
        client.close()


def test_changes_end_where_a_full_load_of_the_same_table_does(netns: Namespace) -> None:
    other = Service(ipaddress.IPv4Address("198.19.0.10"), "udp", 53)
    steps = [
        VipTable({}),
        table((ONE, 1)),
        table((ONE, 1), (TWO, 2)),
        # More weight than the standing pick chains: its chain comes and goes with it.
        table(*((("198.18.0.52", 40000 + i), 1) for i in range(ruleset.PICKS + 2))),
        table((ONE, 1), (TWO, 2)),
        VipTable(
            {
                WEB: Vip(WEB, (), (Backend(*ONE, 0),)),
                other: Vip(other, (), (Backend(*TWO, 1),)),
            }
        ),
        VipTable({other: Vip(other, (), (Backend(*TWO, 1),))}),
        VipTable({}),
    ]
    netns.nft(ruleset.full(steps[0]))
    for old, new in itertools.pairwise(steps):
        program = ruleset.changes(old, new)
        if program:
            netns.nft(program)
        incremental = netns.listing()
        assert ruleset.parse_listing(incremental) == ruleset.expected(new)
        netns.nft(ruleset.full(new))
        assert incremental == netns.listing()


@pytest.mark.parametrize(
    "edit",
    [
        "flush chain ip dcos_l4lb pick_2",
        "add rule ip dcos_l4lb pick_2 counter",
        "delete element ip dcos_l4lb backends { 198.19.0.9 . tcp . 80 . 1 }",
        "delete element ip dcos_l4lb vip_addresses { 198.19.0.9 }",
        "add element ip dcos_l4lb services { 198.19.0.7 . tcp . 1 : goto pick_1 }",
        "flush chain ip dcos_l4lb postrouting",
        "add chain ip dcos_l4lb stray",
        "delete table ip dcos_l4lb\ntable ip dcos_l4lb {\n}",
    ],
)
def test_drift_is_seen_in_the_listing_and_a_full_load_repairs_it(
    netns: Namespace, edit: str
) -> None:
    want = table((ONE, 1), (TWO, 1))
    netns.nft(ruleset.full(want))
    assert ruleset.parse_listing(netns.listing()) == ruleset.expected(want)
    netns.nft(edit + "\n")
    assert ruleset.parse_listing(netns.listing()) != ruleset.expected(want)
    netns.nft(ruleset.full(want))
    assert ruleset.parse_listing(netns.listing()) == ruleset.expected(want)


def test_a_full_load_touches_no_table_but_ours(netns: Namespace) -> None:
    netns.nft("table ip other {\n chain c {\n  type filter hook output priority 0;\n }\n}\n")
    netns.nft(ruleset.full(table((ONE, 1))))
    netns.nft(ruleset.full(table((TWO, 1))))
    assert "chain c" in netns.run("nft", "list", "table", "ip", "other")
    assert "198.18.0.51 . 31001" in netns.listing()


@pytest.fixture
def remote_backend(netns: Namespace) -> Iterator[tuple[str, int]]:
    """A second namespace, 198.18.0.62, joined to the first (198.18.0.61) by a veth pair, with
    an HTTP server on 198.18.0.62:31002: a backend on another node."""
    ns_name = f"pydcos-mmb-{os.getpid()}"
    here, there = f"mm{os.getpid() % 100000}a", f"mm{os.getpid() % 100000}b"
    subprocess.run(["ip", "netns", "add", ns_name], check=True)
    other = Namespace(ns_name)
    server: subprocess.Popen[str] | None = None
    try:
        subprocess.run(
            ["ip", "link", "add", here, "type", "veth", "peer", "name", there], check=True
        )
        subprocess.run(["ip", "link", "set", here, "netns", netns.name], check=True)
        subprocess.run(["ip", "link", "set", there, "netns", ns_name], check=True)
        netns.run("ip", "addr", "add", "198.18.0.61/24", "dev", here)
        netns.run("ip", "link", "set", here, "up")
        other.run("ip", "link", "set", "lo", "up")
        other.run("ip", "addr", "add", "198.18.0.62/24", "dev", there)
        other.run("ip", "link", "set", there, "up")
        backend = ("198.18.0.62", 31002)
        server = other.popen(sys.executable, "-c", SERVER, name(backend), *map(str, backend))
        deadline = time.monotonic() + 10
        while "198.18.0.62:31002" not in other.run("ss", "-ltnH"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield backend
    finally:
        if server is not None:
            server.kill()
            server.wait(10)
        subprocess.run(["ip", "netns", "del", ns_name], check=True)


def test_a_backend_on_another_node_answers_through_masquerade(
    netns: Namespace, remote_backend: tuple[str, int]
) -> None:
    answers = answers_through(netns, table((remote_backend, 1), (ONE, 1)), 20)
    assert sorted(set(answers)) == [name(ONE), name(remote_backend)]


# Connects to the VIP once and prints the connection's own address and who answered.
SOURCE_CLIENT = textwrap.dedent(
    """
    import http.client, sys
    c = http.client.HTTPConnection(sys.argv[1], 80, timeout=3)
    c.connect()
    mine = c.sock.getsockname()[0]
    c.request("GET", "/", headers={"Connection": "close"})
    print(mine, c.getresponse().read().decode())
    """
)


def test_with_route_source_a_local_connection_starts_from_the_node_address(
    netns: Namespace, remote_backend: tuple[str, int]
) -> None:
    """The daemon's route with `route_source`: a local connection to a VIP starts from the
    node's address rather than from the VIP (the `local` route's default), so the backend on
    another node answers it after the DNAT alone; without `src`, it starts from the VIP."""
    netns.nft(ruleset.full(table((remote_backend, 1))))
    ask = (sys.executable, "-c", SOURCE_CLIENT, str(VIP_ADDRESS))
    assert netns.run(*ask).split() == [str(VIP_ADDRESS), name(remote_backend)]
    route = (
        "from minuteman.service import ensure_local_route as r; r('198.19.0.0/16', '198.18.0.61')"
    )
    netns.run(sys.executable, "-c", route)
    assert "src 198.18.0.61" in netns.run("ip", "route", "show", "table", "local", "198.19.0.0/16")
    assert netns.run(*ask).split() == ["198.18.0.61", name(remote_backend)]
