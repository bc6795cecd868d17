"""Admin Router's nginx configs rendered outside Ansible: the templates of the role
`dcos_adminrouter` (roles/dcos_adminrouter/templates), with plain jinja2, for `make local` and
the tests. `defaults()` are the role's own defaults (roles/dcos_adminrouter/defaults/main.yml,
read here: one source), resolved as on a master whose address is 127.0.0.1; callers override
what differs (listen address, state dir, ports of a local cluster).

    conf = render("master", {"dcos_adminrouter_listen": ["127.0.0.1:8880"], ...})
    check(conf_path)          # nginx -t, as the role's `validate:`
    pid = start(conf_path, log_path)
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tools import processes

ROLE = processes.REPO_ROOT / "roles" / "dcos_adminrouter"
TEMPLATES = ROLE / "templates"
CLUSTER_DEFAULTS = processes.REPO_ROOT / "roles" / "dcos_cluster" / "defaults" / "main.yml"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The node's address the role's defaults name (its daemons' upstreams), here loopback.
NODE_IP = "127.0.0.1"
# A default names another value at most this deep (`a: "{{ b }}"`, `b: "{{ c }}/x"`).
_DEPTH = 5


@functools.cache
def defaults() -> dict[str, Any]:
    """The role's defaults, Jinja2 resolved against themselves, dcos_cluster's defaults and
    dcos_node_ip = 127.0.0.1. Values that need Ansible's own filters (the role's gate URL)
    are left out: no template of the nginx configs uses them."""
    import jinja2  # here: `make local-stop` imports this module before `make deps` too
    import yaml  # type: ignore[import-untyped]

    role = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    cluster = yaml.safe_load(CLUSTER_DEFAULTS.read_text())
    context: dict[str, Any] = {
        **cluster,
        **role,
        "dcos_node_ip": NODE_IP,
        "playbook_dir": str(processes.REPO_ROOT / "playbooks"),
    }
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for _ in range(_DEPTH):
        for name, value in list(context.items()):
            if isinstance(value, str) and "{{" in value:
                try:
                    context[name] = env.from_string(value).render(context)
                except jinja2.TemplateError:
                    context[name] = value
    return {
        name: value
        for name, value in context.items()
        if name in role and not (isinstance(value, str) and "{{" in value)
    }


def metadata_json(cluster_id: str) -> dict[str, str]:
    """The bodies of `/dcos-metadata/dcos-version.json` and `/ui-config.json` (DC/OS's shapes),
    as the one-line JSON the templates `return`."""
    version = {
        "version": defaults()["dcos_adminrouter_dcos_version"],
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
    variables = {**defaults(), **metadata_json(""), **settings}
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
