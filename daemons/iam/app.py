"""IAM's Flask app: its two blueprints, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.iam import auth_api, users_api
from daemons.iam.service import IamService
from daemons.kit.app import make_app

# Logins and account bodies are small: a PEM public key is the largest field.
MAX_BODY_BYTES = 64 * 1024


def create_app(service: IamService) -> Flask:
    return make_app(
        "dcos-iam",
        (auth_api.bp, users_api.bp),
        max_body_bytes=MAX_BODY_BYTES,
        extensions={"iam": service},
    )
