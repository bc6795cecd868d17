"""dcos-adminrouter-auth: what Admin Router's nginx asks before it proxies a request
(docs/frontdoor.md). nginx has no Lua here; its `auth_request` asks this daemon, which checks the
token with IAM over HTTP, strips the `dcos-*` cookies, refuses cross-origin writes carried by the
auth cookie, and resolves the dynamic routes (`/mesos/`, `/service/<name>/`, `/agent/<id>/`) from
a cache of Marathon's apps and the leading master's state-summary.

Cores (pure): `config`, `cookies`, `origin`, `routes`. Runtimes: `iam_client`, `route_cache`,
`service`. Daemon: `api`, `app`, `main`. It imports no other daemon's code: IAM is reached over
HTTP, the master through the Mesos client's leader detector.
"""
