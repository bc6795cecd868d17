"""The DNS proxy's Flask app: its one blueprint, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.kit.app import make_app
from dnsproxy import api
from dnsproxy.service import DnsProxyService


def create_app(service: DnsProxyService) -> Flask:
    return make_app("dcos-dns-proxy", (api.bp,), extensions={"dnsproxy": service})
