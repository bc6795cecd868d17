"""RSA keys as IAM uses them: the cluster's signing key, service accounts' public keys, and
the JWKS document (`GET /acs/api/v1/auth/jwks`). Pure: making a key (which draws randomness)
is the `keypair` runtime's job.

The key id (`kid` in every token's header and in the JWKS) is the key's RFC 7638 JWK
thumbprint: SHA-256 over the canonical JSON of its `e`, `kty` and `n`, base64url. Every master
computes the same id from the same key, with nothing to store or agree on.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

MIN_RSA_BITS = 2048


class KeyProblem(ValueError):
    """A PEM text that is not an acceptable RSA key."""


@dataclass(frozen=True)
class SigningKey:
    """The cluster's key pair: `private` signs, `public` verifies, `kid` names it."""

    private: rsa.RSAPrivateKey
    public: rsa.RSAPublicKey
    kid: str


def public_jwk(public: rsa.RSAPublicKey) -> dict[str, Any]:
    """`{"kty": "RSA", "n": ..., "e": ...}` of the key (base64url, no padding)."""
    jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def thumbprint(public: rsa.RSAPublicKey) -> str:
    """RFC 7638: base64url(SHA-256(canonical JSON of the required members))."""
    jwk = public_jwk(public)
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signing_key(private_pem: bytes) -> SigningKey:
    """The cluster key from its PEM private key (PKCS#1 or PKCS#8, unencrypted)."""
    try:
        private = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError) as err:
        raise KeyProblem(f"not a PEM private key: {err}") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyProblem("the cluster key must be an RSA key")
    if private.key_size < MIN_RSA_BITS:
        raise KeyProblem(f"the cluster key must have at least {MIN_RSA_BITS} bits")
    public = private.public_key()
    return SigningKey(private, public, thumbprint(public))


def private_pem(private: rsa.RSAPrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key(pem: str) -> rsa.RSAPublicKey:
    """A service account's public key from its PEM text (`public_key` of `PUT /users/<uid>`)."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnicodeEncodeError):
        raise KeyProblem("public_key: not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyProblem("public_key: must be an RSA key (service login tokens are RS256)")
    if key.key_size < MIN_RSA_BITS:
        raise KeyProblem(f"public_key: must have at least {MIN_RSA_BITS} bits")
    return key


def jwks(key: SigningKey) -> dict[str, Any]:
    """The JWKS document of the cluster's public key."""
    return {"keys": [{**public_jwk(key.public), "alg": "RS256", "use": "sig", "kid": key.kid}]}
