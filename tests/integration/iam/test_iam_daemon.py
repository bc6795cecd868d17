"""dcos-iam as a process over real ZooKeeper: login -> token -> authenticate -> users CRUD as
the superuser and 403 as a user -> logout; two IAMs sharing one cluster key (made once even
when both start at the same moment); a key file; the command line."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from daemons.iam import keys
from tests.integration.conftest import DaemonProcess, Daemons, ZooKeeperServer
from tests.integration.iam.iam_daemon import SUPERUSER, IamFactory, iam_process
from tools import processes

LOGIN = "/acs/api/v1/auth/login"
AUTHENTICATE = "/internal/v1/authenticate"
USERS = "/acs/api/v1/users"
TIMEOUT = 30


def login(iam: DaemonProcess, uid: str, password: str) -> str:
    response = requests.post(
        f"{iam.url}{LOGIN}", json={"uid": uid, "password": password}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token={token}"}


def test_login_token_users_crud_and_logout(start_iam: IamFactory) -> None:
    iam = start_iam()
    browser = requests.Session()
    response = browser.post(
        f"{iam.url}{LOGIN}", json={"uid": SUPERUSER[0], "password": SUPERUSER[1]}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    root = auth(response.json()["token"])
    assert set(browser.cookies.keys()) == {"dcos-acs-auth-cookie", "dcos-acs-info-cookie"}
    # The cookie alone authenticates (what a browser sends through Admin Router).
    check = browser.get(f"{iam.url}{AUTHENTICATE}", timeout=TIMEOUT)
    assert check.status_code == 200 and check.headers["X-Dcos-Uid"] == "root"

    put = requests.put(
        f"{iam.url}{USERS}/alice", json={"password": "alicepw"}, headers=root, timeout=TIMEOUT
    )
    assert put.status_code == 201, put.text
    listed = requests.get(f"{iam.url}{USERS}", headers=root, timeout=TIMEOUT).json()
    assert sorted(u["uid"] for u in listed["array"]) == ["alice", "root"]

    alice = auth(login(iam, "alice", "alicepw"))
    assert requests.get(f"{iam.url}{AUTHENTICATE}", headers=alice, timeout=TIMEOUT).ok
    forbidden = requests.get(f"{iam.url}{USERS}", headers=alice, timeout=TIMEOUT)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "ERR_FORBIDDEN"
    anonymous = requests.get(f"{iam.url}{USERS}", timeout=TIMEOUT)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "acsjwt"

    patch = requests.patch(
        f"{iam.url}{USERS}/alice", json={"description": "Alice"}, headers=root, timeout=TIMEOUT
    )
    assert patch.status_code == 204
    got = requests.get(f"{iam.url}{USERS}/alice", headers=root, timeout=TIMEOUT).json()
    assert got["description"] == "Alice"
    gone = requests.delete(f"{iam.url}{USERS}/alice", headers=root, timeout=TIMEOUT)
    assert gone.status_code == 204
    refused = requests.get(f"{iam.url}{AUTHENTICATE}", headers=alice, timeout=TIMEOUT)
    assert refused.status_code == 401  # a deleted user's token is dead at once

    out = browser.get(f"{iam.url}/acs/api/v1/auth/logout", timeout=TIMEOUT)
    assert out.status_code == 200
    assert not browser.cookies.keys()
    assert browser.get(f"{iam.url}{AUTHENTICATE}", timeout=TIMEOUT).status_code == 401

    # The state is ZooKeeper's: a restarted IAM keeps the key and the accounts.
    iam.restart()
    assert requests.get(f"{iam.url}{AUTHENTICATE}", headers=root, timeout=TIMEOUT).ok
    assert requests.get(f"{iam.url}{USERS}/alice", headers=root, timeout=TIMEOUT).status_code == 404


def test_two_iams_started_together_share_one_key(daemons: Daemons, zk_url: str) -> None:
    first, second = iam_process(daemons, zk_url), iam_process(daemons, zk_url)
    threads = [threading.Thread(target=p.start) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert first.running() and second.running()
    jwks = [
        requests.get(f"{p.url}/acs/api/v1/auth/jwks", timeout=TIMEOUT).json()
        for p in (first, second)
    ]
    assert jwks[0] == jwks[1]
    token = login(first, *SUPERUSER)
    check = requests.get(f"{second.url}{AUTHENTICATE}", headers=auth(token), timeout=TIMEOUT)
    assert check.status_code == 200 and check.headers["X-Dcos-Uid"] == "root"
    # An account made through one is there on the other.
    requests.put(
        f"{second.url}{USERS}/bob",
        json={"password": "bobpass"},
        headers=auth(token),
        timeout=TIMEOUT,
    ).raise_for_status()
    bob = login(first, "bob", "bobpass")
    assert requests.get(f"{second.url}{AUTHENTICATE}", headers=auth(bob), timeout=TIMEOUT).ok


def test_a_key_file_is_the_cluster_key(start_iam: IamFactory, tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "iam.key"
    key_file.write_bytes(keys.private_pem(private))
    key_file.chmod(0o600)
    iam = start_iam(key_file=str(key_file))
    (served,) = requests.get(f"{iam.url}/acs/api/v1/auth/jwks", timeout=TIMEOUT).json()["keys"]
    assert served["kid"] == keys.thumbprint(private.public_key())


def test_an_unusable_key_file_stops_iam_before_it_serves(
    start_iam: IamFactory, tmp_path: Path
) -> None:
    bad = tmp_path / "iam.key"
    bad.write_text("not a key")
    for key_file in (bad, tmp_path / "missing.key"):
        with pytest.raises(processes.StartFailed, match="cannot start IAM"):
            start_iam(key_file=str(key_file))


def test_hash_password_and_check_config(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "daemons.iam.main", "hash-password"],
        input="s3cret-pw\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    phc = made.stdout.strip()
    assert phc.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    config = tmp_path / "iam.toml"
    config.write_text(f'superuser_uid = "root"\nsuperuser_password_hash = "{phc}"\n')
    check = [sys.executable, "-m", "daemons.iam.main", "check-config", str(config)]
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0
    config.write_text('superuser_uid = "root"\nsuperuser_password_hash = "s3cret-pw"\n')
    refused = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "not an Argon2id hash" in refused.stderr


def test_zookeeper_away_is_503_in_iams_shape_and_iam_recovers(
    start_iam: IamFactory, zookeeper: ZooKeeperServer
) -> None:
    iam = start_iam()
    token = login(iam, *SUPERUSER)
    with zookeeper.stopped():
        for response in (
            requests.get(f"{iam.url}{AUTHENTICATE}", headers=auth(token), timeout=TIMEOUT),
            requests.post(
                f"{iam.url}{LOGIN}",
                json={"uid": SUPERUSER[0], "password": SUPERUSER[1]},
                timeout=TIMEOUT,
            ),
        ):
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "ERR_SERVICE_UNAVAILABLE"
    deadline = time.monotonic() + 30
    while True:
        check = requests.get(f"{iam.url}{AUTHENTICATE}", headers=auth(token), timeout=TIMEOUT)
        if check.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert check.status_code == 200
    assert iam.running()
