"""Simulated agents for benchmarks: thousands of agent-protocol clients in one asyncio process.

Each simulated agent speaks docs/agent-protocol.md over a raw socket: it POSTs a prebuilt
SUBSCRIBE to the leading master, reads the chunked RecordIO event stream, answers PING with a
PONG call (carrying the stream's Mesos-Stream-Id) and ignores every other event. When its stream
ends it re-subscribes with its agent id and its tasks, as a real agent does, to the leader it
learns from ZooKeeper: the lowest `json.info_` node, watched by one kazoo session per process on
behalf of all its agents (the benchmark is about the master, not about ZooKeeper sessions). A 307
is followed once. There is no random re-registration delay (Mesos' failover benchmark has none);
a failed attempt is retried after a short random backoff. Until SUBSCRIBED arrives an agent holds
one of `in_flight` slots, so a burst of connects does not overflow the master's accept queue
(gunicorn's backlog is 2048) and turn into 1 s SYN retransmits.

A parent drives a fleet process with JSON lines (`FleetProcess`):
  out {"event": "subscribed", "master": "ip:port", ...stats} once all of the process's agents
      hold a stream to the same master, once per master;
  in "status" -> out {"event": "status", ...}; in "in-flight N" sets the slots for later
  attempts; in "stop" (or stdin closed) -> the process exits.
Times are `time.time()` (the same clock as the master's `elected_time`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import queue
import random
import resource
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from daemons.protocols.recordio import Decoder, RecordIOError  # noqa: E402

HEARTBEAT_RECORD = b'{"type":"HEARTBEAT"}'
IO_TIMEOUT = 60.0  # seconds for one connect or one response head
MAX_FAILURES = 1000  # consecutive failed attempts before an agent gives up
# Retry after a failed attempt (503 while the new leader reads its registry, a refused connect)
# within [10 ms, b], b doubling from 100 ms to this. Real agents use [0.1 s, b] from 1 s up to a
# minute; shorter here so that the figure measures the master, not the agents' backoff.
BACKOFF_MAX = 0.25


def resources(cpus: float, mem: float) -> list[dict[str, Any]]:
    return [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
    ]


class SimAgent:
    """One agent's identity and its prebuilt SUBSCRIBE body (rebuilt once its id is known)."""

    __slots__ = ("agent_id", "avoid", "body", "frameworks", "index", "stream_id", "tasks")

    def __init__(self, index: int, tasks: int, frameworks: int) -> None:
        self.index = index
        self.agent_id = ""
        self.stream_id = ""  # of the stream open now, "" between streams
        self.avoid = ""  # the master whose stream just ended: wait for ZK to name another
        self.frameworks = [
            {
                "id": {"value": f"bench-fw-{f}"},
                "name": f"bench-{f}",
                "user": "root",
                "failover_timeout": 604800.0,
            }
            for f in range(frameworks)
        ]
        now = time.time()
        # Each task as the agent reports it (docs/agent-protocol.md): statuses carry its id.
        self.tasks = [
            {
                "task_id": {"value": f"task-{index}-{t}"},
                "framework_id": {"value": f"bench-fw-{t % frameworks}"},
                "name": f"task-{index}-{t}",
                "state": "TASK_RUNNING",
                "resources": resources(0.1, 32),
                "statuses": [
                    {
                        "task_id": {"value": f"task-{index}-{t}"},
                        "state": "TASK_RUNNING",
                        "timestamp": now,
                    }
                ],
            }
            for t in range(tasks)
        ]
        self.body = self.subscribe_body()

    def subscribe_body(self) -> bytes:
        info: dict[str, Any] = {
            "hostname": f"10.{(self.index >> 16) & 255}.{(self.index >> 8) & 255}."
            f"{self.index & 255}",
            "port": 5051,
            "resources": resources(16, 65536),
        }
        call: dict[str, Any] = {"type": "SUBSCRIBE"}
        tasks = self.tasks
        if self.agent_id:
            info["id"] = {"value": self.agent_id}
            call["agent_id"] = {"value": self.agent_id}
            tasks = [dict(t, agent_id={"value": self.agent_id}) for t in self.tasks]
        call["subscribe"] = {
            "agent_info": info,
            "version": "1.11.0",
            "boot_id": f"bench-boot-{self.index}",
            "frameworks": self.frameworks,
            "executors": [],
            "tasks": tasks,
        }
        return json.dumps(call, separators=(",", ":")).encode()


