"""The running DNS proxy: the DNS server on the listen addresses (UDP and TCP), the forwarder
(dual dispatch to Mesos-DNS and the upstreams), and what feeds the routing table: the leading
master followed through its operator events (`daemons.mesos_client.master_follower`, found in
ZooKeeper with `zk`, else among `masters`), whose coalesced snapshots become the tasks' names
(`DnsProxy.update_state`), and the poll of Mesos-DNS's `/v1/axfr`.

Started in the gunicorn worker (`daemons.kit.entry`), beside the HTTP API. A listen address
that cannot be bound (not on any interface, port 53 taken) ends the daemon: systemd restarts
it, and `ready.spartan` failing to answer is what the node's watchdog and resolv.conf see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from daemons.kit.dns.counters import Counters
from daemons.kit.dns.forward import Forwarder
from daemons.kit.dns.server import DnsServer
from daemons.kit.memory import release_free_memory
from daemons.mesos_client.master_follower import MasterFollower, MasterSnapshot
from dnsproxy.config import DnsProxyConfig
from dnsproxy.polling import JsonPoller
from dnsproxy.proxy import DnsProxy

log = logging.getLogger(__name__)


class DnsProxyService:
    def __init__(self, config: DnsProxyConfig, on_fatal: Callable[[str], None]) -> None:
        self.config = config
        self._on_fatal = on_fatal
        self.proxy = DnsProxy(
            config.masters,
            config.mesos_dns(),
            config.upstreams(),
            config.forward_upstreams(),
            vip_pool=config.vip_pool(),
        )
        self.counters = Counters()
        self.forwarder = Forwarder(
            self.counters, upstream_timeout=config.upstream_timeout, timeout=config.timeout
        )
        self.server = DnsServer(
            config.listen_addresses(),
            self.proxy.resolve,
            self.forwarder,
            generation=lambda: self.proxy.table,  # what `resolve` answers from; new per rebuild
        )
        self.follower = MasterFollower(
            self._take_state,
            zk_url=config.zk,
            masters=[f"{_host(m)}:{config.master_port}" for m in config.masters],
            refresh_seconds=config.state_refresh_interval,
            coalesce=config.coalesce_seconds,
            zk_session_timeout=config.zk_session_timeout,
            name="dns-proxy",
        )
        self.axfr_poll = JsonPoller(
            "mesos-dns-axfr",
            [f"http://{_host(m)}:{config.mesos_dns_http_port}/v1/axfr" for m in config.masters],
            config.axfr_interval,
            self.proxy.update_mesos,
        )
        self.serving = False

    def start(self) -> None:
        self.forwarder.start()
        try:
            self.server.start()
        except OSError as err:
            self._on_fatal(f"cannot listen for DNS on {self.config.listen}: {err}")
            return
        self.serving = True
        log.info("dns proxy: serving addresses=%s", self.server.bound())
        self.follower.start()
        self.axfr_poll.start()

    def stop(self) -> None:
        self.follower.stop()
        self.axfr_poll.stop()
        self.server.stop()
        self.forwarder.stop()
        self.serving = False

    def _take_state(self, snapshot: MasterSnapshot) -> None:
        """From the follower's thread: the tasks' names of the state now (ValueError for a
        state without a leader: the follower logs it, the last names stay)."""
        try:
            self.proxy.update_state(snapshot.state)
        finally:
            release_free_memory()  # what a rebuild (or the state read) freed: docs/dns.md


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip
