#!/usr/bin/env python3
"""Cluster install speed: nothing → healthy cluster, a no-op re-run, and a rolling upgrade.

    .venv/bin/python bench/cluster_install.py [--skip-upgrade]

On nspawn test hosts (tools/testhosts.py, cluster `bench`, addresses 198.18.0.151+), over SSH:

1. fresh: boot 1 master + 2 agents, then `site.yml` (this tree's release), timed per phase —
   node boot, the release build on the controller, each play of site.yml;
2. no-op: `site.yml` again (changed=0 is checked);
3. upgrade: 3 masters + 2 agents installed with the previous release (pydcos 0.1.0, built from
   git history), then `upgrade.yml` to this tree — masters one at a time, gated, then agents.

There is no published figure for DC/OS's installers to stand beside. Targets (the issue's):
a fresh cluster ≤ 180 s and a no-op re-run ≤ 30 s on this 2-core machine. Every node is
destroyed at the end, also when a step fails.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools import release, testhosts
from tools.cluster import Layout, ansible_env, write_inventory
from tools.machine import machine_line
from tools.processes import REPO_ROOT

CLUSTER = "bench"
OFFSET = 140  # masters .151…, agents .161…
PREVIOUS_REF = "3ef8526"
INVENTORY = REPO_ROOT / "build" / "bench-inventory.yml"
_HEADER = re.compile(r"^(PLAY|TASK|RUNNING HANDLER) \[(.*?)\]")


def run_playbook(name: str, *extra: str) -> tuple[float, dict[str, float], str]:
    """Run a playbook; (wall seconds, seconds per play, output). Raises when it fails."""
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(INVENTORY),
        str(REPO_ROOT / "playbooks" / name),
        *extra,
    ]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=ansible_env(), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    plays: dict[str, float] = {}
    current, since, lines = "", start, []
    for line in proc.stdout:
        lines.append(line)
        match = _HEADER.match(line)
        if match and match.group(1) == "PLAY":
            now = time.monotonic()
            if current:
                plays[current] = plays.get(current, 0.0) + now - since
            current, since = match.group(2) or "(recap)", now
    proc.wait()
    wall = time.monotonic() - start
    if current:
        plays[current] = plays.get(current, 0.0) + time.monotonic() - since
    output = "".join(lines)
    if proc.returncode != 0:
        print(output[-4000:])
        raise SystemExit(f"{name} failed with exit code {proc.returncode}")
    return wall, plays, output


def changed_total(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1]))


def fresh_and_noop() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    layout = Layout.of(1, 2, offset=OFFSET)
    start = time.monotonic()
    testhosts.up(CLUSTER, layout.nodes)
    boot = time.monotonic() - start
    start = time.monotonic()
    meta, built = release.build(release.DEFAULT_OUT)
    build = time.monotonic() - start
    write_inventory(layout, release.DEFAULT_OUT, CLUSTER, INVENTORY)
    wall, plays, _ = run_playbook("site.yml")
    total = boot + build + wall
    rows.append(("fresh 1 master + 2 agents: total", total, "target ≤ 180 s"))
    rows.append(("  boot 3 nodes", boot, ""))
    rows.append((f"  release build ({'built' if built else 'cached'} {meta['id']})", build, ""))
    for play, secs in plays.items():
        rows.append((f"  site.yml: {play}", secs, ""))
    wall, _, output = run_playbook("site.yml")
    rows.append(("no-op re-run of site.yml", wall, f"changed={changed_total(output)}; ≤ 30 s"))
    return rows


def upgrade() -> list[tuple[str, float, str]]:
    layout = Layout.of(3, 2, offset=OFFSET)
    testhosts.up(CLUSTER, layout.nodes)
    previous = REPO_ROOT / "build" / "release-prev"
    release.build(previous, PREVIOUS_REF)
    release.build(release.DEFAULT_OUT)
    write_inventory(layout, previous, CLUSTER, INVENTORY)
    install, _, _ = run_playbook("site.yml", "-e", "dcos_release_build=false")
    write_inventory(layout, release.DEFAULT_OUT, CLUSTER, INVENTORY)
    wall, plays, _ = run_playbook("upgrade.yml")
    rows = [
        ("install previous release, 3 masters + 2 agents", install, ""),
        ("rolling upgrade 3 masters + 2 agents: total", wall, ""),
    ]
    rows += [(f"  upgrade.yml: {play}", secs, "") for play, secs in plays.items()]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-upgrade", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    rows: list[tuple[str, float, str]] = []
    try:
        testhosts.down(CLUSTER)
        rows += fresh_and_noop()
        testhosts.down(CLUSTER)
        if not args.skip_upgrade:
            rows += upgrade()
    finally:
        testhosts.down(CLUSTER)
        INVENTORY.unlink(missing_ok=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'seconds':>8}  note")
    for name, secs, note in rows:
        print(f"{name:<{width}}  {secs:8.1f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
