"""The fork server's pure parts: its messages, which argvs run warm, the user drop, the config
switch, and the warm run's environment, argv, stdio and exit code (in a plain child process:
no cgroups, no namespaces)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemons.agent.config import AgentConfig
from daemons.agent.containerizer import ContainerizerConfig, InvalidSpec, fork_launcher
from daemons.agent.containerizer.containerizer import Containerizer
from daemons.agent.containerizer.fork_server import load_warm
from daemons.agent.containerizer.fork_server import main as server_main
from daemons.agent.containerizer.fork_wire import (
    Exited,
    Failed,
    ForkRequest,
    Started,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
    user_ids,
    warm_script,
)
from daemons.agent.main import containerizer_config

REQUEST = ForkRequest(
    argv=("/usr/bin/python3", "-I", "-S", "/lib/x/command.py"),
    environment={"PATH": "/usr/bin:/bin", "MESOS_SANDBOX": "/s", "EMPTY": ""},
    cwd="/s",
    hostname="c-1",
    uid=65534,
    gid=65534,
    groups=(),
    join_files=("/sys/fs/cgroup/pids/r/c-1/cgroup.procs",),
    warm="/lib/x/command.py",
)

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(
    argv=st.lists(texts, min_size=1, max_size=5),
    env=st.dictionaries(texts, texts, max_size=5),
    ids=st.one_of(st.none(), st.tuples(st.integers(0, 2**31), st.integers(0, 2**31))),
    groups=st.lists(st.integers(0, 2**31), max_size=4),
    warm=st.one_of(st.none(), texts),
)
def test_requests_round_trip(
    argv: list[str],
    env: dict[str, str],
    ids: tuple[int, int] | None,
    groups: list[int],
    warm: str | None,
) -> None:
    uid, gid = ids if ids is not None else (None, None)
    request = ForkRequest(tuple(argv), env, "/", "h", uid, gid, tuple(groups), ("/a",), warm)
    assert decode_request(encode_request(request)) == request


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"argv": []}, "argv"),
        ({"argv": ["a", 1]}, "argv"),
        ({"env": {"A": 1}}, "env"),
        ({"env": ["A=1"]}, "env"),
        ({"uid": 1, "gid": None}, "uid and gid"),
        ({"uid": -1, "gid": 1}, "uid and gid"),
        ({"uid": True, "gid": 1}, "uid and gid"),
        ({"groups": [1, "2"]}, "groups"),
        ({"join": "/a"}, "join"),
        ({"cwd": None}, "cwd"),
        ({"warm": 3}, "warm"),
    ],
)
def test_malformed_requests_are_refused(change: dict[str, object], error: str) -> None:
    import json

    body = json.loads(encode_request(REQUEST))
    body.update(change)
    with pytest.raises(ValueError, match=error):
        decode_request(json.dumps(body).encode())


@pytest.mark.parametrize("data", [b"", b"\xff", b"[1]", b"{}", b'{"started": -1}'])
def test_garbage_is_neither_a_request_nor_a_reply(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_request(data)
    with pytest.raises(ValueError):
        decode_reply(data)


@pytest.mark.parametrize("reply", [Started(42), Failed("no: ünïcode"), Exited(42, 9), Exited(7, 0)])
def test_replies_round_trip(reply: Started | Failed | Exited) -> None:
    assert decode_reply(encode_reply(reply)) == reply


def test_only_the_exact_argv_of_a_loaded_script_runs_warm() -> None:
    python, scripts = "/usr/bin/python3", ("/lib/x/command.py",)
    assert warm_script([python, "-I", "-S", "/lib/x/command.py"], python, scripts) == scripts[0]
    for argv in (
        ["/usr/bin/python3.11", "-I", "-S", "/lib/x/command.py"],  # another interpreter
        [python, "-S", "-I", "/lib/x/command.py"],
        [python, "-I", "-S", "/lib/x/default.py"],  # not loaded
        [python, "-I", "-S", "/lib/x/command.py", "extra"],
        ["/bin/sh", "-c", "sleep 1"],
    ):
        assert warm_script(argv, python, scripts) is None


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ((None, None, ()), (None, None, ())),
        ((0, 0, (0, 1)), (None, None, ())),  # root keeps the server's ids
        ((65534, 65534, (65534,)), (65534, 65534, ())),  # like unshare --setgid: none kept
        ((1000, 1000, (1000, 27, 44)), (1000, 1000, (1000, 27, 44))),  # like setpriv --groups
    ],
)
def test_user_ids_drop_as_util_linux_did(
    ids: tuple[int | None, int | None, tuple[int, ...]],
    expected: tuple[int | None, int | None, tuple[int, ...]],
) -> None:
    assert user_ids(*ids) == expected


@pytest.mark.parametrize(
    "config",
    [
        ContainerizerConfig(isolation=False, executor_launch="vfork"),
        ContainerizerConfig(
            isolation=False, executor_launch="fork_server", warm_argvs=(("python", "x.py"),)
        ),
        ContainerizerConfig(
            isolation=False,
            executor_launch="fork_server",
            warm_argvs=(("p1", "-I", "-S", "a.py"), ("p2", "-I", "-S", "b.py")),
        ),
    ],
)
def test_the_containerizer_refuses_a_bad_launch_config(config: ContainerizerConfig) -> None:
    with pytest.raises(InvalidSpec):
        Containerizer(config)


def test_the_agent_switch_makes_its_command_executor_warm(tmp_path: Path) -> None:
    exec_config = AgentConfig(master="m:5050", libexec_dir=str(tmp_path), isolation=False)
    assert containerizer_config(exec_config).executor_launch == "exec"
    assert containerizer_config(exec_config).warm_argvs == ()
    forked = AgentConfig(
        master="m:5050", libexec_dir=str(tmp_path), isolation=False, executor_launch="fork_server"
    )
    config = containerizer_config(forked)
    assert config.executor_launch == "fork_server"
    ((python, i, s, script),) = config.warm_argvs
    assert (python, i, s) == (forked.executor_python, "-I", "-S")
    assert script.startswith(str(tmp_path)) and script.endswith("/command.py")
    own = AgentConfig(
        master="m:5050", executor_launch="fork_server", command_executor="/opt/my/command.py"
    )
    assert containerizer_config(own).warm_argvs == ()  # exec'ed: not known to be warm-able
    assert AgentConfig(master="m:5050", executor_launch="spawn").validate() == [
        "executor_launch: must be 'exec' or 'fork_server'"
    ]


def test_the_server_refuses_a_bad_command_line() -> None:
    assert server_main([]) == 2
    assert server_main(["--fd", "x"]) == 2


def test_a_warm_script_is_loaded_without_running_it(tmp_path: Path) -> None:
    script = tmp_path / "warm.py"
    script.write_text(
        "import sys\nLOADED = True\ndef main():\n    return 3\n"
        "if __name__ == '__main__':\n    sys.exit(99)\n"
    )
    entry = load_warm(str(script), "pydcos_test_warm")
    assert entry() == 3


# A child that runs _run_warm as the top process would once its ids and fds are set up.
RUN_WARM = """
import os, sys
from daemons.agent.containerizer import fork_server
from daemons.agent.containerizer.fork_wire import ForkRequest
os.environ["LEAK"] = "from the server"
def main():
    print("argv", sys.argv)
    print("env", sorted(os.environ.items()))
    print("to stderr", file=sys.stderr)
    return int(os.environ["CODE"])
