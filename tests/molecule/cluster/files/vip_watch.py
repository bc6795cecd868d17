"""Keep connecting to a VIP while the cluster changes around it: rolling_restart.yml runs it on
a master (async) across a site.yml run that restarts every master's units, Minuteman's among
them, and checks that no connection failed. Standard library only.

Resolves `--name` through the node's resolver (the DNS proxy) until it answers (at most
`--first-seconds`), then every `--interval` seconds opens a new TCP connection to the VIP and
sends one HTTP GET /, until `--stop-file` exists or `--max-seconds` have passed (bounded either
way). Prints one JSON line: `address`, `connections`, `failures`, `errors` (the first ten, with
the seconds since the start), `seconds`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import time


def get(address: str, port: int) -> None:
    connection = http.client.HTTPConnection(address, port, timeout=2)
    try:
        connection.request("GET", "/", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise OSError(f"HTTP {response.status}")
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--first-seconds", type=float, default=45.0)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    start = time.monotonic()
    result: dict = {"address": None, "connections": 0, "failures": 0, "errors": []}
    while result["address"] is None:
        try:
            address = socket.gethostbyname(args.name)
            get(address, args.port)
            result["address"] = address
        except OSError as err:
            if time.monotonic() - start > args.first_seconds:
                result["errors"].append(f"first answer: {err}")
                print(json.dumps(result))
                return
            time.sleep(1)
    while not os.path.exists(args.stop_file) and time.monotonic() - start < args.max_seconds:
        result["connections"] += 1
        try:
            get(result["address"], args.port)
        except OSError as err:
            result["failures"] += 1
            if len(result["errors"]) < 10:
                result["errors"].append(f"{time.monotonic() - start:.1f}s: {err}")
        time.sleep(args.interval)
    result["seconds"] = round(time.monotonic() - start, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
