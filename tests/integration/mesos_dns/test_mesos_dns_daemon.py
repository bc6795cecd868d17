"""dcos-mesos-dns against a real master and agent on loopback, asked with `dig`.

- the names of the cluster (leader, master, slave, the framework) from the first load;
- freshness: a task's names resolve within 1 s of the framework learning it is RUNNING, and are
  NXDOMAIN within 1 s of it learning the task was killed (Mesos-DNS: up to refreshSeconds + TTL);
- the master unreachable: the last records keep being served;
- a leader change: the new leader is followed (its state read, its events applied);
- TCP, and a name outside the domain without resolvers: REFUSED.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import requests
from mesos_dns_cluster import (
    Poller,
    dig,
    fail_over_with_a_slow_agent,
    status_of,
    wait_until,
)

from tools import processes

FRESH = 1.0  # seconds: issue 13's target


def test_the_clusters_names_from_the_first_load(mesos_dns_cluster: Any) -> None:
    env = mesos_dns_cluster()
    dns = env.dns
    master = env.cluster.master
    assert dns.answers("leader.mesos") == ["127.0.0.1"]
    assert dns.answers("master.mesos") == ["127.0.0.1"]
    assert dns.answers("master0.mesos") == ["127.0.0.1"]
    assert dns.answers("slave.mesos") == ["127.0.0.1"]
    assert dns.answers("_leader._tcp.mesos", "SRV") == ["0", "1", str(master.port), "leader.mesos."]
    full = dns.dig("leader.mesos")
    assert status_of(full) == "NOERROR" and " aa " in full.split("flags:")[1].split(";")[0] + " "
    missing = dns.dig("nothing.mesos")
    assert status_of(missing) == "NXDOMAIN" and "SOA" in missing
    assert status_of(dns.dig("leader.mesos", "AAAA")) == "NOERROR"
    # Over TCP too.
    assert (
        dns.answers("leader.mesos", "A") == dns.dig("leader.mesos", "A", "+tcp", "+short").split()
    )
    # Not our domain and no resolver: REFUSED.
    assert status_of(dns.dig("example.com")) == "REFUSED"


def test_static_masters_without_zookeeper(mesos_dns_cluster: Any) -> None:
    env = mesos_dns_cluster()
    master = env.cluster.master
    static = env.start_mesos_dns(zk="", masters=[f"127.0.0.1:{master.port}"])
    assert static.answers("leader.mesos") == ["127.0.0.1"]
    assert static.answers("_leader._tcp.mesos", "SRV")[2] == str(master.port)
    framework = env.framework("dnstest")
    task_id = framework.launch("api")
    framework.wait(task_id, "TASK_RUNNING")
    wait_until(lambda: static.answers("api.dnstest.mesos") == ["127.0.0.1"], 5.0)


def test_no_leader_within_zk_detection_timeout_ends_the_daemon(mesos_dns_cluster: Any) -> None:
    env = mesos_dns_cluster()
    lonely = env.start_mesos_dns(wait_loaded=False, zk=env.zk_url + "-nobody", zkDetectionTimeout=2)
    # Its API answers, but it has no records (and no DNS socket) before a first load.
    assert requests.get(f"{lonely.url}/v1/hosts/leader.mesos", timeout=5).status_code == 503
    assert status_of(lonely.dig("leader.mesos")) == "NO REPLY"
    assert lonely.pid is not None
    assert processes.wait_exit(lonely.pid, 15.0), "still running past zkDetectionTimeout"
    assert "no leading master's state within 2s" in lonely.log_tail()
    lonely.pid = None


def test_a_task_resolves_within_a_second_of_running_and_is_gone_within_a_second_of_ending(
    mesos_dns_cluster: Any,
) -> None:
    env = mesos_dns_cluster()
    dns = env.dns
    framework = env.framework("dnstest")
    # The framework's own name comes with its subscription (FRAMEWORK_ADDED).
    wait_until(lambda: dns.answers("dnstest.mesos") == ["127.0.0.1"], 5.0)
    task_id = framework.launch("web", port=0)
    running = framework.wait(task_id, "TASK_RUNNING")
    wait_until(lambda: dns.answers("web.dnstest.mesos") == ["127.0.0.1"], 5.0)
    appeared = time.monotonic() - running
    srv = dns.answers("_web._tcp.dnstest.mesos", "SRV")
    assert len(srv) == 4 and srv[3].startswith("web-") and srv[3].endswith(".dnstest.slave.mesos.")
    framework.kill(task_id)
    killed = framework.wait(task_id, "TASK_KILLED")
    wait_until(lambda: status_of(dns.dig("web.dnstest.mesos")) == "NXDOMAIN", 5.0)
    gone = time.monotonic() - killed
    print(f"freshness: resolvable {appeared:.3f}s after TASK_RUNNING, gone {gone:.3f}s after end")
    assert appeared <= FRESH, f"resolvable {appeared:.3f}s after TASK_RUNNING"
    assert gone <= FRESH, f"still resolvable {gone:.3f}s after TASK_KILLED"
    assert status_of(dns.dig("_web._tcp.dnstest.mesos", "SRV")) == "NXDOMAIN"


def test_the_last_records_are_served_while_the_master_is_unreachable(
    mesos_dns_cluster: Any,
) -> None:
    env = mesos_dns_cluster()
    dns = env.dns
    framework = env.framework("dnstest")
    task_id = framework.launch("db")
    framework.wait(task_id, "TASK_RUNNING")
    wait_until(lambda: dns.answers("db.dnstest.mesos") == ["127.0.0.1"], 5.0)
    serial = dns.http("/v1/axfr")["Serial"]
    env.cluster.master.kill(signal.SIGKILL)
    # Past the stream's heartbeat deadline (3 x 1 s) and a few failed reads and reconnects.
    time.sleep(5.0)
    assert dns.answers("db.dnstest.mesos") == ["127.0.0.1"]
    assert dns.answers("leader.mesos") == ["127.0.0.1"]
    assert dns.http("/v1/axfr")["Serial"] == serial
    assert dns.running()


def test_a_new_leader_is_followed(mesos_dns_cluster: Any) -> None:
    env = mesos_dns_cluster(masters=2)
    dns = env.dns
    first, second = env.masters
    assert dns.answers("_leader._tcp.mesos", "SRV")[2] == str(first.port)
    # Both masters are on 127.0.0.1: one address, one `masterN` name (a master whose address
    # is listed already is not numbered again, as in Mesos-DNS).
    assert dns.answers("master.mesos") == dns.answers("master0.mesos") == ["127.0.0.1"]
    first.kill(signal.SIGKILL)
    # The ZooKeeper session of the killed master ends (the integration masters' session), then
    # the second one leads: its port is the leader's.
    wait_until(
        lambda: dns.answers("_leader._tcp.mesos", "SRV")[2:3] == [str(second.port)], 40.0, 0.2
    )
    # Its state was read and its stream followed: the agent, registered again, is a slave.
    wait_until(lambda: dns.answers("slave.mesos") == ["127.0.0.1"], 30.0, 0.2)
    assert dig(dns.dns_port, "leader.mesos", "A", "+short", "+tcp").split() == ["127.0.0.1"]


def test_a_running_tasks_name_never_fails_through_a_master_failover(
    mesos_dns_cluster: Any,
) -> None:
    # Issue 13's F24: the new leader knows an agent's tasks only once the agent has registered
    # with it again; the names of those tasks must resolve all along.
    env = mesos_dns_cluster(masters=2)
    dns = env.dns
    framework = env.framework("steady", master=env.zk_url, failover_timeout=3600.0)
    task_id = framework.launch("web")
    framework.wait(task_id, "TASK_RUNNING")
    wait_until(lambda: dns.answers("web.steady.mesos") == ["127.0.0.1"], 5.0)
    with Poller(dns.dns_port, "web.steady.mesos") as poller:
        time.sleep(0.5)
        fail_over_with_a_slow_agent(env)
    failed = [r for r in poller.results if r != (0, ("127.0.0.1",))]
    assert len(poller.results) > 50
    assert failed == [], f"{len(failed)} of {len(poller.results)} answers failed: {failed[:5]}"
