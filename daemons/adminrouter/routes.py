"""Admin Router's dynamic routes: where `/mesos/…`, `/service/<name>/…`, `/agent/<id>/…`,
`/slave/<id>/…` and `/system/v1/agent/<id>/…` go. Pure: the route table is a value built from
what the route cache fetched, and the clock comes in as `now`.

`/service/<path>` follows DC/OS's order (docs/frontdoor.md): for the candidates `a`, `a/b`,
`a/b/c`… of `/service/a/b/c/x` (at most `MAX_SERVICE_SEGMENTS`), the first that matches wins:
1. a root Marathon app labelled `DCOS_SERVICE_NAME=<candidate>` with a running task: the task's
   host and its port at `DCOS_SERVICE_PORT_INDEX` (default 0), over `DCOS_SERVICE_SCHEME`
   (default http); `DCOS_SERVICE_REWRITE_REQUEST_URLS=false` keeps the `/service/<name>` prefix;
2. a Mesos framework whose id, then whose name, is the candidate: a non-empty `webui_url` is
   the upstream; a `null` one stops: not found; an empty one asks
3. Mesos-DNS for the SRV name of the framework's name (`_<name>._tcp.marathon.mesos`; a name
   `a/b` is `_b.a`), through `srv`, the caller's lookup: its first address is the upstream over
   http; no address goes on with the next candidate; a failed lookup is 503.
Nothing found is 404 "service not found"; a table older than `max_age` (or none yet) is 503.
`marathon` and `metronome` run on the masters and have static nginx locations; no app may take
those names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_SERVICE_SEGMENTS = 10
RESERVED_SERVICES = frozenset({"marathon", "metronome"})
SERVICE_NAME = "DCOS_SERVICE_NAME"
SERVICE_SCHEME = "DCOS_SERVICE_SCHEME"
SERVICE_PORT_INDEX = "DCOS_SERVICE_PORT_INDEX"
SERVICE_REWRITE = "DCOS_SERVICE_REWRITE_REQUEST_URLS"


@dataclass(frozen=True)
class Service:
    """A Marathon app's web endpoint: `http://10.0.0.3:31005`, and whether the
    `/service/<name>` prefix is stripped (DC/OS's default) or kept."""

    base_url: str
    rewrite: bool = True


@dataclass(frozen=True)
class RouteTable:
    services: Mapping[str, Service] = field(default_factory=dict)
    # Framework id -> webui_url and name -> webui_url; None is a JSON null (stop), "" go on.
    framework_ids: Mapping[str, str | None] = field(default_factory=dict)
    framework_names: Mapping[str, str | None] = field(default_factory=dict)
    # Framework id -> its name (the SRV lookup of a framework found by id uses its name).
    framework_id_names: Mapping[str, str] = field(default_factory=dict)
    # Agent id -> `ip:port` of its agent API.
    agents: Mapping[str, str] = field(default_factory=dict)
    # `ip:port` of the leading master; None while there is none.
    leader: str | None = None
    # When the table was fetched (seconds since the epoch); None: never.
    loaded_at: float | None = None


@dataclass(frozen=True)
class Resolution:
    """`url` to proxy to (scheme, authority, path and query), or `status` and `message` to
    answer instead (404: nothing by that name, 503: the table is stale)."""

    url: str = ""
    status: int = 200
    message: str = ""
    # What an unresolved answer is about (the auth daemon's `/v1/unresolved/<status>/<kind>`
    # has its text): "service", "agent" or "mesos_dns".
    kind: str = "service"


NOT_FOUND_SERVICE = Resolution(status=404, message="404 Not Found: service not found.")
NOT_FOUND_AGENT = Resolution(status=404, message="404 Not Found: agent not found.", kind="agent")
MESOS_DNS_FAILED = Resolution(
    status=503, message="503 Service Unavailable: the Mesos-DNS request failed.", kind="mesos_dns"
)

# The SRV step's lookup: an SRV name -> `ip:port` of its first answer, "" when it has none,
# None when Mesos-DNS could not be asked.
SrvLookup = Callable[[str], "str | None"]


def _no_srv(name: str) -> str | None:
    return ""


def srv_name(service: str) -> str:
    """The Mesos-DNS SRV name of a service path: `hello` -> `_hello._tcp.marathon.mesos`,
    `a/b/c` -> `_c.b.a._tcp.marathon.mesos`."""
    return "_" + ".".join(reversed(service.split("/"))) + "._tcp.marathon.mesos"


def _split(uri: str) -> tuple[str, str]:
    path, sep, query = uri.partition("?")
    return path, f"?{query}" if sep else ""


def is_dynamic(uri: str) -> bool:
    """Whether `uri` is a route whose upstream this module chooses."""
    path, _ = _split(uri)
    return path.startswith(("/mesos/", "/service/", "/agent/", "/slave/", "/system/v1/agent/"))


def resolve(
    uri: str,
    table: RouteTable,
    now: float,
    max_age: float,
    agent_adminrouter_port: int,
    srv: SrvLookup = _no_srv,
) -> Resolution | None:
    """Where the raw request URI `uri` goes, or None when it is not a dynamic route. `srv` is
    asked only for a framework whose `webui_url` is empty (the third step above)."""
    if not is_dynamic(uri):
        return None
    if table.loaded_at is None or now - table.loaded_at > max_age:
        return Resolution(status=503, message="503 Service Unavailable: route cache is stale.")
    path, query = _split(uri)
    if path.startswith("/mesos/"):
        if table.leader is None:
            return Resolution(status=503, message="503 Service Unavailable: no leading master.")
        return Resolution(url=f"http://{table.leader}{path[len('/mesos') :]}{query}")
    if path.startswith("/service/"):
        return _service(path, query, table, srv)
    if path.startswith("/system/v1/agent/"):
        agent_id, rest = _first_segment(path[len("/system/v1/agent/") :])
        agent = table.agents.get(agent_id)
        if agent is None:
            return NOT_FOUND_AGENT
        host = agent.rsplit(":", 1)[0]
        return Resolution(url=f"http://{host}:{agent_adminrouter_port}/system/v1{rest}{query}")
    prefix = "/agent/" if path.startswith("/agent/") else "/slave/"
    agent_id, rest = _first_segment(path[len(prefix) :])
    agent = table.agents.get(agent_id)
    if agent is None:
        return NOT_FOUND_AGENT
    return Resolution(url=f"http://{agent}{rest}{query}")


def _first_segment(tail: str) -> tuple[str, str]:
    """`id/rest/of/it` -> (`id`, `/rest/of/it`); `id` -> (`id`, `/`)."""
    first, sep, rest = tail.partition("/")
    return first, f"/{rest}" if sep else "/"


def _service(path: str, query: str, table: RouteTable, srv: SrvLookup) -> Resolution:
    segments = path[len("/service/") :].split("/")
    for count in range(1, min(len(segments), MAX_SERVICE_SEGMENTS) + 1):
        name = "/".join(segments[:count])
        if not name:
            break
        rest = "/" + "/".join(segments[count:])
        service = table.services.get(name)
        if service is not None and name not in RESERVED_SERVICES:
            kept = path if not service.rewrite else rest
            return Resolution(url=f"{service.base_url}{kept}{query}")
        if name in table.framework_ids:
            webui, framework = table.framework_ids[name], table.framework_id_names.get(name, "")
        elif name in table.framework_names:
            webui, framework = table.framework_names[name], name
        else:
            continue
        if webui is None:
            return NOT_FOUND_SERVICE
        if webui:
            return Resolution(url=f"{webui.rstrip('/')}{rest}{query}")
        if not framework:
            continue
        address = srv(srv_name(framework))
        if address is None:
            return MESOS_DNS_FAILED
        if address:
            return Resolution(url=f"http://{address}{rest}{query}")
    return NOT_FOUND_SERVICE


# --- building the table from what the cache fetched ---------------------------------------------


def _port_index(labels: Mapping[str, Any]) -> int | None:
    raw = labels.get(SERVICE_PORT_INDEX, "0")
    try:
        index = int(raw)
    except (TypeError, ValueError):
        return None
    return index if index >= 0 else None


def services_from_apps(apps: object) -> dict[str, Service]:
    """`{name: Service}` from Marathon's `GET /v2/apps?embed=apps.tasks&label=DCOS_SERVICE_NAME`
    body: each labelled app with a running task that has the labelled port (its first such
    task, by task id, so every Admin Router picks the same one). Malformed apps are skipped."""
    found: dict[str, Service] = {}
    if not isinstance(apps, Mapping) or not isinstance(apps.get("apps"), list):
        return found
    for app in apps["apps"]:
        if not isinstance(app, Mapping):
            continue
        labels = app.get("labels")
        if not isinstance(labels, Mapping):
            continue
        name = labels.get(SERVICE_NAME)
        index = _port_index(labels)
        if not isinstance(name, str) or not name or name in found or index is None:
            continue
        scheme = labels.get(SERVICE_SCHEME, "http")
        if scheme not in ("http", "https"):
            continue
        rewrite = str(labels.get(SERVICE_REWRITE, "true")).lower() != "false"
        for task in sorted(_running_tasks(app), key=lambda t: str(t.get("id"))):
            ports = task.get("ports")
            host = task.get("host")
            if isinstance(ports, list) and index < len(ports) and isinstance(host, str) and host:
                found[name] = Service(f"{scheme}://{host}:{ports[index]}", rewrite)
                break
    return found


def _running_tasks(app: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tasks = app.get("tasks")
    if not isinstance(tasks, list):
        return []
    return [
        t
        for t in tasks
        if isinstance(t, Mapping) and t.get("state", "TASK_RUNNING") == "TASK_RUNNING"
    ]


def frameworks_from_summary(
    summary: object,
) -> tuple[dict[str, str | None], dict[str, str | None], dict[str, str]]:
    """(id -> webui_url, name -> webui_url, id -> name) from the master's
    `/master/state-summary`."""
    by_id: dict[str, str | None] = {}
    by_name: dict[str, str | None] = {}
    names: dict[str, str] = {}
    if not isinstance(summary, Mapping) or not isinstance(summary.get("frameworks"), list):
        return by_id, by_name, names
    for framework in summary["frameworks"]:
        if not isinstance(framework, Mapping):
            continue
        webui = framework.get("webui_url", "")
        if webui is not None and not isinstance(webui, str):
            continue
        name = framework.get("name")
        if isinstance(framework.get("id"), str):
            by_id[framework["id"]] = webui
            if isinstance(name, str):
                names[framework["id"]] = name
        if isinstance(name, str):
            by_name.setdefault(name, webui)
    return by_id, by_name, names


def agents_from_summary(summary: object) -> dict[str, str]:
    """Agent id -> `ip:port` from `/master/state-summary` (the `pid` `slave(1)@ip:port`, else
    `hostname` and port 5051)."""
    agents: dict[str, str] = {}
    if not isinstance(summary, Mapping) or not isinstance(summary.get("slaves"), list):
        return agents
    for agent in summary["slaves"]:
        if not isinstance(agent, Mapping) or not isinstance(agent.get("id"), str):
            continue
        pid = agent.get("pid")
        if isinstance(pid, str) and "@" in pid:
            agents[agent["id"]] = pid.split("@", 1)[1]
        elif isinstance(agent.get("hostname"), str):
            agents[agent["id"]] = f"{agent['hostname']}:{agent.get('port', 5051)}"
    return agents


def build_table(apps: object, summary: object, leader: str | None, loaded_at: float) -> RouteTable:
    by_id, by_name, names = frameworks_from_summary(summary)
    return RouteTable(
        services=services_from_apps(apps),
        framework_ids=by_id,
        framework_names=by_name,
        framework_id_names=names,
        agents=agents_from_summary(summary),
        leader=leader,
        loaded_at=loaded_at,
    )
