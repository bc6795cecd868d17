"""config/* on a real file store: Result answers, refusals, compare-and-set, and CVE-2019-5029.

Four-letter words come from a stub `ask` (the real wire is in tests/integration/exhibitor); the
shared config is a real file under tmp_path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from daemons.kit.config import from_mapping
from exhibitor.api import create_app
from exhibitor.config import ExhibitorConfig
from exhibitor.properties import render
from exhibitor.stores import FileStore

SPEC = "S:1:10.0.0.1,S:2:10.0.0.2,S:3:10.0.0.3"


def srvr(host: str, port: int, word: str) -> str | None:
    if word == "ruok":
        return "imok"
    return "Mode: leader\n" if host == "10.0.0.1" else "Mode: follower\n"


def make_client(tmp_path: Path, spec: str = SPEC, **settings: Any) -> Iterator[FlaskClient]:
    config = from_mapping(
        ExhibitorConfig,
        {
            "hostname": "10.0.0.1",
            "servers_spec": spec,
            "config_type": "file",
            "fs_config_dir": str(tmp_path),
            **settings,
        },
    )
    app = create_app(config, srvr)
    with app.test_client() as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    yield from make_client(tmp_path)


@pytest.fixture
def single(tmp_path: Path) -> Iterator[FlaskClient]:
    yield from make_client(tmp_path, "S:1:10.0.0.1")


def state(client: FlaskClient) -> dict[str, Any]:
    answer = client.get("/exhibitor/v1/config/get-state")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.get_json()
    assert answer.headers["ETag"] == f'"{body["version"]}"'
    return body


def test_get_state_seeds_the_shared_file_from_the_toml(client: FlaskClient, tmp_path: Path) -> None:
    body = state(client)
    assert body["version"] == 0
    assert body["config"]["serversSpec"] == SPEC
    assert body["config"]["rollInProgress"] is False
    assert body["config"]["rollStatus"] == "n/a"
    stored = json.loads((tmp_path / "exhibitor.json").read_text())
    assert stored["version"] == 0 and stored["shared"]["config"]["serversSpec"] == SPEC


def test_set_changes_what_needs_no_restart(client: FlaskClient) -> None:
    answer = client.post("/exhibitor/v1/config/set", json={"checkMs": 5000, "hostname": "x"})
    assert answer.get_json() == {"message": "OK", "succeeded": True}
    assert state(client)["config"]["checkMs"] == 5000
    assert state(client)["version"] == 1


def test_set_refuses_a_restart_of_an_ensemble(client: FlaskClient) -> None:
    answer = client.post("/exhibitor/v1/config/set", json={"zooCfgExtra": {"tickTime": "3000"}})
    assert answer.status_code == 409
    assert answer.get_json()["succeeded"] is False
    assert "use config/set-rolling" in answer.get_json()["message"]
    assert state(client)["version"] == 0  # nothing written


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "config object as JSON"),
        ([1, 2], "config object (a JSON object)"),
        ({"serverSpec": SPEC}, "'serverSpec' is not a key of Exhibitor's config object"),
        ({"serversSpec": "S:1:10.0.0.1;reboot"}, "is not a host name or IP address"),
        ({"clientPort": 70000}, "clientPort must be a port number"),
        ({"checkMs": True}, "checkMs must be a whole number"),
        ({"zooCfgExtra": {"dataDir": "/tmp"}}, "set by the ensemble"),
        ({"zooCfgExtra": {"4lw.commands.whitelist": "stat"}}, "must allow ruok, srvr"),
        ({"zooCfgExtra": {"a": "1\nserver.9=evil:1:2"}}, "line break"),
        ({"javaEnvironment": "export X=$(id)"}, "javaEnvironment is not supported"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(client: FlaskClient, body: Any, message: str) -> None:
    for path in ("set", "set-rolling"):
        data = body if isinstance(body, str) else json.dumps(body)
        answer = client.post(
            f"/exhibitor/v1/config/{path}", data=data, content_type="application/json"
        )
        assert answer.status_code == 400, answer.get_json()
        assert answer.get_json()["succeeded"] is False
        assert message in answer.get_json()["message"]
    assert state(client)["version"] == 0


def test_a_lost_compare_and_set_is_succeeded_false(client: FlaskClient) -> None:
    state(client)
    first = client.post(
        "/exhibitor/v1/config/set", json={"checkMs": 4000}, headers={"If-Match": '"0"'}
    )
    assert first.get_json()["succeeded"] is True
    late = client.post(
        "/exhibitor/v1/config/set", json={"checkMs": 9000}, headers={"If-Match": '"0"'}
    )
    assert late.status_code == 200
    assert late.get_json() == {
        "message": "another Exhibitor changed the config first; nothing was written",
        "succeeded": False,
    }
    assert state(client)["config"]["checkMs"] == 4000


def test_set_rolling_starts_a_roll_and_refuses_a_second(client: FlaskClient) -> None:
    answer = client.post(
        "/exhibitor/v1/config/set-rolling", json={"serversSpec": f"{SPEC},S:4:10.0.0.4"}
    )
    assert answer.get_json() == {
        "message": "rolling change started: 4 server restarts in 1 stage",
        "succeeded": True,
    }
    rolling = state(client)["config"]
    assert rolling["rollInProgress"] is True
    assert rolling["rollStatus"].startswith("rolling: stage 1 of 1")
    again = client.post("/exhibitor/v1/config/set-rolling", json={"checkMs": 999})
    assert again.status_code == 409 and "in progress" in again.get_json()["message"]
    forced = client.get("/exhibitor/v1/config/force-commit-rolling")
    assert forced.status_code == 409
    assert "never force-commits" in forced.get_json()["message"]
    back = client.post("/exhibitor/v1/config/rollback-rolling")
    assert back.get_json() == {"message": "rolling back, one server at a time", "succeeded": True}
    # Nothing had restarted yet, so the rollback is done at once.
    assert state(client)["config"]["rollStatus"] == "rolled back: rollback requested"
    assert state(client)["config"]["serversSpec"] == SPEC
    nothing = client.post("/exhibitor/v1/config/rollback-rolling")
    assert nothing.status_code == 409 and nothing.get_json()["succeeded"] is False


def test_a_get_never_rolls_a_change_back(client: FlaskClient) -> None:
    """Exhibitor rolls back on `GET config/rollback-rolling`; here a GET (a link, a prefetch, an
    <img> on any web page) changes nothing: 405 saying to POST, and the roll goes on."""
    started = client.post(
        "/exhibitor/v1/config/set-rolling", json={"serversSpec": f"{SPEC},S:4:10.0.0.4"}
    )
    assert started.get_json()["succeeded"] is True
    before = state(client)
    for method in ("GET", "HEAD"):
        refused = client.open("/exhibitor/v1/config/rollback-rolling", method=method)
        assert refused.status_code == 405
        assert refused.headers["Allow"] == "POST"
    body = client.get("/exhibitor/v1/config/rollback-rolling").get_json()
    assert body["succeeded"] is False and "POST" in body["message"]
    after = state(client)
    assert after["version"] == before["version"]
    assert after["config"]["rollInProgress"] is True
    assert after["config"]["rollStatus"] == before["config"]["rollStatus"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},  # no Content-Type at all: what a web page's Blob sends without a preflight
    ],
)
def test_a_body_that_is_not_declared_json_is_415_and_changes_nothing(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    for path in ("set", "set-rolling"):
        answer = client.post(
            f"/exhibitor/v1/config/{path}", data=json.dumps({"checkMs": 5000}), headers=headers
        )
        assert answer.status_code == 415, answer.get_json()
        assert answer.get_json()["succeeded"] is False
        assert "application/json" in answer.get_json()["message"]
    assert state(client)["version"] == 0
    assert state(client)["config"]["checkMs"] != 5000


def test_set_rolling_refuses_what_cannot_keep_a_quorum(client: FlaskClient) -> None:
    answer = client.post(
        "/exhibitor/v1/config/set-rolling", json={"serversSpec": "S:1:10.0.0.1,S:2:10.0.0.2"}
    )
    assert answer.status_code == 400
    assert "would have 2 voting servers" in answer.get_json()["message"]


def test_static_config_cannot_change(tmp_path: Path) -> None:
    client = next(make_client(tmp_path, config_type="static"))
    answer = client.post("/exhibitor/v1/config/set", json={"checkMs": 5000})
    assert answer.status_code == 409
    assert "config_type is static" in answer.get_json()["message"]


HOSTILE = "$(touch {p}/dollar)`touch {p}/backtick`; touch {p}/semicolon"


def test_shell_metacharacters_are_data_never_commands(single: FlaskClient, tmp_path: Path) -> None:
    """CVE-2019-5029: config values reached a shell. Here they are refused or kept verbatim."""
    hostile = HOSTILE.format(p=tmp_path)
    # In a host name: refused.
    bad = single.post("/exhibitor/v1/config/set", json={"serversSpec": f"S:1:{hostile}"})
    assert bad.status_code == 400
    # In a key: refused.
    key = single.post("/exhibitor/v1/config/set", json={"zooCfgExtra": {hostile: "1"}})
    assert key.status_code == 400
    # In java.env: refused (we never run one).
    env = single.post("/exhibitor/v1/config/set", json={"javaEnvironment": hostile})
    assert env.status_code == 400
    # As a zoo.cfg value (a single server may restart): stored and rendered verbatim.
    ok = single.post(
        "/exhibitor/v1/config/set",
        json={"zooCfgExtra": {"tickTime": "500", "exhibitor.note": hostile}},
    )
    assert ok.get_json()["succeeded"] is True
    extra = state(single)["config"]["zooCfgExtra"]
    assert extra["exhibitor.note"] == hostile
    stored = FileStore(tmp_path / "exhibitor.json").read()
    assert stored is not None
    rendered = render(stored.shared.config, "10.0.0.1") or ""
    assert f"exhibitor.note={hostile}\n" in rendered
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exhibitor.json", "exhibitor.json.lock"]


def test_cluster_lists_the_shared_servers(client: FlaskClient) -> None:
    status = client.get("/exhibitor/v1/cluster/status").get_json()
    assert [(s["hostname"], s["isLeader"]) for s in status] == [
        ("10.0.0.1", True),
        ("10.0.0.2", False),
        ("10.0.0.3", False),
    ]
    client.post("/exhibitor/v1/config/set-rolling", json={"serversSpec": f"{SPEC},S:4:10.0.0.4"})
    during = client.get("/exhibitor/v1/cluster/list").get_json()
    assert during["servers"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]


def test_the_ui_is_served_from_the_package(client: FlaskClient) -> None:
    assert client.get("/exhibitor/v1/ui/").headers["Location"].endswith("/ui/index.html")
    page = client.get("/exhibitor/v1/ui/index.html")
    assert page.status_code == 200 and b"exhibitor.js" in page.data
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    script = client.get("/exhibitor/v1/ui/exhibitor.js").get_data(as_text=True)
    assert "textContent" in script and "innerHTML" not in script.replace("never innerHTML", "")
    assert client.get("/exhibitor/v1/ui/exhibitor.css").status_code == 200
    for bad in ("../api.py", "api.py", "%2e%2e%2fapi.py"):
        assert client.get(f"/exhibitor/v1/ui/{bad}").status_code == 404
