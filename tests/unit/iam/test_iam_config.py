"""IAM's config: defaults, and what `check-config` refuses."""

from __future__ import annotations

from typing import Any

import pytest

from daemons.iam import passwords
from daemons.iam.config import IamConfig
from daemons.kit.config import ConfigError, from_mapping
from tests.unit.iam.factories import CHEAP, SALT

HASH = passwords.hash_password("secret", SALT, CHEAP)


def test_defaults_are_valid_and_dcos_like() -> None:
    config = from_mapping(IamConfig, {})
    assert (config.ip, config.port, config.leeway) == ("127.0.0.1", 8101, 30.0)
    assert config.token_lifetime == 5 * 86400
    assert from_mapping(IamConfig, {"superuser_uid": "root", "superuser_password_hash": HASH})


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"superuser_uid": "root"}, "give both"),
        ({"superuser_password_hash": HASH}, "give both"),
        ({"superuser_uid": "root", "superuser_password_hash": "secret"}, "not an Argon2id hash"),
        ({"superuser_uid": "-root", "superuser_password_hash": HASH}, "superuser_uid"),
        ({"leeway": 31}, "leeway"),
        ({"leeway": -1}, "leeway"),
        ({"token_lifetime": 1}, "token_lifetime"),
        ({"zk": "127.0.0.1:2181"}, "zk"),
        ({"port": 0}, "port"),
        ({"password": "x"}, "unknown setting"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        from_mapping(IamConfig, settings)
    assert any(problem in p for p in raised.value.problems), raised.value.problems
