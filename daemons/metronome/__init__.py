"""Metronome (`dcos-metronome`): the cluster's cron, a framework on the PyDCOS master.

Pure cores (no time, random, uuid, socket, threading, Flask or kazoo; clocks and random strings
come in as arguments): `timestamps` (Metronome's time format), `validation` (collecting 422
details), `jobspec` (JobSpec parsing and JSON), `schedule` (cron ticks, time zones, starting
deadline), `runs` (the JobRun state machine and history), `placement` (matching offers).
The shell: `errors` (the error tree), `store` (ZooKeeper), `metronome` (state behind a lock,
every write durable before it is acknowledged), `scheduler` (the framework's event handling),
`cron` (the schedule loop), `service` (leadership via `daemons.frameworks.daemon`), `api_*`
(thin Flask blueprints), `app`, `config`, `main`.
"""
