"""The front door of `make local` (tools/localcluster.py): dcos-iam, dcos-adminrouter-auth,
dcos-ui-backend and nginx with the master Admin Router config the role renders
(tools/adminrouter.py), all on loopback, started after the frameworks. nginx listens on
127.0.0.1:8880 (moved like the other ports by `--base-port`); IAM keeps its state under the
local ZooKeeper's `/dcos/iam` and seeds DC/OS's development superuser `bootstrapuser` /
`deleteme`. nginx serves the web UI from this tree's `daemons/ui/static` (docs/ui.md) unless
`PYDCOS_UI_DIR` names another directory (a placeholder page is put in one that does not exist).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools import adminrouter, processes

if TYPE_CHECKING:
    from tools.localcluster import Cluster

HOST = "127.0.0.1"
IAM, ADMINROUTER_AUTH, ADMINROUTER = "iam", "adminrouter-auth", "adminrouter"
UI_BACKEND = "ui-backend"
FRONT_DOOR = (IAM, ADMINROUTER_AUTH, UI_BACKEND, ADMINROUTER)
# nginx on 8880: a cluster's :80 needs root, and 8080 is Marathon's.
FRONT_DOOR_PORTS = {IAM: 8101, ADMINROUTER_AUTH: 8102, UI_BACKEND: 8107, ADMINROUTER: 8880}
# The web UI's static files in this tree (what `dcos-ui-backend static-dir` prints when it
# runs from here; not imported, so that `make local-stop` works before `make deps`).
UI_STATIC = processes.REPO_ROOT / "daemons" / "ui" / "static"
# DC/OS's well-known development login; local only (a cluster's comes from the inventory).
LOCAL_SUPERUSER = ("bootstrapuser", "deleteme")
PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PyDCOS</title></head>
<body><h1>PyDCOS</h1><p>Admin Router is up. The web UI is not built into this folder yet.</p>
</body></html>
"""


def _superuser_hash(cluster: Cluster) -> str:
    """The superuser's Argon2id hash, made once per state folder by `dcos-iam hash-password`."""
    saved = cluster.state_dir / IAM / "superuser.hash"
    if saved.exists():
        return saved.read_text().strip()
    made = subprocess.run(
        [sys.executable, "-m", "daemons.iam.main", "hash-password"],
        input=LOCAL_SUPERUSER[1] + "\n",
        capture_output=True,
        text=True,
        cwd=processes.REPO_ROOT,
        timeout=60,
        check=True,
    )
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(made.stdout)
    return made.stdout.strip()


def _cluster_id(cluster: Cluster) -> str:
    saved = cluster.state_dir / "cluster-id"
    if not saved.exists():
        saved.write_text(f"{uuid.uuid4()}\n")
    return saved.read_text().strip()


def config(cluster: Cluster, name: str) -> dict[str, Any]:
    if name == UI_BACKEND:
        return {"master": cluster.zk_url, "ip": HOST, "port": cluster.port(UI_BACKEND)}
    if name == IAM:
        return {
            "zk": f"zk://{HOST}:{cluster.zk_port}/dcos/iam",
            "ip": HOST,
            "port": cluster.port(IAM),
            "superuser_uid": LOCAL_SUPERUSER[0],
            "superuser_password_hash": _superuser_hash(cluster),
        }
    return {
        "iam": cluster.url(IAM),
        "master": cluster.zk_url,
        "marathon": cluster.url("marathon"),
        "mesos_dns": f"http://{HOST}:{cluster.mesos_dns_ports[1]}",
        "cluster_id": _cluster_id(cluster),
        "public_ipv4": HOST,
        "capabilities": ["METRONOME"],
        "ip": HOST,
        "port": cluster.port(ADMINROUTER_AUTH),
    }


def nginx_settings(cluster: Cluster) -> dict[str, Any]:
    state_dir = cluster.config_file(ADMINROUTER).parent
    ui_dir = Path(os.environ.get("PYDCOS_UI_DIR") or UI_STATIC)
    if not ui_dir.exists():
        ui_dir.mkdir(parents=True)
        (ui_dir / "index.html").write_text(PLACEHOLDER)
    address = {name: f"{HOST}:{port}" for name, port in _upstream_ports(cluster).items()}
    return {
        "dcos_adminrouter_listen": [f"{HOST}:{cluster.port(ADMINROUTER)}"],
        "dcos_adminrouter_state_dir": str(state_dir),
        "dcos_adminrouter_ui_dir": str(ui_dir),
        "dcos_adminrouter_worker_processes": 2,
        "dcos_adminrouter_user": adminrouter.local_user(),
        **adminrouter.metadata_json(_cluster_id(cluster)),
        **{f"dcos_adminrouter_{name}": value for name, value in address.items()},
    }


def _upstream_ports(cluster: Cluster) -> dict[str, int]:
    """Where each upstream of Admin Router listens in this local cluster (Exhibitor does not
    run locally: its route answers 502). Diagnostics moves with the base port."""
    return {
        "auth": cluster.port(ADMINROUTER_AUTH),
        "iam": cluster.port(IAM),
        "marathon": cluster.port("marathon"),
        "metronome": cluster.port("metronome"),
        "mesos_dns": cluster.mesos_dns_ports[1],
        "dns_api": cluster.port("dns-proxy"),
        "minuteman": cluster.port("minuteman"),
        "ui_backend": cluster.port(UI_BACKEND),
        "diagnostics": cluster.port("diagnostics"),
    }


def start_nginx(cluster: Cluster, timeout: float = 20.0) -> int:
    """Render the master config, check it with `nginx -t`, start nginx, wait for it to answer."""
    conf = cluster.config_file(ADMINROUTER)
    conf.parent.mkdir(parents=True, exist_ok=True)
    adminrouter.write("master", nginx_settings(cluster), conf)
    checked = adminrouter.check(conf)
    if checked.returncode != 0:
        raise processes.StartFailed(f"{ADMINROUTER}: nginx -t refused {conf}:\n{checked.stderr}")
    log_path = cluster.log_file(ADMINROUTER)
    pid = adminrouter.start(conf, log_path)
    url = f"{cluster.url(ADMINROUTER)}/dcos-metadata/dcos-version.json"
    if not processes.wait_healthy(url, pid, timeout):
        processes.stop_pid(pid)
        raise processes.StartFailed(
            f"{ADMINROUTER}: no answer at {url}:\n{processes.log_tail(log_path)}"
        )
    return pid
