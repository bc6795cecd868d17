"""Mesos-DNS (`dcos-mesos-dns`): the `.mesos` names of the cluster, derived from the leading
master's `/master/state`, served over DNS (61053) and HTTP (8123).

Pure cores (no time, random, os, socket, threading, Flask or kazoo; the state, the masters,
the listener's addresses and the load's time come in as arguments): `config` (Mesos-DNS's own
config.json, keys matched as Go matches them), `labels` (DNS label sanitization and the
per-task hash), `records` (state -> an immutable `RecordSet`), `zone` (the HTTP API's views of
a record set: `/v1/axfr`, `/v1/enumerate`, `/v1/hosts`, `/v1/services`).
"""
