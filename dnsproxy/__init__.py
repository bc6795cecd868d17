"""The DNS proxy (`dcos-dns-proxy`, every node): dcos-net's DNS half. It listens on
198.51.100.1, .2 and .3, port 53 (UDP and TCP), sends `.mesos` to Mesos-DNS on every master (dual
dispatch), answers `spartan`, `zk`, `localhost` and `*.thisdcos.directory` (with its
`thisdcos.global` and `dclb` aliases) from local zones, sends the configured forward zones to
their resolvers and everything else to the upstream resolvers. HTTP status and records API on
127.0.0.1:62080. docs/dns.md says what it serves and where it differs from dcos-net.

Pure cores (no time, random, os, socket, threading, Flask or requests; the master's state, the
Mesos-DNS records and the randomness come in as arguments): `config`, `tasks` (state ->
`dcos.thisdcos.directory` records), `axfr` (Mesos-DNS's `/v1/axfr` -> `mesos.thisdcos.directory`
records), `zones` (every local zone's records and their built zones), `routing` (the routing
table: a query -> reply bytes or `Forward`), `views` (the HTTP API's bodies). Runtimes: `proxy`
(the current table, rebuilt when its inputs change), `polling` (reading Mesos-DNS's records),
`service` (the DNS server, the forwarder, the master follower and the poll). Daemon: `api`,
`app`, `main`. It imports the kit (`daemons.kit`, its DNS serving kit included) and the Mesos
client (`daemons.mesos_client`: the follower of the leading master's state), never another
daemon's code.
"""
