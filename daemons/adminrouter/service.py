"""The running auth daemon: IAM's answer, the CSRF rule and the route cache, put together into
the one decision nginx's `auth_request` asks for. The clock is read here (for the cache's age).

The decision for a request to a protected route:
1. no token, or one IAM refuses (expired, forged, of a deleted account): 401 `acsjwt`;
2. authenticated by the cookie alone, a write from another origin: 403 (origin.py);
3. otherwise 200 with the headers nginx copies with `auth_request_set`: `X-Dcos-Authorization`
   (`token=<jwt>`, forwarded as `Authorization`), `X-Dcos-Cookie` (the request's cookies but
   `dcos-*`), `X-Dcos-Uid`, and for a dynamic route `X-Dcos-Upstream` (the URL to proxy to:
   the resolved one, or this daemon's `/v1/unresolved/…` that answers the 404 or 503, since
   `auth_request` itself can only allow, 401 or 403).
IAM unreachable is 503, which nginx's `auth_request` turns into a 500: fail closed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from daemons.adminrouter import cookies, origin, routes
from daemons.adminrouter.config import AdminRouterAuthConfig
from daemons.adminrouter.iam_client import IamClient, IamUnavailable
from daemons.adminrouter.mesos_dns_client import MesosDnsClient
from daemons.adminrouter.route_cache import RouteCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What nginx's auth subrequest tells about the original request."""

    method: str
    uri: str
    host: str | None = None
    origin: str | None = None
    referer: str | None = None
    authorization: str | None = None
    cookie: str | None = None


@dataclass(frozen=True)
class Decision:
    status: int
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class AdminRouterAuth:
    def __init__(
        self,
        config: AdminRouterAuthConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        self._iam = IamClient(config.iam, config.request_timeout)
        self._mesos_dns = MesosDnsClient(config.mesos_dns, config.request_timeout)
        self.cache = RouteCache(config, clock)

    def start(self) -> None:
        self.cache.start()

    def stop(self) -> None:
        self.cache.stop()

    def unresolved_url(self, resolution: routes.Resolution) -> str:
        return (
            f"http://{self.config.ip}:{self.config.port}"
            f"/v1/unresolved/{resolution.status}/{resolution.kind}"
        )

    def decide(self, request: Request) -> Decision:
        token = cookies.auth_cookie(request.cookie)
        try:
            caller = self._iam.authenticate(request.authorization, token)
        except IamUnavailable as err:
            log.warning("auth: IAM unavailable error=%s", err)
            return Decision(503, "IAM is unavailable")
        if caller is None:
            return Decision(401, "a valid token is required", {"WWW-Authenticate": "acsjwt"})
        if request.authorization is None:
            problem = origin.cross_origin_problem(
                request.method, request.host, request.origin, request.referer
            )
            if problem is not None:
                log.info("auth: cross-origin write refused uid=%s why=%s", caller.uid, problem)
                return Decision(403, f"cross-origin request refused: {problem}")
        headers = {
            "X-Dcos-Uid": caller.uid,
            "X-Dcos-Authorization": caller.authorization,
            "X-Dcos-Cookie": cookies.strip_dcos_cookies(request.cookie),
        }
        resolution = routes.resolve(
            request.uri,
            self.cache.table,
            self._clock(),
            self.config.max_age,
            self.config.agent_adminrouter_port,
            self._mesos_dns.first_address,
        )
        if resolution is not None:
            url = resolution.url if resolution.status == 200 else self.unresolved_url(resolution)
            headers["X-Dcos-Upstream"] = url
        return Decision(200, "", headers)
