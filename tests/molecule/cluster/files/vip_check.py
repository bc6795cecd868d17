"""Connect to a VIP the way a node's or a task's own programs do: its name through the system's
resolver (resolv.conf: the DNS proxy), then new TCP connections, each asking the backend who it
is. Run by frameworks.yml on every node (ansible.builtin.script) and, after dns_names.py, as the
Metronome job's command inside a task's container. Standard library only.

Environment: VIP_NAME (e.g. web.marathon.l4lb.thisdcos.directory), VIP_PORT (80), VIP_PATH
(`/task-id`: the backend's Mesos task id), VIP_CONNECTIONS (20), VIP_SECONDS (45: how long the
first answer may take, the name and the rules following the task within about a second).

Prints a last line `VIP_RESULT <json>`: `address` (what the name resolved to), `answers` (task id
-> connections it answered), `errors` (one per connection that failed), `hostname`. Exits 1 when
a connection failed or fewer than two backends answered.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import time


def ask(address: str, port: int, path: str) -> str:
    connection = http.client.HTTPConnection(address, port, timeout=5)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode().strip()
        if response.status != 200:
            raise OSError(f"HTTP {response.status}")
        return body
    finally:
        connection.close()


def main() -> int:
    name = os.environ["VIP_NAME"]
    port = int(os.environ.get("VIP_PORT", "80"))
    path = os.environ.get("VIP_PATH", "/task-id")
    count = int(os.environ.get("VIP_CONNECTIONS", "20"))
    deadline = time.monotonic() + float(os.environ.get("VIP_SECONDS", "45"))
    result: dict = {"hostname": socket.gethostname(), "address": None, "answers": {}, "errors": []}
    while True:  # the first answer: the name resolved and a backend reached
        try:
            result["address"] = socket.gethostbyname(name)
            ask(result["address"], port, path)
            break
        except OSError as err:
            if time.monotonic() > deadline:
                result["errors"].append(f"first answer: {err}")
                print("VIP_RESULT " + json.dumps(result))
                return 1
            time.sleep(1)
    for _ in range(count):
        try:
            who = ask(result["address"], port, path)
            result["answers"][who] = result["answers"].get(who, 0) + 1
        except OSError as err:
            result["errors"].append(str(err))
    print(f"{name} -> {result['address']}: {result['answers']} errors {result['errors']}")
    print("VIP_RESULT " + json.dumps(result))
    return 0 if not result["errors"] and len(result["answers"]) >= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
