"""The daemon kit: everything a PyDCOS daemon needs that is not its own domain.

- `app.make_app`: the Flask app with the daemon's blueprints, the body limit, the request guard
  and the one error handler; `errors`: the one `ApiError` tree (pure);
- `body` and `args`: reading JSON bodies and query arguments the same way everywhere;
- `config`, `cli`, `entry`: the TOML config loaded into a frozen dataclass, `--config FILE` /
  `check-config FILE`, and how every daemon runs: its service in gunicorn's worker, stopped
  first on SIGTERM, and optionally something supervised in the main process around gunicorn;
- `serve`: gunicorn, with the worker model chosen once for every daemon;
- `zk` and `store`: the ZooKeeper adapter (connection, Mesos-style election) and the fenced
  store every leader-bound daemon writes through (`Fenced`, `StoreUnavailable` in `errors`);
- `streams`: an outgoing RecordIO event stream per subscriber.
- `dns`: the DNS serving kit Mesos-DNS and the DNS proxy share (wire, precomputed zones, the
  UDP/TCP server and dual-dispatch forwarding).

It imports `daemons.protocols` and libraries, never a daemon, a core or `daemons.frameworks`
(docs/architecture.md).
"""
