"""IAM's configuration (`/etc/dcos/iam.toml`). Pure.

The role renders it: the masters' ZooKeeper as `zk` (the znode path is where IAM keeps its
state), the inventory's `dcos_superuser_username` / `dcos_superuser_password_hash` as
`superuser_uid` / `superuser_password_hash` (an Argon2id hash made on the controller with
`dcos-iam hash-password`: a clear password never reaches a config file), and, when the install
made the cluster key pair, its private key's path as `key_file`.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemons.iam import passwords
from daemons.iam.accounts import uid_problem

# F20 (docs/iam.md): a token's `exp` is checked with this much clock skew allowed between the
# master that issued it and the one that checks it, and no more.
MAX_LEEWAY = 30.0


@dataclass(frozen=True)
class IamConfig:
    # IAM's state lives under this znode: users, service accounts, the cluster key.
    zk: str = "zk://127.0.0.1:2181/dcos/iam"
    # The cluster's private key (PEM, RSA), made at install and the same on every master; when
    # empty, the first IAM to start makes one and stores it in ZooKeeper for the others.
    key_file: str = ""
    # Seeded at start when absent (never overwritten: a changed password stays changed).
    superuser_uid: str = ""
    superuser_password_hash: str = ""
    # Auth tokens live 5 days, as DC/OS's (EXPIRATION_AUTH_TOKEN_DAYS).
    token_lifetime: float = 5 * 24 * 3600.0
    # Clock skew allowed when checking `exp` (and `nbf`/`iat` when present), in seconds.
    leeway: float = MAX_LEEWAY
    # `Secure` on the login cookies: only when Admin Router serves HTTPS (a browser never sends
    # a Secure cookie back over http, so on a plain-http LAN it would break login).
    secure_cookies: bool = False
    ip: str = "127.0.0.1"
    port: int = 8101
    threads: int = 8
    log_level: str = "info"

    def validate(self) -> list[str]:
        problems: list[str] = []
        if not self.zk.startswith("zk://") or "/" not in self.zk[len("zk://") :]:
            problems.append("zk: expected zk://host:port[,host:port...]/path")
        if bool(self.superuser_uid) != bool(self.superuser_password_hash):
            problems.append("superuser_uid, superuser_password_hash: give both or neither")
        if self.superuser_uid and (why := uid_problem(self.superuser_uid)):
            problems.append(f"superuser_uid: {why}")
        if self.superuser_password_hash and not passwords.is_hash(self.superuser_password_hash):
            problems.append(
                "superuser_password_hash: not an Argon2id hash (make one with "
                "`dcos-iam hash-password`)"
            )
        if not 60 <= self.token_lifetime <= 30 * 24 * 3600:
            problems.append("token_lifetime: must be between 60 s and 30 days")
        if not 0 <= self.leeway <= MAX_LEEWAY:
            problems.append(f"leeway: must be between 0 and {MAX_LEEWAY:.0f} s")
        if not 0 < self.port < 65536:
            problems.append("port: must be in 1-65535")
        if self.threads < 1:
            problems.append("threads: must be at least 1")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            problems.append(f"log_level: unknown level {self.log_level!r}")
        return problems
