"""Admin Router on loopback for the tests: the real nginx with the config the role renders
(tools/adminrouter.py), the real dcos-adminrouter-auth, the real dcos-iam over the session's
ZooKeeper, and an upstream that echoes what it received, standing in for every service behind
the door (and serving the route cache a master's state-summary and Marathon's labelled apps that
point back at it).

    door = start_front_door(daemons, zk_url, tmp_path)
    requests.get(door.url("/mesos/master/state"), headers=door.auth(door.login()))
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from daemons.iam import keys
from tests.integration.conftest import HOST, DaemonProcess, Daemons, free_port
from tests.integration.iam.iam_daemon import SUPERUSER, iam_process
from tools import adminrouter, processes

TIMEOUT = 15
AGENT_ID = "a1b2c3d4-0000-4000-8000-000000000001-S0"
FRAMEWORK_ID = "a1b2c3d4-0000-4000-8000-000000000001-0007"
# The SRV name the echo answers as Mesos-DNS (the framework `srv-fw`, which has no web UI URL).
SRV_NAME = "_srv-fw._tcp.marathon.mesos"
# The echo's SSE stream: one event at once, the next after this long, then the end.
SSE_PAUSE = 2.0


class Echo(BaseHTTPRequestHandler):
    """Answers every request with `{"method", "path", "headers"}`; `/master/state-summary` and
    `/v2/apps?…` with bodies naming itself as an agent, a framework and a labelled app;
    `/v1/services/<srv name>` as Mesos-DNS (`_srv-fw._tcp.marathon.mesos` is itself, any other
    name the all-empty answer); `…/v2/events` as a Server-Sent Events stream."""

    protocol_version = "HTTP/1.1"
    server: EchoServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        if path.endswith("/v2/events"):
            self._events()
            return
        if path.startswith("/master/state-summary"):
            payload: Any = self.server.state_summary()
        elif path.startswith("/v2/apps?"):
            payload = self.server.apps()
        elif path.startswith("/v1/services/_"):
            payload = self.server.services(path[len("/v1/services/") :])
        else:
            payload = {
                "method": self.command,
                "path": path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(errors="replace"),
            }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"event: event_stream_attached\ndata: {}\n\n")
        self.wfile.flush()
        time.sleep(SSE_PAUSE)
        self.wfile.write(b"event: status_update_event\ndata: {}\n\n")
        self.wfile.flush()
        self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    @property
    def address(self) -> str:
        return f"{HOST}:{self.server_address[1]}"

    def state_summary(self) -> dict[str, Any]:
        return {
            "slaves": [{"id": AGENT_ID, "pid": f"slave(1)@{self.address}", "hostname": HOST}],
            "frameworks": [
                {"id": FRAMEWORK_ID, "name": "webui-fw", "webui_url": f"http://{self.address}/ui"},
                {"id": "no-ui", "name": "no-ui", "webui_url": None},
                # No web UI URL: found through Mesos-DNS's SRV records (DC/OS's third step).
                {"id": "srv-fw-id", "name": "srv-fw", "webui_url": ""},
                {"id": "srv-none-id", "name": "srv-none", "webui_url": ""},
            ],
        }

    def services(self, name: str) -> list[dict[str, str]]:
        if name == SRV_NAME:
            host, port = self.address.rsplit(":", 1)
            return [{"service": name, "host": "srv-fw.marathon.mesos.", "ip": host, "port": port}]
        return [{"service": "", "host": "", "ip": "", "port": ""}]

    def apps(self) -> dict[str, Any]:
        port = self.server_address[1]
        return {
            "apps": [
                {
                    "id": "/echoapp",
                    "labels": {"DCOS_SERVICE_NAME": "echoapp", "DCOS_SERVICE_PORT_INDEX": "0"},
                    "tasks": [
                        {"id": "echoapp.1", "host": HOST, "ports": [port], "state": "TASK_RUNNING"}
                    ],
                }
            ]
        }


def start_echo() -> EchoServer:
    server = EchoServer((HOST, 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class FrontDoor:
    port: int
    iam: DaemonProcess
    auth_daemon: DaemonProcess
    echo: EchoServer
    key: keys.SigningKey
    nginx_pid: int
    conf: Path
    log_path: Path
    stopped: list[int] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    @property
    def host(self) -> str:
        return f"{HOST}:{self.port}"

    def login(self, uid: str = SUPERUSER[0], password: str = SUPERUSER[1]) -> str:
        response = requests.post(
            self.url("/acs/api/v1/auth/login"),
            json={"uid": uid, "password": password},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"token={token}"}

    def stop(self) -> None:
        processes.stop_pid(self.nginx_pid, grace=5.0)
        self.echo.shutdown()


UPSTREAMS = (
    "marathon",
    "metronome",
    "exhibitor",
    "mesos_dns",
    "dns_api",
    "minuteman",
    "diagnostics",
    "ui_backend",
)


def start_front_door(
    daemons: Daemons,
    zk_url: str,
    tmp_path: Path,
    *,
    upstreams: dict[str, str] | None = None,
    master: str | None = None,
    marathon: str | None = None,
    ui_dir: str | None = None,
) -> FrontDoor:
    """The front door with every upstream the echo, but those named in `upstreams`
    (`{"marathon": "127.0.0.1:8080"}`); the route cache reads `master` (`zk://…` or
    `host:port`) and `marathon` (a URL), by default the echo's bodies; `ui_dir` is the static
    UI served at `/` (by default a one-line page)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "iam-key.pem"
    key_file.write_bytes(keys.private_pem(private))
    iam = iam_process(daemons, zk_url, key_file=str(key_file))
    iam.start()
    echo = start_echo()
    auth_daemon = daemons.add(
        "adminrouter-auth",
        "daemons.adminrouter.main",
        {
            "iam": iam.url,
            "master": master or echo.address,
            "marathon": marathon or f"http://{echo.address}",
            "mesos_dns": f"http://{echo.address}",
            "refresh_interval": 0.5,
            "max_age": 5.0,
            "agent_adminrouter_port": echo.server_address[1],
            "cluster_id": "cluster-under-test",
            "public_ipv4": "198.18.0.11",
            "ip": HOST,
            "port": free_port(),
        },
    )
    auth_daemon.start()
    state_dir = tmp_path / "adminrouter"
    state_dir.mkdir(parents=True)
    if ui_dir is None:
        (state_dir / "ui").mkdir()
        (state_dir / "ui" / "index.html").write_text("<!doctype html><title>DC/OS</title>\n")
        ui_dir = str(state_dir / "ui")
    port = free_port()
    settings = {
        "dcos_adminrouter_listen": [f"{HOST}:{port}"],
        "dcos_adminrouter_state_dir": str(state_dir),
        "dcos_adminrouter_ui_dir": ui_dir,
        "dcos_adminrouter_worker_processes": 1,
        "dcos_adminrouter_user": adminrouter.local_user(),
        "dcos_adminrouter_auth": f"{HOST}:{auth_daemon.port}",
        "dcos_adminrouter_iam": f"{HOST}:{iam.port}",
        "dcos_adminrouter_stream_timeout": "30s",
        **adminrouter.metadata_json("cluster-under-test"),
        **{f"dcos_adminrouter_{name}": echo.address for name in UPSTREAMS},
        **{f"dcos_adminrouter_{name}": address for name, address in (upstreams or {}).items()},
    }
    conf = adminrouter.write("master", settings, state_dir / "nginx.conf")
    checked = adminrouter.check(conf)
    assert checked.returncode == 0, checked.stderr
    log_path = state_dir / "nginx.log"
    pid = adminrouter.start(conf, log_path)
    door = FrontDoor(
        port, iam, auth_daemon, echo, keys.signing_key(key_file.read_bytes()), pid, conf, log_path
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if processes.http_status(door.url("/dcos-metadata/dcos-version.json")) == 200:
            break
        assert not processes.exited(pid), processes.log_tail(log_path)
        time.sleep(0.1)
    else:
        raise AssertionError(f"nginx did not answer:\n{processes.log_tail(log_path)}")
    # The route cache's first table (services, agents, the leader) before any test uses it.
    token = door.login()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        probe = requests.get(
            door.url("/mesos/master/state-summary"), headers=door.auth(token), timeout=TIMEOUT
        )
        if probe.status_code == 200:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"route cache never loaded:\n{auth_daemon.log_tail()}")
    return door
