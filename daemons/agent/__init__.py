"""The Mesos agent: runs executors in containers and relays their task updates to the master.

Owns the agent<->master link (docs/agent-protocol.md), the v1 executor API, checkpoints and
recovery, the status-update manager, the files API and the agent's state endpoints. Containers
are made by `daemons.agent.containerizer` (which imports nothing else of the agent); the
built-in executors in `daemons.agent.executors` are stdlib-only scripts.

What enters the agent -- the master's events, the executors' calls, the checkpoints it reads
back -- is parsed once where it enters into the typed models of `daemons.protocols.models`
(`messages`, `checkpoint`); the records (`model`) hold those typed values, and what goes out is
built from them (`protocol`), echoing a framework's own JSON (a model's `raw`) where it must
come back unchanged.

Layers, each importing only those before it:
- pure parts: `messages` (what enters, typed), `protocol` (what goes out), `launcher`,
  `status_updates` (no I/O, no clock), `model`, `plan`;
- the state and its transitions: `agent` (the state) and `master_events`, `executor_calls`,
  `containers`, `recovery`, plus `state` (its JSON): no thread, timer, lock, clock or socket;
  they write checkpoints (`checkpoint`) and emit effects (`plan`);
- the runtime: `runtime` (lock, threads, timers; applies the effects) with its adapters
  `master_link` and the containerizer;
- the daemon: the blueprints `executor_api`, `state_api`, `files` (through `web`), `app`, `main`.
"""
