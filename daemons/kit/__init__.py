"""The daemon kit: everything a PyDCOS daemon needs that is not its own domain.

- `app.make_app`: the Flask app with the daemon's blueprints, the body limit, the request guard
  and the one error handler; `errors`: the one `ApiError` tree (pure);
- `body` and `args`: reading JSON bodies and query arguments the same way everywhere;
- `config`, `cli`, `entry`: the TOML config loaded into a frozen dataclass, `--config FILE` /
  `check-config FILE`, and the run loop of a service plus its app;
- `serve`: gunicorn, with the worker model chosen once for every daemon;
- `zk` and `store`: the ZooKeeper adapter (connection, Mesos-style election) and the fenced
  store every leader-bound daemon writes through;
- `streams`: an outgoing RecordIO event stream per subscriber.

It imports `daemons.protocols` and libraries, never a daemon, a core or `daemons.frameworks`
(docs/architecture.md).
"""
