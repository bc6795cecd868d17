"""tools/superuser.py: the superuser file of make cluster / make local — made once, root-only,
reused, a broken one replaced; the hash is IAM's own (it verifies the password)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from daemons.iam import passwords
from tools import superuser


def test_made_once_root_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "superuser.json"
    login = superuser.ensure(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert login["dcos_superuser_username"] == "admin"
    assert len(login["dcos_superuser_password"]) >= 16
    assert passwords.verify_password(
        login["dcos_superuser_password_hash"], login["dcos_superuser_password"]
    )
    assert json.loads(path.read_text()) == login
    path.chmod(0o644)
    assert superuser.ensure(path) == login
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_broken_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "superuser.json"
    path.write_text('{"dcos_superuser_username": "admin"}')
    login = superuser.ensure(path, username="root-user")
    assert login["dcos_superuser_username"] == "root-user"
    assert login["dcos_superuser_password"]
