"""Marathon-side health probes (HTTP, HTTPS, TCP), run by the leader against a task's host port.

An adapter: it does I/O, with a timeout, and never raises. Each probe returns `(ok, cause)`;
`cause` is the short text Marathon shows as `lastFailureCause` ("HTTP 500",
"ConnectionRefused", "Timeout") and None on success. Turning outcomes into health state is
`health.observe`'s job.
"""

from __future__ import annotations

import http.client
import socket
import ssl

# Marathon's HttpHealthCheck: any status in 200-399 is healthy, redirects are not followed.
HEALTHY_STATUSES = range(200, 400)


def probe_http(
    host: str,
    port: int,
    path: str | None,
    *,
    timeout: float,
    https: bool = False,
    ignore_1xx: bool = False,
) -> tuple[bool | None, str | None]:
    """GET `path` on host:port; (True, None) for 200-399, (False, cause) otherwise.

    With `ignore_1xx` an informational answer (100-199) gives (None, cause): Marathon discards
    such a result and the task's health stays what it was (`ignoreHttp1xx`). HTTPS does not
    verify the certificate, as Marathon does not: tasks serve self-signed certificates.
    """
    conn: http.client.HTTPConnection
    if https:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path or "/")
        response = conn.getresponse()
        status = response.status
        response.read()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return False, _cause(exc)
    finally:
        conn.close()
    if status in HEALTHY_STATUSES:
        return True, None
    if ignore_1xx and 100 <= status < 200:
        return None, f"HTTP {status}"
    return False, f"HTTP {status}"


def probe_tcp(host: str, port: int, *, timeout: float) -> tuple[bool, str | None]:
    """Healthy when a TCP connection to host:port opens within `timeout`."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, None
    except (OSError, ValueError) as exc:
        return False, _cause(exc)


def _cause(exc: BaseException) -> str:
    """The exception's class without "Error" (ConnectionRefusedError -> "ConnectionRefused")."""
    if isinstance(exc, TimeoutError):
        return "Timeout"
    name = type(exc).__name__
    return name.removesuffix("Error") or name
