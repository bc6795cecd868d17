"""Marathon (`dcos-marathon`): the cluster's init system, a framework on the PyDCOS master.

Pure cores (no I/O, no clock, no randomness, no Flask, no kazoo): `model` (the typed app,
instance and deployment values), `pathid`, `appdef` (parsing, defaults, validation, the JSON
marathon-python accepts), `constraints`, `offers` (matching an offer, building a TaskInfo),
`groups`, `deployment` (plans and the rolling step), `backoff`, `health`.
Adapters and the shell: `store` (ZooKeeper), `scheduler` (the framework, on
`daemons.mesos_client`), `probes` (Marathon-side health checks), `events` (the SSE bus),
`service` (leadership, loops), `api/` (thin Flask blueprints), `main`.
"""
