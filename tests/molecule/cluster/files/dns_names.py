"""Ask DNS names the way a node's or a task's own programs do, until each answer is the expected
one; run by frameworks.yml on every node (ansible.builtin.script) and, as a Metronome job's
command, inside a task's container. Standard library only: it runs on the node's python3.

The checks come as JSON in the environment variable DNS_CHECKS, a list of
`{"name", "type" (A or SRV), "via", "want" | "one_of"}`:
- via `proxy`: `dig @198.51.100.1` (the DNS proxy's first address);
- via `resolv.conf`: `dig` with no server, so the nameservers of the /etc/resolv.conf it sees;
- via `getent`: `getent ahostsv4`, libc's resolver (nsswitch, then resolv.conf);
- `want`: the sorted answers (A: the addresses; SRV: the ports), exactly;
- `one_of`: a single answer, one of these.

Every check is asked again, 1 s apart, until all are right or DNS_CHECK_SECONDS (default 45)
have passed (the names of a task follow its state within about a second). Then prints the
resolv.conf's nameservers, one line per check (`ok` or `BAD`, the query, the answers) and a last
line `RESULT <json>` (`answers` by `<via> <name> <type>`, `rounds`, `hostname`, `nameservers`)
that the caller asserts on; exits 1 when any check stayed wrong.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

PROXY = "198.51.100.1"


def run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"error: {err}"
    return done.stdout + (f"\nexit {done.returncode}" if done.returncode else "")


def ask(check: dict) -> list[str]:
    """The sorted answers to one check (what is not an answer is kept, so it shows and fails)."""
    name, rtype, via = check["name"], check["type"], check["via"]
    if via == "getent":
        lines = run(["getent", "ahostsv4", name]).splitlines()
        # `IP STREAM name`, `IP DGRAM`, `IP RAW`: the address of each; other lines kept whole.
        return sorted(
            {
                line.split()[0] if line.split()[1:2] in (["STREAM"], ["DGRAM"], ["RAW"]) else line
                for line in (line.strip() for line in lines)
                if line
            }
        )
    server = [f"@{PROXY}"] if via == "proxy" else []
    lines = run(["dig", *server, "+short", "+time=2", "+tries=1", name, rtype]).splitlines()
    answers = []
    for line in (line.strip() for line in lines):
        fields = line.split()
        if rtype == "SRV" and len(fields) == 4 and not line.startswith(";"):
            answers.append(fields[2])  # priority weight PORT target
        elif line:
            answers.append(line)
    return sorted(answers)


def right(check: dict, answers: list[str]) -> bool:
    if "one_of" in check:
        return len(answers) == 1 and answers[0] in check["one_of"]
    return answers == sorted(str(a) for a in check["want"])


def nameservers() -> list[str]:
    try:
        with open("/etc/resolv.conf") as conf:
            return [line.split()[1] for line in conf if line.startswith("nameserver ")]
    except OSError as err:
        return [f"error: {err}"]


def main() -> int:
    checks = json.loads(os.environ["DNS_CHECKS"])
    deadline = time.monotonic() + float(os.environ.get("DNS_CHECK_SECONDS", "45"))
    rounds = 0
    while True:
        rounds += 1
        answers = {f"{c['via']} {c['name']} {c['type']}": ask(c) for c in checks}
        wrong = [c for c in checks if not right(c, answers[f"{c['via']} {c['name']} {c['type']}"])]
        if not wrong or time.monotonic() >= deadline:
            break
        time.sleep(1)
    print("resolv.conf nameservers:", " ".join(nameservers()))
    for check in checks:
        key = f"{check['via']} {check['name']} {check['type']}"
        verdict = "BAD" if check in wrong else "ok "
        expected = check.get("want", check.get("one_of"))
        print(f"{verdict} {key}: {' '.join(answers[key]) or '(none)'} (expected {expected})")
    result = {
        "answers": answers,
        "rounds": rounds,
        "hostname": socket.gethostname(),
        "nameservers": nameservers(),
    }
    print("RESULT " + json.dumps(result, sort_keys=True), flush=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
