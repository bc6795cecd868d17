"""Leader election through real ZooKeeper: one leader, standbys redirect, failover."""

from __future__ import annotations

import signal
import time

import requests


def leader_of(*masters):
    leaders = []
    for m in masters:
        if not m.running():
            continue
        metrics = requests.get(f"{m.url}/metrics/snapshot", timeout=5).json()
        if metrics["master/elected"] == 1.0:
            leaders.append(m)
    return leaders


def wait_for_leader(masters, timeout=30.0, exclude=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leaders = [m for m in leader_of(*masters) if m is not exclude]
        if leaders:
            return leaders
        time.sleep(0.1)
    raise AssertionError("no leader elected")


def test_one_leader_standby_redirects_and_sigterm_hands_over_fast(start_master):
    first = start_master(zk_session_timeout=4.0)
    second = start_master(zk_session_timeout=4.0)
    leaders = wait_for_leader([first, second])
    assert leaders == [first]  # the lower json.info_ sequence leads
    response = requests.get(f"{second.url}/master/state", allow_redirects=False, timeout=5)
    assert response.status_code == 307
    assert response.headers["Location"] == f"//127.0.0.1:{first.port}/master/state"
    redirect = requests.get(f"{second.url}/master/redirect", allow_redirects=False, timeout=5)
    assert redirect.headers["Location"] == f"//127.0.0.1:{first.port}"
    subscribe = requests.post(
        f"{second.url}/api/v1/scheduler",
        json={"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}},
        allow_redirects=False,
        timeout=5,
    )
    assert subscribe.status_code == 307
    state = requests.get(f"{first.url}/master/state", timeout=5).json()
    assert state["leader"] == f"master@127.0.0.1:{first.port}"

    start = time.monotonic()
    first.kill(signal.SIGTERM)
    assert wait_for_leader([second], timeout=10) == [second]
    # A clean stop closes the ZooKeeper session: far quicker than the 4 s session timeout.
    assert time.monotonic() - start < 4.0


def test_sigkill_of_leader_fails_over_after_session_timeout(start_master):
    first = start_master(zk_session_timeout=4.0)
    second = start_master(zk_session_timeout=4.0)
    wait_for_leader([first, second])
    first.kill(signal.SIGKILL)
    start = time.monotonic()
    assert wait_for_leader([second], timeout=20) == [second]
    assert time.monotonic() - start < 15.0


def test_a_stopping_master_refuses_new_connections_while_it_finishes_old_ones(start_master):
    """gunicorn's graceful stop used to keep the listening socket open until its last
    connection ended: a client connecting meanwhile (an agent a standby redirected to the old
    leader) was accepted by the kernel, never answered, and reset seconds later. Now it is
    refused at once, while a connection already open is still answered."""
    import http.client
    import os
    import socket

    from tools import processes

    master = start_master()
    wait_for_leader([master])
    held = http.client.HTTPConnection("127.0.0.1", master.port, timeout=5)
    held.request("GET", "/health")
    first = held.getresponse()
    first.read()
    assert first.status == 200  # served: a kept-alive connection of the worker's now
    pid = master.pid
    assert pid is not None
    os.kill(pid, signal.SIGTERM)  # the arbiter: it tells its worker to stop gracefully
    refused = False
    deadline = time.monotonic() + 1.5  # gthread lingers on kept-alive connections for 2 s
    while not refused and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", master.port), timeout=0.5).close()
            time.sleep(0.02)
        except ConnectionRefusedError:
            refused = True
        except OSError:
            time.sleep(0.02)
    held.request("GET", "/health")
    answer = held.getresponse()
    answer.read()
    held.close()
    deadline = time.monotonic() + 15.0
    while not processes.exited(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    master.pid = None
    assert refused, "new connections were still accepted during the graceful stop"
    assert answer.status in (200, 503), answer.status
