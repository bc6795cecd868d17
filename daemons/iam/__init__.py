"""IAM (`dcos-iam`, :8101 on every master): DC/OS login, users and service accounts, and the
cluster's RS256 tokens. docs/iam.md says what it does and how.

Cores (pure: the clock, salts and keys come in as arguments): `config`, `errors`,
`passwords` (Argon2id), `keys` (the cluster key's JWK and kid), `tokens` (issuing and
validating RS256 JWTs), `accounts` (users and service accounts, their records and wire
shapes), `login` and `access` (who may do what). Runtimes: `store` (ZooKeeper through kazoo),
`keypair` (the cluster key from a file, or made once and shared in ZooKeeper) and `service`.
Daemon layer: `auth_api`, `users_api`, `app`, `main`. Imports nothing of another daemon.
"""
