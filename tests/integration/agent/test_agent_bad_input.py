"""Bad input to a running agent: the executor API and the files API answer 4xx with a message.

Missing or wrong Content-Type, bad JSON, GET, deep nesting, oversized bodies on
`/api/v1/executor`; `..`, `%2e%2e`, absolute paths elsewhere, symlinks out of the sandbox (into
another sandbox too, and a directory swapped for one while it is read), bad numbers, directories,
NUL bytes and header-splitting file names on `/files/*`.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from test_agent_fake_master import (  # noqa: F401  (fixtures)
    FRAMEWORK_ID,
    FakeMaster,
    command_task,
    run_task,
    shared_agent_fixture,
)

from tests.unit.agent.symlink_swap import swapping

EXECUTOR_API = "/api/v1/executor"
GOOD_CALL = {
    "type": "HEARTBEAT",
    "framework_id": {"value": FRAMEWORK_ID},
    "executor_id": {"value": "nobody-here"},
}
# The task leaves, in its sandbox, a symlink out of it, a directory and a file whose name would
# split a Content-Disposition header if it were copied into one.
PREPARE = (
    "ln -s /etc/passwd escape && mkdir sub && printf data > plain.txt && "
    'printf x > "$(printf \'evil\\"\\r\\nX-Injected: 1\')" && sleep 600'
)


def raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def agent(shared_agent: tuple[Any, FakeMaster]) -> Any:
    return shared_agent[0]


@pytest.fixture
def master(shared_agent: tuple[Any, FakeMaster]) -> FakeMaster:
    return shared_agent[1]


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b'{"type": "HEARTBEAT"}', 400),  # no Content-Type
        ({"Content-Type": "application/json"}, b"{not json", 400),
        ({"Content-Type": "text/plain"}, b'{"type": "HEARTBEAT"}', 415),
        ({"Content-Type": "application/x-protobuf"}, b"\x08\x01", 415),
        ({"Content-Type": "application/json"}, b"[" * 100_000 + b"]" * 100_000, 400),
        ({"Content-Type": "application/json"}, b"[1, 2]", 400),  # not an object
        ({"Content-Type": "application/json"}, b'{"type": "HEARTBEAT"}', 400),  # no ids
        ({"Content-Type": "application/json"}, None, 400),  # unknown executor
        ({"Content-Type": "application/json"}, b"x" * (5 * 1024 * 1024), 413),
    ],
)
def test_executor_api_rejects(
    agent: Any,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
) -> None:
    url = f"{agent.url}{EXECUTOR_API}"
    if body is None:
        response = requests.post(url, json=GOOD_CALL, timeout=10)
    else:
        response = requests.post(url, data=body, headers=headers, timeout=10)
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_executor_api_get_is_405_with_allow(agent: Any) -> None:
    response = requests.get(f"{agent.url}{EXECUTOR_API}", timeout=10)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.json()["message"]


def test_executor_subscribe_that_accepts_no_json_is_406(agent: Any) -> None:
    call = {**GOOD_CALL, "type": "SUBSCRIBE", "subscribe": {}}
    response = requests.post(
        f"{agent.url}{EXECUTOR_API}", json=call, headers={"Accept": "foo/bar"}, timeout=10
    )
    assert response.status_code == 406
    assert response.json()["message"]


def test_update_with_a_malformed_uuid_is_400(agent: Any, master: FakeMaster) -> None:
    master.wait_subscribed()
    call = {
        **GOOD_CALL,
        "type": "UPDATE",
        "update": {"status": {"task_id": {"value": "t"}, "state": "TASK_RUNNING", "uuid": "!!"}},
    }
    response = requests.post(f"{agent.url}{EXECUTOR_API}", json=call, timeout=10)
    assert response.status_code == 400
    assert "uuid" in response.json()["message"]


def test_bad_request_targets_are_400(agent: Any) -> None:
    for target in (b"/files/read?path=%zz", b"files/read", b"/state%"):
        answer = raw_request(
            agent.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


@pytest.fixture(scope="module")
def sandbox(shared_agent: tuple[Any, FakeMaster]) -> str:
    """The sandbox of a running task that prepared the files these tests poke at."""
    agent, master = shared_agent
    master.wait_subscribed()
    master.send(run_task(command_task("files", PREPARE, "FAKE-S0")))
    master.wait_state("files", "TASK_RUNNING")
    state = requests.get(f"{agent.url}/state", timeout=5).json()
    directory = str(state["frameworks"][0]["executors"][0]["directory"])
    master.wait_for(lambda: (Path(directory) / "plain.txt").exists(), timeout=15)
    return directory


@pytest.mark.parametrize(
    ("endpoint", "query", "status"),
    [
        ("read", "path={d}/../{leaf}/plain.txt", 400),
        ("read", "path={d}/%2e%2e/{leaf}/plain.txt", 400),
        ("read", "path={d}/%252e%252e/plain.txt", 404),  # decoded once: a name, not found
        ("read", "path=/etc/passwd", 404),
        ("read", "path={d}/escape", 404),
        ("read", "path={d}/plain.txt&offset=hello", 400),
        ("read", "path={d}/plain.txt&length=-2", 400),
        ("read", "path={d}/plain.txt&offset=-5", 400),
        ("read", "path={d}/sub", 400),
        ("read", "path={d}/plain%00.txt", 400),
        ("read", "", 400),
        ("read.json", "path={d}/missing", 404),
        ("browse", "path=/etc", 404),
        ("browse.json", "path={d}/plain.txt", 400),
        ("download", "path={d}/sub", 400),
        ("download.json", "path={d}/escape", 404),
    ],
)
def test_files_api_rejects(
    agent: Any,
    sandbox: str,
    endpoint: str,
    query: str,
    status: int,
) -> None:
    query = query.format(d=sandbox, leaf=Path(sandbox).name)
    response = requests.get(f"{agent.url}/files/{endpoint}?{query}", timeout=10)
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_files_api_serves_the_sandbox(agent: Any, sandbox: str) -> None:
    base = f"{agent.url}/files"
    assert requests.get(
        f"{base}/read", params={"path": f"{sandbox}/plain.txt"}, timeout=5
    ).json() == {
        "data": "",
        "offset": 4,
    }  # no offset: -1, the size probe
    chunk = requests.get(
        f"{base}/read.json",
        params={"path": f"{sandbox}/plain.txt", "offset": 1, "length": 2},
        timeout=5,
    ).json()
    assert chunk == {"data": "at", "offset": 1}
    listing = requests.get(f"{base}/browse.json", params={"path": sandbox}, timeout=5).json()
    names = {e["path"].rsplit("/", 1)[1] for e in listing}
    assert {"stdout", "stderr", "plain.txt", "sub", "escape"} <= names
    virtual = requests.get(f"{base}/debug", timeout=5).json()
    (prefix,) = [k for k in virtual if "/executors/files/" in k]
    via_virtual = requests.get(
        f"{base}/read", params={"path": f"{prefix}/plain.txt", "offset": 0}, timeout=5
    ).json()
    assert via_virtual == {"data": "data", "offset": 0}


def test_download_names_cannot_split_headers(agent: Any, sandbox: str) -> None:
    evil = next(p for p in Path(sandbox).iterdir() if p.name.startswith("evil"))
    response = requests.get(f"{agent.url}/files/download", params={"path": str(evil)}, timeout=10)
    assert response.status_code == 200
    assert response.content == b"x"
    assert "X-Injected" not in response.headers
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith("attachment;")


def test_a_symlink_to_another_sandbox_is_not_served(agent: Any, sandbox: str) -> None:
    """Inside the sandboxes tree but out of this sandbox: the real path of `peer` lies under the
    agent's sandboxes, which a resolve-then-check approves; the agent follows no symlink."""
    other = Path(sandbox).parent / "another-run"
    other.mkdir(exist_ok=True)
    (other / "private").write_text("another executor's secret")
    link = Path(sandbox) / "peer"
    link.unlink(missing_ok=True)
    link.symlink_to(other / "private")
    read = requests.get(
        f"{agent.url}/files/read", params={"path": str(link), "offset": 0}, timeout=5
    )
    assert read.status_code == 404, read.text
    assert "secret" not in read.text
    listing = requests.get(f"{agent.url}/files/browse", params={"path": str(link)}, timeout=5)
    assert listing.status_code == 404


