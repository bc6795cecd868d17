"""The `/service/<name>` SRV step's lookup: Mesos-DNS's `GET /v1/services/<srv name>` over HTTP
(services-api.md §1.5), one keep-alive session per server thread as `iam_client`. Asked only
for a framework whose `webui_url` is empty (routes.py), as DC/OS's Admin Router does.

Mesos-DNS answers a list of `{"service", "host", "ip", "port"}`; a name it does not know is one
all-empty object. The first answer's address is the upstream.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

import requests

from daemons.adminrouter.sessions import ThreadSessions

log = logging.getLogger(__name__)


class MesosDnsClient:
    def __init__(self, base_url: str, timeout: float) -> None:
        self._base = base_url.rstrip("/") + "/v1/services/"
        self._timeout = timeout
        self._sessions = ThreadSessions()

    def first_address(self, name: str) -> str | None:
        """`ip:port` (`[ip]:port` for IPv6) of the SRV name's first answer; "" when it has
        none; None when Mesos-DNS could not be asked or answered something else."""
        url = self._base + quote(name, safe="")
        try:
            response = self._sessions.get().get(url, timeout=self._timeout)
            body = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as err:
            self._sessions.drop()
            log.warning("mesos-dns lookup failed url=%s error=%s", url, type(err).__name__)
            return None
        if not isinstance(body, list) or not body or not isinstance(body[0], Mapping):
            log.warning("mesos-dns lookup: unexpected answer url=%s status=%s", url,
                        response.status_code)  # fmt: skip
            return None
        ip, port = body[0].get("ip"), body[0].get("port")
        if not ip or not isinstance(ip, str):
            return ""
        if not isinstance(port, str | int) or not str(port).isdigit():
            return ""
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
