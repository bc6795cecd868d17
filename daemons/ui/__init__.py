"""The web UI: its static files (`static/`, package data, served by Admin Router at `/`) and
`dcos-ui-backend`, the small daemon that samples the leading master's state-summary for every
browser at once and pushes it to them by Server-Sent Events (docs/ui.md)."""
