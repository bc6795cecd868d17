"""The built-in command executor as the agent starts it: from the agent's copy (with the part
of daemons.protocols it shares), as nobody, `python3 -I -S command.py`, subscribing to an agent
on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.unit.agent.public_copy import AS_NOBODY, public_copy

pytestmark = pytest.mark.integration


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to nobody")
def test_the_command_executor_runs_from_the_copy_as_nobody(tmp_path: Path) -> None:
    with public_copy(tmp_path) as copy, socket.create_server(("127.0.0.1", 0)) as agent:
        agent.settimeout(30)
        env = {
            "PATH": "/usr/bin:/bin",
            "MESOS_AGENT_ENDPOINT": f"127.0.0.1:{agent.getsockname()[1]}",
            "MESOS_FRAMEWORK_ID": "fw-1",
            "MESOS_EXECUTOR_ID": "ex-1",
        }
        argv = [*AS_NOBODY, "/usr/bin/python3", "-I", "-S", str(copy / "command.py")]
        executor = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, cwd="/")
        try:
            connection, _ = agent.accept()
            with connection:
                connection.settimeout(30)
                request = b""
                while b'"subscribe"' not in request:
                    chunk = connection.recv(65536)
                    assert chunk, executor.stderr.read() if executor.stderr else b""
                    request += chunk
        finally:
            executor.kill()  # setpriv runs python in its own process: this pid
            executor.wait(timeout=30)
            if executor.stderr is not None:
                executor.stderr.close()
    assert request.startswith(b"POST /api/v1/executor HTTP/1.1\r\n")
    assert b'"type":"SUBSCRIBE"' in request and b'"executor_id":{"value":"ex-1"}' in request
