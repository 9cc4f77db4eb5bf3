"""The exporter over HTTP(S): pages, content negotiation, gzip, TLS, mTLS, basic auth, limits."""

from __future__ import annotations

import base64
import gzip
import http.client
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from exporter.handler import scrape_budget
from exporter.server import ExporterServer
from runner.core.config import Config
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.exporter.conftest import (
    PROMETHEUS_PASSWORD,
    PROMETHEUS_USER,
    bcrypt_hash,
    tls_web_config,
)
from tests.exporter.expo import job_samples, samples
from tests.exporter.pki import PKI
from tests.exporter.scenario import populate

OM_ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
Start = Callable[..., ExporterServer]
WebConfig = Callable[[dict[str, Any]], str]


@pytest.fixture
def jobmon_config(tmp_path: Path) -> Iterator[Config]:
    db = Database(f"sqlite:///{tmp_path / 'jobmon.db'}")
    upgrade(db)
    yield populate(db)
    db.dispose()


def fetch(
    server: ExporterServer,
    path: str = "/metrics",
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
    method: str = "GET",
) -> tuple[int, http.client.HTTPMessage, bytes]:
    url = urlsplit(server.url)
    conn: http.client.HTTPConnection
    if url.scheme == "https":
        conn = http.client.HTTPSConnection(
            url.hostname or "", url.port, context=context, timeout=10
        )
    else:
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def basic(user: str | bytes, password: str | bytes) -> dict[str, str]:
    raw = (user if isinstance(user, bytes) else user.encode()) + b":"
    raw += password if isinstance(password, bytes) else password.encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def client_context(pki: PKI, cert: bool = True, rogue: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if cert:
        pair = pki.rogue if rogue else pki.client
        context.load_cert_chain(pair.cert, pair.key)
    return context


def test_landing_page_is_the_console_which_links_the_metrics(
    jobmon_config: Config, start_exporter: Start
) -> None:
    server = start_exporter(jobmon_config)
    status, headers, _ = fetch(server, "/")
    assert (status, headers["Location"]) == (302, "/jobs")
    status, headers, body = fetch(server, "/jobs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'href="/metrics"' in body


@pytest.mark.parametrize(("path", "status"), [("/-/healthy", 200), ("/-/ready", 200), ("/x", 404)])
def test_probes_and_unknown_paths(
    jobmon_config: Config, start_exporter: Start, path: str, status: int
) -> None:
    assert fetch(start_exporter(jobmon_config), path)[0] == status


def test_many_clients_at_once_wait_their_turn(jobmon_config: Config, start_exporter: Start) -> None:
    """The listening socket queues as many connections as the system allows: with
    socketserver's queue of 5, a burst of clients on a busy machine overflowed it and Linux
    reset some of them (SYN cookies). Then a burst of 64 clients is answered in full."""
    server = start_exporter(jobmon_config)
    listening = server._listener.socket  # the real socket the kernel queues connections on
    info = listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    # Linux gives a listening socket's queue limit as tcp_info's tcpi_sacked (bytes 28-31).
    (queue_limit,) = struct.unpack_from("I", info, 28)
    with open("/proc/sys/net/core/somaxconn") as limit:
        assert queue_limit == min(socket.SOMAXCONN, int(limit.read()))
    statuses: list[int] = []
    clients = [
        threading.Thread(target=lambda: statuses.append(fetch(server, "/-/healthy")[0]))
        for _ in range(64)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join(30)
    assert statuses == [200] * 64


def test_post_is_not_allowed_and_head_has_no_body(
    jobmon_config: Config, start_exporter: Start
) -> None:
    server = start_exporter(jobmon_config)
    assert fetch(server, method="POST")[0] == 405
    status, headers, body = fetch(server, method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


def test_metrics_negotiate_format_and_gzip(jobmon_config: Config, start_exporter: Start) -> None:
    server = start_exporter(jobmon_config)
    _, text_headers, text = fetch(server)
    assert text_headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "Content-Encoding" not in text_headers
    _, om_headers, om = fetch(server, headers={"Accept": OM_ACCEPT, "Accept-Encoding": "gzip"})
    assert om_headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert om_headers["Content-Encoding"] == "gzip"
    unzipped = gzip.decompress(om).decode()
    assert unzipped.endswith("# EOF\n")
    assert job_samples(unzipped, openmetrics=True) == job_samples(text.decode())
    _, refused, _ = fetch(server, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_metrics_with_another_name_escaping(
    jobmon_config: Config, start_exporter: Start, gzipped: bool
) -> None:
    accept = "application/openmetrics-text;version=1.0.0;escaping=dots"
    headers = {"Accept": accept, "Accept-Encoding": "gzip" if gzipped else "identity"}
    status, response, body = fetch(start_exporter(jobmon_config), headers=headers)
    expected = "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=dots"
    assert status == 200 and response["Content-Type"] == expected
    text = gzip.decompress(body) if gzipped else body
    assert text.endswith(b"# EOF\n") and b"\njobmon__job__status{job__name=" in text


@pytest.fixture
def auth_server(
    jobmon_config: Config, start_exporter: Start, write_web_config: WebConfig
) -> ExporterServer:
    users = {PROMETHEUS_USER: bcrypt_hash(PROMETHEUS_PASSWORD), "long": bcrypt_hash("a" * 72)}
    headers = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "deny"}
    web = write_web_config({"basic_auth_users": users, "http_server_config": {"headers": headers}})
    return start_exporter(jobmon_config, web_config_file=web)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(PROMETHEUS_USER, "wrong"),
        basic("nobody", PROMETHEUS_PASSWORD),
        basic("long", "a" * 73),  # bcrypt 5 refuses passwords over 72 bytes: still a 401
        basic(PROMETHEUS_USER, b"\xff\xfe" + PROMETHEUS_PASSWORD.encode()),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer abc"},
    ],
)
def test_basic_auth_refuses_wrong_credentials(
    auth_server: ExporterServer, headers: dict[str, str]
) -> None:
    status, response, body = fetch(auth_server, headers=headers)
    assert status == 401 and response["WWW-Authenticate"] == 'Basic realm="jobmon"'
    assert response["X-Frame-Options"] == "deny" and b"jobmon_" not in body


def test_basic_auth_lets_the_right_password_in(auth_server: ExporterServer) -> None:
    status, headers, body = fetch(auth_server, headers=basic(PROMETHEUS_USER, PROMETHEUS_PASSWORD))
    assert status == 200 and b"jobmon_job_status" in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert fetch(auth_server, headers=basic("long", "a" * 72))[0] == 200


def test_basic_auth_cache_cannot_be_poisoned(auth_server: ExporterServer) -> None:
    good, bad = basic(PROMETHEUS_USER, PROMETHEUS_PASSWORD), basic(PROMETHEUS_USER, "guess")
    results: list[tuple[bool, int]] = []
    lock = threading.Lock()

    def login(is_good: bool) -> None:
        for _ in range(8):
            status = fetch(auth_server, path="/-/healthy", headers=good if is_good else bad)[0]
            with lock:
                results.append((is_good, status))

    threads = [threading.Thread(target=login, args=(i % 2 == 0,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {status for is_good, status in results if is_good} == {200}
    assert {status for is_good, status in results if not is_good} == {401}
    assert fetch(auth_server, headers=bad)[0] == 401  # right after a good login


def test_rate_limit_answers_429(
    jobmon_config: Config, start_exporter: Start, write_web_config: WebConfig
) -> None:
    web = write_web_config({"rate_limit": {"interval": "1h", "burst": 2}})
    server = start_exporter(jobmon_config, web_config_file=web)
    assert [fetch(server, "/-/healthy")[0] for _ in range(3)] == [200, 200, 429]


@pytest.fixture
def tls_server(
    jobmon_config: Config, start_exporter: Start, write_web_config: WebConfig, pki: PKI
) -> ExporterServer:
    return start_exporter(jobmon_config, web_config_file=write_web_config(tls_web_config(pki)))


def test_mtls_serves_a_client_with_a_certificate_from_the_ca(
    tls_server: ExporterServer, pki: PKI
) -> None:
    assert tls_server.url.startswith("https://")
    auth = basic(PROMETHEUS_USER, PROMETHEUS_PASSWORD)
    status, _, body = fetch(tls_server, headers=auth, context=client_context(pki))
    assert status == 200 and samples(body.decode())


@pytest.mark.parametrize("rogue", [False, True], ids=["no-certificate", "foreign-ca"])
def test_mtls_refuses_other_clients(tls_server: ExporterServer, pki: PKI, rogue: bool) -> None:
    context = client_context(pki, cert=rogue, rogue=rogue)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        fetch(tls_server, headers=basic(PROMETHEUS_USER, PROMETHEUS_PASSWORD), context=context)


def test_plain_http_to_the_tls_port_gets_no_metrics(tls_server: ExporterServer) -> None:
    port = tls_server.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            conn.request("GET", "/metrics")
            conn.getresponse().read()
    finally:
        conn.close()


@pytest.mark.parametrize(("sans", "served"), [(["prometheus.test"], True), (["other"], False)])
def test_client_allowed_sans(
    jobmon_config: Config,
    start_exporter: Start,
    write_web_config: WebConfig,
    pki: PKI,
    sans: list[str],
    served: bool,
) -> None:
    web = tls_web_config(pki)
    web["tls_server_config"]["client_allowed_sans"] = sans
    server = start_exporter(jobmon_config, web_config_file=write_web_config(web))
    auth = basic(PROMETHEUS_USER, PROMETHEUS_PASSWORD)
    if served:
        assert fetch(server, headers=auth, context=client_context(pki))[0] == 200
    else:
        with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
            fetch(server, headers=auth, context=client_context(pki))


def test_listens_on_localhost_by_default() -> None:
    assert Config().exporter.listen_address == "127.0.0.1:9736"


@pytest.mark.parametrize(
    ("header", "budget"), [(None, 7.0), ("10", 7.0), ("1", 0.7), ("abc", 7.0), ("0", 7.0)]
)
def test_scrape_budget_follows_the_prometheus_timeout(header: str | None, budget: float) -> None:
    assert scrape_budget(header) == pytest.approx(budget)
