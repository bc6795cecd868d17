"""The calls the master receives, as typed values: parsed once, where a call enters.

`scheduler` (the v1 scheduler::Call of `/api/v1/scheduler`) and `agent` (the agent protocol of
docs/agent-protocol.md). Each `parse_*` checks the shape of a call — and what Mesos checks of a
call before it acts on it — and returns its payload as frozen values holding the protocols
models (`daemons.protocols.models`), or raises `ProtocolError` naming the bad field. The
handlers (`scheduler_calls`, `agent_calls`, `launches`) take these values and never read the
call's JSON again; `validation.refusing` turns a ProtocolError into the 400 Mesos answers.

Pure: imports only the wire layer and `validation`; no Flask, no clock, nothing of the master's
state. This package only holds its modules.
"""
