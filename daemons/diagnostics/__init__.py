"""dcos-diagnostics: the health of each node's `dcos-*` systemd units, on every node (:1050),
and on the masters the whole cluster's (docs/diagnostics.md).

Layers: `config`, `units` (a unit's systemd properties -> its health) and `cluster` (the
nodes' reports -> DC/OS's views) are pure cores; `systemd` and `service` are the runtime
(systemctl and journalctl, the poller); `api`, `app` and `main` are the daemon.
"""
