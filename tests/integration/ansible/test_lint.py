"""ansible-lint runs in `make lint`, passes on the tree with the production profile, and needs no
network: it is run here in a network namespace of its own, with no interface but loopback
(so it could neither install a collection nor ask a server for anything)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def test_make_lint_runs_ansible_lint_offline() -> None:
    # -n prints the commands of `lint` (and of `deps`, its prerequisite) without running them.
    done = subprocess.run(
        ["make", "-n", "lint"], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert "ansible-lint --offline" in done.stdout
    config = yaml.safe_load((REPO / ".ansible-lint").read_text())
    assert config["profile"] == "production"
    assert config["offline"] is True


def test_ansible_lint_passes_without_network() -> None:
    unshare = shutil.which("unshare")
    assert unshare is not None
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", NO_COLOR="1")
    done = subprocess.run(
        [unshare, "--net", str(BIN / "ansible-lint"), "--offline", "--nocolor"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in done.stdout + done.stderr
