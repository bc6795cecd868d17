"""Mesos-DNS's Flask app: its one blueprint, built with the kit."""

from __future__ import annotations

from flask import Flask

from daemons.kit.app import make_app
from daemons.mesos_dns import api
from daemons.mesos_dns.service import MesosDnsService


def create_app(service: MesosDnsService) -> Flask:
    return make_app("dcos-mesos-dns", (api.bp,), extensions={"mesos_dns": service})
