"""The DNS kit's UDP fast path: queries per second for in-zone A records, with dnsperf.

One `DnsServer` in this process (without, then with, its answer memo) on 127.0.0.1 serving a
zone of 1,000 `appN.marathon.mesos` A records (one address each) and 10 SRV names, the answers
shuffled per query as Mesos-DNS does; dnsperf (Debian `dnsperf`) sends the 1,000 names for
`--seconds` with 64 queries outstanding, as in the anchor run below. The client shares the 2
cores with the server, so the figure is a floor; the load average is printed beside it.

Anchor on this machine (docs/performance.md, same dnsperf settings): dnsmasq 2.90 about 93k
qps; Mesos-DNS up to 8.5k qps per core (its docs); target for the kit: half of dnsmasq.

Run: `.venv/bin/python bench/dns_kit.py [--quick] [--seconds N] [--rounds N]`.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemons.kit.dns import zone
from daemons.kit.dns.forward import Forward
from daemons.kit.dns.server import DnsServer
from daemons.kit.dns.wire import Query
from tools.machine import machine_line

NAMES = 1000


def build() -> zone.Zone:
    records: list[zone.Record] = [
        zone.A(f"app{n}.marathon.mesos", f"10.0.{n // 250}.{n % 250 + 1}") for n in range(NAMES)
    ]
    records += [zone.SRV(f"_app{n}._tcp.marathon.mesos", f"app{n}.marathon.mesos", 31000 + n)
                for n in range(10)]  # fmt: skip
    return zone.build_zone("mesos", zone.SOA("ns1.mesos", "root.ns1.mesos", 1), records, ttl=60)


def dnsperf_run(dnsperf: str, port: int, seconds: int) -> str:
    """dnsperf's report of the 1,000 names asked at 127.0.0.1:`port` for `seconds`."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as queries:
        queries.write("".join(f"app{n}.marathon.mesos A\n" for n in range(NAMES)))
        queries.flush()
        return subprocess.run(
            [dnsperf, "-s", "127.0.0.1", "-p", str(port), "-d", queries.name,
             "-l", str(seconds), "-c", "1", "-q", "64"],
            capture_output=True, text=True, timeout=seconds + 30, check=True,
        ).stdout  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s instead of 10 s")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="no memo / memo pairs")
    args = parser.parse_args()
    seconds = 2 if args.quick else args.seconds
    dnsperf = shutil.which("dnsperf")
    if dnsperf is None:
        print("dns_kit: dnsperf is not installed (scripts/bootstrap.sh installs it)")
        return 1
    table = build()
    rng = random.Random()

    def resolve(query: Query) -> bytes | Forward:
        reply = table.reply(query, rng)
        return reply if reply is not None else Forward(())

    print(machine_line())
    print(f"{'server':<52} {'qps':>10} {'avg latency':>12} {'lost':>6}")
    # Without and with the memo (the daemons run with it), alternated so that drift in the
    # box's load hits both alike.
    for memo in (False, True) * args.rounds:
        generation = (lambda: table) if memo else None
        server = DnsServer([("127.0.0.1", 0)], resolve, generation=generation)
        server.start()
        try:
            out = dnsperf_run(dnsperf, server.bound()[0][1], seconds)
        finally:
            server.stop()
        qps = re.search(r"Queries per second:\s+([\d.]+)", out)
        latency = re.search(r"Average Latency \(s\):\s+([\d.]+)", out)
        lost = re.search(r"Queries lost:\s+(\d+)", out)
        label = f"PyDCOS DNS kit, UDP, 1,000 A names, {'memo' if memo else 'no memo'}"
        print(
            f"{label:<52} "
            f"{float(qps.group(1)) if qps else 0:>10,.0f} "
            f"{float(latency.group(1)) * 1000 if latency else 0:>9.2f} ms "
            f"{lost.group(1) if lost else '?':>6}"
        )
    print(f"{'anchor: dnsmasq 2.90 (docs/performance.md)':<52} {92962:>10,} {0.57:>9.2f} ms")
    print(f"counters: {server.counters.snapshot()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
