"""Label sanitizing and the per-task hash: moved to `daemons.kit.dns.labels`, which the DNS
proxy shares (one daemon never imports another's code); Mesos-DNS's modules keep this name."""

from daemons.kit.dns.labels import *  # noqa: F403
