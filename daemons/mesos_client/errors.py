"""The client's one exception tree.

Retryable conditions (`MasterUnavailable`, `Redirected`) are handled inside the subscription loop;
the others reach the caller of a call method or end an event iterator.
"""

from __future__ import annotations

from daemons.protocols.fields import ProtocolError


class MesosClientError(Exception):
    """Base of every error this package raises."""


class EventParseError(MesosClientError, ProtocolError):
    """An event (or a part of it) does not have the shape of the v1 API.

    The client's name for the protocols layer's `ProtocolError` (whose `path` names the bad
    field): `except EventParseError`, `except MesosClientError` and `except ValueError` all
    catch it.
    """

    @classmethod
    def of(cls, err: ProtocolError) -> EventParseError:
        return err if isinstance(err, EventParseError) else cls(str(err), err.path)


class MasterUnavailable(MesosClientError):
    """No leader known, connection refused or broken, or 503: try again later."""


class Redirected(MesosClientError):
    """307 from a standby master: `location` is `host:port` of the leader it named."""

    def __init__(self, location: str) -> None:
        super().__init__(f"redirected to {location}")
        self.location = location


class CallRejected(MesosClientError):
    """The master or agent answered a call with a status that retrying will not change."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if message else f"HTTP {status}")
        self.status = status
        self.message = message


class NotSubscribed(MesosClientError):
    """A call was made while there is no live subscription (before SUBSCRIBED, or reconnecting)."""


class SubscriptionEnded(MesosClientError):
    """The event stream stopped for good: an ERROR event, a rejected SUBSCRIBE, or a timeout."""
