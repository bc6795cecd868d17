"""The cluster's signing key, the same on every master.

Made at install (the role renders `key_file`, root-only): IAM reads it. Without a key file,
the first IAM to start makes a 2048-bit RSA key and stores it in ZooKeeper with a create that
fails when the node exists, then reads back whatever is stored: of two masters starting at once
one create wins, and both end with that key (store.IamStore.create_or_read_key).
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from daemons.iam import keys
from daemons.iam.store import IamStore

log = logging.getLogger(__name__)

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537


def make_private_pem() -> bytes:
    """A fresh RSA key (the OS's randomness, through OpenSSL), as PKCS#8 PEM."""
    private = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)
    return keys.private_pem(private)


def load_signing_key(key_file: str, store: IamStore) -> keys.SigningKey:
    """The key from `key_file` when given, else the one shared in ZooKeeper (made if absent).
    Raises keys.KeyProblem or OSError for an unusable key file."""
    if key_file:
        key = keys.signing_key(Path(key_file).read_bytes())
        log.info("cluster signing key from file=%s kid=%s", key_file, key.kid)
        return key
    pem = store.read_key()
    if pem is None:
        pem = store.create_or_read_key(make_private_pem())
    key = keys.signing_key(pem)
    log.info("cluster signing key from ZooKeeper path=%s kid=%s", store.key_path, key.kid)
    return key
