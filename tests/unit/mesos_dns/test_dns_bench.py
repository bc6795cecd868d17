"""bench/dns.py's pure helpers: the grown state, the dnsmasq hosts file, dnsperf's output."""

from __future__ import annotations

import json

from daemons.mesos_dns.config import MesosDnsConfig
from daemons.mesos_dns.records import generate
from dnsproxy.tasks import task_records
from tests.unit.bench_module import load_bench

bench = load_bench("dns.py")
RECORDED = json.loads(bench.FIXTURE.read_text())


def test_grown_state_has_one_running_app_per_task_on_the_recorded_agents() -> None:
    state = bench.grow_state(RECORDED, 7)
    tasks = next(f for f in state["frameworks"] if f["name"] == "marathon")["tasks"]
    assert [t["name"] for t in tasks] == [f"app{n}" for n in range(7)]
    assert {t["state"] for t in tasks} == {"TASK_RUNNING"}
    assert len({t["id"] for t in tasks}) == 7
    assert {t["slave_id"] for t in tasks} == {a["id"] for a in RECORDED["slaves"]}
    # The recorded state is left as it was; the other frameworks are kept.
    assert json.loads(bench.FIXTURE.read_text()) == RECORDED
    assert len(state["frameworks"]) == len(RECORDED["frameworks"])


def test_every_app_has_its_mesos_and_autoip_names_and_dnsmasq_the_same_addresses() -> None:
    state = bench.grow_state(RECORDED, 5)
    records = generate(state, MesosDnsConfig(), ["127.0.0.1:5050"], serial=1)
    hosts = dict(line.split()[::-1] for line in bench.hosts_lines(state).splitlines())
    autoip = {r.name: r.ip for r in task_records(state, ["127.0.0.1"]) if ".autoip." in r.name}
    for n in range(5):
        name = f"app{n}.marathon.mesos"
        assert sorted(records.a[name + "."]) == [hosts[name]]
        assert autoip[f"app{n}.marathon.autoip.dcos.thisdcos.directory"] == hosts[name]


def test_queries_name_every_app_once() -> None:
    assert bench.queries(3, "marathon.mesos").splitlines() == [
        "app0.marathon.mesos A", "app1.marathon.mesos A", "app2.marathon.mesos A"]  # fmt: skip


DNSPERF = """\
[Status] Sending queries (to 127.0.0.1:15353)
> NOERROR app1.marathon.mesos A 0.000038
> NOERROR app2.marathon.mesos A 0.000100
> NXDOMAIN app3.marathon.mesos A 0.002000
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         500
  Queries completed:    498 (99.60%)
  Queries lost:         2 (0.40%)

  Response codes:       NOERROR 497 (99.80%), NXDOMAIN 1 (0.20%)
  Run time (s):         1.000145
  Queries per second:   499.927511

  Average Latency (s):  0.000035 (min 0.000011, max 0.000320)
  Latency StdDev (s):   0.000015
"""


def test_dnsperf_statistics_and_each_latency() -> None:
    perf = bench.parse_dnsperf(DNSPERF)
    assert (perf.qps, perf.lost, perf.noerror) == (499.927511, 2, 99.8)
    assert round(perf.avg_ms, 6) == 0.035
    assert [round(x, 6) for x in perf.latencies_ms] == [0.038, 0.1, 2.0]
    assert round(perf.percentile(50), 6) == 0.1
    assert round(perf.percentile(99), 6) == 2.0


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (bench.percentile(values, 50), bench.percentile(values, 99)) == (50.0, 99.0)
    assert bench.percentile(values, 100) == 100.0
    assert bench.percentile([], 99) == 0.0


def test_proc_status_fields_in_kib() -> None:
    status = "Name:\tpython\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n"
    assert (bench.proc_kib(status, "VmRSS"), bench.proc_kib(status, "VmHWM")) == (40960, 51200)
    assert bench.proc_kib(status, "VmSwap") == 0


def test_a_subscribe_record_is_length_newline_json() -> None:
    assert bench.record({"type": "HEARTBEAT"}) == b'21\n{"type": "HEARTBEAT"}'
