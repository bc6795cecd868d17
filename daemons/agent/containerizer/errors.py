"""The containerizer's error tree. OSErrors from the kernel are translated into these here."""

from __future__ import annotations


class ContainerizerError(Exception):
    """Base of everything the containerizer raises on purpose."""


class InvalidSpec(ContainerizerError, ValueError):
    """The ContainerSpec or config cannot be honoured (bad id, unknown user, bad limits)."""


class LaunchFailed(ContainerizerError):
    """The kernel or util-linux refused to make or start the container."""


class IsolationUnavailable(ContainerizerError):
    """Isolation was asked for, but this host (or this user) cannot provide it."""


class ContainerNotFound(ContainerizerError, KeyError):
    """No such container: never launched or recovered here, and no cgroup by that name."""
