"""Pure parts of the command executor: durations, JSON, CommandInfo, HTTP parsing. (Its RecordIO
framing is daemons.protocols.recordio's, tested in tests/unit/protocols.)

The event/update flow against a fake agent is in
tests/integration/agent/test_command_executor_flow.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.agent.executors import command_executor as ce
from daemons.agent.executors import executor_wire as wire
from daemons.protocols.recordio import Decoder, encode

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5secs", 5.0),
        ("250ms", 0.25),
        ("15mins", 900.0),
        ("1.5hrs", 5400.0),
        ("2days", 172800.0),
        ("1weeks", 604800.0),
        ("100us", 1e-4),
        ("10ns", 1e-8),
        (" 3secs ", 3.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert ce.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "secs", "5 parsecs", "fivesecs", "5s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ce.parse_duration(text)


def test_env_duration_falls_back_on_missing_or_bad_values() -> None:
    env = {"A": "2secs", "B": "soon"}
    assert ce.env_duration(env, "A", 9.0) == 2.0
    assert ce.env_duration(env, "B", 9.0) == 9.0
    assert ce.env_duration(env, "C", 9.0) == 9.0


@given(JSON_VALUES)
def test_codec_matches_json(value: Any) -> None:
    text = wire.dumps(value)
    assert text == json.dumps(value, separators=(",", ":"))  # compact and ASCII-only
    assert wire.loads(text) == value


@pytest.mark.parametrize("text", ["", "{", '{"a":1} x', "[1,]", "nope"])
def test_codec_loads_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        wire.loads(text)


def test_codec_loads_accepts_spaces_around_a_value() -> None:
    assert wire.loads(' {"type": "HEARTBEAT"}\n') == {"type": "HEARTBEAT"}


def test_command_argv_shell_and_plain() -> None:
    assert ce.command_argv({"value": "echo hi"}) == ["/bin/sh", "-c", "echo hi"]
    assert ce.command_argv({"shell": True, "value": "x"}) == ["/bin/sh", "-c", "x"]
    plain = {"shell": False, "value": "/bin/echo", "arguments": ["echo", "a b"]}
    assert ce.command_argv(plain) == ["echo", "a b"]
    assert ce.command_argv({"shell": False, "value": "/bin/true"}) == ["/bin/true"]


def test_task_environment_adds_value_variables_only() -> None:
    command = {
        "environment": {
            "variables": [
                {"name": "A", "value": "1"},
                {"name": "B", "type": "VALUE", "value": "2"},
                {"name": "S", "type": "SECRET", "secret": {"type": "REFERENCE"}},
                {"name": "PATH", "value": "/opt/bin"},
            ]
        }
    }
    env = ce.task_environment({"PATH": "/bin", "MESOS_TASK_ID": "t"}, command)
    assert env == {"PATH": "/opt/bin", "MESOS_TASK_ID": "t", "A": "1", "B": "2"}


def test_exit_messages() -> None:
    assert ce.exit_message(0) == "Command exited with status 0"
    assert ce.exit_message(2 << 8) == "Command exited with status 2"
    assert ce.exit_message(signal.SIGTERM) == "Command terminated with signal Terminated"


def test_kill_grace_prefers_the_kill_then_the_task_then_3s() -> None:
    task = {"kill_policy": {"grace_period": {"nanoseconds": 7_000_000_000}}}
    kill = {"kill_policy": {"grace_period": {"nanoseconds": 500_000_000}}}
    assert ce.kill_grace(kill, task) == 0.5
    assert ce.kill_grace({}, task) == 7.0
    assert ce.kill_grace({}, {}) == ce.DEFAULT_KILL_GRACE
    assert ce.kill_grace({}, None) == 3.0


def _connection_over(sock: socket.socket) -> wire.Connection:
    conn = wire.Connection.__new__(wire.Connection)
    conn.host, conn.sock, conn._buffer = "agent:5051", sock, bytearray()
    return conn


def test_connection_posts_and_reads_a_chunked_stream_split_anywhere() -> None:
    ours, theirs = socket.socketpair()
    conn = _connection_over(ours)
    records = [encode(json.dumps({"type": "HEARTBEAT", "n": i}).encode()) for i in range(3)]
    body = b"".join(records)
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, body[:5], len(body) - 5, body[5:])
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n" + chunked

    def agent() -> None:
        request = theirs.recv(65536)
        assert request.startswith(b"POST /api/v1/executor HTTP/1.1\r\n")
        assert b"Content-Type: application/json\r\n" in request
        for i in range(0, len(reply), 7):  # the network may cut anywhere
            theirs.sendall(reply[i : i + 7])

    thread = threading.Thread(target=agent)
    thread.start()
    status, headers = conn.post({"type": "SUBSCRIBE"})
    assert (status, headers["x-a"]) == (200, "b")
    decoder = Decoder()  # the agent's framing (daemons.protocols.recordio), shared
    events = [wire.loads(r.decode()) for chunk in conn.chunks() for r in decoder.decode(chunk)]
    assert [e["n"] for e in events] == [0, 1, 2]
    thread.join()
    ours.close()
    theirs.close()


def test_connection_reads_a_content_length_body_and_sees_a_close() -> None:
    ours, theirs = socket.socketpair()
    conn = _connection_over(ours)
    theirs.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\n\r\nnope")
    theirs.shutdown(socket.SHUT_WR)
    status, headers = conn.post({"type": "UPDATE"})
    assert (status, conn.body(headers)) == (400, b"nope")
    with pytest.raises(ConnectionError):
        conn.post({"type": "UPDATE"})
    ours.close()
    theirs.close()


def test_the_task_gets_default_dispositions_for_what_python_ignores() -> None:
    assert {signal.SIGPIPE, signal.SIGXFSZ} <= set(ce._DEFAULTS)


def test_connecting_to_the_agent_loads_no_codec() -> None:
    """The command executor's start, up to its first call to the agent, imports no idna codec
    (re, stringprep, unicodedata: ~5 ms of a ~13 ms start): its host goes to getaddrinfo as
    bytes. A port bound but not listening refuses the connection at once."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{closed.getsockname()[1]}"
        script = (
            f"import sys; sys.path.insert(0, {str(Path(wire.__file__).parent)!r}); "
            "import executor_wire\n"
            f"try: executor_wire.Connection({endpoint!r}, 5.0)\n"
            "except ConnectionRefusedError: print(sorted(m for m in sys.modules if 'idna' in m))"
        )
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        result = subprocess.run(
            [python, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=30
        )
    assert result.stdout == "[]\n", result.stderr
