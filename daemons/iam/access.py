"""Who may do what in IAM's API. Pure.

- `/acs/api/v1/auth/*` (login, logout, jwks, providers) is open: Admin Router passes it
  without a token, as DC/OS's does.
- Every other route needs a valid token (401 with `WWW-Authenticate: acsjwt` without one).
- Users and service accounts (`/acs/api/v1/users…`: list, read, create, change, delete) are
  the superuser's alone: 403 for any other valid caller. DC/OS Open let every user do it; with
  no permissions model yet, the superuser flag is the whole model.
- Nobody deletes a superuser over the API (403): that would lock the cluster out until the
  config seeds one again at the next start.
"""

from __future__ import annotations

from daemons.iam.accounts import Account
from daemons.iam.errors import Forbidden


def require_superuser(caller: Account) -> None:
    if not caller.is_superuser:
        raise Forbidden(f"User `{caller.uid}` may not manage users and service accounts.")


def check_deletable(account: Account) -> None:
    if account.is_superuser:
        raise Forbidden(f"`{account.uid}` is a superuser; it is managed from IAM's config.")
