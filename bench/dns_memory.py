"""Where the DNS daemons' memory goes at N tasks, in process (tracemalloc): what Mesos-DNS and
the DNS proxy hold once they have loaded `bench/dns.py`'s state (`grow_state`: the recorded
`/master/state` with N copies of its first Marathon task, one app each), built with the
daemons' own code in the order they build it:

- the state: `/master/state` as the follower parses it (transient: dropped once the view is
  made), and the view the follower keeps (`master_view.MasterState`);
- Mesos-DNS: the record set (`records.generate`, with what it keeps for the next generation)
  and its DNS zone (`dns_zone.zone_of`), as the service holds them;
- the DNS proxy: its task names, the VIP table (`TableBuilder`), the copy of Mesos-DNS's
  records read from `/v1/axfr`, and the zones and routing table built of them (`DnsProxy`).

Each part is the growth of tracemalloc's traced memory while it is built and held, the rest
dropped; `--top N` lists the N source lines holding most of each daemon's total. What this
does not see: the interpreter and the libraries a daemon imports (an idle daemon's PSS,
`bench/dns.py --memory-only` at 0 tasks), and memory freed but kept by the allocator (the
daemon's PSS minus the idle one minus what is held here). No daemons, no network.

Run: `.venv/bin/python bench/dns_memory.py [--tasks 10000] [--top 12]`.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dns import FIXTURE, grow_state
from daemons.mesos_client.master_view import MasterState
from daemons.mesos_dns import zone as api_bodies
from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.dns_zone import zone_of
from daemons.mesos_dns.records import generate
from dnsproxy.proxy import DnsProxy
from tools.machine import machine_line

MIB = 1024 * 1024
CONFIG = MesosDnsConfig()
MASTER = "127.0.0.1:5050"


def held(build: Callable[[], Any]) -> tuple[Any, int]:
    """What `build()` returns, and the traced memory it holds once its garbage is gone."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    value = build()
    gc.collect()
    return value, tracemalloc.get_traced_memory()[0] - before


def top(since: tracemalloc.Snapshot, count: int) -> list[str]:
    now = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    stats = now.compare_to(since, "lineno")
    lines = []
    for stat in stats[:count]:
        frame = stat.traceback[0]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        lines.append(f"    {stat.size_diff / MIB:8.1f} MiB {stat.count_diff:>9,} blocks  {where}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=12, help="source lines listed per daemon")
    args = parser.parse_args()
    body = json.dumps(grow_state(json.loads(FIXTURE.read_text()), args.tasks)).encode()
    print(machine_line())
    print(f"{args.tasks:,} tasks; /master/state {len(body) / MIB:.1f} MiB as JSON")
    tracemalloc.start()
    rows: list[tuple[str, str, int]] = []

    # -- Mesos-DNS ---------------------------------------------------------------------------
    gc.collect()
    start = tracemalloc.take_snapshot()
    parsed, size = held(lambda: json.loads(body))
    rows.append(("Mesos-DNS", "/master/state parsed (transient)", size))
    del parsed
    # The view keeps strings and objects the parser made: parsed and viewed, the parse dropped.
    view, size = held(lambda: MasterState(json.loads(body)))
    rows.append(("Mesos-DNS", "state view (MasterState)", size))
    records, size = held(lambda: generate(view.snapshot(), CONFIG, [MASTER], serial=1))
    rows.append(("Mesos-DNS", "record set (+ what the next generation starts from)", size))
    built, size = held(functools.partial(zone_of, records, CONFIG))
    rows.append(("Mesos-DNS", "DNS zone", size))
    mesos_dns_top = top(start, args.top)
    axfr = json.dumps(api_bodies.axfr(records, CONFIG)).encode()
    del view, records, built

    # -- the DNS proxy -----------------------------------------------------------------------
    gc.collect()
    start = tracemalloc.take_snapshot()
    view, size = held(lambda: MasterState(json.loads(body)))
    rows.append(("DNS proxy", "state view (MasterState)", size))
    proxy = DnsProxy([MASTER.partition(":")[0]], [], [])
    _, size = held(lambda: proxy.update_state(view.snapshot()))
    rows.append(("DNS proxy", "task names, VIP table, their zones", size))
    parsed_axfr, size = held(lambda: json.loads(axfr))
    rows.append(("DNS proxy", f"/v1/axfr parsed ({len(axfr) / MIB:.1f} MiB; transient)", size))
    del parsed_axfr
    _, size = held(lambda: proxy.update_mesos(json.loads(axfr)))
    rows.append(("DNS proxy", "copy of Mesos-DNS's records, its zone", size))
    proxy_top = top(start, args.top)

    print(f"{'daemon':<10} {'part':<55} {'MiB':>7}")
    for daemon, part, size in rows:
        print(f"{daemon:<10} {part:<55} {size / MIB:>7.1f}")
    for daemon in ("Mesos-DNS", "DNS proxy"):
        kept = sum(s for d, p, s in rows if d == daemon and "transient" not in p)
        print(f"{daemon:<10} {'held in all':<55} {kept / MIB:>7.1f}")
    for daemon, lines in (("Mesos-DNS", mesos_dns_top), ("DNS proxy", proxy_top)):
        print(f"{daemon}: the source lines holding most")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
