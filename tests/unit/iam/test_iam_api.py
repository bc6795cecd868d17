"""IAM's HTTP API through Flask's test client, over the service and an in-memory store: the
status codes, headers, cookies and error bodies of every route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from daemons.iam import passwords
from daemons.iam.app import create_app
from daemons.iam.config import IamConfig
from daemons.iam.service import IamService
from tests.unit.iam.factories import CHEAP, SALT, MemoryStore, public_pem

NOW = 1_800_000_000.0
USERS = "/acs/api/v1/users"
LOGIN = "/acs/api/v1/auth/login"
AUTHENTICATE = "/internal/v1/authenticate"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> Iterator[FlaskClient]:
    config = IamConfig(
        superuser_uid="root", superuser_password_hash=passwords.hash_password("rootpw", SALT, CHEAP)
    )
    service = IamService(config, pytest.fail, clock=clock, salt=lambda: SALT, kdf=CHEAP)
    service.open(MemoryStore())
    yield create_app(service).test_client()


def token_of(client: FlaskClient, uid: str, password: str) -> str:
    response = client.post(LOGIN, json={"uid": uid, "password": password})
    assert response.status_code == 200, response.json
    token: str = response.json["token"]  # type: ignore[index]
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token={token}"}


def test_health_and_jwks(client: FlaskClient) -> None:
    assert client.get("/health").status_code == 200
    (key,) = client.get("/acs/api/v1/auth/jwks").json["keys"]  # type: ignore[index]
    assert key["alg"] == "RS256" and key["kty"] == "RSA"


def test_login_answers_a_token_and_sets_the_two_cookies(client: FlaskClient) -> None:
    response = client.post(LOGIN, json={"uid": "root", "password": "rootpw"})
    assert response.status_code == 200
    token = response.json["token"]  # type: ignore[index]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    auth_cookie = cookies["dcos-acs-auth-cookie"]
    assert auth_cookie.startswith(f"dcos-acs-auth-cookie={token};")
    for attribute in ("HttpOnly", "Path=/", "SameSite=Strict", "Max-Age=388800"):
        assert attribute in auth_cookie
    assert "Secure" not in auth_cookie
    info = cookies["dcos-acs-info-cookie"]
    assert "HttpOnly" not in info and "SameSite=Strict" in info


def test_wrong_credentials_are_401_acsjwt_in_iams_shape(client: FlaskClient) -> None:
    response = client.post(LOGIN, json={"uid": "root", "password": "nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "acsjwt"
    assert response.json == {
        "title": "Unauthorized",
        "description": "Invalid credentials",
        "code": "ERR_INVALID_CREDENTIALS",
    }
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{", "application/json", 400),
        ("", "application/json", 400),
        ('{"uid": "root"}', "application/json", 400),
        ('{"uid": "root", "password": "rootpw"}', "text/plain", 415),
        ("[1, 2]", "application/json", 400),
        ('{"uid": "' + "x" * 70_000 + '"}', "application/json", 413),
    ],
)
def test_bad_login_bodies_are_clear_4xx(
    client: FlaskClient, data: str, content_type: str, status: int
) -> None:
    response = client.post(LOGIN, data=data, content_type=content_type)
    assert response.status_code == status
    assert set(response.json) == {"title", "description", "code"}  # type: ignore[arg-type]


def test_authenticate_takes_the_header_or_the_cookie(client: FlaskClient) -> None:
    token = token_of(client, "root", "rootpw")
    for headers in (auth(token), {"Authorization": f"Bearer {token}"}):
        response = client.get(AUTHENTICATE, headers=headers)
        assert response.status_code == 200
        assert response.headers["X-Dcos-Uid"] == "root"
        assert response.headers["X-Dcos-Authorization"] == f"token={token}"
    client.set_cookie("dcos-acs-auth-cookie", token)
    response = client.post(AUTHENTICATE)
    assert response.status_code == 200 and response.json == {"uid": "root"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "token=garbage"}, {"Authorization": "Basic cm9vdDpyb290cHc="}]
)
def test_authenticate_refuses_with_401_acsjwt(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get(AUTHENTICATE, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "acsjwt"
    assert "X-Dcos-Uid" not in response.headers


def test_a_token_expires_past_its_lifetime_and_the_leeway(
    client: FlaskClient, clock: Clock
) -> None:
    token = token_of(client, "root", "rootpw")
    clock.now = NOW + 5 * 86400 + 29
    assert client.get(AUTHENTICATE, headers=auth(token)).status_code == 200
    clock.now = NOW + 5 * 86400 + 30
    assert client.get(AUTHENTICATE, headers=auth(token)).status_code == 401


def test_users_crud_as_the_superuser(client: FlaskClient) -> None:
    root = auth(token_of(client, "root", "rootpw"))
    put = client.put(
        f"{USERS}/alice", json={"password": "alicepw", "description": "Alice"}, headers=root
    )
    assert put.status_code == 201
    assert (
        client.put(f"{USERS}/alice", json={"password": "alicepw"}, headers=root).status_code == 409
    )
    assert client.get(f"{USERS}/alice", headers=root).json["description"] == "Alice"  # type: ignore[index]
    listed = client.get(USERS, headers=root).json["array"]  # type: ignore[index]
    assert [u["uid"] for u in listed] == ["alice", "root"]
    patch = client.patch(f"{USERS}/alice", json={"password": "newpass"}, headers=root)
    assert patch.status_code == 204
    token_of(client, "alice", "newpass")
    assert client.delete(f"{USERS}/alice", headers=root).status_code == 204
    assert client.get(f"{USERS}/alice", headers=root).status_code == 404
    assert client.delete(f"{USERS}/alice", headers=root).json["code"] == "ERR_UNKNOWN_USER_ID"  # type: ignore[index]


def test_service_accounts_are_users_with_a_public_key(
    client: FlaskClient, service_private: rsa.RSAPrivateKey, clock: Clock
) -> None:
    root = auth(token_of(client, "root", "rootpw"))
    body = {"public_key": public_pem(service_private), "description": "CI"}
    assert client.put(f"{USERS}/ci", json=body, headers=root).status_code == 201
    services = client.get(f"{USERS}?type=service", headers=root).json["array"]  # type: ignore[index]
    assert [(s["uid"], s["is_service"]) for s in services] == [("ci", True)]
    users = client.get(USERS, headers=root).json["array"]  # type: ignore[index]
    assert [u["uid"] for u in users] == ["root"]
    patch = client.patch(f"{USERS}/ci", json={"description": "x"}, headers=root)
    assert patch.status_code == 501
    login_token = jwt.encode({"uid": "ci", "exp": NOW + 300}, service_private, algorithm="RS256")
    response = client.post(LOGIN, json={"uid": "ci", "token": login_token})
    assert response.status_code == 200
    assert client.get(AUTHENTICATE, headers=auth(response.json["token"])).status_code == 200  # type: ignore[index]


def test_a_normal_user_gets_403_and_no_token_401(client: FlaskClient) -> None:
    root = auth(token_of(client, "root", "rootpw"))
    client.put(f"{USERS}/alice", json={"password": "alicepw"}, headers=root)
    alice = auth(token_of(client, "alice", "alicepw"))
    client.delete_cookie("dcos-acs-auth-cookie")  # the login's cookie: "anonymous" has none
    calls: list[tuple[str, str, Any]] = [
        ("GET", USERS, None),
        ("GET", f"{USERS}/root", None),
        ("PUT", f"{USERS}/bob", {"password": "bobpass"}),
        ("PATCH", f"{USERS}/root", {"password": "stolen"}),
        ("DELETE", f"{USERS}/root", None),
    ]
    for method, path, body in calls:
        forbidden = client.open(path, method=method, json=body, headers=alice)
        assert forbidden.status_code == 403, (method, path)
        assert forbidden.json["code"] == "ERR_FORBIDDEN"  # type: ignore[index]
        anonymous = client.open(path, method=method, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["WWW-Authenticate"] == "acsjwt"
    assert client.get(f"{USERS}/bob", headers=root).status_code == 404
    token_of(client, "root", "rootpw")  # the password did not change


def test_a_deleted_users_token_is_refused_at_once(client: FlaskClient) -> None:
    root = auth(token_of(client, "root", "rootpw"))
    client.put(f"{USERS}/alice", json={"password": "alicepw"}, headers=root)
    alice = auth(token_of(client, "alice", "alicepw"))
    assert client.get(AUTHENTICATE, headers=alice).status_code == 200
    client.delete(f"{USERS}/alice", headers=root)
    assert client.get(AUTHENTICATE, headers=alice).status_code == 401


def test_the_superuser_cannot_be_deleted_over_the_api(client: FlaskClient) -> None:
    root = auth(token_of(client, "root", "rootpw"))
    assert client.delete(f"{USERS}/root", headers=root).status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", f"{USERS}/.bad", {"password": "secret"}, 400),
        ("PUT", f"{USERS}/bob", {"password": "123"}, 400),
        ("PUT", f"{USERS}/bob", {"password": "secret", "superuser": True}, 400),
        ("PUT", f"{USERS}/bob", ["password"], 400),
        ("PATCH", f"{USERS}/root", {}, 400),
        ("PATCH", f"{USERS}/nobody", {"password": "secret"}, 404),
        ("GET", f"{USERS}?type=robot", None, 400),
    ],
)
def test_bad_account_requests_are_4xx_and_change_nothing(
    client: FlaskClient, method: str, path: str, body: Any, status: int
) -> None:
    root = auth(token_of(client, "root", "rootpw"))
    before = client.get(USERS, headers=root).json
    response = client.open(path, method=method, json=body, headers=root)
    assert response.status_code == status
    assert set(response.json) == {"title", "description", "code"}  # type: ignore[arg-type]
    assert client.get(USERS, headers=root).json == before


def test_logout_expires_both_cookies(client: FlaskClient) -> None:
    response = client.get("/acs/api/v1/auth/logout")
    assert response.status_code == 200
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    for cookie in cookies:
        assert "Max-Age=0" in cookie and "Path=/" in cookie
        assert cookie.split(";")[0] in ("dcos-acs-auth-cookie=", "dcos-acs-info-cookie=")


def test_providers_lists_the_two_dcos_login_kinds(client: FlaskClient) -> None:
    providers = client.get("/acs/api/v1/auth/providers").json
    assert set(providers) == {"dcos-users", "dcos-services"}  # type: ignore[arg-type]
