"""The superuser of a cluster made by `make cluster` or `make local`: a name and a random
password, made once and kept in a file only root can read (mode 0600), with the password's
Argon2id hash (`dcos-iam hash-password`) that IAM's config takes. The clear password is in
that file alone: the roles write only the hash to a node (`dcos_iam`), and use the password
for nothing but their login gate. Removing the file (make cluster-destroy) forgets it.

    {"dcos_superuser_username", "dcos_superuser_password", "dcos_superuser_password_hash"}

is also the form `ansible-playbook -e @FILE` takes.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

USERNAME = "admin"


def hash_password(password: str, python: str | None = None) -> str:
    """The Argon2id hash IAM's `hash-password` prints for `password`."""
    done = subprocess.run(
        [python or sys.executable, "-m", "daemons.iam.main", "hash-password"],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.startswith("$argon2id$"):
        raise RuntimeError(f"dcos-iam hash-password failed: {done.stderr.strip()}")
    return done.stdout.strip()


def ensure(path: Path, username: str = USERNAME) -> dict[str, str]:
    """The superuser kept in `path`, made (name, random password, hash) when absent."""
    try:
        found = json.loads(path.read_text())
        if isinstance(found, dict) and all(
            isinstance(found.get(k), str) and found[k]
            for k in ("dcos_superuser_username", "dcos_superuser_password",
                      "dcos_superuser_password_hash")
        ):  # fmt: skip
            os.chmod(path, 0o600)
            return {k: str(v) for k, v in found.items()}
    except (OSError, ValueError):
        pass
    password = secrets.token_urlsafe(15)
    login = {
        "dcos_superuser_username": username,
        "dcos_superuser_password": password,
        "dcos_superuser_password_hash": hash_password(password),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(login, handle)
        handle.write("\n")
    os.chmod(path, 0o600)
    return login
