"""Finding the leading master: a fixed `host:port`, or the leader registered in ZooKeeper.

The ZooKeeper adapter (`daemons.kit.zk`, kazoo) is imported only when a `zk://` master is
used, so a client of a fixed master loads neither kazoo nor the daemons' Flask error tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from daemons.mesos_client.errors import MasterUnavailable
from daemons.mesos_client.transport import Endpoint, parse_endpoint

MASTER_PORT = 5050


class MasterDetector(Protocol):
    def leader(self) -> Endpoint:
        """The leader to subscribe to now; raises MasterUnavailable when there is none."""
        ...

    def close(self) -> None: ...


class StaticMaster:
    def __init__(self, address: str, default_port: int = MASTER_PORT) -> None:
        self._endpoint = parse_endpoint(address, default_port)

    def leader(self) -> Endpoint:
        return self._endpoint

    def close(self) -> None:
        pass


def endpoint_from_master_info(info: dict[str, Any]) -> Endpoint:
    """MasterInfo JSON -> endpoint; the IP first, since a hostname may not resolve here."""
    address = info.get("address") or {}
    host = address.get("ip") or address.get("hostname") or info.get("hostname")
    port = address.get("port") or info.get("port")
    if not isinstance(host, str) or not host or not isinstance(port, int):
        raise MasterUnavailable(f"leader's MasterInfo has no usable address: {info!r}")
    return Endpoint(host, port)


class ZooKeeperMaster:
    """Reads the leader's MasterInfo from ZooKeeper on every `leader()` call."""

    def __init__(
        self,
        url: str,
        *,
        session_timeout: float = 10.0,
        connect: Callable[[str], Any] | None = None,
    ) -> None:
        from daemons.kit import zk

        self._hosts, self._path = zk.parse_zk_url(url)
        self._session_timeout = session_timeout
        self._connect = connect
        self._client: Any = None

    def leader(self) -> Endpoint:
        from daemons.kit import zk

        try:
            if self._client is None:
                if self._connect is not None:
                    self._client = self._connect(self._hosts)
                else:
                    self._client = zk.connect(
                        self._hosts, self._session_timeout, self._session_timeout
                    )
            info = zk.leading_master(self._client, self._path)
        except zk.StoreUnavailable as err:
            raise MasterUnavailable(f"ZooKeeper {self._hosts}: {err.message}") from None
        if info is None:
            raise MasterUnavailable(f"no leading master under zk://{self._hosts}{self._path}")
        return endpoint_from_master_info(info)

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.stop()
            client.close()


def detector_for(master: str) -> MasterDetector:
    """`zk://h1:2181,h2:2181/mesos` -> ZooKeeperMaster; `host[:port]` or `http://..` -> fixed."""
    if master.startswith("zk://"):
        return ZooKeeperMaster(master)
    return StaticMaster(master)