def test_a_directory_swapped_for_a_symlink_never_serves_what_is_outside(
    agent: Any, sandbox: str, tmp_path: Path
) -> None:
    """Another process trades a sandbox directory and a symlink to a directory elsewhere,
    atomically and endlessly, while `/files/read` and `/files/browse` are called: every answer
    is the sandbox's own content or a 404."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "log").write_text("OUTSIDE THE SANDBOX")
    (outside / "outside-only").write_text("")
    inside = Path(sandbox) / "swapped"
    inside.mkdir(exist_ok=True)
    (inside / "log").write_text("inside")
    answers: Counter[int] = Counter()
    deadline = time.monotonic() + 20.0
    with requests.Session() as http, swapping(inside, outside):
        for _ in range(300):
            if time.monotonic() > deadline:
                break
            read = http.get(
                f"{agent.url}/files/read", params={"path": f"{inside}/log", "offset": 0}, timeout=5
            )
            browse = http.get(f"{agent.url}/files/browse", params={"path": str(inside)}, timeout=5)
            answers.update((read.status_code, browse.status_code))
            assert "OUTSIDE" not in read.text
            assert "outside-only" not in browse.text
            if read.status_code == 200:
                assert read.json() == {"data": "inside", "offset": 0}
    assert set(answers) <= {200, 404} and answers.total() >= 2
