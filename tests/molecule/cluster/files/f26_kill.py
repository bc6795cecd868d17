#!/usr/bin/env python3
"""F26 on a master: `kill -9` the main process of one of Admin Router's units, then measure.

    F26_UNIT=dcos-adminrouter.service F26_URL=http://127.0.0.1/system/health/v1 \
    F26_TOKEN=<jwt> python3 f26_kill.py

Before the kill the protected route F26_URL answers 200 with the token. After it, every 20 ms
(for at most 10 s) the route is asked without a token and with it, and systemd is asked for the
unit's MainPID and ExecMainStartTimestampMonotonic. Prints JSON: `restarted_s` (the new main
process's start, on systemd's monotonic clock, minus the kill), `served_s` (the first 200 with
the token again), and the answers seen meanwhile by status (0 = no connection), anonymous and
with the token. Stdlib only: it runs on the node's own python3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter

POLL = 0.02
LIMIT = 10.0


def show(unit: str) -> tuple[int, int]:
    out = subprocess.run(
        ["systemctl", "show", "--property=MainPID,ExecMainStartTimestampMonotonic", unit],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return int(values["MainPID"] or 0), int(values["ExecMainStartTimestampMonotonic"] or 0)


def get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"token={token}")
    try:
        with urllib.request.urlopen(request, timeout=1.0) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (urllib.error.URLError, OSError):
        return 0


def main() -> int:
    unit, url, token = os.environ["F26_UNIT"], os.environ["F26_URL"], os.environ["F26_TOKEN"]
    pid, started = show(unit)
    before = {"anonymous": get(url), "token": get(url, token)}
    anonymous: Counter[int] = Counter()
    with_token: Counter[int] = Counter()
    restarted_s = served_s = None
    new_pid = 0
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while time.monotonic() - killed_at < LIMIT:
        anonymous[get(url)] += 1
        answer = get(url, token)
        new_pid, new_start = show(unit)
        if restarted_s is None and new_pid not in (0, pid) and new_start > started:
            restarted_s = round(new_start / 1e6 - killed_at, 3)
        if answer == 200 and restarted_s is not None:
            served_s = round(time.monotonic() - killed_at, 3)
            break
        with_token[answer] += 1
        time.sleep(POLL)
    print(
        json.dumps(
            {
                "unit": unit,
                "killed_pid": pid,
                "new_pid": new_pid,
                "before": before,
                "restarted_s": restarted_s,
                "served_s": served_s,
                "anonymous": {str(k): v for k, v in sorted(anonymous.items())},
                "token_while_down": {str(k): v for k, v in sorted(with_token.items())},
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
