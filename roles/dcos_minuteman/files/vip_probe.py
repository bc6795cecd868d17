"""Which of the cluster's TCP VIPs answer a new connection from this node now: the upgrade's
gate (roles/dcos_minuteman/tasks/vip_gate.yml) runs it before a node's units restart and again
after, and holds the play until every VIP that answered before answers again.

Reads this node's Minuteman API (`/v1/vips`, dcos-net's shape: `vip` is `<name>:<port>` or
`<ip>:<port>`), resolves each named VIP through the node's resolver (the DNS proxy, as the
node's programs do) and opens one TCP connection to each VIP with a backend, closing it at once.
UDP VIPs are not probed (nothing answers a UDP connect). No Minuteman answering (a release
without it, or it is down): no VIP is listed.

Prints one JSON line: `answering` and `silent` (VIP names, sorted), `api` (whether the API
answered). Standard library only: it runs with the node's python3, whatever release is
installed. Exits 0; the play compares.
"""

from __future__ import annotations

import argparse
import json
import socket
import urllib.request


def listed(api: str, timeout: float) -> list[dict] | None:
    try:
        with urllib.request.urlopen(f"{api}/v1/vips", timeout=timeout) as response:
            body = json.load(response)
    except (OSError, ValueError):
        return None
    return body if isinstance(body, list) else None


def answers(vip: str, timeout: float) -> bool:
    host, _, port = vip.rpartition(":")
    try:
        address = socket.gethostbyname(host)
        with socket.create_connection((address, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:61421")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--limit", type=int, default=20, help="probe at most this many VIPs")
    args = parser.parse_args()
    entries = listed(args.api, args.timeout)
    vips = sorted(
        {
            str(entry["vip"])
            for entry in entries or ()
            if isinstance(entry, dict) and entry.get("protocol") == "tcp" and entry.get("backend")
        }
    )[: args.limit]
    answering = [vip for vip in vips if answers(vip, args.timeout)]
    silent = [vip for vip in vips if vip not in answering]
    print(json.dumps({"api": entries is not None, "answering": answering, "silent": silent}))


if __name__ == "__main__":
    main()
