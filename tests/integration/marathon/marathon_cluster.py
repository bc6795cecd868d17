"""A cluster for the Marathon tests: a master, two agents with different hostnames (so UNIQUE
hostname constraints mean something on one machine) and one or more dcos-marathon daemons.
Fixtures are in conftest.py; tests import these names from here."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from e2e_cluster import AGENT_CONFIG, MASTER_CONFIG, wait_for

from tests.integration.conftest import HOST, DaemonProcess, free_port

JSON = dict[str, Any]

# 127.0.0.1 and 127.0.0.2 are both loopback: tasks binding 0.0.0.0 answer on either.
AGENT_HOSTS = ("127.0.0.1", "127.0.0.2")
MARATHON_CONFIG: JSON = {
    "zk_session_timeout": 4.0,
    "reconciliation_interval": 30.0,
    "decline_offer_duration": 2.0,
    "failover_timeout": 3600.0,
    "threads": 32,
}


@dataclass
class MarathonCluster:
    master: Any
    agents: list[Any]
    marathons: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.marathons[0].url)

    def get(self, path: str, marathon: int = 0, **params: Any) -> Any:
        response = requests.get(self.marathons[marathon].url + path, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def leader_url(self) -> str:
        for m in self.marathons:
            if not m.running():
                continue
            try:
                info = requests.get(m.url + "/v2/info", timeout=5)
            except requests.RequestException:
                continue
            if info.status_code == 200 and info.json().get("elected") and info.json()["leader"]:
                return "http://" + info.json()["leader"]
        return ""

    def wait_leader(self, timeout: float = 30.0) -> str:
        return str(wait_for(self.leader_url, timeout, "a Marathon leader"))

    def app(self, app_id: str) -> JSON:
        found: JSON = requests.get(self.leader_url() + f"/v2/apps{app_id}", timeout=10).json()
        return found.get("app", found)

    def wait_running(self, app_id: str, count: int, *, healthy: bool = False, timeout: float = 60):
        def ready() -> Any:
            app = self.app(app_id)
            if app.get("tasksRunning") != count or app.get("deployments"):
                return None
            if healthy and app.get("tasksHealthy") != count:
                return None
            return app

        return wait_for(ready, timeout, f"{count} running tasks of {app_id}")

    def master_tasks(self, state: str = "TASK_RUNNING") -> list[JSON]:
        tasks = requests.get(self.master.url + "/master/tasks", timeout=10).json()["tasks"]
        return [t for t in tasks if t["state"] == state]


# --- additions for the API, HA and health tests ---------------------------------------------


def marathon_zk(cluster: MarathonCluster) -> tuple[str, str]:
    """(hosts, path) of the Marathons' ZooKeeper state (`zk` of their config)."""
    url = str(cluster.marathons[0].config["zk"])
    hosts, _, path = url.removeprefix("zk://").partition("/")
    return hosts, "/" + path


def zk_tree(cluster: MarathonCluster, skip: tuple[str, ...] = ("leader",)) -> dict[str, int]:
    """Every znode under the Marathon path -> its mzxid (the zxid of its last write), the
    election's ephemeral nodes under `skip` left out: equal trees mean nothing was written."""
    from kazoo.client import KazooClient

    hosts, root = marathon_zk(cluster)
    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=10.0)
    out: dict[str, int] = {}
    try:
        pending = [root]
        while pending:
            node = pending.pop()
            stat = client.exists(node)
            if stat is None:
                continue
            out[node] = stat.mzxid
            for child in client.get_children(node):
                if node == root and child in skip:
                    continue
                pending.append(f"{node.rstrip('/')}/{child}")
    finally:
        client.stop()
        client.close()
    return out


def zk_delete(cluster: MarathonCluster, relative: str) -> None:
    """Delete `<marathon zk path>/<relative>` (a fault a test injects)."""
    from kazoo.client import KazooClient

    hosts, root = marathon_zk(cluster)
    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=10.0)
    try:
        client.delete(f"{root}/{relative}", recursive=True)
    finally:
        client.stop()
        client.close()


def leader_index(cluster: MarathonCluster) -> int:
    """Index in `cluster.marathons` of the instance that leads now."""
    url = cluster.wait_leader()
    return next(i for i, m in enumerate(cluster.marathons) if m.url == url)


def framework_tasks(cluster: MarathonCluster, framework_id: str) -> dict[str, str]:
    """Task id -> state of the framework's tasks the master knows (running or not)."""
    state = requests.get(cluster.master.url + "/master/state", timeout=10).json()
    for fw in state.get("frameworks", []):
        if fw["id"] == framework_id:
            return {t["id"]: t["state"] for t in fw.get("tasks", [])}
    return {}


def marathon_counter(url: str, name: str) -> int:
    """A counter of the Marathon instance at `url` (its own `/metrics`, never proxied)."""
    counters = requests.get(url + "/metrics", timeout=5).json()["counters"]
    return int(counters.get(name, {}).get("count", 0))


def master_kills(cluster: MarathonCluster) -> float:
    """KILL calls the master has received from any framework (`master/messages_kill_task`)."""
    snapshot = requests.get(cluster.master.url + "/metrics/snapshot", timeout=5).json()
    return float(snapshot.get("master/messages_kill_task", 0.0))


