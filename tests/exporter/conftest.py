"""Exporter fixtures: a test PKI, web config files, exporters, and one Prometheus per session.

The session's Prometheus scrapes fixed ports every second: ``plain_a`` and ``plain_b`` over
HTTP (two replicas, or one exporter restarted), and ``tls`` over HTTPS with a client
certificate and basic auth, plus two jobs on the same port that must fail (no client
certificate, wrong password). Tests start their exporters on these ports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from exporter.server import ExporterServer
from runner.core.config import Config
from tests.exporter.pki import PKI, make_pki
from tests.promtools import PrometheusServer, free_port

PROMETHEUS_USER = "prometheus"
PROMETHEUS_PASSWORD = "scrape-pass-1"


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash of ``password`` at the lowest cost (fast tests)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def write_web_config(tmp_path: Path) -> Callable[[dict[str, Any]], str]:
    """Write a web config file in the test's directory; returns its path."""

    def write(content: dict[str, Any]) -> str:
        path = tmp_path / "web.yml"
        path.write_text(yaml.safe_dump(content), encoding="utf-8")
        return str(path)

    return write


def tls_web_config(pki: PKI, **extra: Any) -> dict[str, Any]:
    """mTLS (client certificates from the test CA) and basic auth for the Prometheus user."""
    return {
        "tls_server_config": {
            "cert_file": str(pki.server.cert),
            "key_file": str(pki.server.key),
            "client_auth_type": "RequireAndVerifyClientCert",
            "client_ca_file": str(pki.ca),
        },
        "basic_auth_users": {PROMETHEUS_USER: bcrypt_hash(PROMETHEUS_PASSWORD)},
        **extra,
    }


@pytest.fixture
def start_exporter() -> Iterator[Callable[..., ExporterServer]]:
    """Start exporters (``ExporterServer`` arguments); all are stopped after the test."""
    started: list[ExporterServer] = []

    def start(config: Config, **kwargs: Any) -> ExporterServer:
        kwargs.setdefault("listen_address", "127.0.0.1:0")
        server = ExporterServer(config, **kwargs)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass(frozen=True)
class Scraping:
    """The session's Prometheus and the ports it scrapes."""

    prometheus: PrometheusServer
    plain_a: int
    plain_b: int
    tls: int


def _scrape_config(name: str, targets: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "job_name": name,
        "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in targets]}],
        **extra,
    }


def _prometheus_config(pki: PKI, a: int, b: int, tls: int) -> dict[str, Any]:
    client = {"cert_file": str(pki.client.cert), "key_file": str(pki.client.key)}
    auth = {"username": PROMETHEUS_USER, "password": PROMETHEUS_PASSWORD}
    https: dict[str, Any] = {"scheme": "https", "tls_config": {"ca_file": str(pki.ca), **client}}
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            _scrape_config("jobmon", [a, b]),
            _scrape_config("jobmon_tls", [tls], basic_auth=auth, **https),
            _scrape_config(
                "jobmon_tls_nocert",
                [tls],
                scheme="https",
                tls_config={"ca_file": str(pki.ca)},
                basic_auth=auth,
            ),
            _scrape_config(
                "jobmon_tls_badpw",
                [tls],
                basic_auth={"username": PROMETHEUS_USER, "password": "wrong"},
                **https,
            ),
        ],
    }


@pytest.fixture(scope="session")
def scraping(tmp_path_factory: pytest.TempPathFactory, pki: PKI) -> Iterator[Scraping]:
    ports: list[int] = []
    while len(ports) < 3:
        port = free_port()
        if port not in ports:
            ports.append(port)
    server = PrometheusServer(_prometheus_config(pki, *ports), tmp_path_factory.mktemp("prom"))
    server.start()
    yield Scraping(server, *ports)
    server.stop()
