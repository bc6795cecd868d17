"""The Mesos agent: runs executors in containers and relays their task updates to the master.

Owns the agent<->master link (docs/agent-protocol.md), the v1 executor API, checkpoints and
recovery, the status-update manager, the files API and the agent's state endpoints. Containers
are made by `daemons.agent.containerizer`; the built-in command executor lives in
`daemons.agent.executors`. Pure parts (`status_updates`, `launcher`, `protocol`, `files` path
resolution) import no Flask, sockets or clock.
"""