class EventStream:
    """One /v2/events stream read in a thread: `.seen` holds (arrival time, event) pairs.
    `close()` shuts its socket down at once, so the daemon's shutdown does not wait for it.
    (http.client rather than requests: the socket is ours to shut down from another thread.)"""

    def __init__(self, url: str, **params: Any) -> None:
        address = urllib.parse.urlsplit(url)
        self._conn = http.client.HTTPConnection(address.netloc, timeout=120)
        query = urllib.parse.urlencode(params, doseq=True)
        self._conn.request(
            "GET",
            "/v2/events" + (f"?{query}" if query else ""),
            headers={"Accept": "text/event-stream"},
        )
        response = self._conn.getresponse()
        assert response.status == 200, response.read()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        self.seen: list[tuple[float, JSON]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(response,), daemon=True)
        self._thread.start()
        wait_for(lambda: self.seen, 10, "event_stream_attached")

    def _read(self, response: http.client.HTTPResponse) -> None:
        try:
            for line in response:
                if line.startswith(b"data: "):
                    self.seen.append((time.monotonic(), json.loads(line[6:])))
        except (OSError, http.client.HTTPException, ValueError):
            if not self._stop.is_set():
                raise

    @property
    def events(self) -> list[JSON]:
        return [e for _, e in self.seen]

    def of(self, event_type: str, **match: Any) -> list[tuple[float, JSON]]:
        return [
            (t, e)
            for t, e in self.seen
            if e["eventType"] == event_type and all(e.get(k) == v for k, v in match.items())
        ]

    def close(self) -> None:
        self._stop.set()
        if self._conn.sock is not None:
            with contextlib.suppress(OSError):
                self._conn.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._conn.close()


# --- plain `requests` against the v2 API ------------------------------------------------------

SLEEP = "sleep 600"
WEB = "python3 -m http.server $PORT0 --bind 0.0.0.0"


def sleeper(app_id: str, instances: int = 1, **extra: Any) -> JSON:
    return {"id": app_id, "cmd": SLEEP, "cpus": 0.1, "mem": 32, "instances": instances, **extra}


class Api:
    """Plain `requests` against one Marathon (the leader unless told otherwise)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return self.session.request(method, self.url + path, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        response = self.call("GET", path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.call("POST", path, json=body, params=params)

    def put(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.call("PUT", path, json=body, params=params)

    def delete(self, path: str, **params: Any) -> requests.Response:
        return self.call("DELETE", path, params=params)

    def app(self, app_id: str) -> JSON:
        found: JSON = self.get(f"/v2/apps{app_id}")["app"]
        return found

    def deployment_ids(self) -> set[str]:
        return {d["id"] for d in self.get("/v2/deployments")}

    def wait_deployed(self, timeout: float = 60) -> None:
        wait_for(lambda: self.get("/v2/deployments") == [], timeout, "no deployment running")


def api_of(cluster: MarathonCluster) -> Api:
    return Api(cluster.wait_leader())


def assert_error(response: requests.Response, status: int) -> JSON:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body: JSON = response.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def assert_invalid(response: requests.Response, *paths: str) -> JSON:
    """422 `{"message": "Object is not valid", "details": [{"path", "errors"}]}` naming
    every one of `paths`."""
    body = assert_error(response, 422)
    assert body["message"] == "Object is not valid", body
    found = {d["path"]: d["errors"] for d in body["details"]}
    for detail in body["details"]:
        assert set(detail) == {"path", "errors"} and detail["errors"], detail
    for path in paths:
        assert path in found, (path, body)
    return body


def start_cluster(
    work_root: Path,
    daemons: Any,
    start_master: Any,
    start_agent: Any,
    zk_url: str,
    marathons: int = 1,
    master_config: dict[str, Any] | None = None,
    **config: Any,
) -> MarathonCluster:
    """A master, the agents of AGENT_HOSTS and `marathons` Marathons (the `marathon_cluster`
    fixture; other folders' fixtures call it too). `master_config` adds to (or overrides) the
    master's settings, e.g. a short agent ping budget; everything else is Marathon's."""
    master = start_master(**{**MASTER_CONFIG, **(master_config or {})})
    agents = []
    for i, host in enumerate(AGENT_HOSTS):
        work_dir = work_root / f"agent-{i + 1}"
        work_dir.mkdir(mode=0o755)
        agents.append(
            start_agent(
                **{
                    **AGENT_CONFIG,
                    "work_dir": str(work_dir),
                    "hostname": host,
                    "resources": "cpus:4;mem:4096;disk:4096;"
                    f"ports:[{31000 + 1000 * i}-{31999 + 1000 * i}]",
                }
            )
        )
    cluster = MarathonCluster(master, agents)
    zk_root = zk_url.rsplit("/", 1)[0]
    marathon_zk = f"{zk_root}/marathon-{zk_url.rsplit('-', 1)[1]}"
    for _ in range(marathons):
        port = free_port()
        settings = {
            **MARATHON_CONFIG,
            "zk": marathon_zk,
            "master": zk_url,
            "ip": HOST,
            "port": port,
            **config,
        }
        name = f"marathon-{len(cluster.marathons) + 1}"
        state_dir = daemons.tmp_path / name
        state_dir.mkdir(parents=True)
        process = DaemonProcess(name, "daemons.marathon.main", settings, state_dir)
        daemons.started.append(process)
        process.start()
        cluster.marathons.append(process)
    cluster.wait_leader()
    return cluster
