"""Admin Router's routes, from ONE table: every protected route refuses a missing, expired,
forged or dead token with 401 `acsjwt` and passes a valid one to the right upstream path with
`Authorization: token=<jwt>`; every open route answers without a token. Then the cookie rules
(a browser's cookie becomes the upstream's `Authorization`; `dcos-*` cookies never reach an
upstream, others do; a cross-origin write carried by the cookie is 403), an SSE stream that
arrives unbuffered, the 404 of an unknown service, and nginx failing closed without its auth
daemon."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from daemons.iam import tokens
from tests.integration.adminrouter.front_door import (
    AGENT_ID,
    FRAMEWORK_ID,
    SSE_PAUSE,
    TIMEOUT,
    FrontDoor,
)


@dataclass(frozen=True)
class Route:
    path: str
    # What the echo upstream must see as its path (None: not an echo route: IAM, the auth
    # daemon's own bodies, nginx's own answers).
    upstream: str | None
    open: bool = False


ROUTES = (
    # open
    Route("/", None, open=True),
    Route("/dcos-metadata/dcos-version.json", None, open=True),
    Route("/dcos-metadata/ui-config.json", None, open=True),
    Route("/acs/api/v1/auth/jwks", None, open=True),
    Route("/acs/api/v1/auth/providers", None, open=True),
    Route("/exhibitor/exhibitor/v1/cluster/status", "/exhibitor/v1/cluster/status", open=True),
    Route("/nginx/status", None, open=True),
    # authenticated
    Route("/metadata", None),
    Route("/capabilities", None),
    Route("/acs/api/v1/users", None),
    Route("/mesos/master/state?jsonp=x", "/master/state?jsonp=x"),
    Route("/marathon/v2/apps", "/v2/apps"),
    Route("/service/marathon/v2/info", "/v2/info"),
    Route("/service/metronome/v1/jobs", "/v1/jobs"),
    Route("/service/echoapp/hello/there?x=1", "/hello/there?x=1"),
    Route(f"/service/{FRAMEWORK_ID}/frameworkpage", "/ui/frameworkpage"),
    Route("/service/webui-fw/page", "/ui/page"),
    Route("/service/srv-fw/srvpage?y=2", "/srvpage?y=2"),  # through Mesos-DNS's SRV record
    Route("/service/srv-fw-id/byid", "/byid"),  # by id: the SRV name of the framework's name
    Route(f"/agent/{AGENT_ID}/slave(1)/state", "/slave(1)/state"),
    Route(f"/slave/{AGENT_ID}/files/browse?path=/", "/files/browse?path=/"),
    Route(f"/system/v1/agent/{AGENT_ID}/logs/v2/component", "/system/v1/logs/v2/component"),
    Route("/system/health/v1/units", "/system/health/v1/units"),
    Route("/ui/api/v1/summary", "/ui/api/v1/summary"),
    Route("/exhibitor/exhibitor/v1/config/get-state", "/exhibitor/v1/config/get-state"),
    Route("/mesos_dns/v1/version", "/v1/version"),
    Route("/net/v1/vips", "/v1/vips"),
    Route("/net/v1/nodes", "/v1/nodes"),
)
PROTECTED = [r for r in ROUTES if not r.open]
OPEN = [r for r in ROUTES if r.open]


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hs256(secret: bytes, header: dict[str, object], claims: dict[str, object]) -> str:
    """A JWT signed HS256 by hand (PyJWT refuses a PEM key as an HMAC secret, as it should)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def bad_tokens(door: FrontDoor) -> dict[str, str]:
    """Every kind of token a protected route must refuse."""
    now = time.time()
    public_pem = door.key.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"uid": "root", "exp": int(now + 3600)}
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {"kid": door.key.kid}
    # A user made, logged in, then deleted: its token is dead at once.
    root = door.auth(door.login())
    created = requests.put(
        door.url("/acs/api/v1/users/ghost"),
        json={"password": "ghostpw"},
        headers=root,
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    ghost = door.login("ghost", "ghostpw")
    assert requests.get(door.url("/metadata"), headers=door.auth(ghost), timeout=TIMEOUT).ok
    deleted = requests.delete(door.url("/acs/api/v1/users/ghost"), headers=root, timeout=TIMEOUT)
    assert deleted.status_code == 204
    return {
        "expired": tokens.issue(door.key, "root", now - 7200, 3600),
        "hs256-with-public-key": hs256(
            public_pem, {"alg": "HS256", "typ": "JWT", **headers}, claims
        ),
        "alg-none": f"{b64({'alg': 'none', 'typ': 'JWT', **headers})}.{b64(claims)}.",
        "other-rsa-key": jwt.encode(claims, other, algorithm="RS256", headers=headers),
        "deleted-user": ghost,
        "garbage": "not-a-jwt",
    }


def test_protected_routes_refuse_without_a_valid_token(front_door: FrontDoor) -> None:
    door = front_door
    kinds = bad_tokens(door)
    failures = []
    for route in PROTECTED:
        attempts: dict[str, dict[str, str]] = {"no token": {}}
        attempts.update({kind: door.auth(token) for kind, token in kinds.items()})
        attempts["bearer expired"] = {"Authorization": f"Bearer {kinds['expired']}"}
        attempts["cookie deleted-user"] = {
            "Cookie": f"dcos-acs-auth-cookie={kinds['deleted-user']}"
        }
        for kind, headers in attempts.items():
            for method in ("GET", "POST"):
                response = requests.request(
                    method,
                    door.url(route.path),
                    headers=headers,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                )
                if (
                    response.status_code,
                    response.headers.get("WWW-Authenticate"),
                    response.headers.get("Content-Type"),
                    response.json().get("code") if response.status_code == 401 else None,
                ) != (401, "acsjwt", "application/json", "ERR_MISSING_AUTH"):
                    failures.append((route.path, kind, method, response.status_code))
    assert failures == []


def test_protected_routes_pass_a_valid_token_to_their_upstream(front_door: FrontDoor) -> None:
    door = front_door
    token = door.login()
    failures = []
    for route in PROTECTED:
        for headers in (door.auth(token), {"Authorization": f"Bearer {token}"}):
            response = requests.get(door.url(route.path), headers=headers, timeout=TIMEOUT)
            if response.status_code != 200:
                failures.append((route.path, response.status_code, response.text[:200]))
                continue
            if route.upstream is not None:
                seen = response.json()
                if seen["path"] != route.upstream:
                    failures.append((route.path, "path", seen["path"]))
                # The upstream gets the token in DC/OS's form, whichever form the client used.
                if seen["headers"].get("authorization") != (
                    None if route.path.startswith(("/mesos_dns/", "/net/")) else f"token={token}"
                ):
                    failures.append(
                        (route.path, "authorization", seen["headers"].get("authorization"))
                    )
    assert failures == []


def test_open_routes_answer_without_a_token(front_door: FrontDoor) -> None:
    for route in OPEN:
        response = requests.get(front_door.url(route.path), timeout=TIMEOUT)
        assert response.status_code == 200, (route.path, response.status_code, response.text)
        if route.upstream is not None:
            assert response.json()["path"] == route.upstream


def test_metadata_capabilities_and_redirects(front_door: FrontDoor) -> None:
    door = front_door
    auth = door.auth(door.login())
    metadata = requests.get(door.url("/metadata"), headers=auth, timeout=TIMEOUT)
    assert metadata.json() == {"PUBLIC_IPV4": "198.18.0.11", "CLUSTER_ID": "cluster-under-test"}
    capabilities = requests.get(door.url("/capabilities"), headers=auth, timeout=TIMEOUT)
    assert capabilities.json() == {"capabilities": [{"name": "METRONOME"}]}
    # The DC/OS CLI checks that the Content-Type holds what it asked for in Accept.
    assert capabilities.headers["Content-Type"] == (
        "application/vnd.dcos.capabilities+json;charset=utf-8;version=v1"
    )
    version = requests.get(door.url("/dcos-metadata/dcos-version.json"), timeout=TIMEOUT)
    assert version.json()["dcos-variant"] == "open"
    ui_config = requests.get(door.url("/dcos-metadata/ui-config.json"), timeout=TIMEOUT).json()
    assert ui_config["clusterConfiguration"]["id"] == "cluster-under-test"
    for path, status, location in (
        ("/marathon", 307, "/marathon/"),
        ("/mesos", 307, "/mesos/"),
        ("/service/echoapp", 301, "/service/echoapp/"),
    ):
        response = requests.get(door.url(path), allow_redirects=False, timeout=TIMEOUT)
        assert (response.status_code, response.headers["Location"]) == (status, location)
    unknown = requests.get(door.url("/service/nothing-here/x"), headers=auth, timeout=TIMEOUT)
    assert unknown.status_code == 404
    assert unknown.text.strip() == "404 Not Found: service not found."
    no_ui = requests.get(door.url("/service/no-ui/x"), headers=auth, timeout=TIMEOUT)
    assert no_ui.status_code == 404
    # No web UI URL and no SRV record in Mesos-DNS: not found either.
    no_srv = requests.get(door.url("/service/srv-none/x"), headers=auth, timeout=TIMEOUT)
    assert no_srv.status_code == 404, no_srv.text
    unknown_agent = requests.get(door.url("/agent/nope/state"), headers=auth, timeout=TIMEOUT)
    assert unknown_agent.status_code == 404


def test_browser_cookie_becomes_the_token_and_dcos_cookies_never_reach_an_upstream(
    front_door: FrontDoor,
) -> None:
    door = front_door
    browser = requests.Session()
    login = browser.post(
        door.url("/acs/api/v1/auth/login"),
        json={"uid": "root", "password": "rootpw"},
        timeout=TIMEOUT,
    )
    assert login.status_code == 200
    token = login.json()["token"]
    assert {"dcos-acs-auth-cookie", "dcos-acs-info-cookie"} <= set(browser.cookies.keys())
    browser.cookies.set("theme", "dark")
    browser.cookies.set("dcos-extra", "secret")
    for route in PROTECTED:
        if route.upstream is None:
            continue
        response = browser.get(door.url(route.path), timeout=TIMEOUT)
        assert response.status_code == 200, (route.path, response.status_code)
        seen = response.json()["headers"]
        cookie = seen.get("cookie", "")
        assert "dcos-" not in cookie and token not in cookie, (route.path, cookie)
        assert "theme=dark" in cookie, (route.path, cookie)
        if not route.path.startswith(("/mesos_dns/", "/net/")):
            assert seen["authorization"] == f"token={token}", route.path
    # An open route proxied upstream gets no cookie at all.
    status = browser.get(door.url("/exhibitor/exhibitor/v1/cluster/status"), timeout=TIMEOUT)
    assert "cookie" not in status.json()["headers"]
    assert "authorization" not in status.json()["headers"]


def test_cookie_writes_must_come_from_the_same_origin(front_door: FrontDoor) -> None:
    door = front_door
    token = door.login()
    cookie = {"Cookie": f"dcos-acs-auth-cookie={token}"}
    same = f"http://{door.host}"
    cases = [
        # (headers, expected status)
        ({**cookie, "Origin": "http://evil.example"}, 403),
        ({**cookie, "Origin": "null"}, 403),
        ({**cookie, "Origin": f"http://{door.host}.evil.example"}, 403),
        ({**cookie, "Referer": "http://evil.example/page"}, 403),
        (cookie, 403),
        ({**cookie, "Origin": same}, 200),
        ({**cookie, "Referer": f"{same}/services"}, 200),
        # A header token is proof enough: no browser adds it cross-site by itself.
        ({**door.auth(token), "Origin": "http://evil.example"}, 200),
    ]
    for headers, expected in cases:
        for method in ("POST", "PUT", "DELETE"):
            response = requests.request(
                method,
                door.url("/service/marathon/v2/apps"),
                headers=headers,
                json={},
                timeout=TIMEOUT,
            )
            assert response.status_code == expected, (method, headers, response.text)
            if expected == 200:
                assert response.json()["method"] == method
    # Reads carried by the cookie are fine from anywhere (SameSite=Strict keeps them home).
    read = requests.get(
        door.url("/service/marathon/v2/apps"),
        headers={**cookie, "Origin": "http://evil.example"},
        timeout=TIMEOUT,
    )
    assert read.status_code == 200


def test_marathon_events_stream_through_unbuffered(front_door: FrontDoor) -> None:
    door = front_door
    started = time.monotonic()
    with requests.get(
        door.url("/service/marathon/v2/events"),
        headers={**door.auth(door.login()), "Accept": "text/event-stream"},
        stream=True,
        timeout=TIMEOUT,
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        lines = response.iter_lines()
        first = next(lines)
        # The first event arrives while the upstream still holds the stream open.
        assert first == b"event: event_stream_attached"
        assert time.monotonic() - started < SSE_PAUSE * 0.75
        rest = b"\n".join(lines)
    assert b"status_update_event" in rest
    assert time.monotonic() - started >= SSE_PAUSE


def test_nginx_fails_closed_without_its_auth_daemon(front_door: FrontDoor) -> None:
    door = front_door
    token = door.login()
    door.auth_daemon.stop()
    for route in PROTECTED:
        response = requests.get(door.url(route.path), headers=door.auth(token), timeout=TIMEOUT)
        assert response.status_code >= 500 or response.status_code == 401, route.path
        assert "path" not in response.text, route.path  # nothing from an upstream
    assert requests.get(door.url("/dcos-metadata/dcos-version.json"), timeout=TIMEOUT).ok
    # IAM down: the auth daemon cannot check a token, so nothing passes either.
    door.auth_daemon.start()
    door.iam.stop()
    response = requests.get(
        door.url("/mesos/master/state"), headers=door.auth(token), timeout=TIMEOUT
    )
    assert response.status_code >= 500
    assert "path" not in response.text


@pytest.mark.parametrize("path", ["/_dcos_auth", "/v1/auth"])
def test_the_auth_subrequest_is_not_reachable_from_outside(
    front_door: FrontDoor, path: str
) -> None:
    response = requests.get(front_door.url(path), timeout=TIMEOUT)
    assert response.status_code == 404
