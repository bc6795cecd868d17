"""The built-in executors are copied where an unprivileged task user can read and run them."""

from __future__ import annotations

import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from daemons.agent import builtin_executors


def test_install_copies_compiles_and_is_idempotent(tmp_path):
    dest = builtin_executors.install(tmp_path / "libexec")
    assert dest.parent == tmp_path / "libexec"
    for name in builtin_executors.FILES:
        mode = (dest / name).stat().st_mode
        assert stat.S_IMODE(mode) == 0o644
        assert (dest / name).read_bytes() == (builtin_executors.SOURCE / name).read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert list((dest / "__pycache__").glob("command_executor.*.pyc"))
    assert builtin_executors.install(tmp_path / "libexec") == dest
    assert [p.name for p in (tmp_path / "libexec").iterdir()] == [dest.name]


def test_unwritable_target_falls_back_to_the_source(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert builtin_executors.install(blocker / "libexec") == builtin_executors.SOURCE


@pytest.mark.skipif(
    subprocess.run(["id", "-u"], capture_output=True).stdout != b"0\n",
    reason="needs root to switch to nobody",
)
def test_an_unprivileged_user_can_run_the_copy_from_a_private_tree(tmp_path):
    tmp_path.chmod(0o700)  # like a checkout under /root
    libexec = Path(tempfile.mkdtemp(prefix="pydcos-libexec-", dir="/var/tmp")) / "libexec"
    try:
        dest = builtin_executors.install(libexec)
        libexec.parent.chmod(0o755)
        result = subprocess.run(
            [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "/usr/bin/python3",
                "-I",
                "-S",
                "-c",
                f"open({str(dest / 'command.py')!r}).read(); print('ok')",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.stdout.strip() == "ok", result.stderr
    finally:
        import shutil

        shutil.rmtree(libexec.parent, ignore_errors=True)
