"""Admin Router's nginx configs rendered outside Ansible: the same Jinja2 templates the role
`dcos_adminrouter` renders (tools/adminrouter_templates), with plain jinja2, for
`make local` and the tests. `DEFAULTS` are the role's variables with the values of one master
on a cluster; callers override what differs (listen address, state dir, ports of a local
cluster).

    conf = render("master", {"dcos_adminrouter_listen": ["127.0.0.1:8880"], ...})
    check(conf_path)          # nginx -t, as the role's `validate:`
    pid = start(conf_path, log_path)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tools import processes

TEMPLATES = processes.REPO_ROOT / "tools" / "adminrouter_templates"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DCOS_VERSION = "2.1.0-pydcos"

DEFAULTS: dict[str, Any] = {
    # nginx `listen` values: the master's :80, the agent's :61001.
    "dcos_adminrouter_listen": ["80"],
    "dcos_adminrouter_agent_listen": ["61001"],
    "dcos_adminrouter_server_names": [],
    # Pid file and temp dirs (writable by nginx's master process).
    "dcos_adminrouter_state_dir": "/run/dcos-adminrouter",
    "dcos_adminrouter_error_log": "stderr",
    "dcos_adminrouter_access_log": "off",
    "dcos_adminrouter_worker_processes": "auto",
    # The workers' user when nginx starts as root ("": nginx's default, nobody).
    "dcos_adminrouter_user": "",
    # A DNS server nginx asks for hostnames the auth daemon returns ("" = none: IPs only).
    "dcos_adminrouter_resolver": "",
    # How long an event stream may stay silent before nginx closes it.
    "dcos_adminrouter_stream_timeout": "3600s",
    "dcos_adminrouter_ui_dir": "/opt/dcos/ui",
    "dcos_adminrouter_auth": "127.0.0.1:8102",
    "dcos_adminrouter_iam": "127.0.0.1:8101",
    "dcos_adminrouter_marathon": "127.0.0.1:8080",
    "dcos_adminrouter_metronome": "127.0.0.1:9000",
    "dcos_adminrouter_exhibitor": "127.0.0.1:8181",
    "dcos_adminrouter_mesos_dns": "127.0.0.1:8123",
    "dcos_adminrouter_dns_api": "127.0.0.1:62080",
    "dcos_adminrouter_minuteman": "127.0.0.1:61421",
    "dcos_adminrouter_diagnostics": "127.0.0.1:1050",
    "dcos_adminrouter_ui_backend": "127.0.0.1:8107",
}


def metadata_json(cluster_id: str) -> dict[str, str]:
    """The bodies of `/dcos-metadata/dcos-version.json` and `/ui-config.json` (DC/OS's shapes),
    as the one-line JSON the templates `return`."""
    version = {
        "version": DCOS_VERSION,
        "dcos-variant": "open",
        "dcos-image-commit": "",
        "bootstrap-id": "",
    }
    ui_config = {
        "uiConfiguration": {"plugins": {"banner": {"enabled": False}}},
        "clusterConfiguration": {"firstUser": False, "id": cluster_id},
    }
    return {
        "dcos_adminrouter_version_json": json.dumps(version, separators=(",", ":")),
        "dcos_adminrouter_ui_config_json": json.dumps(ui_config, separators=(",", ":")),
    }


def local_user() -> str:
    """The workers' user for nginx started by this process: root's own (a root-started nginx
    would otherwise run its workers as nobody, who cannot read a 0700 test directory)."""
    return "root" if os.geteuid() == 0 else ""


def render(kind: str, settings: Mapping[str, Any]) -> str:
    """The nginx config of a `master` or an `agent` Admin Router."""
    import jinja2  # here: `make local-stop` imports this module before `make deps` too

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )
    variables = {**DEFAULTS, **metadata_json(""), **settings}
    return env.get_template(f"adminrouter-{kind}.conf.j2").render(**variables)


def write(kind: str, settings: Mapping[str, Any], path: Path) -> Path:
    path.write_text(render(kind, settings))
    return path


def check(conf: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` of a rendered config (what the role's `validate:` runs)."""
    return subprocess.run(
        [NGINX, "-t", "-q", "-e", "stderr", "-c", str(conf), "-p", str(conf.parent)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def start(conf: Path, log_path: Path) -> int:
    """nginx in the foreground (the config says `daemon off`) as a child; its PID."""
    argv = [NGINX, "-e", "stderr", "-c", str(conf), "-p", str(conf.parent)]
    return processes.spawn(argv, log_path)
