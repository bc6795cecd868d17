"""`/acs/api/v1/users`: users and service accounts (a service account is a user with a
`public_key`, `?type=service` lists them), as DC/OS's IAM; the superuser's alone."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from daemons.iam.errors import InvalidData
from daemons.iam.http import caller, json_body, service

bp = Blueprint("iam_users", __name__)

USERS = "/acs/api/v1/users"


@bp.get(USERS)
def list_users() -> dict[str, Any]:
    kind = request.args.get("type", "")
    if kind not in ("", "user", "service"):
        raise InvalidData("type: expected `service` or `user`")
    return service().list_accounts(caller(), kind == "service")


@bp.get(f"{USERS}/<uid>")
def get_user(uid: str) -> dict[str, Any]:
    return service().get_account(caller(), uid)


@bp.put(f"{USERS}/<uid>")
def put_user(uid: str) -> tuple[str, int]:
    who = caller()
    service().create_account(who, uid, json_body())
    return "", 201


@bp.patch(f"{USERS}/<uid>")
def patch_user(uid: str) -> tuple[str, int]:
    who = caller()
    service().change_account(who, uid, json_body())
    return "", 204


@bp.delete(f"{USERS}/<uid>")
def delete_user(uid: str) -> tuple[str, int]:
    service().delete_account(caller(), uid)
    return "", 204
