"""IAM's unit-test fixtures: RSA keys, made once per session."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from daemons.iam import keys
from tests.unit.iam.factories import new_private


@pytest.fixture(scope="session")
def cluster_key() -> keys.SigningKey:
    return keys.signing_key(keys.private_pem(new_private()))


@pytest.fixture(scope="session")
def other_key() -> keys.SigningKey:
    return keys.signing_key(keys.private_pem(new_private()))


@pytest.fixture(scope="session")
def service_private() -> rsa.RSAPrivateKey:
    return new_private()