def post(host: str, port: int, body: bytes, stream_id: str = "") -> bytes:
    extra = f"Mesos-Stream-Id: {stream_id}\r\n" if stream_id else ""
    head = (
        f"POST /api/v1/agent HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def header(head: bytes, name: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return ""


def parse_location(location: str, default_port: int) -> tuple[str, int] | None:
    """`//host:port/api/v1/agent`, `http://host:port/...` or `host:port` -> (host, port)."""
    rest = location.split("://", 1)[-1].lstrip("/").split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    if not host:
        return (rest, default_port) if rest else None
    return (host, int(port)) if port.isdigit() else None


class EventReader:
    """RecordIO records from a (chunked) HTTP response body; None at the end of the stream."""

    def __init__(self, reader: asyncio.StreamReader, chunked: bool) -> None:
        self.reader = reader
        self.chunked = chunked
        self.decoder = Decoder()
        self.ready: deque[bytes] = deque()

    async def next(self) -> bytes | None:
        while not self.ready:
            try:
                data = await self._read()
                if not data:
                    return None
                self.ready.extend(self.decoder.decode(data))
            except (OSError, ValueError, RecordIOError, asyncio.IncompleteReadError):
                return None
        return self.ready.popleft()

    async def _read(self) -> bytes:
        if not self.chunked:
            return await self.reader.read(65536)
        size = int((await self.reader.readline()).split(b";", 1)[0] or b"0", 16)
        if size == 0:
            return b""
        return (await self.reader.readexactly(size + 2))[:-2]


class Fleet:
    def __init__(self, agents: list[SimAgent], in_flight: int, deadline: float) -> None:
        self.agents = agents
        self.slots = asyncio.Semaphore(in_flight)
        self.deadline = deadline
        self.leader = ""  # "ip:port" of the lowest json.info_ node, "" while none
        self.leader_changed = asyncio.Event()
        self.live: dict[str, int] = {}  # master -> streams open past SUBSCRIBED
        self.stats: dict[str, dict[str, Any]] = {}
        self.reported: set[str] = set()
        self.pongs: asyncio.Queue[tuple[SimAgent, str, str, float]] = asyncio.Queue()
        self.stopping = asyncio.Event()

    def stat(self, master: str) -> dict[str, Any]:
        return self.stats.setdefault(master, {"attempts": 0})

    def bump(self, master: str, key: str, n: int = 1) -> None:
        s = self.stat(master)
        s[key] = s.get(key, 0) + n

    def mark_time(self, master: str, key: str) -> None:
        """Keep the first and last time of `key` for `master`."""
        now = time.time()
        s = self.stat(master)
        s.setdefault(f"first_{key}", now)
        s[f"last_{key}"] = now

    def set_leader(self, leader: str) -> None:
        if leader != self.leader:
            self.leader = leader
            if leader:
                self.mark_time(leader, "zk_leader")
            self.leader_changed.set()
            self.leader_changed = asyncio.Event()

    async def target(self, agent: SimAgent) -> str:
        """The leader to subscribe to; waits (≤ 1 s) for ZK to name one other than `avoid`."""
        if not self.leader or self.leader == agent.avoid:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.leader_changed.wait(), 1.0)
        agent.avoid = ""
        return self.leader

    async def run_agent(self, agent: SimAgent) -> None:
        failures = 0
        while not self.stopping.is_set() and failures < MAX_FAILURES:
            if time.time() > self.deadline:
                return
            master = await self.target(agent)
            if master and await self.subscribe(agent, master, follow=True):
                failures = 0
                continue
            failures += 1
            await asyncio.sleep(random.uniform(0.01, min(BACKOFF_MAX, 0.05 * 2**failures)))

    async def subscribe(self, agent: SimAgent, master: str, follow: bool) -> bool:
        """One SUBSCRIBE, then its stream until the end. True if it reached SUBSCRIBED."""
        self.bump(master, "attempts")
        try:
            async with self.slots:
                opened = await self.open_stream(agent, master)
        except (OSError, TimeoutError, ValueError, KeyError, asyncio.IncompleteReadError) as err:
            self.bump(master, f"error_{type(err).__name__}")
            return False
        if isinstance(opened, str):  # a redirect
            return follow and await self.subscribe(agent, opened, follow=False)
        if opened is None:
            return False
        writer, events, stream_id = opened
        self.mark_time(master, "subscribed")
        self.live[master] = self.live.get(master, 0) + 1
        self.maybe_report(master)
        agent.stream_id = stream_id
        try:
            await self.stream(agent, master, events, stream_id)
        except (OSError, ValueError) as err:
            self.bump(master, f"error_{type(err).__name__}")
        finally:
            agent.stream_id = ""
            writer.close()
            self.live[master] -= 1
            self.mark_time(master, "closed")
            agent.avoid = master
        return True

    async def open_stream(
        self, agent: SimAgent, master: str
    ) -> tuple[asyncio.StreamWriter, EventReader, str] | str | None:
        """Connect, POST SUBSCRIBE, read up to SUBSCRIBED: the open stream, a redirect target
        ("ip:port") or None."""
        host, _, port_text = master.rpartition(":")
        port = int(port_text)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), IO_TIMEOUT)
        try:
            writer.write(post(host, port, agent.body))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
            status = int(head[9:12])
            if status != 200:
                self.bump(master, f"status_{status}")
                location = header(head, b"location") if status == 307 else ""
                to = parse_location(location, port) if location else None
                writer.close()
                return f"{to[0]}:{to[1]}" if to is not None else None
            stream_id = header(head, b"mesos-stream-id")
            events = EventReader(reader, "chunked" in header(head, b"transfer-encoding"))
            first = await asyncio.wait_for(events.next(), IO_TIMEOUT)
            event: dict[str, Any] = {"type": "end of stream"}
            if first is not None:
                event = json.loads(first)
            if event.get("type") != "SUBSCRIBED":
                self.bump(master, f"first_event_{event.get('type')}")
                writer.close()
                return None
        except BaseException:
            writer.close()
            raise
        agent_id = event["subscribed"]["agent_id"]["value"]
        if agent_id != agent.agent_id:
            if agent.agent_id:
                self.bump(master, "new_agent_id")
            agent.agent_id = agent_id
            agent.body = agent.subscribe_body()
        return writer, events, stream_id

    async def stream(self, agent: SimAgent, master: str, events: EventReader, sid: str) -> None:
        while not self.stopping.is_set():
            record = await events.next()
            if record is None:
                return
            if record == HEARTBEAT_RECORD:
                continue
            kind = json.loads(record).get("type")
            if kind == "PING":
                self.bump(master, "pings")
                self.pongs.put_nowait((agent, master, sid, time.monotonic()))
            elif kind == "ERROR":
                self.bump(master, "error_events")
                return
            else:
                self.bump(master, f"event_{kind}")  # unknown or irrelevant here: ignored

    async def pong_sender(self) -> None:
        """Sends PONG calls over one keep-alive connection at a time."""
        conn: tuple[str, asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while not self.stopping.is_set():
            agent, master, sid, pinged = await self.pongs.get()
            if agent.stream_id != sid:
                self.bump(master, "pong_dropped_stream_ended")
                continue
            pong = {"type": "PONG", "agent_id": {"value": agent.agent_id}}
            body = json.dumps(pong).encode()
            failure = ""
            host, _, port = master.rpartition(":")
            for _ in range(2):
                try:
                    if conn is None or conn[0] != master:
                        if conn is not None:
                            conn[2].close()
                        reader, writer = await asyncio.wait_for(
                            asyncio.open_connection(host, int(port)), IO_TIMEOUT
                        )
                        conn = (master, reader, writer)
                    conn[2].write(post(host, int(port), body, sid))
                    head = await asyncio.wait_for(conn[1].readuntil(b"\r\n\r\n"), IO_TIMEOUT)
                    length = int(header(head, b"content-length") or 0)
                    if length:
                        await conn[1].readexactly(length)
                    self.bump(master, f"pong_{int(head[9:12])}")
                    waited = time.monotonic() - pinged
                    stat = self.stat(master)
                    stat["pong_max_s"] = max(stat.get("pong_max_s", 0.0), waited)
                    if header(head, b"connection").lower() == "close":
                        conn[2].close()
                        conn = None
                    break
                except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as err:
                    if conn is not None:
                        conn[2].close()
                    conn = None
                    failure = type(err).__name__
            else:
                self.bump(master, f"pong_error_{failure}")

    def maybe_report(self, master: str) -> None:
        if self.live.get(master, 0) == len(self.agents) and master not in self.reported:
            self.reported.add(master)
            emit(
                {"event": "subscribed", "master": master, "count": len(self.agents)}
                | {k: v for k, v in self.stat(master).items()}
            )

    def status(self) -> dict[str, Any]:
        return {"event": "status", "leader": self.leader, "live": self.live, "stats": self.stats}


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def watch_leader(zk: str, loop: asyncio.AbstractEventLoop, fleet: Fleet) -> Any:
    """One kazoo session; the lowest json.info_ child's address goes to `fleet.set_leader`."""
    from kazoo.exceptions import NoNodeError

    from daemons.kit import zk as zkmod

    hosts, path = zkmod.parse_zk_url(zk)
    client = zkmod.connect(hosts, 10.0)
    client.ensure_path(path)

    def changed(children: list[str]) -> None:
        leader = ""
        for child in sorted(c for c in children if c.startswith(zkmod.INFO_PREFIX)):
            try:
                data, _ = client.get(f"{path}/{child}")
            except NoNodeError:
                continue
            info = json.loads(data)
            address = info.get("address") or {}
            ip = address.get("ip") or info.get("hostname")
            leader = f"{ip}:{address.get('port') or info.get('port')}"
            break
        loop.call_soon_threadsafe(fleet.set_leader, leader)

    client.ChildrenWatch(path, changed)
    return client


async def run_fleet(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    agents = [
        SimAgent(i, args.tasks, args.frameworks) for i in range(args.first, args.first + args.count)
    ]
    fleet = Fleet(agents, args.in_flight, time.time() + args.max_seconds)
    client = watch_leader(args.zk, loop, fleet)
    commands: asyncio.Queue[str] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        loop.call_soon_threadsafe(commands.put_nowait, "stop")

    threading.Thread(target=read_stdin, daemon=True).start()
    emit({"event": "ready", "count": len(agents), "time": time.time()})
    tasks = [asyncio.create_task(fleet.run_agent(a)) for a in agents]
    tasks += [asyncio.create_task(fleet.pong_sender()) for _ in range(args.pong_senders)]
    try:
        while time.time() < fleet.deadline:
            try:
                command = await asyncio.wait_for(commands.get(), 1.0)
            except TimeoutError:
                continue
            if command == "status":
                emit(fleet.status())
            elif command.startswith("in-flight "):
                # Agents waiting on the old semaphore keep it; new attempts take the new one.
                fleet.slots = asyncio.Semaphore(int(command.split()[1]))
            elif command == "stop":
                break
    finally:
        fleet.stopping.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        client.stop()
        client.close()


class FleetProcess:
    """A fleet in a child process (`python bench/simagents.py ...`), driven over pipes."""

    def __init__(self, zk: str, first: int, count: int, log: Path, **options: Any) -> None:
        argv = [sys.executable, str(Path(__file__).resolve()), "--zk", zk]
        argv += ["--first", str(first), "--count", str(count)]
        for key, value in options.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd=REPO
            )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))
        self.events.put({"event": "exited"})

    def wait_event(self, kind: str, timeout: float, master: str = "") -> dict[str, Any] | None:
        """The next `kind` event (for `master`, if given); None after `timeout` or on exit."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if event["event"] == "exited":
                self.events.put(event)
                return None
            if event["event"] == kind and (not master or event.get("master") == master):
                return event
        return None

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(command.encode() + b"\n")
            self.proc.stdin.flush()

    def stop(self) -> None:
        self.send("stop")
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # by PID, through its Popen
            self.proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--zk", help="zk://host:port/path of the masters")
    parser.add_argument("--first", type=int, default=0, help="index of the first agent")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--tasks", type=int, default=10, help="running tasks per agent")
    parser.add_argument("--frameworks", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=500, help="subscriptions in progress")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument(
        "--pong-senders", type=int, default=64, help="PONG calls in progress (keep-alive)"
    )
    args = parser.parse_args()
    if not args.zk or args.count <= 0:
        # `make bench` runs every bench/*.py: without a fleet to run this is not a benchmark.
        print("simulated agents for bench/master_failover.py; nothing to do without --zk/--count")
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.count + 1024)), hard))
    asyncio.run(run_fleet(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