request = ForkRequest(("py", "-I", "-S", "/x/w.py"), {"CODE": "5", "A": "b"}, "/", "h",
                      None, None, (), (), "/x/w.py")
fork_server._run_warm(request, main)
"""


def test_a_warm_run_gets_exactly_its_environment_argv_and_exit_code() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN_WARM], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 5, done.stderr
    assert done.stdout.splitlines() == [
        "argv ['/x/w.py']",
        "env [('A', 'b'), ('CODE', '5')]",
    ]
    assert done.stderr == "to stderr\n"


def test_a_warm_main_that_raises_exits_1_with_its_traceback() -> None:
    script = RUN_WARM.replace('return int(os.environ["CODE"])', "raise RuntimeError('boom')")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 1
    assert "RuntimeError: boom" in done.stderr


def test_the_server_starts_without_a_script_that_fails_to_load_and_ends_with_the_agent(
    tmp_path: Path,
) -> None:
    """Started as the agent starts it, with a broken warm script: it logs it and serves on; the
    end of the agent's socket ends it, with status 0."""
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('cannot load me')\n")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = subprocess.Popen(
        [sys.executable, "-I", "-S", fork_launcher.SERVER, "--fd", str(theirs.fileno()),
         str(broken)],
        pass_fds=(theirs.fileno(),),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    theirs.close()
    assert server.stderr is not None
    assert "cannot load" in server.stderr.readline()
    assert server.poll() is None
    ours.close()
    assert server.wait(10) == 0
    assert "RuntimeError: cannot load me" in server.stderr.read()
